#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "workloads/ndjson.h"

using namespace tierscope::workloads;

namespace {

struct Split {
  std::vector<std::string> lines;
  bool overflowed = false;
  bool ended_mid_line = false;
  std::uint64_t blank = 0;
  bool operator==(const Split&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Split& r) {
  os << "overflowed=" << r.overflowed << " mid=" << r.ended_mid_line << " blank=" << r.blank << "\n";
  for (const auto& l : r.lines) os << "  [" << l << "]\n";
  return os;
}

Split split(const std::vector<std::string_view>& chunks, std::size_t cap = kDefaultMaxEventBytes) {
  NdjsonSplitter s(cap);
  Split run;
  auto collect = [&](std::string_view line) { run.lines.emplace_back(line); };
  for (auto c : chunks) s.feed(c, collect);
  s.finish(collect);
  run.overflowed = s.overflowed();
  run.ended_mid_line = s.ended_mid_line();
  run.blank = s.blank_lines();
  return run;
}

// Ollama /api/generate, as its API documentation shows the stream.
const std::string kSample =
    R"({"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","response":"The","done":false})"
    "\n"
    R"({"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","response":" sky","done":false})"
    "\r\n"
    "\n"
    "  \t\n"
    R"({"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z","response":"","done":true,)"
    R"("done_reason":"stop","context":[1,2,3],"total_duration":10706818083,"load_duration":6338219291,)"
    R"("prompt_eval_count":26,"prompt_eval_duration":130079000,"eval_count":259,"eval_duration":4232710000})"
    "\n";

}  // namespace

TEST(Ndjson, SplitsLinesAndSkipsBlankOnes) {
  Split r = split({kSample});
  ASSERT_EQ(r.lines.size(), 3u) << r;
  EXPECT_TRUE(r.lines[0].ends_with(R"("response":"The","done":false})"));
  EXPECT_TRUE(r.lines[1].ends_with(R"("done":false})")) << "the \\r before \\n is dropped";
  EXPECT_TRUE(r.lines[2].ends_with(R"("eval_duration":4232710000})"));
  EXPECT_EQ(r.blank, 2u);
  EXPECT_FALSE(r.ended_mid_line);
  EXPECT_FALSE(r.overflowed);
}

TEST(Ndjson, ByteByByteEqualsWhole) {
  std::vector<std::string_view> chunks;
  std::string_view s = kSample;
  for (std::size_t i = 0; i < s.size(); ++i) chunks.push_back(s.substr(i, 1));
  EXPECT_EQ(split(chunks), split({kSample}));
}

TEST(Ndjson, EveryTwoWaySplitEqualsWhole) {
  const Split whole = split({kSample});
  std::string_view s = kSample;
  for (std::size_t i = 0; i <= s.size(); ++i) EXPECT_EQ(split({s.substr(0, i), s.substr(i)}), whole) << i;
}

TEST(Ndjson, UnterminatedLastLineHandedOverAtFinish) {
  Split r = split({"{\"a\":1}\n{\"b\":", "2}"});
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_EQ(r.lines[1], "{\"b\":2}");
  EXPECT_TRUE(r.ended_mid_line);
  // Trailing blanks are not a cut line.
  r = split({"{\"a\":1}\n  "});
  EXPECT_EQ(r.lines.size(), 1u);
  EXPECT_FALSE(r.ended_mid_line);
}

TEST(Ndjson, ErrorLinePassesThrough) {
  Split r = split({"{\"response\":\"a\",\"done\":false}\n{\"error\":\"an error was encountered while running the model\"}\n"});
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_EQ(r.lines[1], R"({"error":"an error was encountered while running the model"})");
}

TEST(Ndjson, OneMegabyteLinePasses) {
  const std::string line = "{\"response\":\"" + std::string(1 << 20, 'x') + "\"}";
  Split r = split({line + "\n"});
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0].size(), line.size());
  EXPECT_FALSE(r.overflowed);
}

TEST(Ndjson, OverCapLineOverflowsAndStops) {
  const std::string text = "{\"a\":1}\n" + std::string(200, 'x') + "\n{\"b\":2}\n";
  Split whole = split({text}, 100);
  EXPECT_TRUE(whole.overflowed);
  ASSERT_EQ(whole.lines.size(), 1u);
  std::vector<std::string_view> chunks;
  std::string_view s = text;
  for (std::size_t i = 0; i < s.size(); i += 7) chunks.push_back(s.substr(i, 7));
  EXPECT_EQ(split(chunks, 100), whole);
}

TEST(Ndjson, EndlessLineIsBounded) {
  NdjsonSplitter s(1000);
  auto ignore = [](std::string_view) {};
  const std::string chunk(333, 'q');
  for (int i = 0; i < 50; ++i) s.feed(chunk, ignore);
  EXPECT_TRUE(s.overflowed());
  EXPECT_EQ(s.finish(ignore), 0u);
}

TEST(Ndjson, ResetStartsOver) {
  NdjsonSplitter s(4);
  auto ignore = [](std::string_view) {};
  s.feed("123456", ignore);
  ASSERT_TRUE(s.overflowed());
  s.reset();
  EXPECT_EQ(s.feed("1\n2\n", ignore), 2u);
}
