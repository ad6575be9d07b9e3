#include "workloads/env_command.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "core/exit_codes.h"
#include "workloads/manifest.h"

namespace tierscope::workloads {

namespace {

// "\rhashing model.gguf: 42% (1.1 of 2.7 GiB)" on a terminal, redrawn at
// most once per percent.
HashProgress terminal_progress(const std::string& name) {
  return [name, last = -1](std::uint64_t done, std::uint64_t total) mutable {
    const int pct = total ? static_cast<int>(done * 100 / total) : 100;
    if (pct == last) return;
    last = pct;
    constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
    std::fprintf(stderr, "\rhashing %s: %3d%% (%.1f of %.1f GiB)", name.c_str(), pct, static_cast<double>(done) / kGiB,
                 static_cast<double>(total) / kGiB);
    if (done >= total) std::fputc('\n', stderr);
    std::fflush(stderr);
  };
}

}  // namespace

int run_env(const EnvArgs& args) {
  ManifestOptions options;
  options.sampler = args.sampler;
  if (args.os_release) options.os_release = {*args.os_release};
  nlohmann::json m = {{"manifest_version", 1}, {"tierscope", build_manifest()}};
  if (args.model) {
    try {
      HashProgress progress;
      if (::isatty(STDERR_FILENO) == 1) progress = terminal_progress(std::filesystem::path(*args.model).filename());
      m["model"] = model_manifest(*args.model, progress);
    } catch (const ManifestError& e) {
      std::cerr << "tierscope env: --model " << e.what() << "\n";
      return exit_code::failure;
    }
  }
  m["machine"] = machine_manifest(options);
  // Strings from the host (swap file names, model metadata) may hold bytes
  // that are not UTF-8: replaced, as in the files write_manifest writes.
  if (args.format == "json") std::cout << m.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  else std::cout << manifest_yaml(m);
  std::cout.flush();
  return exit_code::ok;
}

}  // namespace tierscope::workloads
