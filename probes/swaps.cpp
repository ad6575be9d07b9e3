#include "probes/swaps.h"

#include <limits>

#include "core/metric_catalog.h"
#include "core/text.h"
#include "probes/registry.h"
#include "probes/snapshot.h"
#include "probes/sysfs.h"

namespace tierscope {

namespace {
std::optional<std::uint64_t> kib_to_bytes(std::string_view s) {
  auto v = text::parse_u64(s);
  if (!v || *v > std::numeric_limits<std::uint64_t>::max() / 1024) return std::nullopt;
  return *v * 1024;
}
}  // namespace

std::vector<SwapArea> parse_swaps(std::string_view text) {
  std::vector<SwapArea> out;
  text::Lines lines(text);
  std::string_view line;
  while (lines.next(line)) {
    text::Fields f(line);
    auto filename = f.next();
    auto type = f.next();
    auto size = kib_to_bytes(f.next());
    auto used = kib_to_bytes(f.next());
    auto priority = text::parse_i64(f.next());
    if (filename.empty() || type.empty() || !size || !used || !priority || !f.done()) continue;  // header too
    SwapArea a;
    a.filename = text::unescape_octal(filename);
    bool seen = false;  // the kernel never repeats an area; a corrupt file must not make duplicate series
    for (const auto& other : out) seen = seen || other.filename == a.filename;
    if (seen) continue;
    a.type = std::string(type);
    a.size_bytes = *size;
    a.used_bytes = *used;
    a.priority = *priority;
    out.push_back(std::move(a));
  }
  return out;
}

std::vector<MountEntry> parse_mountinfo(std::string_view text) {
  std::vector<MountEntry> out;
  text::Lines lines(text);
  std::string_view line;
  while (lines.next(line)) {
    // id parent major:minor root mount_point options [optional...] - fstype source superoptions
    text::Fields f(line);
    f.next();
    f.next();
    auto devnum = f.next();
    f.next();
    auto mount_point = f.next();
    if (mount_point.empty()) continue;
    auto sep = f.next();
    while (!sep.empty() && sep != "-") sep = f.next();
    if (sep != "-") continue;
    auto fstype = f.next();
    auto source = f.next();
    auto colon = devnum.find(':');
    if (colon == std::string_view::npos || fstype.empty()) continue;
    auto major = text::parse_u64(devnum.substr(0, colon));
    auto minor = text::parse_u64(devnum.substr(colon + 1));
    if (!major || !minor || *major > std::numeric_limits<unsigned>::max() ||
        *minor > std::numeric_limits<unsigned>::max())
      continue;
    MountEntry m;
    m.major = static_cast<unsigned>(*major);
    m.minor = static_cast<unsigned>(*minor);
    m.mount_point = text::unescape_octal(mount_point);
    m.fstype = std::string(fstype);
    m.source = text::unescape_octal(source);
    out.push_back(std::move(m));
  }
  return out;
}

const MountEntry* mount_for_path(const std::vector<MountEntry>& mounts, std::string_view path) {
  const MountEntry* best = nullptr;
  for (const auto& m : mounts) {
    std::string_view mp = m.mount_point;
    bool covers;
    if (mp == "/") {
      covers = !path.empty() && path.front() == '/';
    } else {
      covers = path.substr(0, mp.size()) == mp && (path.size() == mp.size() || path[mp.size()] == '/');
    }
    if (covers && (!best || mp.size() >= best->mount_point.size())) best = &m;
  }
  return best;
}

SwapsProbe::Resolution SwapsProbe::resolve(ProbeContext& ctx, const SwapArea& area) {
  Resolution r;
  if (area.type == "partition") {
    r.block_device = sysfs::block_device_for_dev_path(ctx.roots, area.filename);
  } else {
    // A swap file lives on the device of the filesystem that holds it.
    auto path = ctx.roots.proc("self/mountinfo");
    if (ctx.files.read(path, ctx.scratch) == 0) {
      auto mounts = parse_mountinfo(ctx.scratch);
      if (const MountEntry* m = mount_for_path(mounts, area.filename)) {
        r.block_device = sysfs::block_device_for_devnum(ctx.roots, m->major, m->minor);
        // btrfs and others report an anonymous device number; use the source.
        if (!r.block_device) r.block_device = sysfs::block_device_for_dev_path(ctx.roots, m->source);
      }
    }
  }
  if (r.block_device) r.disks = sysfs::whole_disks_of(ctx.roots, *r.block_device);
  return r;
}

ProbeOutcome SwapsProbe::sample(ProbeContext& ctx, Snapshot& out) {
  if (auto err = ctx.read_proc("swaps"); !err.empty()) return ProbeOutcome::failed(err);
  Swaps swaps;
  swaps.areas = parse_swaps(ctx.scratch);

  if (!(resolved_for_ == ctx.roots)) {
    resolved_.clear();
    resolved_for_ = ctx.roots;
  }
  std::map<std::string, Resolution> still_active;
  for (auto& area : swaps.areas) {
    auto key = area.type + '\0' + area.filename;
    auto it = resolved_.find(key);
    Resolution r = it != resolved_.end() ? std::move(it->second) : resolve(ctx, area);
    area.block_device = r.block_device;
    area.disks = r.disks;
    still_active.emplace(std::move(key), std::move(r));
  }
  resolved_ = std::move(still_active);
  out.put(kSwaps, std::move(swaps));
  return ProbeOutcome::ok();
}

void render_swaps(const Swaps& s, MetricWriter& w) {
  for (const auto& a : s.areas) {
    const Labels tier{{"tier", "swap"}, {"device", a.filename}};
    w.add(metric::memory_capacity, static_cast<double>(a.size_bytes), tier);
    w.add(metric::memory_used, static_cast<double>(a.used_bytes), tier);
    w.add(metric::swap_priority, static_cast<double>(a.priority), {{"device", a.filename}});
    const std::string block = a.block_device.value_or("");
    if (a.disks.empty()) {
      w.add(metric::swap_device_info, 1, {{"device", a.filename}, {"type", a.type}, {"block_device", block}, {"disk", ""}});
    }
    for (const auto& d : a.disks)
      w.add(metric::swap_device_info, 1, {{"device", a.filename}, {"type", a.type}, {"block_device", block}, {"disk", d}});
  }
}

constinit const ProbeRegistration kSwapsProbe{
    .name = "swaps",
    .make = [](const ProbeSettings&) -> std::unique_ptr<Probe> { return std::make_unique<SwapsProbe>(); },
    .render =
        [](const Snapshot& snap, MetricWriter& w) {
          if (const auto* r = snap.get(kSwaps)) render_swaps(*r, w);
        },
};

}  // namespace tierscope
