#include "probes/vmstat.h"

#include <limits>

#include "core/metric_catalog.h"
#include "core/text.h"
#include "probes/registry.h"
#include "probes/snapshot.h"

namespace tierscope {

VmStat parse_vmstat(std::string_view text) {
  VmStat v;
  text::Lines lines(text);
  std::string_view line;
  while (lines.next(line)) {
    // Every wanted name starts with 'p' or 'o'; skip the other ~170 lines cheaply.
    if (line.empty() || (line[0] != 'p' && line[0] != 'o')) continue;
    text::Fields f(line);
    auto key = f.next();
    auto value = text::parse_u64(f.next());
    if (!value || !f.done()) continue;
    std::optional<std::uint64_t>* slot = nullptr;
    if (key == "pswpin") slot = &v.pswpin;
    else if (key == "pswpout") slot = &v.pswpout;
    else if (key == "pgmajfault") slot = &v.pgmajfault;
    else if (key == "pgpgin") slot = &v.pgpgin;
    else if (key == "pgpgout") slot = &v.pgpgout;
    else if (key == "oom_kill") slot = &v.oom_kill;
    if (slot && !*slot) *slot = *value;
  }
  return v;
}

ProbeOutcome VmStatProbe::sample(ProbeContext& ctx, Snapshot& out) {
  if (auto err = ctx.read_proc("vmstat"); !err.empty()) return ProbeOutcome::failed(err);
  auto v = parse_vmstat(ctx.scratch);
  if (!v.pswpin && !v.pswpout && !v.pgmajfault && !v.pgpgin && !v.pgpgout && !v.oom_kill)
    return ProbeOutcome::failed(ctx.roots.proc("vmstat").native() + ": none of pswpin, pswpout, pgmajfault, pgpgin, pgpgout, oom_kill found");
  out.put(kVmstat, v);
  return ProbeOutcome::ok();
}

void render_vmstat(const VmStat& v, MetricWriter& w) {
  auto put = [&](const MetricDef& def, const std::optional<std::uint64_t>& value, std::uint64_t scale = 1) {
    if (value && *value <= std::numeric_limits<std::uint64_t>::max() / scale)
      w.add(def, static_cast<double>(*value * scale));
  };
  put(metric::swap_in_pages, v.pswpin);
  put(metric::swap_out_pages, v.pswpout);
  put(metric::major_faults, v.pgmajfault);
  put(metric::page_in_bytes, v.pgpgin, 1024);
  put(metric::page_out_bytes, v.pgpgout, 1024);
  put(metric::oom_kills, v.oom_kill);
}

constinit const ProbeRegistration kVmstatProbe{
    .name = "vmstat",
    .make = [](const ProbeSettings&) -> std::unique_ptr<Probe> { return std::make_unique<VmStatProbe>(); },
    .render =
        [](const Snapshot& snap, MetricWriter& w) {
          if (const auto* r = snap.get(kVmstat)) render_vmstat(*r, w);
        },
};

}  // namespace tierscope
