// NVMe sysfs entry names: nvme_namespace_block_device / is_nvme_controller_name,
// against the grammar nvme<N>[c<M>]n<K> / nvme<N>.
#include <cstdint>
#include <optional>
#include <string>

#include "probes/nvme.h"
#include "tests/fuzz/fuzz_common.h"

using namespace tierscope;

namespace {

std::string_view take_digits(std::string_view& s) {
  std::size_t n = 0;
  while (n < s.size() && s[n] >= '0' && s[n] <= '9') ++n;
  auto out = s.substr(0, n);
  s.remove_prefix(n);
  return out;
}

std::optional<std::string> ref_namespace(std::string_view s) {
  if (!s.starts_with("nvme")) return std::nullopt;
  s.remove_prefix(4);
  auto subsys = take_digits(s);
  if (subsys.empty()) return std::nullopt;
  if (s.starts_with('c')) {
    s.remove_prefix(1);
    if (take_digits(s).empty()) return std::nullopt;
  }
  if (!s.starts_with('n')) return std::nullopt;
  s.remove_prefix(1);
  auto nsid = take_digits(s);
  if (nsid.empty() || !s.empty()) return std::nullopt;
  return "nvme" + std::string(subsys) + "n" + std::string(nsid);
}

bool ref_controller(std::string_view s) {
  if (!s.starts_with("nvme")) return false;
  s.remove_prefix(4);
  return !take_digits(s).empty() && s.empty();
}

void check(std::string_view name) {
  const auto block = nvme_namespace_block_device(name);
  FUZZ_CHECK(block == ref_namespace(name), std::string(name));
  FUZZ_CHECK(is_nvme_controller_name(name) == ref_controller(name), std::string(name));
  FUZZ_CHECK(!(block && is_nvme_controller_name(name)), std::string(name));
  if (block) {
    FUZZ_CHECK(block->size() <= name.size(), std::string(name));
    FUZZ_CHECK(nvme_namespace_block_device(*block) == block, *block);  // a block device names itself
    FUZZ_CHECK(!is_nvme_controller_name(*block), *block);
    // Its controller part is a controller name.
    FUZZ_CHECK(is_nvme_controller_name(block->substr(0, block->rfind('n'))), *block);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = fuzz::as_text(data, size);
  check(input);
  // Also every line, as a directory listing would give them.
  std::size_t pos = 0;
  while (pos < input.size()) {
    auto nl = input.find('\n', pos);
    if (nl == std::string_view::npos) nl = input.size();
    check(input.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return 0;
}
