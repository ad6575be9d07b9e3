#include "workloads/workload_watch.h"

#include <cstdio>

namespace tierscope::workloads {

using nlohmann::json;

namespace {

void put(json& j, const char* key, const std::optional<std::uint64_t>& v) {
  if (v) j[key] = *v;
}

void raise(std::optional<std::uint64_t>& peak, const std::optional<std::uint64_t>& v) {
  if (v && (!peak || *v > *peak)) peak = v;
}

std::string mib(std::uint64_t bytes) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / 1048576.0);
  return buf;
}

}  // namespace

WorkloadWatch::WorkloadWatch(CgroupDir cgroup, HostRoots roots) : roots_(std::move(roots)) {
  target_.cgroups.push_back(std::move(cgroup));
}

WorkloadWatch::WorkloadWatch(WorkloadTarget target, HostRoots roots)
    : target_(std::move(target)), roots_(std::move(roots)) {}

json WorkloadWatch::to_json(const WorkloadMemory& m) {
  json j;
  json mem = json::object();
  put(mem, "ram_anon", m.ram_anon);
  put(mem, "page_cache", m.page_cache);
  put(mem, "file_mapped", m.file_mapped);
  put(mem, "shmem", m.shmem);
  put(mem, "kernel", m.kernel);
  put(mem, "swap", m.swap);
  put(mem, "current", m.current);
  put(mem, "peak", m.peak);
  j["memory_bytes"] = mem;
  json ev = json::object();
  put(ev, "low", m.events.low);
  put(ev, "high", m.events.high);
  put(ev, "max", m.events.max);
  put(ev, "oom", m.events.oom);
  put(ev, "oom_kill", m.events.oom_kill);
  j["events"] = ev;
  json io = json::object();
  for (const auto& d : m.io) {
    json one = json::object();
    put(one, "read_bytes", d.read_bytes);
    put(one, "write_bytes", d.write_bytes);
    put(one, "read_ios", d.read_ios);
    put(one, "write_ios", d.write_ios);
    io[d.device] = one;
  }
  j["io"] = io;
  put(j, "major_faults", m.major_faults);
  return j;
}

json WorkloadWatch::sample() {
  last_ = reader_.read(roots_, target_);
  ++samples_;
  if (last_.events.oom_kill && *last_.events.oom_kill > oom_kills_) oom_kills_ = *last_.events.oom_kill;
  raise(peak_memory_, last_.current);
  raise(peak_memory_, last_.peak);
  raise(peak_swap_, last_.swap);
  raise(peak_anon_, last_.ram_anon);
  raise(peak_cache_, last_.page_cache);
  raise(peak_shmem_, last_.shmem);
  raise(peak_kernel_, last_.kernel);
  return to_json(last_);
}

json WorkloadWatch::summary() const {
  json j;
  j["source"] = std::string(to_string(last_.source));
  if (!target_.cgroups.empty()) {
    j["cgroup"] = target_.cgroups.front().path;
    j["cgroup_version"] = std::string(to_string(target_.cgroups.front().version));
  }
  json peak = json::object();
  put(peak, "memory", peak_memory_);
  put(peak, "swap", peak_swap_);
  put(peak, "ram_anon", peak_anon_);
  put(peak, "page_cache", peak_cache_);
  put(peak, "shmem", peak_shmem_);
  put(peak, "kernel", peak_kernel_);
  j["peak_bytes"] = peak;
  json last = to_json(last_);
  j["events"] = last["events"];
  j["io"] = last["io"];
  if (last.contains("major_faults")) j["major_faults"] = last["major_faults"];
  j["samples"] = samples_;
  return j;
}

std::string WorkloadWatch::report() const {
  std::string out;
  auto line = [&](const std::string& s) { out += "  " + s + "\n"; };
  std::string peaks = "peak:";
  auto add = [&](const char* name, const std::optional<std::uint64_t>& v) {
    if (v) peaks += std::string(" ") + name + " " + mib(*v);
  };
  add("memory", peak_memory_);
  add("anon", peak_anon_);
  add("page cache", peak_cache_);
  add("swap", peak_swap_);
  line(peaks);
  std::string events = "events:";
  auto ev = [&](const char* name, const std::optional<std::uint64_t>& v) {
    if (v) events += std::string(" ") + name + " " + std::to_string(*v);
  };
  ev("max", last_.events.max);
  ev("high", last_.events.high);
  ev("oom", last_.events.oom);
  ev("oom_kill", last_.events.oom_kill);
  if (events != "events:") line(events);
  for (const auto& d : last_.io) {
    std::string s = "io " + d.device + ":";
    if (d.read_bytes) s += " read " + mib(*d.read_bytes);
    if (d.write_bytes) s += " written " + mib(*d.write_bytes);
    line(s);
  }
  return out;
}

}  // namespace tierscope::workloads
