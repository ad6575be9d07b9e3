#include "workloads/run_recording.h"

#include <algorithm>

#include "exporters/prometheus_exporter.h"
#include "exporters/recorder.h"
#include "probes/sampler.h"
#include "probes/sampler_config.h"
#include "probes/workload.h"

namespace tierscope::workloads {

namespace {

SamplerConfig recording_config(std::chrono::milliseconds interval, const WorkloadSelection& workload) {
  SamplerConfig c;
  c.sample_interval = interval;
  c.peak_window = std::max(c.peak_window, interval);
  c.settings.set(workload);
  return c;
}

void record(Recorder& recorder, const SampleObserver& observer, const Snapshot& snap) {
  auto families = collect_all(&snap, nullptr, true);
  if (observer) observer(snap.taken_steady, families);
  recorder.record_sample(snap.sequence, snap.taken_steady, snap.taken_wall, std::move(families));
}

}  // namespace

WorkloadSelection launched_workload(const nlohmann::json& launch_info) {
  WorkloadSelection w;
  if (const auto b = launch_info.find("budget"); b != launch_info.end() && b->is_object()) {
    if (const auto cg = b->find("cgroup"); cg != b->end() && cg->is_string() && !cg->get<std::string>().empty())
      w.cgroups.push_back(cg->get<std::string>());
  }
  if (w.cgroups.empty()) {
    if (const auto pid = launch_info.find("pid"); pid != launch_info.end() && pid->is_number_integer() &&
                                                  pid->get<std::int64_t>() > 0)
      w.pids.push_back(static_cast<std::uint32_t>(pid->get<std::int64_t>()));
  }
  return w;
}

RunRecording::RunRecording(const std::string& dir, std::chrono::milliseconds interval, SampleObserver observer)
    : interval_(interval), observer_(std::move(observer)) {
  RecorderOptions o;
  o.dir = dir;
  recorder_ = std::make_unique<Recorder>(o, &log_);  // throws RecorderError
  sampler_ = std::make_unique<Sampler>(recording_config(interval_, WorkloadSelection{}), log_);
  Recorder* rec = recorder_.get();
  const SampleObserver* obs = &observer_;
  sampler_->on_tick([rec, obs](const Snapshot& snap) { record(*rec, *obs, snap); });
  record(*recorder_, observer_, *sampler_->sample_now());  // the host as the run starts
  sampler_->start();
}

RunRecording::~RunRecording() {
  sampler_->stop();
  record(*recorder_, observer_, *sampler_->sample_now());  // and as it ends
  recorder_->flush();
}

void RunRecording::watch(const nlohmann::json& launch_info) {
  sampler_->apply(recording_config(interval_, launched_workload(launch_info)));
}

void RunRecording::event(std::string_view type, const nlohmann::json& body) { recorder_->record_event(type, body); }

}  // namespace tierscope::workloads
