// SSE framing + engine stream interpretation (workloads/sse.h,
// workloads/engine_stream.h). The first byte picks a chunking seed; the rest
// is the response body. Checks that chunking never changes the result (whole
// == random chunks == byte by byte), the size cap, what events may contain,
// and that interpreting and classifying any event neither crashes nor
// throws.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/text.h"
#include "tests/fuzz/fuzz_common.h"
#include "workloads/engine_stream.h"
#include "workloads/sse.h"
#include "workloads/stats.h"

using namespace tierscope;
using namespace tierscope::workloads;

namespace {

struct Event {
  std::string type, data, error, id;
  bool has_data, has_error, incomplete;
  bool operator==(const Event&) const = default;
};

struct Result {
  std::vector<Event> events;
  bool overflowed = false, ended_mid_event = false;
  std::uint64_t comments = 0;
  bool operator==(const Result&) const = default;
};


Result parse(const std::vector<std::string_view>& chunks, std::size_t cap) {
  SseParser p(cap);
  Result r;
  auto collect = [&](const SseEvent& e) {
    r.events.push_back({std::string(e.type), std::string(e.data), std::string(e.error), std::string(e.id), e.has_data,
                        e.has_error, e.incomplete});
  };
  std::uint64_t returned = 0;
  for (auto c : chunks) returned += p.feed(c, collect);
  returned += p.finish(collect);
  FUZZ_CHECK(returned == r.events.size());
  FUZZ_CHECK(p.events() == r.events.size());
  r.overflowed = p.overflowed();
  r.ended_mid_event = p.ended_mid_event();
  r.comments = p.comments();
  return r;
}

void check_event(const Event& e, std::size_t cap) {
  FUZZ_CHECK(e.has_data || e.has_error);
  FUZZ_CHECK(e.has_data || e.data.empty());
  FUZZ_CHECK(e.has_error || e.error.empty());
  FUZZ_CHECK(e.data.size() + e.error.size() <= cap);
  for (const std::string* s : {&e.type, &e.data, &e.error, &e.id}) FUZZ_CHECK(s->find('\r') == std::string::npos);
  FUZZ_CHECK(e.type.find('\n') == std::string::npos);
  FUZZ_CHECK(e.id.find('\n') == std::string::npos);
  FUZZ_CHECK(e.id.find('\0') == std::string::npos);
  FUZZ_CHECK(!e.type.empty());
}

void check_message(const StreamMessage& m) {
  FUZZ_CHECK(m.carries_content == (!m.content.empty() || !m.reasoning.empty()));
  FUZZ_CHECK(!m.end_of_stream || m.done);
  if (m.error) {
    FUZZ_CHECK(m.error->message.size() <= kMaxErrorMessageBytes);
    std::string copy = m.error->message;
    FUZZ_CHECK(text::make_valid_utf8(copy), "error message not UTF-8");
    const Outcome o = classify_engine_error(200, *m.error);
    FUZZ_CHECK(outcome_from_string(to_string(o)) == o);
  }
}

struct Decoded {
  std::vector<std::string> contents;
  std::vector<bool> malformed, done;
  bool overflowed = false;
  bool operator==(const Decoded&) const = default;
};

Decoded decode(Dialect d, const std::vector<std::string_view>& chunks) {
  StreamDecoder decoder(d, 4096);
  Decoded out;
  auto collect = [&](const StreamMessage& m) {
    check_message(m);
    out.contents.push_back(m.content + '\x1f' + m.reasoning + '\x1f' + m.finish_reason);
    out.malformed.push_back(m.malformed);
    out.done.push_back(m.done);
  };
  for (auto c : chunks) decoder.feed(c, collect);
  decoder.finish(collect);
  out.overflowed = decoder.overflowed();
  FUZZ_CHECK(decoder.messages() == out.contents.size());
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t seed = data[0];
  const std::string_view body = fuzz::as_text(data + 1, size - 1);

  for (std::size_t cap : {std::size_t{64}, kDefaultMaxEventBytes}) {
    const Result whole = parse({body}, cap);
    FUZZ_CHECK(parse(fuzz::chunk(body, seed, 17), cap) == whole, "random chunks differ from whole");
    if (body.size() <= 4096) {
      std::vector<std::string_view> bytes;
      for (std::size_t i = 0; i < body.size(); ++i) bytes.push_back(body.substr(i, 1));
      FUZZ_CHECK(parse(bytes, cap) == whole, "byte by byte differs from whole");
    }
    for (const auto& e : whole.events) check_event(e, cap);
    // Only the last event can be incomplete, and only when the stream ended mid-event.
    for (std::size_t i = 0; i < whole.events.size(); ++i)
      FUZZ_CHECK(!whole.events[i].incomplete || (i + 1 == whole.events.size() && whole.ended_mid_event));
  }

  for (Dialect d : {Dialect::openai_chat, Dialect::openai_completions, Dialect::llamacpp_completion}) {
    const Decoded whole = decode(d, {body});
    FUZZ_CHECK(decode(d, fuzz::chunk(body, seed, 17)) == whole, "decoded messages depend on chunking");
  }

  // The body as one error response.
  const EngineError e = extract_engine_error(body);
  FUZZ_CHECK(e.message.size() <= kMaxErrorMessageBytes);
  std::string copy = e.message;
  FUZZ_CHECK(text::make_valid_utf8(copy));
  (void)classify_engine_error(500, body);
  const double score = repetition_score(body);
  FUZZ_CHECK(score >= 0 && score < 1);
  return 0;
}
