// Per-device IO of a cgroup: v2 io.stat and the v1 blkio.throttle files.
// Devices come back sorted and once each, every value is one that a line of
// the text gave for that device, and nothing is made up for a device whose
// line did not parse.
#include <cstdint>
#include <optional>
#include <string>

#include "core/text.h"
#include "probes/cgroup.h"
#include "tests/fuzz/fuzz_common.h"

using namespace tierscope;

namespace {

std::string dev_of(const CgroupDeviceIo& d) { return std::to_string(d.major) + ":" + std::to_string(d.minor); }

// Whether the token is "MAJ:MIN" of device d.
bool is_dev(std::string_view token, const CgroupDeviceIo& d) {
  auto colon = token.find(':');
  return colon != std::string_view::npos && text::parse_u64(token.substr(0, colon)) == d.major &&
         text::parse_u64(token.substr(colon + 1)) == d.minor;
}

// Whether `text` has a line for device `d` holding "key=value" (io.stat).
bool io_stat_has(std::string_view text, const CgroupDeviceIo& d, std::string_view key, std::uint64_t value) {
  text::Lines lines(text);
  std::string_view line;
  while (lines.next(line)) {
    text::Fields f(line);
    if (!is_dev(f.next(), d)) continue;
    for (auto kv = f.next(); !kv.empty(); kv = f.next()) {
      auto eq = kv.find('=');
      if (eq != std::string_view::npos && kv.substr(0, eq) == key && text::parse_u64(kv.substr(eq + 1)) == value)
        return true;
    }
  }
  return false;
}

// Whether `text` has a line "<dev> <kind> <value>" (blkio.throttle).
bool blkio_has(std::string_view text, const CgroupDeviceIo& d, std::string_view kind, std::uint64_t value) {
  text::Lines lines(text);
  std::string_view line;
  while (lines.next(line)) {
    text::Fields f(line);
    if (!is_dev(f.next(), d)) continue;
    if (f.next() == kind && text::parse_u64(f.next()) == value && f.done()) return true;
  }
  return false;
}

void check_sorted(const std::vector<CgroupDeviceIo>& v) {
  for (std::size_t i = 1; i < v.size(); ++i)
    FUZZ_CHECK(std::pair(v[i - 1].major, v[i - 1].minor) < std::pair(v[i].major, v[i].minor));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_text(data, size);
  auto io = parse_io_stat(text);
  check_sorted(io);
  for (const auto& d : io) {
    const auto dev = dev_of(d);
    if (d.read_bytes) FUZZ_CHECK(io_stat_has(text, d, "rbytes", *d.read_bytes), dev);
    if (d.write_bytes) FUZZ_CHECK(io_stat_has(text, d, "wbytes", *d.write_bytes), dev);
    if (d.read_ios) FUZZ_CHECK(io_stat_has(text, d, "rios", *d.read_ios), dev);
    if (d.write_ios) FUZZ_CHECK(io_stat_has(text, d, "wios", *d.write_ios), dev);
    if (d.discard_bytes) FUZZ_CHECK(io_stat_has(text, d, "dbytes", *d.discard_bytes), dev);
  }
  for (bool ops : {false, true}) {
    auto b = parse_blkio_throttle(text, ops);
    check_sorted(b);
    for (const auto& d : b) {
      FUZZ_CHECK(ops ? !d.read_bytes && !d.write_bytes && !d.discard_bytes
                     : !d.read_ios && !d.write_ios && !d.discard_ios);
      auto r = ops ? d.read_ios : d.read_bytes;
      auto w = ops ? d.write_ios : d.write_bytes;
      FUZZ_CHECK(r || w || d.discard_bytes || d.discard_ios, dev_of(d));
      if (r) FUZZ_CHECK(blkio_has(text, d, "Read", *r));
      if (w) FUZZ_CHECK(blkio_has(text, d, "Write", *w));
    }
  }
  return 0;
}
