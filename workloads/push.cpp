#include "workloads/push.h"

#include <curl/curl.h>
#include <prometheus/collectable.h>
#include <prometheus/gateway.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <exception>
#include <ostream>

#include "core/listen_address.h"
#include "core/text.h"

namespace tierscope::workloads {

namespace {

constexpr std::size_t kMaxUrlChars = 2048;

bool unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

// RFC 4648 section 5 (URL- and filename-safe alphabet), with padding; the
// empty string is "=", as the Pushgateway wants it.
std::string base64url(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  if (in.empty()) return "=";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const unsigned v = static_cast<unsigned>(static_cast<unsigned char>(in[i])) << 16 |
                       static_cast<unsigned>(static_cast<unsigned char>(in[i + 1])) << 8 |
                       static_cast<unsigned>(static_cast<unsigned char>(in[i + 2]));
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += kAlphabet[v >> 6 & 63];
    out += kAlphabet[v & 63];
  }
  if (const std::size_t rest = in.size() - i; rest > 0) {
    unsigned v = static_cast<unsigned>(static_cast<unsigned char>(in[i])) << 16;
    if (rest == 2) v |= static_cast<unsigned>(static_cast<unsigned char>(in[i + 1])) << 8;
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += rest == 2 ? kAlphabet[v >> 6 & 63] : '=';
    out += '=';
  }
  return out;
}

// "http://HOST" and "PORT/PATH" of a valid push URL: prometheus::Gateway
// joins its host and port arguments with a colon and appends /metrics/job/...
struct SplitUrl {
  std::string scheme_host, port_path;
};
SplitUrl split_url(std::string_view url) {
  const auto authority_start = url.find("://") + 3;
  const auto path_start = std::min(url.find('/', authority_start), url.size());
  const auto colon = url.rfind(':', path_start);
  return {std::string(url.substr(0, colon)), std::string(url.substr(colon + 1))};
}

// Every family of several collectables in one Collect(): one PUT body, so the
// second collectable does not replace the first one's group.
class Bundle final : public prometheus::Collectable {
 public:
  explicit Bundle(const std::vector<std::shared_ptr<prometheus::Collectable>>& parts) : parts_(parts) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> all;
    for (const auto& part : parts_) {
      if (!part) continue;
      auto families = part->Collect();
      std::move(families.begin(), families.end(), std::back_inserter(all));
    }
    return all;
  }

 private:
  std::vector<std::shared_ptr<prometheus::Collectable>> parts_;
};

class Families final : public prometheus::Collectable {
 public:
  explicit Families(std::vector<prometheus::MetricFamily> families) : families_(std::move(families)) {}
  std::vector<prometheus::MetricFamily> Collect() const override { return families_; }

 private:
  std::vector<prometheus::MetricFamily> families_;
};

}  // namespace

std::optional<std::string> push_url_problem(std::string_view url) {
  const char* expected = "expected http://HOST:PORT or https://HOST:PORT with an optional /PATH";
  std::size_t authority_start = 0;
  if (url.rfind("http://", 0) == 0) authority_start = 7;
  else if (url.rfind("https://", 0) == 0) authority_start = 8;
  else return std::string(expected) + " (e.g. http://127.0.0.1:9091)";
  if (url.size() > kMaxUrlChars) return "expected a URL of at most " + std::to_string(kMaxUrlChars) + " characters";
  for (char c : url)
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f || c == '?' || c == '#' ||
        c == '@' || c == '\\' || c == '%')
      return std::string(expected) + "; no spaces, control characters, user@, ?query, #fragment or %-escapes";
  const auto path_start = std::min(url.find('/', authority_start), url.size());
  const std::string_view authority = url.substr(authority_start, path_start - authority_start);
  if (auto problem = listen_address_problem(authority)) return std::string(expected) + ": " + *problem;
  const auto port = text::parse_u64(authority.substr(authority.rfind(':') + 1));
  if (!port || *port == 0) return std::string(expected) + ": the port must be 1-65535";
  const std::string_view path = url.substr(path_start);
  if (path.find("//") != std::string_view::npos || path.find("/../") != std::string_view::npos ||
      (path.size() >= 3 && path.substr(path.size() - 3) == "/.."))
    return std::string(expected) + ": the path has an empty or .. segment";
  return std::nullopt;
}

std::optional<std::string> push_job_problem(std::string_view job) {
  if (job.empty() || job.size() > 128 || !std::all_of(job.begin(), job.end(), unreserved))
    return "expected a job name of 1-128 characters A-Z a-z 0-9 . _ ~ -";
  return std::nullopt;
}

std::optional<std::string> push_label_problem(std::string_view name) {
  const auto first_ok = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  const auto rest_ok = [&](char c) { return first_ok(c) || (c >= '0' && c <= '9'); };
  if (name.empty() || !first_ok(name.front()) || !std::all_of(name.begin(), name.end(), rest_ok))
    return "expected a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)";
  if (name.rfind("__", 0) == 0) return "label names starting with __ are reserved";
  if (name == "job") return "job is the push's `job` key, not a grouping label";
  return std::nullopt;
}

std::string push_group_path(const PushConfig& config) {
  std::string path = "/metrics/job/" + config.job;
  for (const auto& [name, value] : config.grouping) {
    if (!value.empty() && std::all_of(value.begin(), value.end(), unreserved))
      path += "/" + name + "/" + value;
    else
      path += "/" + name + "@base64/" + base64url(value);
  }
  return path;
}

std::string push_metrics(const PushConfig& config, const std::vector<std::shared_ptr<prometheus::Collectable>>& what) {
  const SplitUrl split = split_url(config.url);
  const std::string where = config.url + push_group_path(config);
  try {
    // The grouping labels go into the job name's path, encoded as
    // push_group_path() says (Gateway would send them unencoded).
    std::string job_and_labels = push_group_path(config).substr(std::string_view("/metrics/job/").size());
    prometheus::Gateway gateway(split.scheme_host, split.port_path, job_and_labels);
    auto bundle = std::make_shared<Bundle>(what);
    gateway.RegisterCollectable(bundle);
    const int status = gateway.Push();
    if (status >= 200 && status < 300) return "";
    if (status < 0) return where + ": " + curl_easy_strerror(static_cast<CURLcode>(-status));
    return where + ": HTTP status " + std::to_string(status);
  } catch (const std::exception& e) {
    return where + ": " + e.what();
  }
}

nlohmann::json push_and_report(const PushConfig& config,
                               const std::vector<std::shared_ptr<prometheus::Collectable>>& what,
                               std::string_view who, std::ostream& err) {
  const std::string error = push_metrics(config, what);
  if (!error.empty()) err << who << ": warning: push to the Pushgateway failed: " << error << "\n";
  nlohmann::json push = {{"url", config.url}, {"job", config.job}, {"ok", error.empty()}};
  if (!config.grouping.empty()) push["grouping"] = config.grouping;
  if (!error.empty()) push["error"] = error;
  return push;
}

std::shared_ptr<prometheus::Collectable> run_info_collectable(const nlohmann::json& summary) {
  const auto field = [&](const char* key) {
    auto it = summary.find(key);
    return it != summary.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  MetricWriter w;
  w.add(metric::bench_run_info, 1, {{"scenario", field("scenario")}, {"status", field("status")}});
  return std::make_shared<Families>(std::move(w).finish());
}

}  // namespace tierscope::workloads
