#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "daemon/service_manager.h"
#include "probes/snapshot.h"
#include "test_util.h"

using namespace tierscope;
using tierscope::testing::TempDir;
using namespace std::chrono_literals;

namespace {
// A datagram socket standing in for systemd's notify socket; sd_notify(3)
// in libsystemd writes to it as it would to PID 1.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, sizeof addr.sun_path - 1);
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    timeval tv{2, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifySocket() { ::close(fd_); }
  bool bound() const { return bound_; }
  std::string next() {
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string("<nothing>");
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

struct EnvGuard {
  explicit EnvGuard(std::vector<std::pair<const char*, std::string>> vars) {
    for (auto& [k, v] : vars) {
      names.push_back(k);
      ::setenv(k, v.c_str(), 1);
    }
  }
  ~EnvGuard() {
    for (auto k : names) ::unsetenv(k);
  }
  std::vector<const char*> names;
};
}  // namespace

TEST(ServiceManager, SendsEachMessageThroughTheRealNotifyProtocol) {
  TempDir dir;
  NotifySocket sock((dir.path() / "notify").string());
  ASSERT_TRUE(sock.bound());
  EnvGuard env({{"NOTIFY_SOCKET", (dir.path() / "notify").string()}, {"WATCHDOG_USEC", "3000000"}});
  ServiceManager sm;
  EXPECT_TRUE(sm.notify_enabled());
  ASSERT_TRUE(sm.watchdog_timeout());
  EXPECT_EQ(*sm.watchdog_timeout(), 3s);
  sm.extend_timeout(60s, "initializing probes");
  EXPECT_EQ(sock.next(), "EXTEND_TIMEOUT_USEC=60000000\nSTATUS=initializing probes");
  sm.ready("sampling 9 probes every 1s");
  EXPECT_EQ(sock.next(), "READY=1\nSTATUS=sampling 9 probes every 1s");
  sm.reloading();
  auto reload = sock.next();
  EXPECT_EQ(reload.rfind("RELOADING=1\nMONOTONIC_USEC=", 0), 0u) << reload;
  EXPECT_NE(reload.find("\nSTATUS=reloading configuration"), std::string::npos);
  sm.watchdog_ping();
  EXPECT_EQ(sock.next(), "WATCHDOG=1");
  sm.stopping("stopping");
  EXPECT_EQ(sock.next(), "STOPPING=1\nSTATUS=stopping");
}

TEST(ServiceManager, WatchdogForAnotherProcessIsNotOurs) {
  EnvGuard env({{"WATCHDOG_USEC", "3000000"}, {"WATCHDOG_PID", std::to_string(::getpid() + 1)}});
  ::unsetenv("NOTIFY_SOCKET");
  ServiceManager sm;
  EXPECT_FALSE(sm.notify_enabled());
  EXPECT_FALSE(sm.watchdog_timeout());
  sm.record(true);
  sm.ready("x");  // a no-op outside systemd, but still recorded for tests
  EXPECT_EQ(sm.sent().size(), 1u);
}

TEST(WatchdogPacer, PingsAboutEveryHalfTimeoutWhateverTheTickCadence) {
  using Clock = WatchdogPacer::Clock;
  Clock::time_point t0{};
  WatchdogPacer pacer(10s, t0);
  // Ticks every second: the ping comes when the next tick would be at or
  // past 5 s after the last one.
  std::vector<int> pings;
  for (int s = 1; s <= 20; ++s)
    if (pacer.due(t0 + std::chrono::seconds(s), 1s)) pings.push_back(s);
  EXPECT_EQ(pings, (std::vector<int>{4, 8, 12, 16, 20}));
  for (std::size_t i = 1; i < pings.size(); ++i) EXPECT_LT(pings[i] - pings[i - 1] + 1, 10);  // never late
  EXPECT_TRUE(pacer.feasible(4s));
  EXPECT_FALSE(pacer.feasible(5s));
}

TEST(ServiceStatus, SaysWhatRunsWhatFailsWhichOffloadDeviceAndLastScrape) {
  Snapshot snap;
  snap.probes = {{"meminfo", ProbeStatus::ok, 0, ""}, {"gpu_nvml", ProbeStatus::error, 0, "boom"}};
  OffloadVerdict offload;
  offload.phison_controllers = {"nvme0"};
  offload.devices = {{"nvme0n1", "nvme0", "phison"}, {"nvme0n1", "nvme0", "swap"}, {"sdb", "", "swap"}};
  snap.put(kOffload, offload);
  EXPECT_EQ(service_status_text(&snap, 9, 1000ms, 3s),
            "sampling 9 probes every 1s; failing: gpu_nvml; offload nvme0n1 (nvme0, Phison), sdb; last scrape 3s ago");
  Snapshot none;
  EXPECT_EQ(service_status_text(&none, 1, 250ms, std::nullopt),
            "sampling 1 probe every 250ms; no offload device; not scraped yet");
}
