// NDJSON framing + Ollama stream interpretation (workloads/ndjson.h,
// workloads/engine_stream.h). The first byte picks a chunking seed; the rest
// is the response body. Checks that chunking never changes the lines or the
// interpreted messages, the size cap, what lines may contain, and that
// interpreting any line neither crashes nor throws.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/text.h"
#include "tests/fuzz/fuzz_common.h"
#include "workloads/engine_stream.h"
#include "workloads/ndjson.h"

using namespace tierscope;
using namespace tierscope::workloads;

namespace {

struct Result {
  std::vector<std::string> lines;
  bool overflowed = false, ended_mid_line = false;
  bool operator==(const Result&) const = default;
};


Result split(const std::vector<std::string_view>& chunks, std::size_t cap) {
  NdjsonSplitter s(cap);
  Result r;
  auto collect = [&](std::string_view line) { r.lines.emplace_back(line); };
  std::uint64_t returned = 0;
  for (auto c : chunks) returned += s.feed(c, collect);
  returned += s.finish(collect);
  FUZZ_CHECK(returned == r.lines.size());
  FUZZ_CHECK(s.lines() == r.lines.size());
  r.overflowed = s.overflowed();
  r.ended_mid_line = s.ended_mid_line();
  return r;
}

struct Decoded {
  std::vector<std::string> messages;
  bool operator==(const Decoded&) const = default;
};

Decoded decode(Dialect d, const std::vector<std::string_view>& chunks) {
  StreamDecoder decoder(d, 4096);
  Decoded out;
  auto collect = [&](const StreamMessage& m) {
    FUZZ_CHECK(m.carries_content == (!m.content.empty() || !m.reasoning.empty()));
    FUZZ_CHECK(!m.end_of_stream, "no [DONE] in NDJSON");
    if (m.timings.prompt_ms) FUZZ_CHECK(*m.timings.prompt_ms >= 0);
    if (m.error) {
      FUZZ_CHECK(m.error->message.size() <= kMaxErrorMessageBytes);
      std::string copy = m.error->message;
      FUZZ_CHECK(text::make_valid_utf8(copy));
      (void)classify_engine_error(200, *m.error);
    }
    std::string summary = m.content + '\x1f' + m.reasoning + '\x1f' + m.finish_reason;
    summary += m.done ? 'D' : '-';
    summary += m.malformed ? 'M' : '-';
    summary += m.error ? 'E' : '-';
    if (m.output_tokens) summary += std::to_string(*m.output_tokens);
    out.messages.push_back(std::move(summary));
  };
  for (auto c : chunks) decoder.feed(c, collect);
  decoder.finish(collect);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t seed = data[0];
  const std::string_view body = fuzz::as_text(data + 1, size - 1);

  for (std::size_t cap : {std::size_t{48}, kDefaultMaxEventBytes}) {
    const Result whole = split({body}, cap);
    FUZZ_CHECK(split(fuzz::chunk(body, seed, 23), cap) == whole, "random chunks differ from whole");
    if (body.size() <= 4096) {
      std::vector<std::string_view> bytes;
      for (std::size_t i = 0; i < body.size(); ++i) bytes.push_back(body.substr(i, 1));
      FUZZ_CHECK(split(bytes, cap) == whole, "byte by byte differs from whole");
    }
    for (const auto& line : whole.lines) {
      FUZZ_CHECK(!line.empty());
      FUZZ_CHECK(line.size() <= cap);
      FUZZ_CHECK(line.find('\n') == std::string::npos);
      FUZZ_CHECK(line.find_first_not_of(" \t\r") != std::string::npos);
      FUZZ_CHECK(body.find(line) != std::string_view::npos);
    }
    // Without the cap tripping, the lines are all of the body's non-blank lines.
    if (!whole.overflowed) {
      std::size_t newlines = 0;
      for (char c : body) newlines += c == '\n';
      FUZZ_CHECK(whole.lines.size() <= newlines + 1);
    }
  }

  for (Dialect d : {Dialect::ollama_generate, Dialect::ollama_chat}) {
    const Decoded whole = decode(d, {body});
    FUZZ_CHECK(decode(d, fuzz::chunk(body, seed, 23)) == whole, "decoded messages depend on chunking");
  }
  return 0;
}
