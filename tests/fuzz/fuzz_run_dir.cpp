// What the report reads of a run directory: requests.jsonl
// (workloads/run_dir.h parse_json_lines): every line is accounted for
// exactly once (kept, torn or corrupt), only JSON objects are kept, only the
// last line can be torn, and a torn line is one without its newline. And the
// recording's fast sample-line reader (workloads/report_recording.h
// parse_sample_line): every line it accepts, the JSON parser reads as the
// same sample (wall, schema, every value; "NaN", "+Inf", "-Inf" included).
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/text.h"
#include "tests/fuzz/fuzz_common.h"
#include "workloads/report_recording.h"
#include "workloads/run_dir.h"

using namespace tierscope;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_text(data, size);
  const auto lines = workloads::parse_json_lines(text);
  std::size_t count = 0;
  text::Lines it(text);
  std::string_view line;
  while (it.next(line)) ++count;
  FUZZ_CHECK(lines.records.size() + lines.torn + lines.corrupt == count);
  FUZZ_CHECK(lines.torn <= 1);
  if (lines.torn) FUZZ_CHECK(!text.empty() && text.back() != '\n');
  FUZZ_CHECK((lines.corrupt == 0) == (lines.first_corrupt_line == 0));
  FUZZ_CHECK(lines.first_corrupt_line <= count);
  for (const auto& r : lines.records) FUZZ_CHECK(r.is_object());

  text::Lines again(text);
  std::vector<double> values;
  while (again.next(line)) {
    double wall = 0;
    std::uint64_t schema = 0;
    if (!workloads::parse_sample_line(line, wall, schema, values)) continue;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    FUZZ_CHECK(!j.is_discarded() && j.is_object(), std::string(line));
    FUZZ_CHECK(j.value("type", "") == "sample");
    FUZZ_CHECK(j["wall"].is_number() && j["wall"].get<double>() == wall, std::string(line));
    FUZZ_CHECK(j["schema"].is_number_unsigned() && j["schema"].get<std::uint64_t>() == schema);
    FUZZ_CHECK(j["values"].is_array() && j["values"].size() == values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
      const auto& v = j["values"][i];
      if (v.is_number()) FUZZ_CHECK(v.get<double>() == values[i], std::string(line));
      else if (v == "NaN") FUZZ_CHECK(std::isnan(values[i]));
      else if (v == "+Inf") FUZZ_CHECK(values[i] > 0 && std::isinf(values[i]));
      else FUZZ_CHECK(v == "-Inf" && values[i] < 0 && std::isinf(values[i]), std::string(line));
    }
    // Converting only some positions (as the report does) reads the same line and the same kept values.
    std::vector<bool> mask(values.size());
    for (std::size_t i = 0; i < mask.size(); i += 2) mask[i] = true;
    std::vector<double> some;
    double wall2 = 0;
    std::uint64_t schema2 = 0;
    FUZZ_CHECK(workloads::parse_sample_line(line, wall2, schema2, some, [&](std::uint64_t) { return &mask; }));
    FUZZ_CHECK(wall2 == wall && schema2 == schema && some.size() == values.size());
    for (std::size_t i = 0; i < values.size(); i += 2)
      FUZZ_CHECK(some[i] == values[i] || (std::isnan(some[i]) && std::isnan(values[i])));
  }
  return 0;
}
