// memhog: a workload of known memory use for the memory-budget tests.
//   memhog MIB [SECONDS]
// Allocates MIB MiB of anonymous memory, writes every page of it (so each is
// really charged to the process's cgroup), prints "touched MIB MiB" and then
// sleeps SECONDS (default 0) before it exits 0. Under a memory limit without
// swap the kernel's OOM killer ends it with SIGKILL partway through.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: memhog MIB [SECONDS]\n");
    return 64;
  }
  const long mib = std::strtol(argv[1], nullptr, 10);
  const long seconds = argc == 3 ? std::strtol(argv[2], nullptr, 10) : 0;
  if (mib <= 0 || mib > (1L << 20) || seconds < 0) {
    std::fprintf(stderr, "memhog: bad arguments\n");
    return 64;
  }
  const std::size_t bytes = static_cast<std::size_t>(mib) << 20;
  void* mem = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    std::perror("memhog: mmap");
    return 1;
  }
  const long page = ::sysconf(_SC_PAGESIZE);
  auto* p = static_cast<volatile unsigned char*>(mem);
  for (std::size_t off = 0; off < bytes; off += static_cast<std::size_t>(page)) p[off] = static_cast<unsigned char>(off >> 12 | 1);
  std::printf("touched %ld MiB\n", mib);
  std::fflush(stdout);
  if (seconds > 0) ::sleep(static_cast<unsigned>(seconds));
  return 0;
}
