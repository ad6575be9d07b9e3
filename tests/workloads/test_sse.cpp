#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "workloads/sse.h"

using namespace tierscope::workloads;

namespace {

// An SseEvent with owned strings, for comparisons.
struct Event {
  std::string type, data, error, id;
  bool has_data = false, has_error = false, incomplete = false;
  bool operator==(const Event&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Event& e) {
  return os << "{type=" << e.type << " data=[" << e.data << "] error=[" << e.error << "] id=" << e.id
            << " has_data=" << e.has_data << " has_error=" << e.has_error << " incomplete=" << e.incomplete << "}";
}

struct Parsed {
  std::vector<Event> events;
  bool overflowed = false;
  bool ended_mid_event = false;
  std::uint64_t comments = 0;
  bool operator==(const Parsed&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Parsed& r) {
  os << "overflowed=" << r.overflowed << " mid=" << r.ended_mid_event << " comments=" << r.comments << "\n";
  for (const auto& e : r.events) os << "  " << e << "\n";
  return os;
}

// Feeds `chunks` in order, then finish().
Parsed parse(const std::vector<std::string_view>& chunks, std::size_t cap = kDefaultMaxEventBytes) {
  SseParser parser(cap);
  Parsed run;
  auto collect = [&](const SseEvent& e) {
    run.events.push_back({std::string(e.type), std::string(e.data), std::string(e.error), std::string(e.id),
                          e.has_data, e.has_error, e.incomplete});
  };
  for (auto c : chunks) parser.feed(c, collect);
  parser.finish(collect);
  run.overflowed = parser.overflowed();
  run.ended_mid_event = parser.ended_mid_event();
  run.comments = parser.comments();
  return run;
}

Parsed parse_whole(std::string_view text, std::size_t cap = kDefaultMaxEventBytes) { return parse({text}, cap); }

Parsed parse_bytewise(std::string_view text, std::size_t cap = kDefaultMaxEventBytes) {
  std::vector<std::string_view> chunks;
  for (std::size_t i = 0; i < text.size(); ++i) chunks.push_back(text.substr(i, 1));
  return parse(chunks, cap);
}

Event data_event(std::string data, std::string id = "") {
  return {"message", std::move(data), "", std::move(id), true, false, false};
}

// A vLLM-style chat stream with every feature the parser handles: comments,
// CRLF and bare CR, data with and without the space, multi-line data, an
// event type, ids, retry, llama.cpp's error line, a blank data line.
const std::string kSample =
    ": keep-alive\r\n"
    "retry: 3000\r\n"
    "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\r\n"
    "\r\n"
    "data:{\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\n"
    "\n"
    "id: 7\r"
    "event: usage\r"
    "data: first line\r"
    "data:  second line (two spaces: one stays)\r"
    "\r"
    ":comment without space\n"
    "data\n"
    "\n"
    "error: {\"code\":500,\"message\":\"boom\",\"type\":\"server_error\"}\n"
    "\n"
    "data: [DONE]\n"
    "\n";

}  // namespace

TEST(Sse, SampleStreamEvents) {
  Parsed r = parse_whole(kSample);
  EXPECT_FALSE(r.overflowed);
  EXPECT_FALSE(r.ended_mid_event);
  EXPECT_EQ(r.comments, 2u);
  ASSERT_EQ(r.events.size(), 6u) << r;
  EXPECT_EQ(r.events[0], data_event(R"({"choices":[{"delta":{"content":"Hel"}}]})"));
  EXPECT_EQ(r.events[1], data_event(R"({"choices":[{"delta":{"content":"lo"}}]})"));
  EXPECT_EQ(r.events[2], (Event{"usage", "first line\n second line (two spaces: one stays)", "", "7", true, false, false}));
  // A bare "data" line: a field with an empty value; dispatches an empty data.
  EXPECT_EQ(r.events[3], data_event("", "7"));
  EXPECT_EQ(r.events[4],
            (Event{"message", "", R"({"code":500,"message":"boom","type":"server_error"})", "7", false, true, false}));
  EXPECT_EQ(r.events[5], data_event("[DONE]", "7"));
}

TEST(Sse, ByteByByteEqualsWhole) {
  EXPECT_EQ(parse_bytewise(kSample), parse_whole(kSample));
}

TEST(Sse, EveryTwoWaySplitEqualsWhole) {
  const Parsed whole = parse_whole(kSample);
  for (std::size_t i = 0; i <= kSample.size(); ++i) {
    std::string_view s = kSample;
    EXPECT_EQ(parse({s.substr(0, i), s.substr(i)}), whole) << "split at " << i;
  }
}

TEST(Sse, EveryThreeWaySplitEqualsWholeOnShortStream) {
  const std::string text = "data: a\r\n\r\n: c\rdata:b\rdata: c\r\r\nerror: x\n\n";
  const Parsed whole = parse_whole(text);
  ASSERT_EQ(whole.events.size(), 3u) << whole;
  std::string_view s = text;
  for (std::size_t i = 0; i <= s.size(); ++i)
    for (std::size_t j = i; j <= s.size(); ++j)
      EXPECT_EQ(parse({s.substr(0, i), s.substr(i, j - i), s.substr(j)}), whole) << i << "," << j;
}

TEST(Sse, CrLfSplitBetweenCrAndLfIsOneLineEnd) {
  // "\r" at the end of one chunk and "\n" at the start of the next: one line
  // end, not an extra blank line (which would dispatch an empty event early).
  Parsed r = parse({"data: a\r", "\ndata: b\r", "\n\r", "\n"});
  ASSERT_EQ(r.events.size(), 1u) << r;
  EXPECT_EQ(r.events[0].data, "a\nb");
}

TEST(Sse, LineEndingsLfCrCrLfAreEquivalent) {
  Parsed lf = parse_whole("data: x\ndata: y\n\n");
  Parsed cr = parse_whole("data: x\rdata: y\r\r");
  Parsed crlf = parse_whole("data: x\r\ndata: y\r\n\r\n");
  EXPECT_EQ(lf, cr);
  EXPECT_EQ(lf, crlf);
  ASSERT_EQ(lf.events.size(), 1u);
  EXPECT_EQ(lf.events[0].data, "x\ny");
}

TEST(Sse, CommentsAreCountedAndIgnored) {
  Parsed r = parse_whole(": ping\n:\n: another\ndata: x\n: between\n\n");
  EXPECT_EQ(r.comments, 4u);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].data, "x");
}

TEST(Sse, DataWithAndWithoutSpace) {
  Parsed r = parse_whole("data:x\n\ndata: x\n\ndata:  x\n\n");
  ASSERT_EQ(r.events.size(), 3u);
  EXPECT_EQ(r.events[0].data, "x");
  EXPECT_EQ(r.events[1].data, "x");
  EXPECT_EQ(r.events[2].data, " x");
}

TEST(Sse, MultiLineDataJoinedWithNewline) {
  Parsed r = parse_whole("data: {\"a\":\ndata: 1}\ndata:\n\n");
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].data, "{\"a\":\n1}\n");
}

TEST(Sse, BlankLinesWithoutDataDispatchNothing) {
  Parsed r = parse_whole("\n\n\nevent: ping\n\nid: 3\n\n");
  EXPECT_TRUE(r.events.empty()) << r;
  // The id stays for the next event; the event type does not.
  r = parse_whole("id: 3\nevent: ping\n\ndata: x\n\n");
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0], data_event("x", "3"));
}

TEST(Sse, IdWithNulIsIgnoredAndUnknownFieldsDropped) {
  constexpr char kText[] = "id: 1\n\nid: a\0b\nfoo: bar\ndata: x\n\n";
  Parsed r = parse_whole(std::string(kText, sizeof kText - 1));
  ASSERT_EQ(r.events.size(), 1u) << r;
  EXPECT_EQ(r.events[0].id, "1");
}

TEST(Sse, RetryOnlyWithDigits) {
  SseParser p;
  auto ignore = [](const SseEvent&) {};
  p.feed("retry: 1500\nretry: 12x\nretry:\n", ignore);
  EXPECT_EQ(p.retry_ms(), 1500u);
}

TEST(Sse, LeadingBomDropped) {
  Parsed r = parse({"\xEF\xBB", "\xBF", "data: x\n\n"});
  ASSERT_EQ(r.events.size(), 1u) << r;
  EXPECT_EQ(r.events[0].data, "x");
  // Only at the very start.
  r = parse_whole("data: x\n\n\xEF\xBB\xBF" "data: y\n\n");
  ASSERT_EQ(r.events.size(), 1u) << r;
}

TEST(Sse, DoneIsJustData) {
  Parsed r = parse_whole("data: [DONE]\n\n");
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].data, "[DONE]");
}

TEST(Sse, LlamaCppErrorLineSurfaced) {
  // llama.cpp tools/server: server_sent_event(sink, "error", error_data).
  const std::string text =
      "data: {\"content\":\"a\",\"stop\":false}\n\n"
      "error: {\"code\":400,\"message\":\"the request exceeds the available context size, try increasing it\","
      "\"type\":\"exceed_context_size_error\"}\n\n";
  Parsed r = parse_whole(text);
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_TRUE(r.events[1].has_error);
  EXPECT_FALSE(r.events[1].has_data);
  EXPECT_NE(r.events[1].error.find("exceed_context_size_error"), std::string::npos);
}

TEST(Sse, StreamEndingMidEventIsDispatchedAsIncomplete) {
  // No blank line after the last data (and no [DONE]): finish() hands it over.
  Parsed r = parse_whole("data: a\n\ndata: b\n");
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_FALSE(r.events[0].incomplete);
  EXPECT_TRUE(r.events[1].incomplete);
  EXPECT_EQ(r.events[1].data, "b");
  EXPECT_TRUE(r.ended_mid_event);
  // An unterminated last line is processed first.
  r = parse_whole("data: a\n\ndata: {\"partial");
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[1].data, "{\"partial");
  EXPECT_TRUE(r.events[1].incomplete);
  // A clean end.
  r = parse_whole("data: a\n\n");
  EXPECT_FALSE(r.ended_mid_event);
  // A trailing comment without newline is a partial line, not an event.
  r = parse_whole("data: a\n\n: keep");
  EXPECT_EQ(r.events.size(), 1u);
  EXPECT_TRUE(r.ended_mid_event);
}

TEST(Sse, OneMegabyteEventPasses) {
  const std::string payload(1 << 20, 'x');
  const std::string text = "data: " + payload + "\n\n";
  Parsed r = parse_whole(text);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_FALSE(r.overflowed);
  EXPECT_EQ(r.events[0].data.size(), payload.size());
  // The same, delivered in 1000-byte chunks.
  std::vector<std::string_view> chunks;
  std::string_view s = text;
  for (std::size_t i = 0; i < s.size(); i += 1000) chunks.push_back(s.substr(i, 1000));
  EXPECT_EQ(parse(chunks), r);
}

TEST(Sse, OverCapLineOverflowsAndStops) {
  const std::size_t cap = 64;
  const std::string text = "data: ok\n\ndata: " + std::string(100, 'y') + "\n\ndata: after\n\n";
  Parsed whole = parse_whole(text, cap);
  EXPECT_TRUE(whole.overflowed);
  ASSERT_EQ(whole.events.size(), 1u);
  EXPECT_EQ(whole.events[0].data, "ok");
  EXPECT_EQ(parse_bytewise(text, cap), whole);
}

TEST(Sse, OverCapEventOfManyShortLinesOverflows) {
  const std::size_t cap = 64;
  std::string text;
  for (int i = 0; i < 40; ++i) text += "data: abc\n";
  text += "\n";
  Parsed r = parse_whole(text, cap);
  EXPECT_TRUE(r.overflowed);
  EXPECT_TRUE(r.events.empty());
  EXPECT_EQ(parse_bytewise(text, cap), r);
}

TEST(Sse, EndlessLineWithoutNewlineIsBounded) {
  SseParser p(1024);
  auto ignore = [](const SseEvent&) {};
  const std::string chunk(300, 'z');
  for (int i = 0; i < 100; ++i) p.feed(chunk, ignore);
  EXPECT_TRUE(p.overflowed());
  EXPECT_EQ(p.bytes(), 30000u);
}

TEST(Sse, ResetStartsOver) {
  SseParser p(16);
  auto ignore = [](const SseEvent&) {};
  p.feed(std::string(40, 'a'), ignore);
  ASSERT_TRUE(p.overflowed());
  p.reset();
  int events = 0;
  p.feed("data: x\n\n", [&](const SseEvent&) { ++events; });
  EXPECT_EQ(events, 1);
  EXPECT_FALSE(p.overflowed());
}

TEST(Sse, CountsLinesEventsBytes) {
  SseParser p;
  std::size_t n = p.feed(kSample, [](const SseEvent&) {});
  EXPECT_EQ(n, 6u);
  EXPECT_EQ(p.events(), 6u);
  EXPECT_EQ(p.bytes(), kSample.size());
  EXPECT_GT(p.lines(), 15u);
}
