// Placeholder expansion of engine.launch (argv, env values, cwd, URLs):
// expand_placeholders either returns or throws LaunchError, exactly when
// placeholders_used throws; text without braces comes back unchanged; with
// every value given, no placeholder survives; without values, any use is an
// error.
#include <cstdint>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_common.h"
#include "workloads/engine_launch.h"

using namespace tierscope::workloads;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = tierscope::fuzz::as_text(data, size);
  const Placeholders all{8080, 4096, std::string("/m/x.gguf")};
  std::vector<std::string> names;
  bool malformed = false;
  try {
    names = placeholders_used(text);
  } catch (const LaunchError&) {
    malformed = true;
  }
  std::string out;
  try {
    out = expand_placeholders(text, all);
  } catch (const LaunchError&) {
    FUZZ_CHECK(malformed);
    return 0;
  }
  FUZZ_CHECK(!malformed);
  for (const auto& n : names) FUZZ_CHECK(n == "port" || n == "ctx" || n == "model", n);
  if (text.find_first_of("{}") == std::string_view::npos) FUZZ_CHECK(out == text);
  bool threw = false;
  try {
    (void)expand_placeholders(text, Placeholders{});
  } catch (const LaunchError&) {
    threw = true;
  }
  FUZZ_CHECK(threw == !names.empty());
  return 0;
}
