#include "daemon/helper_exec.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "core/exit_codes.h"

namespace tierscope {

std::string helper_path(const std::string& name) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  fs::path dir = ec ? fs::path(".") : self.parent_path();
  const fs::path candidates[] = {dir / name, (dir / TIERSCOPE_HELPERDIR_FROM_BINDIR / name).lexically_normal()};
  for (const auto& c : candidates)
    if (::access(c.c_str(), X_OK) == 0) return c.native();
  return candidates[1].native();
}

int exec_helper(const std::string& name, const std::vector<std::string>& args) {
  const std::string path = helper_path(name);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(path.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execv(path.c_str(), argv.data());
  int err = errno;
  std::cerr << "tierscope: cannot run " << path << ": " << std::strerror(err)
            << " (it is installed with tierscope; reinstall the package or rebuild)\n";
  return exit_code::failure;
}

}  // namespace tierscope
