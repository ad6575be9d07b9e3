#include "daemon/commands.h"

#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <regex>
#include <thread>

#include "core/build_info.h"
#include "core/duration.h"
#include "core/signals.h"
#include "daemon/service_manager.h"
#include "exporters/json_output.h"
#include "exporters/http_server.h"
#include "exporters/listener.h"
#include "exporters/prometheus_exporter.h"
#include "exporters/recording.h"
#include "exporters/web_config.h"
#include "probes/offload.h"
#include "probes/sampler.h"

namespace tierscope {

std::string config_path_for(const CliOptions& opts) {
  if (opts.config) return *opts.config;
  std::error_code ec;
  if (std::filesystem::exists(kSystemConfigPath, ec)) return kSystemConfigPath;
  return {};
}

Config effective_config(const CliOptions& opts, const std::string& path) {
  Config c = path.empty() ? Config{} : load_config(path);
  auto absolute = [](const std::string& dir) { return std::filesystem::absolute(dir).lexically_normal(); };
  if (opts.procfs) c.roots.procfs = absolute(*opts.procfs);
  if (opts.sysfs) c.roots.sysfs = absolute(*opts.sysfs);
  if (opts.devfs) c.roots.devfs = absolute(*opts.devfs);
  if (opts.listen) c.listen = *opts.listen;
  if (opts.log_level) c.log_level = *parse_log_level(*opts.log_level);
  // A relative web config path in the config file is relative to that file,
  // as the web config's own certificate paths are relative to it.
  if (!c.web_config_file.empty() && std::filesystem::path(c.web_config_file).is_relative())
    c.web_config_file = (std::filesystem::path(path).parent_path() / c.web_config_file).lexically_normal();
  if (opts.web_config_file) c.web_config_file = absolute(*opts.web_config_file);
  // record.dir likewise.
  if (c.record && std::filesystem::path(c.record->dir).is_relative())
    c.record->dir = (std::filesystem::path(path).parent_path() / c.record->dir).lexically_normal();
  return c;
}

namespace {

std::string describe(const Config& c, std::size_t probes) {
  const auto& selection = c.section<OffloadSelection>();
  std::string offload = selection.auto_detect ? "auto (PCI vendor 0x1987)" : "";
  for (const auto& n : selection.names) offload += (offload.empty() ? "" : ", ") + n;
  return "sampling " + std::to_string(probes) + " probes every " + format_duration(c.sample_interval) +
         ", peak window " + format_duration(c.peak_window) + ", offload device " + offload + ", roots " +
         c.roots.procfs.native() + " " + c.roots.sysfs.native() + " " + c.roots.devfs.native();
}

}  // namespace

namespace {

// What `systemctl status` shows: the sampler's cadence and probe count, the
// snapshot's failures and offload devices, and the time since the last scrape.
std::string status_text(const Sampler& sampler, const DaemonStatus& status, const Snapshot* snap) {
  std::optional<std::chrono::seconds> since;
  auto last = status.last_scrape_steady_ns.load();
  if (last >= 0)
    since = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch() -
                                                             std::chrono::nanoseconds(last));
  return service_status_text(snap, sampler.probe_count(), sampler.interval(), since);
}

// The continuous recording (config key record): every published snapshot,
// rendered as a scrape renders it (with tierscope's own process_* series).
// A directory that cannot be written to at start or after a reload does not
// stop the daemon: its samples are counted as dropped and the recorder is
// tried again every fsync period until it can record.
class DaemonRecording {
 public:
  DaemonRecording(DaemonStatus& status, Logger& log) : status_(status), log_(log) {}

  // Start, change or stop recording (the main thread: start and SIGHUP).
  void configure(const std::optional<RecorderOptions>& options) {
    std::lock_guard lock(mutex_);
    if (options == options_ && (recorder_ || !options)) return;
    recorder_.reset();  // writes out and closes the old one
    options_ = options;
    status_.recorder->configured = options.has_value();
    if (!options) return;
    failing_ = false;
    try_start_locked();
  }

  // The sampling thread, after each tick.
  void record(const Snapshot& snap) {
    std::lock_guard lock(mutex_);
    if (!options_) return;
    if (!recorder_ && std::chrono::steady_clock::now() >= retry_at_) try_start_locked();
    if (!recorder_) {
      status_.recorder->dropped++;
      return;
    }
    recorder_->record_sample(snap.sequence, snap.taken_steady, snap.taken_wall, collect_all(&snap, &status_, true));
  }

 private:
  void try_start_locked() {
    try {
      recorder_ = std::make_unique<Recorder>(*options_, &log_, status_.recorder);
      log_.info(std::string(failing_ ? "recording again" : "recording") + " every sample to " + options_->dir + " (" +
                recorder_->current_segment() + ")");
      failing_ = false;
    } catch (const RecorderError& e) {
      if (!failing_)
        log_.error(std::string("recorder: cannot record: ") + e.what() +
                   "; sampling and /metrics go on, samples are counted as dropped, retried every " +
                   format_duration(options_->fsync_period));
      failing_ = true;
      retry_at_ = std::chrono::steady_clock::now() + options_->fsync_period;
    }
  }

  DaemonStatus& status_;
  Logger& log_;
  std::mutex mutex_;
  std::optional<RecorderOptions> options_;
  std::unique_ptr<Recorder> recorder_;
  bool failing_ = false;
  std::chrono::steady_clock::time_point retry_at_{};
};

// Keep-alives from the sampling thread (so a stuck sampler gets the service
// restarted), the STATUS= line every 5 s, and the recording.
void hook_tick(Sampler& sampler, ServiceManager& systemd, const DaemonStatus& status,
               std::optional<WatchdogPacer>& pacer, DaemonRecording& recording) {
  auto next_status = std::chrono::steady_clock::now();
  sampler.on_tick([&sampler, &systemd, &status, &pacer, &recording, next_status](const Snapshot& snap) mutable {
    recording.record(snap);
    auto now = std::chrono::steady_clock::now();
    if (pacer && pacer->due(now, sampler.interval())) systemd.watchdog_ping();
    if (systemd.notify_enabled() && now >= next_status) {
      systemd.status(status_text(sampler, status, &snap));
      next_status = now + std::chrono::seconds(5);
    }
  });
}

void warn_if_watchdog_too_short(const std::optional<WatchdogPacer>& pacer, std::chrono::milliseconds interval,
                                Logger& log) {
  if (pacer && !pacer->feasible(interval))
    log.warn("sample_interval " + format_duration(interval) +
             " is not shorter than half the systemd watchdog timeout: raise WatchdogSec= or the service "
             "will be killed");
}

// What a reload touches.
struct Running {
  Sampler& sampler;
  MetricsServer& server;
  ServiceManager& systemd;
  DaemonStatus& status;
  const std::optional<WatchdogPacer>& pacer;
  DaemonRecording& recording;
  Logger& log;
  std::string listen_at_start;
};

// The web config file named by `config` (none: plain HTTP, no auth). Throws
// WebConfigError.
WebConfig web_config_of(const Config& config) {
  return config.web_config_file.empty() ? WebConfig{} : load_web_config(config.web_config_file);
}

// SIGHUP: re-read the config file and the web config file (certificates
// rotate without a restart); an invalid one is rejected and the running
// config stays.
void reload(const CliOptions& opts, const std::string& path, Running& r) {
  if (path.empty() && r.server.web_config().path.empty()) {
    r.log.info("reload: no config file in use (built-in defaults); nothing to reload");
    return;
  }
  r.systemd.reloading();
  try {
    Config next = effective_config(opts, path);
    WebConfig web = web_config_of(next);
    if (next.listen != r.listen_at_start)
      r.log.warn("reload: listen address change to " + next.listen + " needs a restart; still serving " +
                 r.listen_at_start);
    if (!(web == r.server.web_config())) {
      r.server.reconfigure(web);
      r.log.info("web config " + (web.path.empty() ? std::string("none") : web.path) + ": " +
                 (web.tls ? "TLS" : "plain HTTP") + (web.users.empty() ? "" : ", basic auth") + " on " + r.server.url());
    }
    r.sampler.apply(next);
    r.recording.configure(next.record);
    r.log.set_level(next.log_level);
    r.status.reloads_ok++;
    r.status.last_load_ok = true;
    r.log.info("reloaded " + (path.empty() ? std::string("the web config") : path) + ": " +
               describe(next, next.enabled_probe_count()));
    warn_if_watchdog_too_short(r.pacer, next.sample_interval, r.log);
  } catch (const std::exception& e) {
    r.status.reloads_failed++;
    r.status.last_load_ok = false;
    r.log.error(std::string("reload rejected, keeping the running config: ") + e.what());
  }
  r.systemd.ready(status_text(r.sampler, r.status, r.sampler.latest().get()) +
                  (r.status.last_load_ok ? "" : "; last reload rejected (see the log)"));
}

}  // namespace

int run_daemon(const CliOptions& opts) {
  Logger log(opts.log_level ? *parse_log_level(*opts.log_level) : LogLevel::info);
  const std::string path = config_path_for(opts);
  Config config;
  try {
    config = effective_config(opts, path);
  } catch (const ConfigError& e) {
    log.error(e.what());
    return exit_code::config;
  }
  log.set_level(config.log_level);
  WebConfig web;
  try {
    web = web_config_of(config);
  } catch (const WebConfigError& e) {
    log.error(e.what());
    return exit_code::config;
  }

  // Signals are taken synchronously by this thread; every thread started
  // below inherits the blocked mask.
  SignalWaiter signals{SIGHUP, SIGTERM, SIGINT};

  DaemonStatus status;
  ServiceManager systemd;
  // Probe set-up (NVML initialisation, device enumeration) and the first
  // sample can take a while on a big machine: ask for more start time.
  systemd.extend_timeout(std::chrono::seconds(60), "initializing probes");
  Sampler sampler(config, log);
  sampler.sample_now();

  std::unique_ptr<MetricsServer> server;
  try {
    const unsigned long fds = raise_descriptor_limit();
    auto collector = std::make_shared<SnapshotCollector>([&sampler] { return sampler.latest(); }, &status);
    server = std::make_unique<MetricsServer>(bind_listener(config.listen), std::move(web), [collector] {
      return collector->body();
    }, log, static_cast<unsigned>(std::min<unsigned long>(4096, fds > 128 ? fds - 64 : 64)));
  } catch (const std::exception& e) {
    log.error(e.what());
    return exit_code::failure;
  }
  log.info("listening on " + server->url() + (server->web_config().users.empty() ? "" : " (basic auth)"));
  log.info(std::string("tierscope ") + build::kVersion + " (" + build::kRevision + ") " +
           (path.empty() ? std::string("with built-in defaults") : "with config " + path) + ": " +
           describe(config, config.enabled_probe_count()));

  std::optional<WatchdogPacer> pacer;
  if (auto timeout = systemd.watchdog_timeout()) {
    pacer.emplace(*timeout, std::chrono::steady_clock::now());
    log.info("systemd watchdog: timeout " + format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                *timeout)) + ", keep-alive from the sampling thread every half of it");
  }
  warn_if_watchdog_too_short(pacer, sampler.interval(), log);
  DaemonRecording recording(status, log);
  recording.configure(config.record);
  hook_tick(sampler, systemd, status, pacer, recording);
  sampler.start();
  systemd.ready(status_text(sampler, status, sampler.latest().get()));

  Running running{sampler, *server, systemd, status, pacer, recording, log, config.listen};
  for (;;) {
    auto sig = signals.wait();
    if (!sig) continue;
    if (*sig == SIGHUP) {
      reload(opts, path, running);
      continue;
    }
    log.info(std::string("received ") + (*sig == SIGTERM ? "SIGTERM" : "SIGINT") + ", stopping");
    systemd.stopping("stopping");
    break;
  }
  sampler.stop();
  recording.configure(std::nullopt);  // writes out and fsyncs what is pending
  log.info("stopped");
  // Nothing is left to flush (the log is written unbuffered): leave now,
  // without waiting for open connections; the kernel closes the sockets.
  std::_Exit(exit_code::ok);
}

int run_probe(const CliOptions& opts) {
  Logger log(opts.log_level ? *parse_log_level(*opts.log_level) : LogLevel::warn);
  Config config;
  try {
    config = effective_config(opts, config_path_for(opts));
  } catch (const ConfigError& e) {
    log.error(e.what());
    return exit_code::config;
  }
  if (!opts.log_level) config.log_level = LogLevel::warn;
  log.set_level(config.log_level);
  auto interval = opts.interval ? *parse_duration(*opts.interval) : config.sample_interval;
  if (opts.interval && config.peak_window < interval) config.peak_window = interval;

  Sampler sampler(config, log);
  auto snap = sampler.sample_now();
  // Rates and peaks are differences between two samples.
  if (config.probe_enabled("diskstats") || config.probe_enabled("vmstat")) {
    std::this_thread::sleep_for(interval);
    snap = sampler.sample_now();
  }
  auto families = collect_all(snap.get(), nullptr, false);
  if (opts.format == "json") {
    nlohmann::json out = {{"timestamp", std::chrono::duration<double>(snap->taken_wall.time_since_epoch()).count()},
                          {"interval_seconds", std::chrono::duration<double>(interval).count()},
                          {"metrics", to_json(families)}};
    // Swap file names and the like may hold bytes that are not UTF-8; the
    // label values are already sanitized, this guards everything else.
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  } else {
    std::cout << to_prometheus_text(families);
  }
  std::cout.flush();
  bool failed = false;
  for (const auto& run : snap->probes) failed = failed || run.status == ProbeStatus::error;
  return failed ? exit_code::failure : exit_code::ok;
}

int run_recording(const CliOptions& opts) {
  std::optional<std::regex> filter;
  if (opts.series) filter.emplace(*opts.series, std::regex::extended);
  const bool csv = opts.format == "csv";
  std::string header;  // csv: the columns of the last header row
  const auto dump = [](const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); };
  auto stats = read_recording(opts.recording_dir, [&](const nlohmann::json& rec) {
    const auto& type = rec["type"];
    if (type == "header" || type == "series") return;
    if (type != "sample") {
      if (!csv) std::cout << dump(rec) << '\n';
      return;
    }
    nlohmann::json values = nlohmann::json::object();
    for (auto it = rec["values"].begin(); it != rec["values"].end(); ++it)
      if (!filter || std::regex_search(it.key(), *filter)) values[it.key()] = it.value();
    if (!csv) {
      nlohmann::json out = rec;
      out["values"] = std::move(values);
      std::cout << dump(out) << '\n';
      return;
    }
    auto field = [](const std::string& s) {
      std::string f = "\"";
      for (char c : s) f += c == '"' ? std::string("\"\"") : std::string(1, c);
      return f + "\"";
    };
    std::string columns = "wall,mono";
    for (auto it = values.begin(); it != values.end(); ++it) columns += "," + field(it.key());
    if (columns != header) {
      std::cout << columns << '\n';
      header = columns;
    }
    std::string row = rec.contains("wall") ? dump(rec["wall"]) : std::string();
    row += ",";
    row += rec.contains("mono") ? dump(rec["mono"]) : std::string();
    for (auto it = values.begin(); it != values.end(); ++it)
      row += "," + (it.value().is_string() ? it.value().get<std::string>() : dump(it.value()));
    std::cout << row << '\n';
  });
  std::cout.flush();
  std::cerr << "tierscope recording: " << opts.recording_dir << ": " << stats.segments << " segments, " << stats.records
            << " records (" << stats.samples << " samples, " << stats.gaps << " gaps), " << stats.torn
            << " torn, " << stats.corrupt << " corrupt\n";
  if (stats.segments == 0) {
    std::cerr << "tierscope recording: " << opts.recording_dir << ": no segment (samples-*.jsonl[.zst]) found\n";
    return exit_code::failure;
  }
  return stats.corrupt ? exit_code::failure : exit_code::ok;
}

}  // namespace tierscope
