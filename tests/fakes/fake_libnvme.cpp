// A fake libnvme for the daemon's NVMe admin reads (probes/nvme_libnvme.cpp),
// built as a file named libnvme.so.1 in a directory of its own, so that a
// daemon run with LD_LIBRARY_PATH=that directory dlopen()s it instead of the
// real one. It defines the three entry points the daemon uses, with the real
// <libnvme.h> (libnvme 1.3) declaring them, so the argument structures are
// exactly libnvme's.
//
// There is no NVMe controller behind the descriptor: the test points the
// daemon's <devfs>/nvme0 and <devfs>/nvme1 at character devices it can open
// (the daemon sends admin commands to character devices only), and the fake
// tells the controllers apart by the device number:
//
//   /dev/null (1:3)  nvme0  tests/fixtures/phison-host's Phison AI100E
//   /dev/zero (1:5)  nvme1  that host's Samsung 990 PRO
//
// Any other descriptor fails as the ioctl would on a device that is not an
// NVMe controller (-1, errno ENOTTY).
//
// Answers, nothing else:
//   nvme_identify, CNS 01h (Identify Controller), 4096 bytes: VID (offset 0)
//     and SSVID (2) 16-bit little-endian, SN (4, 20 bytes), MN (24, 40 bytes)
//     and FR (64, 8 bytes) ASCII padded with spaces, all as the fixture's
//     sysfs has them (vendor, subsystem_vendor, serial, model, firmware_rev).
//     Any other CNS: NVMe status Invalid Field in Command (0x0002).
//   nvme_get_log_page, LID 02h (SMART / Health Information), 512 bytes at
//     offset 0, little-endian fields at the offsets of NVMe base spec 2.0
//     figure 207 (below, per controller). Any other log page: Invalid Log Page
//     (0x0109); another length or a non-zero offset: Invalid Field (0x0002).
//   nvme_status_to_string: a fixed string, "fake libnvme status".
//
// The health logs (what the dashboards show; the daemon's unit: see
// probes/nvme.cpp's render_nvme_health):
//
//                                offset  nvme0 (Phison)  nvme1 (Samsung)   daemon's value for nvme0
//   critical warning               0     0               0                 0
//   composite temperature (K)      1     318             308               45 °C (K - 273)
//   available spare (%)            3     100             100               1.0
//   available spare threshold (%)  4     10              10                0.1
//   percentage used (%)            5     3               1                 0.03
//   data units read (x512000 B)   32     12000000        2000000           6.144e12 bytes
//   data units written            48     40000000        3000000           2.048e13 bytes
//   host read commands            64     900000000       150000000         9e8
//   host write commands           80     1500000000      250000000         1.5e9
//   controller busy time (min)    96     1200            300               72000 s
//   power cycles                 112     42              17                42
//   power on hours               128     5000            2000              1.8e7 s
//   unsafe shutdowns             144     3               1                 3
//   media errors                 160     0               0                 0
//   error log entries            176     7               0                 7
//   warning temp time (min)      192     2               0                 120 s
//   critical temp time (min)     196     0               0                 0 s
//   temperature sensor 1 (K)     200     318             308               45 °C
//   temperature sensor 2 (K)     202     323             0 (not reported)  50 °C
//
// The 128-bit counters (offsets 32 to 191) are written as 16 bytes: the low
// 64 bits, then the high 64 (zero here).
#include <libnvme.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace {

struct FakeController {
  unsigned rdev_major, rdev_minor;  // the character device standing in for it
  std::uint16_t vid, ssvid;
  const char* serial;
  const char* model;
  const char* firmware;
  // SMART / health log
  std::uint8_t critical_warning;
  std::uint16_t temperature_k;
  std::uint8_t available_spare, spare_threshold, percentage_used;
  std::uint64_t data_units_read, data_units_written, host_read_commands, host_write_commands;
  std::uint64_t busy_minutes, power_cycles, power_on_hours, unsafe_shutdowns, media_errors, error_log_entries;
  std::uint32_t warning_temp_minutes, critical_temp_minutes;
  std::uint16_t sensor1_k, sensor2_k;
};

constexpr FakeController kControllers[] = {
    {1, 3, 0x1987, 0x1987, "511240904A12345678", "PHISON AI100E 2TB", "EFCM32.1",  //
     0, 318, 100, 10, 3, 12'000'000, 40'000'000, 900'000'000, 1'500'000'000,      //
     1200, 42, 5000, 3, 0, 7, 2, 0, 318, 323},
    {1, 5, 0x144d, 0x144d, "S73WNJ0W123456X", "Samsung SSD 990 PRO 2TB", "4B2QJXD7",  //
     0, 308, 100, 10, 1, 2'000'000, 3'000'000, 150'000'000, 250'000'000,              //
     300, 17, 2000, 1, 0, 0, 0, 0, 308, 0},
};

constexpr int kInvalidField = NVME_SCT_GENERIC << NVME_SCT_SHIFT | NVME_SC_INVALID_FIELD;
constexpr int kInvalidLogPage = NVME_SCT_CMD_SPECIFIC << NVME_SCT_SHIFT | NVME_SC_INVALID_LOG_PAGE;

// The controller behind fd, or nullptr with errno set (as the ioctl would).
const FakeController* controller_of(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return nullptr;  // EBADF
  if (S_ISCHR(st.st_mode))
    for (const auto& c : kControllers)
      if (major(st.st_rdev) == c.rdev_major && minor(st.st_rdev) == c.rdev_minor) return &c;
  errno = ENOTTY;
  return nullptr;
}

// What both admin calls do first: arguments checked (EINVAL), the controller
// behind fd found, the command's result word cleared. nullptr: return -1.
template <typename Args>
const FakeController* start_call(const Args* args, int fd, bool args_ok) {
  if (!args || args->args_size < static_cast<int>(sizeof *args) || !args_ok) {
    errno = EINVAL;
    return nullptr;
  }
  const FakeController* c = controller_of(fd);
  if (c && args->result) *args->result = 0;
  return c;
}

void put_le(unsigned char* buf, std::size_t at, std::uint64_t value, std::size_t bytes) {
  for (std::size_t i = 0; i < bytes; ++i) buf[at + i] = static_cast<unsigned char>(value >> (8 * i));
}

// An ASCII Identify field: the string, then spaces up to `size`.
void put_ascii(unsigned char* buf, std::size_t at, const char* s, std::size_t size) {
  std::size_t n = std::strlen(s);
  if (n > size) n = size;
  std::memset(buf + at, ' ', size);
  std::memcpy(buf + at, s, n);
}

}  // namespace

// C linkage from <libnvme.h>'s extern "C" declarations.
int nvme_identify(struct nvme_identify_args* args) {
  const FakeController* c = start_call(args, args ? args->fd : -1, true);
  if (!c) return -1;
  if (args->cns != NVME_IDENTIFY_CNS_CTRL || !args->data) return kInvalidField;
  auto* id = static_cast<unsigned char*>(args->data);
  std::memset(id, 0, NVME_IDENTIFY_DATA_SIZE);
  put_le(id, 0, c->vid, 2);
  put_le(id, 2, c->ssvid, 2);
  put_ascii(id, 4, c->serial, 20);
  put_ascii(id, 24, c->model, 40);
  put_ascii(id, 64, c->firmware, 8);
  return 0;
}

int nvme_get_log_page(int fd, __u32 xfer_len, struct nvme_get_log_args* args) {
  const FakeController* c = start_call(args, fd, xfer_len != 0);
  if (!c) return -1;
  if (args->lid != NVME_LOG_LID_SMART) return kInvalidLogPage;
  if (args->len != sizeof(struct nvme_smart_log) || args->lpo != 0 || !args->log) return kInvalidField;
  auto* log = static_cast<unsigned char*>(args->log);
  std::memset(log, 0, sizeof(struct nvme_smart_log));
  log[0] = c->critical_warning;
  put_le(log, 1, c->temperature_k, 2);
  log[3] = c->available_spare;
  log[4] = c->spare_threshold;
  log[5] = c->percentage_used;
  // 128-bit counters: low 64 bits here, high 64 bits left zero.
  put_le(log, 32, c->data_units_read, 8);
  put_le(log, 48, c->data_units_written, 8);
  put_le(log, 64, c->host_read_commands, 8);
  put_le(log, 80, c->host_write_commands, 8);
  put_le(log, 96, c->busy_minutes, 8);
  put_le(log, 112, c->power_cycles, 8);
  put_le(log, 128, c->power_on_hours, 8);
  put_le(log, 144, c->unsafe_shutdowns, 8);
  put_le(log, 160, c->media_errors, 8);
  put_le(log, 176, c->error_log_entries, 8);
  put_le(log, 192, c->warning_temp_minutes, 4);
  put_le(log, 196, c->critical_temp_minutes, 4);
  put_le(log, 200, c->sensor1_k, 2);
  put_le(log, 202, c->sensor2_k, 2);
  return 0;
}

const char* nvme_status_to_string(int /*status*/, bool /*fabrics*/) { return "fake libnvme status"; }

// The offsets above, against libnvme's own structure.
static_assert(offsetof(struct nvme_id_ctrl, vid) == 0 && offsetof(struct nvme_id_ctrl, ssvid) == 2);
static_assert(offsetof(struct nvme_id_ctrl, sn) == 4 && offsetof(struct nvme_id_ctrl, mn) == 24);
static_assert(offsetof(struct nvme_id_ctrl, fr) == 64 && sizeof(struct nvme_id_ctrl) == NVME_IDENTIFY_DATA_SIZE);
static_assert(offsetof(struct nvme_smart_log, temperature) == 1 && offsetof(struct nvme_smart_log, percent_used) == 5);
static_assert(offsetof(struct nvme_smart_log, data_units_read) == 32);
static_assert(offsetof(struct nvme_smart_log, num_err_log_entries) == 176);
static_assert(offsetof(struct nvme_smart_log, warning_temp_time) == 192);
static_assert(offsetof(struct nvme_smart_log, temp_sensor) == 200 && sizeof(struct nvme_smart_log) == 512);
