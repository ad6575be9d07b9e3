// A recording's segments (exporters/recording.h): split into lines (or zstd
// frames, then lines), each whole line parsed. Every line is accounted for
// exactly once, as a record, a corrupt line or a torn end; every record handed
// on is an object with a string "type"; the same bytes in one zstd frame give
// the same records; resolved samples hold no more values than they had.
#include <zstd.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "exporters/recording.h"
#include "tests/fuzz/fuzz_common.h"

using namespace tierscope;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);

  // Plain: count the lines the way a reader of the format would.
  std::size_t lines = 0;
  bool open_end = false;
  for (std::size_t at = 0; at < text.size();) {
    auto nl = text.find('\n', at);
    if (nl == std::string_view::npos) {
      open_end = true;
      break;
    }
    if (nl > at) ++lines;
    at = nl + 1;
  }
  RecordingStats plain;
  SampleResolver resolver;
  std::size_t handed = 0;
  parse_segment(text, false, plain, [&](nlohmann::json&& rec) {
    ++handed;
    FUZZ_CHECK(rec.is_object() && rec.contains("type") && rec["type"].is_string());
    if (rec["type"] == "series") {
      resolver.learn(rec);
    } else if (rec["type"] == "sample") {
      if (auto r = resolver.resolve(rec)) {
        FUZZ_CHECK((*r)["values"].is_object());
        FUZZ_CHECK((*r)["values"].size() <= rec["values"].size());
      }
    }
  });
  FUZZ_CHECK(handed == plain.records);
  FUZZ_CHECK(plain.records + plain.corrupt == lines);
  FUZZ_CHECK(plain.torn == (open_end ? 1u : 0u));

  // The same bytes as one zstd frame: the same records; a line without its
  // newline inside a whole frame is corrupt, not torn.
  if (size <= 4096) {
    std::string frame(ZSTD_compressBound(size), '\0');
    auto n = ZSTD_compress(frame.data(), frame.size(), text.data(), size, 1);
    FUZZ_CHECK(!ZSTD_isError(n));
    frame.resize(n);
    RecordingStats z;
    parse_segment(frame, true, z, [](nlohmann::json&&) {});
    FUZZ_CHECK(z.records == plain.records);
    FUZZ_CHECK(z.corrupt == plain.corrupt + plain.torn);
    FUZZ_CHECK(z.torn == 0);
  }

  // The input taken as zstd bytes: whatever it holds, nothing but counts.
  RecordingStats raw;
  parse_segment(text, true, raw, [](nlohmann::json&& rec) { FUZZ_CHECK(rec.is_object()); });
  return 0;
}
