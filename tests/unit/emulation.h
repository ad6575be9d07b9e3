#pragma once
// Tests of a cross build run under qemu-user (tests/cross/README.md), which
// sets TIERSCOPE_TEST_EMULATOR. A few assertions measure what the emulator
// changes and the target machine would not: wall-clock timing of requests and
// processes (every instruction is translated, several times slower), what
// /proc/PID/exe names (the emulator), and the errno of an ioctl the emulator
// does not translate (ENOSYS, where the kernel says ENOTTY). Those tests skip
// there, saying why; every other assertion runs as on the target.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace tierscope::test {

// The emulator these tests run under ("qemu-aarch64"), or "" natively.
inline std::string emulator() {
  const char* e = std::getenv("TIERSCOPE_TEST_EMULATOR");
  return e != nullptr ? e : "";
}

}  // namespace tierscope::test

#define TIERSCOPE_SKIP_UNDER_EMULATOR(why)                                            \
  do {                                                                                \
    if (!::tierscope::test::emulator().empty())                                       \
      GTEST_SKIP() << "under " << ::tierscope::test::emulator() << ": " << (why);     \
  } while (0)
