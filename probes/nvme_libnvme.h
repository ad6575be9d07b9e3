#pragma once
// The NVMe admin channel through libnvme: Identify Controller and the
// SMART/health log as ioctls on <devfs>/<controller>. The only file that
// includes libnvme. libnvme's tree scan (nvme_scan) is not used: it reads the
// live /sys and cannot be pointed at HostRoots; sysfs identity stays in
// probes/nvme.cpp.
//
// Needs CAP_SYS_ADMIN (the kernel checks it for admin passthrough) and read
// access to the device node; each read opens the node, issues the command and
// closes it, so a controller that goes away leaves nothing open.

#include "probes/nvme.h"

namespace tierscope {

class LibnvmeAdminChannel final : public NvmeAdminChannel {
 public:
  NvmeAdminReply identify_controller(const HostRoots& roots, std::string_view controller) override;
  // Get Log Page 02h for NSID FFFFFFFFh (the whole controller), with Retain
  // Asynchronous Event set: reading it must not acknowledge an event that
  // smartd or an operator is waiting for.
  NvmeAdminReply smart_log(const HostRoots& roots, std::string_view controller) override;
};

}  // namespace tierscope
