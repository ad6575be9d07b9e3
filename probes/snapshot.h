#pragma once
// One immutable sample of the host: each probe's typed reading (absent when
// the probe is disabled, found nothing, or failed), what the post-sample steps
// derived (offload verdict, peaks), how each probe ran, and the sampler's own
// counters. The sampler builds it, publishes it as shared_ptr<const Snapshot>,
// and never touches it again; scrapes render it.
//
// Readings are stored by key: each probe's header declares the key of what
// it produces, e.g. `inline constexpr ReadingKey<MemInfo> kMemInfo{"meminfo"};`,
// and everything that reads it (other probes that run after it, renderers,
// tests) asks the snapshot for that key.

#include <any>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "probes/probe.h"

namespace tierscope {

struct ProbeRegistry;

template <typename T>
struct ReadingKey {
  using Type = T;
  std::string_view name;  // the producing probe's name (or the step's)
};

struct ProbeRun {
  std::string probe;
  ProbeStatus status = ProbeStatus::ok;
  double duration_seconds = 0;
  std::string error;
};

struct Snapshot {
  std::uint64_t sequence = 0;
  std::chrono::steady_clock::time_point taken_steady{};
  std::chrono::system_clock::time_point taken_wall{};

  // The reading under `key`, or null when there is none.
  template <typename T>
  const T* get(const ReadingKey<T>& key) const {
    for (const auto& [name, value] : readings_)
      if (name == key.name) return std::any_cast<T>(&value);
    return nullptr;
  }
  // Room for `n` readings, so a sample's puts allocate no slots one by one.
  void reserve_readings(std::size_t n) { readings_.reserve(n); }
  // Stores (or replaces) the reading under `key`.
  template <typename T>
  T& put(const ReadingKey<T>& key, T value) {
    for (auto& [name, slot] : readings_)
      if (name == key.name) return slot.template emplace<T>(std::move(value));
    readings_.emplace_back(key.name, std::move(value));
    return *std::any_cast<T>(&readings_.back().second);
  }

  std::vector<ProbeRun> probes;  // in the order they ran
  // The probes and steps that made it (null: ProbeRegistry::builtin()): what
  // renders it.
  const ProbeRegistry* registry = nullptr;

  std::uint64_t samples_total = 0;
  std::uint64_t overruns_total = 0;
  double interval_seconds = 0;
  double peak_window_seconds = 0;

 private:
  std::vector<std::pair<std::string_view, std::any>> readings_;
};

}  // namespace tierscope
