// The scenario's `push` key (strict parse, URL/job/label checks, round trip)
// and the group path sent to the Pushgateway (base64url for values that are
// not plain). The push over the wire is tests/e2e/bench_push.sh, against the
// real prometheus-pushgateway.
#include <gtest/gtest.h>
#include <prometheus/collectable.h>

#include <nlohmann/json.hpp>

#include "workloads/push.h"
#include "workloads/scenario.h"

using namespace tierscope::workloads;

namespace {

const char* kBase = "engine: { kind: llamacpp, url: http://127.0.0.1:8080 }\nscenario: protocol\n";

std::string error_of(const std::string& push_yaml) {
  try {
    parse_scenario(std::string(kBase) + push_yaml, "s.yaml");
  } catch (const ScenarioError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Push, ParsesEveryKeyAndRoundTrips) {
  auto s = parse_scenario(std::string(kBase) +
                              "push: {url: 'http://127.0.0.1:9091/gw/', job: nightly-bench,\n"
                              "       grouping: {instance: gpu-host-1, model: 'llama/3 8B'}}\n",
                          "s.yaml");
  ASSERT_TRUE(s.push);
  EXPECT_EQ(s.push->url, "http://127.0.0.1:9091/gw");
  EXPECT_EQ(s.push->job, "nightly-bench");
  EXPECT_EQ(s.push->grouping, (std::map<std::string, std::string>{{"instance", "gpu-host-1"}, {"model", "llama/3 8B"}}));
  auto again = parse_scenario(to_yaml(s), "effective.yaml");
  ASSERT_TRUE(again.push);
  EXPECT_EQ(again.push->url, s.push->url);
  EXPECT_EQ(again.push->job, s.push->job);
  EXPECT_EQ(again.push->grouping, s.push->grouping);
  EXPECT_EQ(to_yaml(again), to_yaml(s));
}

TEST(Push, DefaultsAndAbsence) {
  EXPECT_FALSE(parse_scenario(kBase, "s.yaml").push);
  auto s = parse_scenario(std::string(kBase) + "push: {url: 'https://[::1]:9091'}\n", "s.yaml");
  ASSERT_TRUE(s.push);
  EXPECT_EQ(s.push->job, "tierscope");
  EXPECT_TRUE(s.push->grouping.empty());
  auto set = parse_scenario(kBase, "s.yaml", {parse_override("push.url=http://gw.example:9091")});
  ASSERT_TRUE(set.push);
  EXPECT_EQ(set.push->url, "http://gw.example:9091");
}

TEST(Push, BadInputNamesTheKey) {
  EXPECT_NE(error_of("push: {job: x}\n").find("s.yaml:3:7: push.url: missing"), std::string::npos) << error_of("push: {job: x}\n");
  EXPECT_NE(error_of("push: http://127.0.0.1:9091\n").find("push: expected a mapping"), std::string::npos);
  EXPECT_NE(error_of("push: {url: 'ftp://h:1'}\n").find("push.url: expected http://HOST:PORT"), std::string::npos);
  EXPECT_NE(error_of("push: {url: 'http://h'}\n").find("push.url: expected"), std::string::npos);
  EXPECT_NE(error_of("push: {url: 'http://h:0'}\n").find("the port must be 1-65535"), std::string::npos);
  EXPECT_NE(error_of("push: {url: 'http://h:99999'}\n").find("push.url"), std::string::npos);
  EXPECT_NE(error_of("push: {url: 'http://u@h:1'}\n").find("user@"), std::string::npos);
  EXPECT_NE(error_of("push: {url: 'http://h:1/a?b'}\n").find("?query"), std::string::npos);
  EXPECT_NE(error_of("push: {url: 'http://h:1/a//b'}\n").find("empty or .. segment"), std::string::npos);
  EXPECT_NE(error_of("push: {url: 'http://h:1', job: 'a/b'}\n").find("push.job: expected a job name"), std::string::npos);
  EXPECT_NE(error_of("push: {url: 'http://h:1', job: ''}\n").find("push.job: expected a job name"), std::string::npos);
  EXPECT_NE(error_of("push: {url: 'http://h:1', grouping: {job: x}}\n").find("push.grouping.job: job is the push's"),
            std::string::npos);
  EXPECT_NE(error_of("push: {url: 'http://h:1', grouping: {1abc: x}}\n").find("push.grouping.1abc: expected a Prometheus label name"),
            std::string::npos);
  EXPECT_NE(error_of("push: {url: 'http://h:1', grouping: {__name__: x}}\n").find("reserved"), std::string::npos);
  EXPECT_NE(error_of("push: {url: 'http://h:1', grouping: [a]}\n").find("push.grouping: expected a mapping"),
            std::string::npos);
  EXPECT_NE(error_of("push: {url: 'http://h:1', grouping: {a: [1]}}\n").find("push.grouping.a: expected"),
            std::string::npos);
  EXPECT_NE(error_of("push: {url: 'http://h:1', jbo: x}\n").find("push.jbo: unknown key"), std::string::npos);
}

TEST(Push, GroupPathEncodesValuesThatAreNotPlain) {
  PushConfig c;
  c.url = "http://127.0.0.1:9091";
  EXPECT_EQ(push_group_path(c), "/metrics/job/tierscope");
  c.job = "bench";
  c.grouping = {{"instance", "gpu-host-1"}, {"model", "a/b"}, {"empty", ""}, {"two", "ab"}, {"one", "a"},
                {"space", "x y"}};
  // base64url with padding: "a/b" -> YS9i, "" -> "=", "ab" plain, "a" plain, "x y" -> eCB5.
  EXPECT_EQ(push_group_path(c),
            "/metrics/job/bench/empty@base64/=/instance/gpu-host-1/model@base64/YS9i/one/a/space@base64/eCB5/two/ab");
  c.grouping = {{"v", "\xff\xfe"}, {"w", "abcd"}, {"x", "~ab/"}};
  // 0xff 0xfe -> "//4=" in standard base64, "__4=" in base64url; "~ab/" -> fmFiLw==.
  EXPECT_EQ(push_group_path(c), "/metrics/job/bench/v@base64/__4=/w/abcd/x@base64/fmFiLw==");
}

TEST(Push, ClosedPortIsAOneLineError) {
  // Port 1 on 127.0.0.1: nothing listens there (tcpmux is long dead), so the
  // connection is refused at once.
  PushConfig c;
  c.url = "http://127.0.0.1:1";
  auto error = push_metrics(c, {run_info_collectable(nlohmann::json{{"scenario", "protocol"}, {"status", "complete"}})});
  EXPECT_NE(error.find("http://127.0.0.1:1/metrics/job/tierscope: "), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
}

TEST(Push, RunInfoFromTheSummary) {
  auto families = run_info_collectable(nlohmann::json{{"scenario", "protocol"}, {"status", "interrupted"}})->Collect();
  ASSERT_EQ(families.size(), 1u);
  EXPECT_EQ(families[0].name, "tierscope_bench_run_info");
  ASSERT_EQ(families[0].metric.size(), 1u);
  EXPECT_EQ(families[0].metric[0].gauge.value, 1);
  ASSERT_EQ(families[0].metric[0].label.size(), 2u);
  EXPECT_EQ(families[0].metric[0].label[0].value, "protocol");
  EXPECT_EQ(families[0].metric[0].label[1].value, "interrupted");
}
