// soak_subject: a process of known memory behaviour for the soak tests.
//   soak_subject --mode leak|cache|clean [--rate BYTES_PER_S] [--cap BYTES]
// Prints "ready PID" once started, then until it is killed:
//   leak   allocates anonymous memory at RATE (default 2 MiB/s) in 64 KiB
//          blocks, writes every page of each, and never frees any;
//   cache  the same until CAP (default 24 MiB) is held, then replaces its
//          oldest block by a new one at the same rate (a cache full at its cap);
//   clean  every second allocates and writes CAP (default 8 MiB), holds it
//          for half a second and frees it (a sawtooth about a flat baseline).
// Pages are written one by one (4 KiB apart), so each is really charged.
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <thread>

namespace {

constexpr std::size_t kBlock = 64 * 1024;

void* touch(std::size_t bytes) {
  void* mem = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    std::perror("soak_subject: mmap");
    std::exit(1);
  }
  auto* p = static_cast<volatile unsigned char*>(mem);
  for (std::size_t off = 0; off < bytes; off += 4096) p[off] = 1;
  return mem;
}

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: soak_subject --mode leak|cache|clean [--rate BYTES_PER_S] [--cap BYTES]\n");
  std::exit(64);
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode;
  double rate = 2.0 * 1024 * 1024;
  double cap = -1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--mode") == 0) mode = argv[i + 1];
    else if (std::strcmp(argv[i], "--rate") == 0) rate = std::strtod(argv[i + 1], nullptr);
    else if (std::strcmp(argv[i], "--cap") == 0) cap = std::strtod(argv[i + 1], nullptr);
    else usage();
  }
  if (argc % 2 == 0 || rate <= 0 || (mode != "leak" && mode != "cache" && mode != "clean")) usage();
  if (cap < 0) cap = mode == "cache" ? 24.0 * 1024 * 1024 : 8.0 * 1024 * 1024;
  std::printf("ready %d\n", static_cast<int>(::getpid()));
  std::fflush(stdout);
  using Clock = std::chrono::steady_clock;
  if (mode == "clean") {
    const auto bytes = static_cast<std::size_t>(cap);
    for (;;) {
      void* m = touch(bytes);
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      ::munmap(m, bytes);
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
  // leak, cache: one block every kBlock / rate seconds, on absolute deadlines.
  const auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(kBlock / rate));
  const auto max_blocks = static_cast<std::size_t>(cap / kBlock);
  std::deque<void*> held;
  auto next = Clock::now();
  for (;;) {
    held.push_back(touch(kBlock));
    if (mode == "cache" && held.size() > max_blocks) {
      ::munmap(held.front(), kBlock);
      held.pop_front();
    }
    next += period;
    std::this_thread::sleep_until(next);
  }
}
