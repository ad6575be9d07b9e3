#include "daemon/commands.h"

#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

#include "core/build_info.h"
#include "core/duration.h"
#include "core/signals.h"
#include "daemon/service_manager.h"
#include "exporters/json_output.h"
#include "exporters/prometheus_exporter.h"
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

// Keep-alives from the sampling thread (so a stuck sampler gets the service
// restarted) and the STATUS= line every 5 s.
void hook_systemd(Sampler& sampler, ServiceManager& systemd, const DaemonStatus& status,
                  std::optional<WatchdogPacer>& pacer) {
  auto next_status = std::chrono::steady_clock::now();
  sampler.on_tick([&sampler, &systemd, &status, &pacer, next_status](const Snapshot& snap) mutable {
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

// SIGHUP: re-read the config file; an invalid one is rejected and the
// running config stays.
void reload(const CliOptions& opts, const std::string& path, const std::string& listen_at_start, Sampler& sampler,
            ServiceManager& systemd, DaemonStatus& status, const std::optional<WatchdogPacer>& pacer, Logger& log) {
  if (path.empty()) {
    log.info("reload: no config file in use (built-in defaults); nothing to reload");
    return;
  }
  systemd.reloading();
  try {
    Config next = effective_config(opts, path);
    if (next.listen != listen_at_start)
      log.warn("reload: listen address change to " + next.listen + " needs a restart; still serving " +
               listen_at_start);
    sampler.apply(next);
    log.set_level(next.log_level);
    status.reloads_ok++;
    status.last_load_ok = true;
    log.info("reloaded " + path + ": " + describe(next, next.enabled_probe_count()));
    warn_if_watchdog_too_short(pacer, next.sample_interval, log);
  } catch (const std::exception& e) {
    status.reloads_failed++;
    status.last_load_ok = false;
    log.error(std::string("reload rejected, keeping the running config: ") + e.what());
  }
  systemd.ready(status_text(sampler, status, sampler.latest().get()) +
                (status.last_load_ok ? "" : "; last reload rejected (see the log)"));
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

  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    exposer = make_exposer(config.listen);
  } catch (const std::exception& e) {
    log.error(e.what());
    return exit_code::failure;
  }
  auto collector = std::make_shared<SnapshotCollector>([&sampler] { return sampler.latest(); }, &status);
  exposer->RegisterCollectable(collector);
  std::string host = config.listen.substr(0, config.listen.rfind(':'));
  for (int port : exposer->GetListeningPorts())
    log.info("listening on http://" + host + ":" + std::to_string(port) + "/metrics");
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
  hook_systemd(sampler, systemd, status, pacer);
  sampler.start();
  systemd.ready(status_text(sampler, status, sampler.latest().get()));

  const std::string listen_at_start = config.listen;
  for (;;) {
    auto sig = signals.wait();
    if (!sig) continue;
    if (*sig == SIGHUP) {
      reload(opts, path, listen_at_start, sampler, systemd, status, pacer, log);
      continue;
    }
    log.info(std::string("received ") + (*sig == SIGTERM ? "SIGTERM" : "SIGINT") + ", stopping");
    systemd.stopping("stopping");
    break;
  }
  sampler.stop();
  log.info("stopped");
  // civetweb's master thread notices a stop request only at its next poll
  // timeout (up to 2 s). Nothing is left to flush (the log is written
  // unbuffered), so leave now instead of waiting for it: the kernel closes
  // the listening socket.
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

}  // namespace tierscope
