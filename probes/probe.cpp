#include "probes/probe.h"

namespace tierscope {

std::string ProbeContext::read_proc(std::string_view name) {
  auto path = roots.proc(name);
  if (int err = files.read(path, scratch)) return describe_errno(path, err);
  return {};
}

}  // namespace tierscope
