#include "probes/pressure.h"

#include <array>
#include <cerrno>
#include <filesystem>

#include "core/metric_catalog.h"
#include "core/text.h"
#include "probes/registry.h"
#include "probes/snapshot.h"

namespace tierscope {

PressureResource parse_pressure(std::string_view resource, std::string_view text) {
  PressureResource r;
  r.resource = std::string(resource);
  text::Lines lines(text);
  std::string_view line;
  while (lines.next(line)) {
    text::Fields f(line);
    auto kind = f.next();
    std::optional<PressureLine>* slot = kind == "some" ? &r.some : kind == "full" ? &r.full : nullptr;
    if (!slot || *slot) continue;
    PressureLine p;
    bool have_total = false, bad = false;
    for (auto kv = f.next(); !kv.empty(); kv = f.next()) {
      auto eq = kv.find('=');
      if (eq == std::string_view::npos) { bad = true; break; }
      auto key = kv.substr(0, eq), value = kv.substr(eq + 1);
      if (key == "total") {
        auto t = text::parse_u64(value);
        if (!t) { bad = true; break; }
        p.total_us = *t;
        have_total = true;
      } else if (key == "avg10" || key == "avg60" || key == "avg300") {
        auto d = text::parse_double(value);
        if (!d) { bad = true; break; }
        (key == "avg10" ? p.avg10 : key == "avg60" ? p.avg60 : p.avg300) = *d;
      }
    }
    if (!bad && have_total) *slot = p;
  }
  return r;
}

ProbeOutcome PressureProbe::sample(ProbeContext& ctx, Snapshot& out) {
  static constexpr std::array<std::string_view, 4> kResources{"cpu", "memory", "io", "irq"};
  Pressure p;
  std::string errors;
  bool any_file = false;
  for (auto resource : kResources) {
    auto path = ctx.roots.proc("pressure") / resource;
    int err = ctx.files.read(path, ctx.scratch);
    if (err == ENOENT || err == EOPNOTSUPP) continue;  // no PSI, psi=0, or no irq accounting
    any_file = true;
    if (err) {
      errors += (errors.empty() ? "" : "; ") + describe_errno(path, err);
      continue;
    }
    auto r = parse_pressure(resource, ctx.scratch);
    if (!r.some && !r.full) {
      errors += (errors.empty() ? "" : "; ") + path.native() + ": no parsable some/full line";
      continue;
    }
    p.resources.push_back(std::move(r));
  }
  if (!any_file) return ProbeOutcome::no_data();
  bool have = !p.resources.empty();
  if (have) out.put(kPressure, std::move(p));
  if (!errors.empty()) return ProbeOutcome::failed(errors);
  return ProbeOutcome::ok();
}

void render_pressure(const Pressure& p, MetricWriter& w) {
  for (const auto& r : p.resources) {
    if (r.some)
      w.add(metric::pressure_stalled, static_cast<double>(r.some->total_us) / 1e6,
            {{"resource", r.resource}, {"kind", "some"}});
    if (r.full)
      w.add(metric::pressure_stalled, static_cast<double>(r.full->total_us) / 1e6,
            {{"resource", r.resource}, {"kind", "full"}});
  }
}

constinit const ProbeRegistration kPressureProbe{
    .name = "pressure",
    .make = [](const ProbeSettings&) -> std::unique_ptr<Probe> { return std::make_unique<PressureProbe>(); },
    .render =
        [](const Snapshot& snap, MetricWriter& w) {
          if (const auto* r = snap.get(kPressure)) render_pressure(*r, w);
        },
};

}  // namespace tierscope
