#include "probes/nvme_libnvme.h"

#include <fcntl.h>
#include <libnvme.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/file_cache.h"
#include "core/unique_fd.h"

namespace tierscope {

namespace {

static_assert(sizeof(nvme_id_ctrl) == kNvmeIdentifySize);
static_assert(sizeof(nvme_smart_log) == kNvmeSmartLogSize);

// Opens the controller's character device, runs `command` (a libnvme call
// filling a T) and returns T's bytes. libnvme returns -1 with errno for a
// failed ioctl, or the NVMe status (> 0) when the controller rejected it.
template <typename T, typename Command>
NvmeAdminReply admin_command(const HostRoots& roots, std::string_view controller, const char* what, Command command) {
  const std::filesystem::path dev = roots.dev(controller);
  UniqueFd fd(::open(dev.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    int err = errno;
    return NvmeAdminReply::failure(err, describe_errno(dev, err));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    int err = errno;
    return NvmeAdminReply::failure(err, describe_errno(dev, err));
  }
  // No ioctls on whatever else might sit there (a fixture tree, a regular file).
  if (!S_ISCHR(st.st_mode)) return NvmeAdminReply::failure(ENOTTY, dev.native() + ": not a character device");
  T data{};
  int rc = command(fd.get(), &data);
  if (rc < 0) {
    int err = errno;
    return NvmeAdminReply::failure(err, dev.native() + ": " + what + ": " + std::strerror(err));
  }
  if (rc > 0) {
    char status[16];
    std::snprintf(status, sizeof status, "0x%04x", static_cast<unsigned>(rc));
    return NvmeAdminReply::failure(
        0, dev.native() + ": " + what + ": NVMe status " + status + " (" + nvme_status_to_string(rc, false) + ")");
  }
  NvmeAdminReply reply;
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(&data);
  reply.data.assign(bytes, bytes + sizeof data);
  return reply;
}

}  // namespace

NvmeAdminReply LibnvmeAdminChannel::identify_controller(const HostRoots& roots, std::string_view controller) {
  return admin_command<nvme_id_ctrl>(roots, controller, "Identify Controller",
                                     [](int fd, nvme_id_ctrl* id) { return nvme_identify_ctrl(fd, id); });
}

NvmeAdminReply LibnvmeAdminChannel::smart_log(const HostRoots& roots, std::string_view controller) {
  return admin_command<nvme_smart_log>(roots, controller, "Get Log Page 02h (SMART/health)",
                                       [](int fd, nvme_smart_log* log) {
                                         return nvme_get_log_smart(fd, NVME_NSID_ALL, /*rae=*/true, log);
                                       });
}

}  // namespace tierscope
