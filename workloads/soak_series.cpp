#include "workloads/soak_series.h"

#include <stdexcept>

#include "core/text.h"

namespace tierscope::workloads {

using nlohmann::json;

void BoundedSeries::Sum::add(const SoakPoint& p) {
  t += p.t_s;
  v += p.value;
  if (p.requests) r += *p.requests;
  else has_r = false;
  if (p.tokens) k += *p.tokens;
  else has_k = false;
  ++n;
}

SoakPoint BoundedSeries::Sum::mean() const {
  const double d = static_cast<double>(n);
  SoakPoint p{t / d, v / d, std::nullopt, std::nullopt};
  if (has_r) p.requests = r / d;
  if (has_k) p.tokens = k / d;
  return p;
}

BoundedSeries::BoundedSeries(std::size_t capacity) : capacity_(capacity < 2 ? 2 : capacity) {
  points_.reserve(capacity_);
}

void BoundedSeries::add(const SoakPoint& p) {
  ++samples_;
  pending_.add(p);
  if (pending_.n < stride_) return;
  points_.push_back(pending_.mean());
  pending_ = Sum{};
  if (points_.size() < capacity_) return;
  // Full: merge adjacent pairs (each pair holds 2 x stride samples).
  std::size_t out = 0;
  for (std::size_t i = 0; i + 1 < points_.size(); i += 2) {
    const SoakPoint& a = points_[i];
    const SoakPoint& b = points_[i + 1];
    SoakPoint m{(a.t_s + b.t_s) / 2, (a.value + b.value) / 2, std::nullopt, std::nullopt};
    if (a.requests && b.requests) m.requests = (*a.requests + *b.requests) / 2;
    if (a.tokens && b.tokens) m.tokens = (*a.tokens + *b.tokens) / 2;
    points_[out++] = m;
  }
  // An odd last point (capacity odd) starts the next stride's sum with its weight.
  if (points_.size() % 2 == 1) {
    const SoakPoint last = points_.back();
    points_.resize(out);
    stride_ *= 2;
    for (std::uint64_t i = 0; i < stride_ / 2; ++i) pending_.add(last);
    return;
  }
  points_.resize(out);
  stride_ *= 2;
}

std::vector<SoakPoint> BoundedSeries::points() const {
  std::vector<SoakPoint> out = points_;
  if (pending_.n > 0) out.push_back(pending_.mean());
  return out;
}

std::optional<std::uint64_t> parse_status_threads(std::string_view status) {
  tierscope::text::Lines lines(status);
  std::string_view line;
  while (lines.next(line)) {
    if (line.substr(0, 8) != "Threads:") continue;
    return tierscope::text::parse_u64(tierscope::text::trim(line.substr(8)));
  }
  return std::nullopt;
}

double SoakState::gap_seconds() const {
  double s = 0;
  for (const auto& g : gaps) s += g.seconds();
  return s;
}

json SoakState::to_json() const {
  json gaps_j = json::array();
  for (const auto& g : gaps) gaps_j.push_back({{"from", g.from_wall}, {"to", g.to_wall}, {"seconds", g.seconds()}});
  return {{"name", name},
          {"scenario_sha256", scenario_sha256},
          {"status", status},
          {"started", started},
          {"updated", updated},
          {"elapsed_s", elapsed_s},
          {"duration_s", duration_s},
          {"idle_tail_s", idle_tail_s},
          {"samples", samples},
          {"requests_ok", requests_ok},
          {"requests_failed", requests_failed},
          {"output_tokens", output_tokens},
          {"engine_restarts", engine_restarts},
          {"gap_seconds", gap_seconds()},
          {"gaps", gaps_j}};
}

namespace {

const json& field(const json& j, const char* name, json::value_t type) {
  auto it = j.find(name);
  const bool number = type == json::value_t::number_float;
  if (it == j.end() || (number ? !it->is_number() : (type == json::value_t::number_unsigned
                                                          ? !it->is_number_unsigned()
                                                          : it->type() != type)))
    throw std::runtime_error(std::string("soak.json: ") + name + ": missing or of the wrong type");
  return *it;
}

}  // namespace

SoakState SoakState::from_json(const json& j) {
  if (!j.is_object()) throw std::runtime_error("soak.json: expected a JSON object");
  using T = json::value_t;
  SoakState s;
  s.name = field(j, "name", T::string).get<std::string>();
  s.scenario_sha256 = field(j, "scenario_sha256", T::string).get<std::string>();
  s.status = field(j, "status", T::string).get<std::string>();
  s.started = field(j, "started", T::string).get<std::string>();
  s.updated = field(j, "updated", T::string).get<std::string>();
  s.elapsed_s = field(j, "elapsed_s", T::number_float).get<double>();
  s.duration_s = field(j, "duration_s", T::number_float).get<double>();
  s.idle_tail_s = field(j, "idle_tail_s", T::number_float).get<double>();
  s.samples = field(j, "samples", T::number_unsigned).get<std::uint64_t>();
  s.requests_ok = field(j, "requests_ok", T::number_unsigned).get<std::uint64_t>();
  s.requests_failed = field(j, "requests_failed", T::number_unsigned).get<std::uint64_t>();
  s.output_tokens = field(j, "output_tokens", T::number_unsigned).get<std::uint64_t>();
  s.engine_restarts = field(j, "engine_restarts", T::number_unsigned).get<std::uint64_t>();
  for (const auto& g : field(j, "gaps", T::array)) {
    if (!g.is_object()) throw std::runtime_error("soak.json: gaps: expected objects {from, to, seconds}");
    s.gaps.push_back({field(g, "from", T::number_float).get<double>(), field(g, "to", T::number_float).get<double>()});
  }
  return s;
}

}  // namespace tierscope::workloads
