// The recorder and its reader: what is recorded reads back resolved, segments
// rotate by size and age and each restates its series, a restart resumes in
// the next segment after a gap record, a torn last line or zstd frame is
// skipped and counted, the CSV gets a new header row when the series change,
// retention deletes the oldest closed segments, a removed directory is
// recreated.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/yaml_reader.h"
#include "daemon/cli.h"
#include "daemon/config.h"
#include "exporters/recorder.h"
#include "exporters/recording.h"

using namespace tierscope;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/tierscope-recorder-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

prometheus::MetricFamily gauge(std::string name, std::vector<std::pair<Labels, double>> series,
                               prometheus::MetricType type = prometheus::MetricType::Gauge) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = "help";
  f.type = type;
  for (auto& [labels, v] : series) {
    prometheus::ClientMetric m;
    m.label = labels;
    if (type == prometheus::MetricType::Counter) m.counter.value = v;
    else m.gauge.value = v;
    f.metric.push_back(std::move(m));
  }
  return f;
}

std::vector<prometheus::MetricFamily> families(double v) {
  return {gauge("a_bytes", {{{{"tier", "ram"}}, v}, {{{"tier", "swap"}}, v * 2}}),
          gauge("b_total", {{{}, v + 0.5}}, prometheus::MetricType::Counter)};
}

RecorderOptions options_for(const fs::path& dir) {
  RecorderOptions o;
  o.dir = dir.native();
  o.fsync_period = std::chrono::hours(1);  // the tests flush themselves
  return o;
}

std::chrono::system_clock::time_point wall_at(double s) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(s)));
}
std::chrono::steady_clock::time_point mono_at(double s) {
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(s)));
}

struct Read {
  RecordingStats stats;
  std::vector<nlohmann::json> records;
  std::vector<nlohmann::json> of(const std::string& type) const {
    std::vector<nlohmann::json> out;
    for (const auto& r : records)
      if (r["type"] == type) out.push_back(r);
    return out;
  }
};

Read read(const fs::path& dir) {
  Read r;
  r.stats = read_recording(dir.native(), [&](const nlohmann::json& j) { r.records.push_back(j); });
  return r;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST(Recorder, SamplesReadBackResolvedWithNonFiniteValuesAsStrings) {
  TempDir d;
  {
    Recorder r(options_for(d.path));
    r.record_sample(7, mono_at(100.25), wall_at(1700000000.5), families(1024));
    auto f = families(0);
    f[0].metric[0].gauge.value = std::numeric_limits<double>::quiet_NaN();
    f[0].metric[1].gauge.value = std::numeric_limits<double>::infinity();
    f[1].metric[0].counter.value = -std::numeric_limits<double>::infinity();
    r.record_sample(8, mono_at(100.35), wall_at(1700000000.6), f);
    r.record_event("step", {{"step", "warmup"}, {"n", 3}});
    r.flush();
    EXPECT_EQ(r.counters()->samples.load(), 2u);
    EXPECT_EQ(r.counters()->events.load(), 1u);
    EXPECT_GT(r.counters()->written_bytes.load(), 0u);
    EXPECT_EQ(r.counters()->segments.load(), 1u);
  }
  auto got = read(d.path);
  EXPECT_EQ(got.stats.segments, 1u);
  EXPECT_EQ(got.stats.torn, 0u);
  EXPECT_EQ(got.stats.corrupt, 0u);
  auto samples = got.of("sample");
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0]["seq"], 7);
  EXPECT_DOUBLE_EQ(samples[0]["wall"].get<double>(), 1700000000.5);
  EXPECT_DOUBLE_EQ(samples[0]["mono"].get<double>(), 100.25);
  EXPECT_EQ(samples[0]["values"]["a_bytes{tier=\"ram\"}"], 1024);
  EXPECT_EQ(samples[0]["values"]["a_bytes{tier=\"swap\"}"], 2048);
  EXPECT_EQ(samples[0]["values"]["b_total"], 1024.5);
  EXPECT_EQ(samples[1]["values"]["a_bytes{tier=\"ram\"}"], "NaN");
  EXPECT_EQ(samples[1]["values"]["a_bytes{tier=\"swap\"}"], "+Inf");
  EXPECT_EQ(samples[1]["values"]["b_total"], "-Inf");
  auto steps = got.of("step");
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0]["step"], "warmup");
  EXPECT_EQ(steps[0]["n"], 3);
  EXPECT_TRUE(steps[0]["wall"].is_number());
  auto headers = got.of("header");
  ASSERT_EQ(headers.size(), 1u);
  EXPECT_EQ(headers[0]["format"], 1);
  EXPECT_EQ(headers[0]["pid"], ::getpid());
  EXPECT_TRUE(headers[0]["start_wall"].is_number());
  // One series record: the series did not change between the two samples.
  EXPECT_EQ(got.of("series").size(), 1u);
}

TEST(Recorder, ASeriesRecordWhenTheSetOfSeriesChanges) {
  TempDir d;
  {
    Recorder r(options_for(d.path));
    r.record_sample(1, mono_at(1), wall_at(1), families(1));
    auto more = families(2);
    more[0].metric.back().label = {{"tier", "gtt"}};  // a label changes
    r.record_sample(2, mono_at(2), wall_at(2), more);
    more.push_back(gauge("c", {{{}, 5}}));  // a family appears
    r.record_sample(3, mono_at(3), wall_at(3), more);
    r.record_sample(4, mono_at(4), wall_at(4), more);
  }
  auto got = read(d.path);
  EXPECT_EQ(got.of("series").size(), 3u);
  auto samples = got.of("sample");
  ASSERT_EQ(samples.size(), 4u);
  EXPECT_FALSE(samples[0]["values"].contains("a_bytes{tier=\"gtt\"}"));
  EXPECT_EQ(samples[1]["values"]["a_bytes{tier=\"gtt\"}"], 4);
  EXPECT_EQ(samples[3]["values"]["c"], 5);
  EXPECT_EQ(got.stats.corrupt, 0u);
}

TEST(Recorder, RotatesBySizeAndEverySegmentStandsAlone) {
  TempDir d;
  auto o = options_for(d.path);
  o.segment_max_bytes = 1000;
  {
    Recorder r(o);
    for (int i = 0; i < 40; ++i) {
      r.record_sample(static_cast<std::uint64_t>(i), mono_at(i), wall_at(i), families(i));
      if (i % 4 == 3) r.flush();
    }
  }
  auto segs = list_segments(d.path.native());
  ASSERT_GE(segs.size(), 3u);
  for (std::size_t i = 0; i < segs.size(); ++i) {
    EXPECT_EQ(segs[i].seq, i + 1);
    // Each segment on its own: a header first, and every sample resolves.
    TempDir one;
    fs::copy_file(segs[i].path, one.path / fs::path(segs[i].path).filename());
    auto got = read(one.path);
    ASSERT_FALSE(got.records.empty());
    EXPECT_EQ(got.records.front()["type"], "header");
    EXPECT_EQ(got.stats.corrupt, 0u) << segs[i].path;
  }
  auto got = read(d.path);
  ASSERT_EQ(got.of("sample").size(), 40u);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(got.of("sample")[static_cast<std::size_t>(i)]["seq"], i);
}

TEST(Recorder, RotatesByAge) {
  TempDir d;
  auto o = options_for(d.path);
  o.segment_max_age = std::chrono::seconds(60);
  auto now = std::chrono::steady_clock::now();
  Recorder r(o);
  r.set_background_flush(false);
  r.set_clock([&now] { return now; });
  r.record_sample(1, mono_at(1), wall_at(1), families(1));
  r.flush();
  now += std::chrono::seconds(59);
  r.record_sample(2, mono_at(2), wall_at(2), families(2));
  r.flush();
  EXPECT_EQ(list_segments(d.path.native()).size(), 1u);
  now += std::chrono::seconds(1);
  r.record_sample(3, mono_at(3), wall_at(3), families(3));
  r.flush();
  EXPECT_EQ(list_segments(d.path.native()).size(), 2u);
  EXPECT_EQ(fs::path(r.current_segment()).filename(), "samples-000002.jsonl");
}

TEST(Recorder, RestartResumesInTheNextSegmentAfterAGap) {
  TempDir d;
  double last_wall = 0;
  {
    Recorder r(options_for(d.path));
    auto wall = std::chrono::system_clock::now() - std::chrono::seconds(30);
    last_wall = std::chrono::duration<double>(wall.time_since_epoch()).count();
    r.record_sample(1, std::chrono::steady_clock::now(), wall, families(1));
  }
  // What a crash leaves: half a line at the end.
  {
    std::ofstream out(d.path / "samples-000001.jsonl", std::ios::app);
    out << "{\"type\":\"sample\",\"seq\":2,\"wa";
  }
  Recorder r(options_for(d.path));
  EXPECT_EQ(fs::path(r.current_segment()).filename(), "samples-000002.jsonl");
  ASSERT_TRUE(r.resumed_gap());
  EXPECT_DOUBLE_EQ(r.resumed_gap()->first, last_wall);
  EXPECT_GE(r.resumed_gap()->second, last_wall + 29);
  r.record_sample(3, std::chrono::steady_clock::now(), std::chrono::system_clock::now(), families(3));
  r.flush();
  auto got = read(d.path);
  EXPECT_EQ(got.stats.torn, 1u);
  EXPECT_EQ(got.stats.corrupt, 0u);
  auto gaps = got.of("gap");
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_DOUBLE_EQ(gaps[0]["from_wall"].get<double>(), last_wall);
  EXPECT_TRUE(gaps[0].contains("from_mono"));  // same boot
  auto samples = got.of("sample");
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[1]["seq"], 3);
}

TEST(Recorder, TornLastZstdFrameIsSkippedAndEarlierFramesDecode) {
  TempDir d;
  auto o = options_for(d.path);
  o.zstd = true;
  {
    Recorder r(o);
    for (int i = 0; i < 6; ++i) {
      r.record_sample(static_cast<std::uint64_t>(i), mono_at(i), wall_at(i), families(i));
      r.flush();  // one frame each
    }
  }
  const fs::path seg = d.path / "samples-000001.jsonl.zst";
  ASSERT_TRUE(fs::exists(seg));
  auto whole = read(d.path);
  EXPECT_EQ(whole.of("sample").size(), 6u);
  EXPECT_EQ(whole.stats.torn, 0u);
  fs::resize_file(seg, fs::file_size(seg) - 5);
  auto cut = read(d.path);
  EXPECT_EQ(cut.stats.torn, 1u);
  EXPECT_EQ(cut.stats.corrupt, 0u);
  ASSERT_EQ(cut.of("sample").size(), 5u);
  EXPECT_EQ(cut.of("sample").back()["seq"], 4);
}

TEST(Recorder, CsvGetsANewHeaderRowWhenTheSeriesChange) {
  TempDir d;
  auto o = options_for(d.path);
  o.csv = true;
  {
    Recorder r(o);
    r.record_sample(1, mono_at(1.5), wall_at(10), families(1));
    r.record_sample(2, mono_at(2.5), wall_at(11), families(2));
    auto more = families(3);
    more.push_back(gauge("c", {{{}, std::numeric_limits<double>::quiet_NaN()}}));
    r.record_sample(3, mono_at(3.5), wall_at(12), more);
  }
  const std::string csv = slurp(d.path / "samples.csv");
  EXPECT_EQ(csv,
            "wall,mono,\"a_bytes{tier=\"\"ram\"\"}\",\"a_bytes{tier=\"\"swap\"\"}\",\"b_total\"\n"
            "10,1.5,1,2,1.5\n"
            "11,2.5,2,4,2.5\n"
            "wall,mono,\"a_bytes{tier=\"\"ram\"\"}\",\"a_bytes{tier=\"\"swap\"\"}\",\"b_total\",\"c\"\n"
            "12,3.5,3,6,3.5,NaN\n");
}

TEST(Recorder, RetentionDeletesTheOldestClosedSegments) {
  TempDir d;
  auto o = options_for(d.path);
  o.segment_max_bytes = 600;
  o.retention_max_bytes = 2000;
  Recorder r(o);
  for (int i = 0; i < 30; ++i) {
    r.record_sample(static_cast<std::uint64_t>(i), mono_at(i), wall_at(i), families(i));
    r.flush();
  }
  auto segs = list_segments(d.path.native());
  ASSERT_GE(segs.size(), 2u);
  EXPECT_GT(segs.front().seq, 1u);  // the first ones are gone
  std::uint64_t closed = 0;
  for (const auto& s : segs)
    if (s.path != r.current_segment()) closed += s.bytes;
  EXPECT_LE(closed, 2000u);
  EXPECT_EQ(r.counters()->segments.load(), segs.size());
  // Consecutive: only the oldest went.
  for (std::size_t i = 1; i < segs.size(); ++i) EXPECT_EQ(segs[i].seq, segs[i - 1].seq + 1);
}

TEST(Recorder, RetentionByAge) {
  TempDir d;
  auto o = options_for(d.path);
  o.segment_max_bytes = 600;
  o.retention_max_age = std::chrono::hours(1);
  Recorder r(o);
  for (int i = 0; i < 10; ++i) {
    r.record_sample(static_cast<std::uint64_t>(i), mono_at(i), wall_at(i), families(i));
    r.flush();
  }
  auto before = list_segments(d.path.native());
  ASSERT_GE(before.size(), 3u);
  fs::last_write_time(before[0].path, fs::file_time_type::clock::now() - std::chrono::hours(2));
  for (int i = 0; i < 10; ++i) {
    r.record_sample(static_cast<std::uint64_t>(i), mono_at(i), wall_at(i), families(i));
    r.flush();
  }
  auto after = list_segments(d.path.native());
  EXPECT_FALSE(fs::exists(before[0].path));
  EXPECT_TRUE(fs::exists(before[1].path));
  EXPECT_GT(after.size(), 0u);
}

TEST(Recorder, ARemovedDirectoryIsRecreatedAndNothingIsLost) {
  TempDir d;
  const fs::path dir = d.path / "rec";
  Recorder r(options_for(dir));
  r.record_sample(1, mono_at(1), wall_at(1), families(1));
  r.flush();
  fs::remove_all(dir);
  r.record_sample(2, mono_at(2), wall_at(2), families(2));
  r.flush();
  EXPECT_EQ(r.dropped_samples(), 0u);
  auto got = read(dir);
  ASSERT_EQ(got.of("sample").size(), 1u);
  EXPECT_EQ(got.of("sample")[0]["seq"], 2);
}

TEST(Recorder, AnUnwritableDirectoryIsARecorderErrorWithPathAndErrno) {
  TempDir d;
  const fs::path file = d.path / "file";
  std::ofstream(file) << "x";
  auto o = options_for(file / "rec");  // below a regular file
  try {
    Recorder r(o);
    FAIL() << "no error";
  } catch (const RecorderError& e) {
    EXPECT_EQ(e.err, ENOTDIR);
    EXPECT_NE(std::string(e.what()).find(file.native()), std::string::npos) << e.what();
  }
}

TEST(Recording, CorruptLinesAreCountedNotFatal) {
  RecordingStats stats;
  std::vector<std::string> types;
  parse_segment("{\"type\":\"a\"}\nnot json\n[1,2]\n{\"no_type\":1}\n{\"type\":\"b\"}\n{\"type\":\"c\"", false, stats,
                [&](nlohmann::json&& j) { types.push_back(j["type"]); });
  EXPECT_EQ(types, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(stats.corrupt, 3u);
  EXPECT_EQ(stats.torn, 1u);
}

namespace {
class TestReader final : public YamlReader {
  std::string origin(const YAML::Mark& mark, std::string_view) const override { return file_position("t.yaml", mark); }
  [[noreturn]] void raise(const std::string& m) const override { throw std::runtime_error(m); }
};
}  // namespace

TEST(Recorder, ParsesTheRecordSection) {
  TestReader reader;
  auto node = YAML::Load(
      "record: {dir: /var/lib/x, max_bytes: 1G, max_age: 168h, segment_bytes: 8M, segment_age: 10m, "
      "fsync_period: 500ms, compress: zstd, csv: true}");
  auto o = parse_recorder_options(reader, node["record"], "record");
  EXPECT_EQ(o.dir, "/var/lib/x");
  EXPECT_EQ(o.retention_max_bytes, 1ull << 30);
  EXPECT_EQ(o.segment_max_bytes, 8ull << 20);
  EXPECT_EQ(o.segment_max_age, std::chrono::minutes(10));
  EXPECT_EQ(o.fsync_period, std::chrono::milliseconds(500));
  EXPECT_TRUE(o.zstd);
  EXPECT_TRUE(o.csv);
  EXPECT_THROW(parse_recorder_options(reader, YAML::Load("{max_bytes: 1G}"), "record"), std::runtime_error);
  try {
    parse_recorder_options(reader, YAML::Load("{dir: x, compres: zstd}"), "record");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("compress"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_recorder_options(reader, YAML::Load("{dir: x, compress: gzip}"), "record"), std::runtime_error);
}

TEST(Recorder, TheDaemonConfigTakesARecordSectionOffByDefault) {
  EXPECT_FALSE(parse_config("listen: 127.0.0.1:1\n", "c.yaml").record);
  auto c = parse_config("record:\n  dir: /var/lib/tierscope/record\n  max_bytes: 2G\n  compress: zstd\n", "c.yaml");
  ASSERT_TRUE(c.record);
  EXPECT_EQ(c.record->dir, "/var/lib/tierscope/record");
  EXPECT_EQ(c.record->retention_max_bytes, 2ull << 30);
  EXPECT_TRUE(c.record->zstd);
  EXPECT_EQ(c.record->fsync_period, std::chrono::seconds(1));
  try {
    parse_config("record:\n  dir: x\n  fsync_period: 5ms\n", "c.yaml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("c.yaml:3:17: record.fsync_period"), std::string::npos) << e.what();
  }
}

TEST(Recorder, RecordingCommandLine) {
  auto o = parse_cli({"recording", "/var/lib/tierscope/record", "--format", "csv", "--series", "memory_used"});
  EXPECT_EQ(o.command, Command::recording);
  EXPECT_EQ(o.recording_dir, "/var/lib/tierscope/record");
  EXPECT_EQ(o.format, "csv");
  EXPECT_EQ(o.series, "memory_used");
  EXPECT_EQ(parse_cli({"recording", "d"}).format, "jsonl");
  EXPECT_THROW(parse_cli({"recording"}), UsageError);
  EXPECT_THROW(parse_cli({"recording", "d", "--format", "json"}), UsageError);
  EXPECT_THROW(parse_cli({"recording", "d", "--series", "("}), UsageError);
  EXPECT_THROW(parse_cli({"recording", "d", "e"}), UsageError);
}
