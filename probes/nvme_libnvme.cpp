#include "probes/nvme_libnvme.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <libnvme.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "core/file_cache.h"
#include "core/unique_fd.h"

namespace tierscope {

namespace {

static_assert(sizeof(nvme_id_ctrl) == kNvmeIdentifySize);
static_assert(sizeof(nvme_smart_log) == kNvmeSmartLogSize);

// libnvme, loaded the first time an admin command is sent rather than at
// start: a host without NVMe controllers (or with health reads off) never
// maps it, nor the libcrypto it links. Loaded once per process and kept.
// Only its ioctl entry points are used; the argument structures are filled
// as libnvme's own inline helpers (nvme_identify_ctrl, nvme_get_log_smart) do.
struct Libnvme {
  int (*identify)(nvme_identify_args*) = nullptr;
  int (*get_log_page)(int, __u32, nvme_get_log_args*) = nullptr;
  const char* (*status_to_string)(int, bool) = nullptr;
  std::string error;  // why it could not be loaded; "" when loaded

  static const Libnvme& get() {
    static const Libnvme lib = load();
    return lib;
  }

 private:
  static Libnvme load() {
    Libnvme l;
    void* h = ::dlopen("libnvme.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char* why = ::dlerror();
      l.error = std::string("cannot load libnvme.so.1: ") + (why ? why : "unknown error");
      return l;
    }
    l.identify = reinterpret_cast<decltype(l.identify)>(::dlsym(h, "nvme_identify"));
    l.get_log_page = reinterpret_cast<decltype(l.get_log_page)>(::dlsym(h, "nvme_get_log_page"));
    l.status_to_string = reinterpret_cast<decltype(l.status_to_string)>(::dlsym(h, "nvme_status_to_string"));
    if (!l.identify || !l.get_log_page || !l.status_to_string)
      l.error = "libnvme.so.1 lacks nvme_identify, nvme_get_log_page or nvme_status_to_string";
    return l;
  }
};

int identify_ctrl(const Libnvme& lib, int fd, nvme_id_ctrl* id) {
  nvme_identify_args args{};
  args.result = nullptr;
  args.data = id;
  args.args_size = sizeof args;
  args.fd = fd;
  args.timeout = NVME_DEFAULT_IOCTL_TIMEOUT;
  args.cns = NVME_IDENTIFY_CNS_CTRL;
  args.csi = NVME_CSI_NVM;
  args.nsid = NVME_NSID_NONE;
  args.cntid = NVME_CNTLID_NONE;
  args.cns_specific_id = NVME_CNSSPECID_NONE;
  args.uuidx = NVME_UUID_NONE;
  return lib.identify(&args);
}

int get_log_smart(const Libnvme& lib, int fd, nvme_smart_log* log) {
  nvme_get_log_args args{};
  args.lpo = 0;
  args.result = nullptr;
  args.log = log;
  args.args_size = sizeof args;
  args.fd = fd;
  args.timeout = NVME_DEFAULT_IOCTL_TIMEOUT;
  args.lid = NVME_LOG_LID_SMART;
  args.len = sizeof *log;
  args.nsid = NVME_NSID_ALL;
  args.csi = NVME_CSI_NVM;
  args.lsi = NVME_LOG_LSI_NONE;
  args.lsp = NVME_LOG_LSP_NONE;
  args.uuidx = NVME_UUID_NONE;
  args.rae = true;  // Retain Asynchronous Event: do not acknowledge one
  args.ot = false;
  return lib.get_log_page(fd, NVME_LOG_PAGE_PDU_SIZE, &args);
}

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
  const Libnvme& lib = Libnvme::get();
  if (!lib.error.empty()) return NvmeAdminReply::failure(ENOSYS, lib.error);
  T data{};
  int rc = command(lib, fd.get(), &data);
  if (rc < 0) {
    int err = errno;
    return NvmeAdminReply::failure(err, dev.native() + ": " + what + ": " + std::strerror(err));
  }
  if (rc > 0) {
    char status[16];
    std::snprintf(status, sizeof status, "0x%04x", static_cast<unsigned>(rc));
    return NvmeAdminReply::failure(
        0, dev.native() + ": " + what + ": NVMe status " + status + " (" + lib.status_to_string(rc, false) + ")");
  }
  NvmeAdminReply reply;
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(&data);
  reply.data.assign(bytes, bytes + sizeof data);
  return reply;
}

}  // namespace

NvmeAdminReply LibnvmeAdminChannel::identify_controller(const HostRoots& roots, std::string_view controller) {
  return admin_command<nvme_id_ctrl>(roots, controller, "Identify Controller", identify_ctrl);
}

NvmeAdminReply LibnvmeAdminChannel::smart_log(const HostRoots& roots, std::string_view controller) {
  return admin_command<nvme_smart_log>(roots, controller, "Get Log Page 02h (SMART/health)", get_log_smart);
}

}  // namespace tierscope
