#include "workloads/memory_budget.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "core/byte_size.h"
#include "core/file_cache.h"
#include "core/text.h"
#include "core/unique_fd.h"
#include "workloads/systemd_scope.h"

namespace tierscope::workloads {

namespace fs = std::filesystem;

std::string_view to_string(BudgetBackend b) {
  switch (b) {
    case BudgetBackend::automatic: return "auto";
    case BudgetBackend::systemd: return "systemd";
    case BudgetBackend::cgroup: return "cgroup";
  }
  return "?";
}

std::string_view to_string(BudgetKind k) {
  switch (k) {
    case BudgetKind::systemd_scope: return "systemd-scope";
    case BudgetKind::cgroup_v2: return "cgroup-v2";
    case BudgetKind::cgroup_v1: return "cgroup-v1";
  }
  return "?";
}

std::uint64_t page_rounded(std::uint64_t bytes, std::uint64_t page) { return page == 0 ? bytes : bytes / page * page; }

namespace {

std::uint64_t page_size() {
  long p = ::sysconf(_SC_PAGESIZE);
  return p > 0 ? static_cast<std::uint64_t>(p) : 4096;
}

std::string errno_text(int err) { return std::strerror(err); }

// A small kernel file (cgroupfs, procfs) read whole (core's read_uncached);
// nullopt with `err` set (describe_errno() words it).
std::optional<std::string> read_small(const fs::path& path, int& err) {
  std::string buf;
  err = read_uncached(path, buf);
  if (err != 0) return std::nullopt;
  return buf;
}

// One write(2) of `value` to an existing cgroup file, as the kernel wants it;
// 0 or the errno.
int write_existing(const fs::path& path, std::string_view value) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return errno;
  ssize_t n = ::write(fd.get(), value.data(), value.size());
  if (n < 0) return errno;
  return static_cast<std::size_t>(n) == value.size() ? 0 : EIO;
}

bool has_word(std::string_view list, std::string_view word) {
  text::Fields f(list);
  for (auto w = f.next(); !w.empty(); w = f.next())
    if (w == word) return true;
  return false;
}

std::string sanitized(std::string_view name) {
  std::string out;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-';
    out += ok ? c : '-';
  }
  if (out.empty() || out == "." || out == "..") out = "run";
  if (out.size() > 100) out.resize(100);
  return out;
}

// A cgroup path joined with a child name.
std::string child_path(const std::string& parent, const std::string& child) {
  return parent == "/" || parent.empty() ? "/" + child : parent + "/" + child;
}

std::string permission_words(int err, const fs::path& path) {
  if (err == EACCES || err == EPERM)
    return "permission denied on " + path.string() + " (not root, and this cgroup is not delegated to uid " +
           std::to_string(::geteuid()) + ")";
  if (err == EROFS) return path.string() + " is on a read-only file system (the cgroup tree is mounted read-only here)";
  return path.string() + ": " + errno_text(err);
}

nlohmann::json limit_json(const std::optional<MemoryLimit>& l) {
  if (!l) return nullptr;
  if (l->unlimited) return "max";
  return l->bytes;
}

// The cgroup path of tierscope itself in the hierarchy that holds memory.
std::string own_memory_cgroup(const HostRoots& roots, const CgroupMounts& mounts) {
  int err = 0;
  auto text = read_small(roots.proc("self/cgroup"), err);
  if (!text) throw BudgetError("cannot read " + describe_errno(roots.proc("self/cgroup"), err));
  auto own = memory_cgroup_of(mounts, *text);
  if (!own) throw BudgetError("tierscope's own memory cgroup is not in " + roots.proc("self/cgroup").string());
  return own->path;
}

}  // namespace

MemoryBudget::MemoryBudget(BudgetRequest request, std::string_view name, HostRoots roots)
    : request_(std::move(request)), roots_(std::move(roots)), name_(sanitized(name)) {
  if (request_.empty()) throw BudgetError("no limit asked for (memory_max, memory_high or swap_max)");
  if (request_.backend == BudgetBackend::systemd ||
      (request_.backend == BudgetBackend::automatic && systemd_is_init())) {
    if (!systemd_is_init())
      throw BudgetError("backend systemd (limits.backend, run-capped --backend): systemd is not PID 1 on this machine "
                        "(no /run/systemd/system); use backend auto or cgroup");
    prepare_systemd();
    return;
  }
  CgroupMounts mounts = find_cgroup_mounts(roots_);
  if (mounts.v2 && mounts.v2_memory) {
    prepare_v2(mounts);
  } else if (mounts.v1_memory) {
    prepare_v1(mounts);
  } else {
    throw BudgetError(
        "no memory controller: neither a cgroup v2 hierarchy with \"memory\" in its cgroup.controllers nor a cgroup "
        "v1 memory hierarchy under " +
        roots_.sys("fs/cgroup").string());
  }
}

void MemoryBudget::prepare_systemd() {
  kind_ = BudgetKind::systemd_scope;
  unit_ = "tierscope-" + name_ + "-engine.scope";
  if (!request_.cgroup_parent.empty() &&
      (request_.cgroup_parent.size() < 6 || request_.cgroup_parent.rfind(".slice") != request_.cgroup_parent.size() - 6))
    throw BudgetError("limits.cgroup_parent under systemd names a slice (e.g. tierscope.slice), got " +
                      text::quoted(request_.cgroup_parent));
  CgroupMounts mounts = find_cgroup_mounts(roots_);
  if (!(mounts.v2 && mounts.v2_memory) && !mounts.v1_memory)
    throw BudgetError("no memory controller: the cgroup v2 hierarchy has no \"memory\" in its cgroup.controllers "
                      "and there is no cgroup v1 memory hierarchy under " + roots_.sys("fs/cgroup").string() +
                      " (systemd's MemoryMax= would not be enforced)");
  if (!(mounts.v2 && mounts.v2_memory)) {
    // The memory controller is cgroup v1: systemd applies MemoryMax= there as
    // memory.limit_in_bytes, and MemoryHigh=/MemorySwapMax= nowhere.
    if (request_.memory_high)
      throw BudgetError("memory_high: systemd applies MemoryHigh= only on cgroup v2; this host's memory controller is "
                        "cgroup v1 (use memory_max)");
    if (request_.swap_max)
      throw BudgetError("swap_max: systemd applies MemorySwapMax= only on cgroup v2; this host's memory controller is "
                        "cgroup v1 (use memory_max, or backend cgroup for memory.memsw.limit_in_bytes)");
    // systemd uses a v1 hierarchy only where it can write (a container's are
    // often mounted read-only); the scope would start uncapped.
    struct statvfs st {};
    if (::statvfs(mounts.v1_memory->c_str(), &st) == 0 && (st.f_flag & ST_RDONLY) != 0)
      throw BudgetError("the cgroup v1 memory hierarchy " + mounts.v1_memory->string() +
                        " is mounted read-only: systemd cannot put a scope in it, so its MemoryMax= would not be "
                        "enforced");
  }
  if (::geteuid() != 0)
    throw BudgetError("a transient scope on the system bus needs root (tierscope runs as uid " +
                      std::to_string(::geteuid()) + ")");
}

void MemoryBudget::prepare_v2(const CgroupMounts& mounts) {
  kind_ = BudgetKind::cgroup_v2;
  const std::string parent_path =
      request_.cgroup_parent.empty() ? own_memory_cgroup(roots_, mounts) : request_.cgroup_parent;
  auto parent = memory_cgroup_at(mounts, parent_path);
  if (!parent) throw BudgetError("cgroup " + text::quoted(parent_path) + " is not in the cgroup v2 hierarchy");
  std::error_code ec;
  if (!fs::is_directory(parent->dir, ec)) throw BudgetError("cgroup parent " + parent->dir.string() + " does not exist");
  int err = 0;
  auto controllers = read_small(parent->dir / "cgroup.controllers", err);
  if (!controllers) throw BudgetError("cannot read " + describe_errno(parent->dir / "cgroup.controllers", err));
  if (!has_word(*controllers, "memory"))
    throw BudgetError("no memory controller in cgroup " + parent->path + " (its cgroup.controllers: " +
                      text::quoted(text::trim(*controllers)) + "): the controller is not delegated to it");
  auto subtree = read_small(parent->dir / "cgroup.subtree_control", err);
  if (!subtree) throw BudgetError("cannot read " + describe_errno(parent->dir / "cgroup.subtree_control", err));
  if (!has_word(*subtree, "memory")) {
    err = write_existing(parent->dir / "cgroup.subtree_control", "+memory");
    if (err == EBUSY)
      throw BudgetError("cannot enable the memory controller below cgroup " + parent->path +
                        ": it holds processes itself (cgroup v2 allows controllers only below cgroups without "
                        "processes); set limits.cgroup_parent (run-capped: --cgroup-parent) to a cgroup without "
                        "processes, e.g. one delegated to tierscope");
    if (err != 0) throw BudgetError("cannot enable the memory controller: " + permission_words(err, parent->dir / "cgroup.subtree_control"));
  }
  // io.stat (the workload's IO per device) needs the io controller; a budget works without it.
  if (!has_word(*subtree, "io") && has_word(*controllers, "io"))
    (void)write_existing(parent->dir / "cgroup.subtree_control", "+io");
  CgroupDir made{CgroupVersion::v2, child_path(parent->path, "tierscope-" + name_ + "-engine"),
                 parent->dir / ("tierscope-" + name_ + "-engine")};
  if (::mkdir(made.dir.c_str(), 0755) != 0) {
    err = errno;
    if (err == EEXIST) throw BudgetError("cgroup " + made.path + " already exists (another run with the same name?)");
    throw BudgetError("cannot create cgroup " + made.path + ": " + permission_words(err, made.dir));
  }
  made_ = made;
  auto set = [&](const char* file, const std::optional<std::uint64_t>& v, const char* key) {
    if (!v) return;
    int e = write_existing(made.dir / file, std::to_string(*v));
    if (e == ENOENT)
      throw BudgetError(std::string(key) + ": " + (made.dir / file).string() + " does not exist (" +
                        (std::string_view(file) == "memory.swap.max"
                             ? "this kernel has no swap accounting: CONFIG_MEMCG_SWAP, swapaccount=1"
                             : "the memory controller is not enabled for the new cgroup") +
                        ")");
    if (e != 0) throw BudgetError(std::string(key) + ": cannot write " + (made.dir / file).string() + ": " + errno_text(e));
  };
  try {
    set("memory.max", request_.memory_max, "memory_max");
    set("memory.high", request_.memory_high, "memory_high");
    set("memory.swap.max", request_.swap_max, "swap_max");
  } catch (...) {
    remove_dir();
    throw;
  }
}

void MemoryBudget::prepare_v1(const CgroupMounts& mounts) {
  kind_ = BudgetKind::cgroup_v1;
  if (request_.memory_high)
    throw BudgetError("memory_high needs cgroup v2; this host's memory controller is cgroup v1 (use memory_max)");
  if (request_.swap_max && !request_.memory_max)
    throw BudgetError("swap_max on cgroup v1 needs memory_max too (v1 limits memory + swap together)");
  const std::string parent_path =
      request_.cgroup_parent.empty() ? own_memory_cgroup(roots_, mounts) : request_.cgroup_parent;
  auto parent = memory_cgroup_at(mounts, parent_path);
  if (!parent) throw BudgetError("cgroup " + text::quoted(parent_path) + " is not in the cgroup v1 memory hierarchy");
  std::error_code ec;
  if (!fs::is_directory(parent->dir, ec)) throw BudgetError("cgroup parent " + parent->dir.string() + " does not exist");
  if (request_.swap_max && !fs::exists(parent->dir / "memory.memsw.limit_in_bytes", ec))
    throw BudgetError("swap_max: swap accounting is off (" + (parent->dir / "memory.memsw.limit_in_bytes").string() +
                      " does not exist; boot with swapaccount=1)");
  CgroupDir made{CgroupVersion::v1, child_path(parent->path, "tierscope-" + name_ + "-engine"),
                 parent->dir / ("tierscope-" + name_ + "-engine")};
  if (::mkdir(made.dir.c_str(), 0755) != 0) {
    int err = errno;
    if (err == EEXIST) throw BudgetError("cgroup " + made.path + " already exists (another run with the same name?)");
    throw BudgetError("cannot create cgroup " + made.path + ": " + permission_words(err, made.dir));
  }
  made_ = made;
  try {
    // memory first: memsw must never be below it.
    if (request_.memory_max) {
      int e = write_existing(made.dir / "memory.limit_in_bytes", std::to_string(*request_.memory_max));
      if (e != 0) throw BudgetError("memory_max: cannot write " + (made.dir / "memory.limit_in_bytes").string() + ": " + errno_text(e));
    }
    if (request_.swap_max) {
      const std::uint64_t page = page_size();
      const std::uint64_t memsw = page_rounded(*request_.memory_max, page) + page_rounded(*request_.swap_max, page);
      int e = write_existing(made.dir / "memory.memsw.limit_in_bytes", std::to_string(memsw));
      if (e != 0)
        throw BudgetError("swap_max: cannot write " + (made.dir / "memory.memsw.limit_in_bytes").string() + ": " + errno_text(e));
    }
  } catch (...) {
    remove_dir();
    throw;
  }
}

void MemoryBudget::attach(pid_t pid) {
  if (kind_ == BudgetKind::systemd_scope) {
    ScopeProperties props;
    props.description = "tierscope workload " + name_;
    if (!request_.cgroup_parent.empty()) props.slice = request_.cgroup_parent;
    props.memory_max = request_.memory_max;
    props.memory_high = request_.memory_high;
    props.memory_swap_max = request_.swap_max;
    try {
      start_transient_scope(unit_, pid, props);
    } catch (const std::exception& e) {
      throw BudgetError(std::string("cannot start scope ") + unit_ + ": " + e.what());
    }
    attached_ = true;
    // The job moves the process; wait until its cgroup says so.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    const fs::path cgroup_file = roots_.proc(std::to_string(pid) + "/cgroup");
    while (std::chrono::steady_clock::now() < deadline) {
      int err = 0;
      auto text = read_small(cgroup_file, err);
      if (text && text->find("/" + unit_) != std::string::npos) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    throw BudgetError("scope " + unit_ + " was started, but process " + std::to_string(pid) + " is not in it after 10 s");
  }
  if (!made_) throw BudgetError("no cgroup to attach to");
  int e = write_existing(made_->dir / "cgroup.procs", std::to_string(pid));
  if (e != 0) throw BudgetError("cannot move process " + std::to_string(pid) + " into cgroup " + made_->path + ": " + errno_text(e));
  attached_ = true;
}

CgroupDir MemoryBudget::verify(pid_t pid) {
  auto cg = memory_cgroup_of_pid(roots_, static_cast<std::uint32_t>(pid));
  if (!cg) throw BudgetError("cannot find the memory cgroup of process " + std::to_string(pid) + " in " + roots_.proc(std::to_string(pid) + "/cgroup").string());
  if (kind_ == BudgetKind::systemd_scope) {
    if (cg->path.size() < unit_.size() + 1 || cg->path.compare(cg->path.size() - unit_.size() - 1, std::string::npos, "/" + unit_) != 0)
      throw BudgetError("process " + std::to_string(pid) + " is in memory cgroup " + cg->path + ", not in scope " + unit_ +
                        " (systemd did not make the scope's cgroup in the memory controller's hierarchy, so its MemoryMax= is "
                        "not applied)");
  } else if (!made_ || cg->path != made_->path) {
    throw BudgetError("process " + std::to_string(pid) + " is in memory cgroup " + cg->path + ", not in " +
                      (made_ ? made_->path : std::string("the budget's cgroup")));
  }
  applied_ = read_memory_limits(*cg);
  const std::uint64_t page = page_size();
  auto check = [&](const char* key, const std::optional<std::uint64_t>& asked, const std::optional<MemoryLimit>& got,
                   const char* file) {
    if (!asked) return;
    const std::string where = cg->path + (cg->version == CgroupVersion::v2 ? "" : " (cgroup v1)");
    if (!got)
      throw BudgetError(std::string(key) + " " + format_byte_size(*asked) + " was asked for, but " + file + " of " + where +
                        " cannot be read (no memory controller in that cgroup?); not running uncapped");
    if (got->unlimited || got->bytes != page_rounded(*asked, page))
      throw BudgetError(std::string(key) + " " + format_byte_size(*asked) + " was asked for, but " + file + " of " + where +
                        " is " + (got->unlimited ? std::string("max") : std::to_string(got->bytes)) +
                        "; not running uncapped");
  };
  const bool v2 = cg->version == CgroupVersion::v2;
  check("memory_max", request_.memory_max, applied_.max, v2 ? "memory.max" : "memory.limit_in_bytes");
  check("memory_high", request_.memory_high, applied_.high, "memory.high");
  check("swap_max", request_.swap_max, applied_.swap_max, v2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes");
  verified_ = *cg;
  return *cg;
}

std::string MemoryBudget::where() const {
  if (kind_ == BudgetKind::systemd_scope) return "scope " + unit_;
  return "cgroup " + (made_ ? made_->path : std::string("?"));
}

nlohmann::json MemoryBudget::describe() const {
  nlohmann::json j;
  j["backend"] = std::string(to_string(kind_));
  if (kind_ == BudgetKind::systemd_scope) j["unit"] = unit_;
  if (verified_) {
    j["cgroup"] = verified_->path;
    j["cgroup_version"] = std::string(to_string(verified_->version));
  } else if (made_) {
    j["cgroup"] = made_->path;
  }
  nlohmann::json asked = nlohmann::json::object();
  if (request_.memory_max) asked["memory_max"] = *request_.memory_max;
  if (request_.memory_high) asked["memory_high"] = *request_.memory_high;
  if (request_.swap_max) asked["swap_max"] = *request_.swap_max;
  j["requested"] = asked;
  if (verified_) {
    j["applied"] = {{"memory_max", limit_json(applied_.max)},
                    {"memory_high", limit_json(applied_.high)},
                    {"swap_max", limit_json(applied_.swap_max)}};
  }
  return j;
}

void MemoryBudget::remove_dir() {
  if (!made_) return;
  // Whatever is still in it is ended first: a cgroup with processes cannot go.
  for (int attempt = 0; attempt < 100; ++attempt) {
    int err = 0;
    auto procs = read_small(made_->dir / "cgroup.procs", err);
    if (procs) {
      text::Lines lines(*procs);
      std::string_view line;
      while (lines.next(line)) {
        if (auto pid = text::parse_u64(text::trim(line)); pid && *pid > 0) {
          ::kill(static_cast<pid_t>(*pid), SIGKILL);
        }
      }
    }
    if (::rmdir(made_->dir.c_str()) == 0 || errno == ENOENT) {
      made_.reset();
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

MemoryBudget::~MemoryBudget() {
  if (kind_ == BudgetKind::systemd_scope) {
    if (attached_) {
      std::string error;
      (void)stop_unit(unit_, error);  // already gone once its processes exited
    }
    return;
  }
  remove_dir();
}

}  // namespace tierscope::workloads
