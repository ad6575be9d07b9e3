#pragma once
// Basic auth against bcrypt hashes (exporters/web_config.h), checked with the
// system's libcrypt. bcrypt is deliberately slow (tens of ms at cost 10) and
// runs on the server's one thread, so:
//   - a user and password that passed are remembered (at most kRemembered
//     pairs, forgotten with the users on a reload), so a Prometheus scraping
//     every second pays for bcrypt once;
//   - at most kChecksPerSecond bcrypt checks run per second; beyond that a
//     request that is not remembered is refused without a check (401), so a
//     flood of wrong passwords cannot occupy the server.

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tierscope {

class BasicAuth {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kRemembered = 16;
  static constexpr double kChecksPerSecond = 4;

  explicit BasicAuth(std::map<std::string, std::string> users = {}) : users_(std::move(users)) {}
  void set_users(std::map<std::string, std::string> users);

  bool required() const { return !users_.empty(); }
  bool check(std::string_view user, std::string_view password, Clock::time_point now);

  std::size_t bcrypt_checks() const { return checks_; }  // tests

 private:
  bool take_token(Clock::time_point now);

  std::map<std::string, std::string> users_;
  std::vector<std::string> remembered_;  // "user\0password" that passed
  double tokens_ = kChecksPerSecond;
  Clock::time_point refilled_{};
  std::size_t checks_ = 0;
};

}  // namespace tierscope
