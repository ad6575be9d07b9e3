#pragma once
// Pushing a run's metrics to a Prometheus Pushgateway (scenario key `push`,
// docs/benchmarks.md#pushing-to-a-pushgateway), so that a run Prometheus
// never scraped still lands in it. One PUT per run, through prometheus-cpp's
// push library (prometheus::Gateway): it replaces the whole group
// (job + grouping labels) with the run's metrics.

#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/metric_writer.h"

namespace prometheus {
class Collectable;
}

namespace tierscope::metric {
inline constexpr MetricDef bench_run_info{"tierscope_bench_run_info",
    "One series per tierscope bench or soak run pushed to a Pushgateway: its scenario kind and final status "
    "(summary.json or soak.json status); always 1.", prometheus::MetricType::Gauge};
}  // namespace tierscope::metric

namespace tierscope::workloads {

struct PushConfig {
  std::string url;  // http(s)://HOST:PORT[/PATH], no trailing slash
  std::string job = "tierscope";
  std::map<std::string, std::string> grouping;  // grouping key labels besides job
};

// The checks the scenario parser applies; nullopt when valid, otherwise what
// is wrong ("expected ...").
std::optional<std::string> push_url_problem(std::string_view url);
std::optional<std::string> push_job_problem(std::string_view job);
std::optional<std::string> push_label_problem(std::string_view name);

// The group's path below the Pushgateway's URL, as it is sent:
// /metrics/job/JOB/NAME/VALUE/... A value outside [A-Za-z0-9._~-] (or
// empty) goes as NAME@base64/BASE64URL, the Pushgateway's encoding for it.
std::string push_group_path(const PushConfig& config);

// Pushes the collectables' metrics once (PUT: replaces the group); every
// collectable's families in one body. Returns "" on success, else a one-line
// error (e.g. "http://127.0.0.1:9/metrics/job/tierscope: Couldn't connect to
// server"). Blocks until the Pushgateway answers or the connection fails.
std::string push_metrics(const PushConfig& config, const std::vector<std::shared_ptr<prometheus::Collectable>>& what);

// push_metrics() at the end of a run: a failure is one warning line on `err`
// ("WHO: warning: push to the Pushgateway failed: ..."); returns what the
// run's JSON records as "push": {url, job, grouping (when given), ok, error
// (when not ok)}.
nlohmann::json push_and_report(const PushConfig& config,
                               const std::vector<std::shared_ptr<prometheus::Collectable>>& what,
                               std::string_view who, std::ostream& err);

// tierscope_bench_run_info{scenario,status} 1 from a run's summary.json or
// soak.json (fields "scenario" and "status"), for the push.
std::shared_ptr<prometheus::Collectable> run_info_collectable(const nlohmann::json& summary);

}  // namespace tierscope::workloads
