#pragma once
// Which block devices form the SSD offload tier, and why.
//
//   role=phison      every namespace of a controller whose PCI vendor is 0x1987
//                    (offload_device: auto). OEM drives carry other model
//                    strings, so detection goes by vendor id only.
//   role=configured  a controller, namespace block device or serial named in
//                    the offload_device list.
//   role=swap        an NVMe namespace that holds an active swap area (a swap
//                    partition on it, a swap file on a filesystem on it, or
//                    either through dm/md).
// A device can carry several roles; each is one series.

#include <string>
#include <vector>

#include "probes/snapshot.h"

namespace tierscope {

struct NvmeInventory;
struct Swaps;
class MetricWriter;

struct PostSampleRegistration;

// Config key `offload_device`: "auto", or a list of names (with "auto" in it
// to keep detection too).
struct OffloadSelection {
  bool auto_detect = true;          // "auto" (alone or as a list entry)
  std::vector<std::string> names;   // controller (nvme0), block device (nvme0n1) or serial

  bool operator==(const OffloadSelection&) const = default;
};

struct OffloadDevice {
  std::string device;      // block device, e.g. nvme0n1
  std::string controller;  // nvme0
  std::string role;        // phison | configured | swap
};

struct OffloadVerdict {
  std::vector<std::string> phison_controllers;  // PCI vendor or subsystem vendor 0x1987: phison="true" in tierscope_nvme_info
  std::vector<OffloadDevice> devices;
  std::vector<std::string> unmatched_names;      // config names that matched nothing (logged)
};

OffloadVerdict decide_offload(const NvmeInventory* nvme, const Swaps* swaps, const OffloadSelection& selection);

void render_offload(const OffloadVerdict& verdict, MetricWriter& w);

// What the offload post-sample step puts in the snapshot (after the nvme and
// swaps probes ran; present on every sample, empty without NVMe).
inline constexpr ReadingKey<OffloadVerdict> kOffload{"offload"};

// The registration entry (probes/registry.h): decides the verdict and logs
// configured names that match nothing (once per change).
extern const PostSampleRegistration kOffloadStep;

}  // namespace tierscope
