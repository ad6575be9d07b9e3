// What a soak reads from outside: soak.json as a resumed `tierscope soak`
// reads it back (SoakState::from_json) — any text either is refused with a
// std::runtime_error or gives a state that writes out and reads back to
// itself — and the Threads: line of /proc/<pid>/status (parse_status_threads),
// whose value is a number some line of the text begins with "Threads:" for.
#include <cstdint>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "tests/fuzz/fuzz_common.h"
#include "workloads/soak_series.h"

using namespace tierscope;
using namespace tierscope::workloads;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_text(data, size);
  if (auto threads = parse_status_threads(text)) {
    const bool begins_a_line = text.substr(0, 8) == "Threads:" || text.find("\nThreads:") != std::string_view::npos;
    FUZZ_CHECK(begins_a_line);
  }
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return 0;
  SoakState s;
  try {
    s = SoakState::from_json(j);
  } catch (const std::runtime_error&) {
    return 0;
  }
  const nlohmann::json out = s.to_json();
  FUZZ_CHECK(SoakState::from_json(out).to_json() == out);
  FUZZ_CHECK(s.gap_seconds() >= 0);
  return 0;
}
