// NVMe admin data: parse_nvme_smart_log (SMART/health log page 02h, 512
// bytes) and parse_nvme_identify_controller (4096 bytes), then render_nvme.
// The input is tried as it is (only the exact sizes parse) and as a page and an
// Identify structure built from it (truncated or zero-padded); every field is
// checked against an independent reading of the bytes, the 128-bit counters
// against the compiler's correctly rounded unsigned __int128 conversion.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/metric_catalog.h"
#include "probes/nvme.h"
#include "probes/offload.h"
#include "tests/fuzz/fuzz_common.h"

using namespace tierscope;

namespace {

__extension__ using u128 = unsigned __int128;

u128 ref_le(const std::vector<std::uint8_t>& b, std::size_t at, std::size_t size) {
  u128 v = 0;
  for (std::size_t i = size; i-- > 0;) v = (v << 8) | b[at + i];
  return v;
}

u128 exact(NvmeU128 v) { return (u128{v.hi} << 64) | v.lo; }

void check_counter(NvmeU128 v, const std::vector<std::uint8_t>& page, std::size_t at, const char* what) {
  const u128 want = ref_le(page, at, 16);
  FUZZ_CHECK(exact(v) == want, what);
  FUZZ_CHECK(nvme_u128_to_double(v) == static_cast<double>(want), what);
  for (std::uint32_t factor : {60u, 3600u, 512000u}) {
    const double scaled = nvme_u128_times(v, factor);
    if (want <= ~u128{0} / factor) FUZZ_CHECK(scaled == static_cast<double>(want * factor), what);
    FUZZ_CHECK(scaled >= nvme_u128_to_double(v), what);  // monotone, never wraps
  }
}

void check_identify_string(const std::string& s, const std::vector<std::uint8_t>& id, std::size_t at,
                           std::size_t width) {
  FUZZ_CHECK(s.size() <= width, s);
  if (s.empty()) return;
  FUZZ_CHECK(s.front() != ' ' && s.front() != '\0' && s.back() != ' ' && s.back() != '\0', s);
  const std::string field(reinterpret_cast<const char*>(id.data() + at), width);
  const auto pos = field.find(s);
  FUZZ_CHECK(pos != std::string::npos, s);
  // Only padding around it.
  for (std::size_t i = 0; i < width; ++i)
    if (i < pos || i >= pos + s.size()) FUZZ_CHECK(field[i] == ' ' || field[i] == '\0', s);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::uint8_t> input(data, data + size);
  // As it is: only the exact sizes parse.
  FUZZ_CHECK(parse_nvme_smart_log(input).has_value() == (size == kNvmeSmartLogSize));
  FUZZ_CHECK(parse_nvme_identify_controller(input).has_value() == (size == kNvmeIdentifySize));

  std::vector<std::uint8_t> page(kNvmeSmartLogSize, 0), id(kNvmeIdentifySize, 0);
  std::memcpy(page.data(), data, std::min(size, page.size()));
  std::memcpy(id.data(), data, std::min(size, id.size()));

  const auto h = parse_nvme_smart_log(page);
  FUZZ_CHECK(h.has_value());
  FUZZ_CHECK(h->critical_warning == page[0]);
  const auto composite = static_cast<std::uint16_t>(ref_le(page, 1, 2));
  FUZZ_CHECK(h->composite_temperature_k == (composite ? std::optional(composite) : std::nullopt));
  FUZZ_CHECK(h->available_spare_percent == page[3] && h->available_spare_threshold_percent == page[4] &&
             h->percentage_used == page[5]);
  check_counter(h->data_units_read, page, 32, "data units read");
  check_counter(h->data_units_written, page, 48, "data units written");
  check_counter(h->host_read_commands, page, 64, "host reads");
  check_counter(h->host_write_commands, page, 80, "host writes");
  check_counter(h->controller_busy_minutes, page, 96, "busy");
  check_counter(h->power_cycles, page, 112, "power cycles");
  check_counter(h->power_on_hours, page, 128, "power on hours");
  check_counter(h->unsafe_shutdowns, page, 144, "unsafe shutdowns");
  check_counter(h->media_errors, page, 160, "media errors");
  check_counter(h->error_log_entries, page, 176, "error log entries");
  FUZZ_CHECK(h->warning_temperature_minutes == ref_le(page, 192, 4));
  FUZZ_CHECK(h->critical_temperature_minutes == ref_le(page, 196, 4));
  for (std::size_t i = 0; i < 8; ++i) {
    const auto k = static_cast<std::uint16_t>(ref_le(page, 200 + 2 * i, 2));
    FUZZ_CHECK(h->sensor_temperature_k[i] == (k ? std::optional(k) : std::nullopt));
  }
  FUZZ_CHECK(parse_nvme_smart_log(page) == h);  // deterministic

  const auto identify = parse_nvme_identify_controller(id);
  FUZZ_CHECK(identify.has_value());
  FUZZ_CHECK(identify->vid == ref_le(id, 0, 2) && identify->ssvid == ref_le(id, 2, 2));
  check_identify_string(identify->serial, id, 4, 20);
  check_identify_string(identify->model, id, 24, 40);
  check_identify_string(identify->firmware, id, 64, 8);

  // Rendered: the invariants of every scrape, and the values.
  NvmeInventory inv;
  NvmeController c;
  c.name = "nvme0";
  c.admin = NvmeAdminStatus{};
  c.identify = identify;
  c.health = h;
  inv.controllers.push_back(c);
  MetricWriter w;
  render_nvme(inv, OffloadVerdict{}, w);
  const auto families = fuzz::finish_and_check(std::move(w));
  const Labels ctrl{{"controller", "nvme0"}};
  const auto* temp = fuzz::find_series(fuzz::find_family(families, metric::nvme_temperature.name), ctrl);
  FUZZ_CHECK((temp != nullptr) == (composite != 0));
  if (temp) FUZZ_CHECK(temp->gauge.value == static_cast<double>(composite) - 273.0);
  const auto* up = fuzz::find_series(fuzz::find_family(families, metric::nvme_health_log_up.name), ctrl);
  FUZZ_CHECK(up && up->gauge.value == 1);
  const auto* written = fuzz::find_series(fuzz::find_family(families, metric::nvme_data_written.name), ctrl);
  FUZZ_CHECK(written && written->counter.value == nvme_u128_times(h->data_units_written, 512000));
  const auto* sensors = fuzz::find_family(families, metric::nvme_temperature_sensor.name);
  std::size_t implemented = 0;
  for (const auto& k : h->sensor_temperature_k) implemented += k.has_value();
  FUZZ_CHECK((sensors ? sensors->metric.size() : 0) == implemented);
  const auto* info = fuzz::find_family(families, metric::nvme_identify_info.name);
  FUZZ_CHECK(info && info->metric.size() == 1);
  return 0;
}
