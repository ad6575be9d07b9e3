#pragma once
// The contract every probe fulfils. A probe reads through HostRoots (never a
// literal path), parses with a pure function, and writes its typed reading
// into the Snapshot being built. Missing hardware is `no_data` (quiet, still a
// success); a real failure carries the path/call and errno in `error`.

#include <string>
#include <string_view>

#include "core/file_cache.h"
#include "core/host_roots.h"

namespace tierscope {

struct Snapshot;

enum class ProbeStatus { ok, no_data, error };

struct ProbeOutcome {
  ProbeStatus status = ProbeStatus::ok;
  std::string error;  // set when status == error

  static ProbeOutcome ok() { return {}; }
  static ProbeOutcome no_data() { return {ProbeStatus::no_data, {}}; }
  static ProbeOutcome failed(std::string why) { return {ProbeStatus::error, std::move(why)}; }
};

// What a probe gets for one run: where to read, and a descriptor cache with a
// scratch buffer so a tick allocates as little as possible.
struct ProbeContext {
  const HostRoots& roots;
  FileCache& files;
  std::string& scratch;

  // Reads <procfs>/<name> into `scratch`. Returns "" on success, else
  // "path: reason" for ProbeOutcome::failed.
  std::string read_proc(std::string_view name);
};

class Probe {
 public:
  virtual ~Probe() = default;
  virtual std::string_view name() const = 0;
  virtual ProbeOutcome sample(ProbeContext& ctx, Snapshot& out) = 0;
};

}  // namespace tierscope
