#include "exporters/basic_auth.h"

#include <crypt.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace tierscope {

namespace {

// Equal without an early exit, so the time taken does not tell how much of a
// guess was right.
bool same(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

void BasicAuth::set_users(std::map<std::string, std::string> users) {
  users_ = std::move(users);
  remembered_.clear();
}

bool BasicAuth::take_token(Clock::time_point now) {
  if (refilled_ != Clock::time_point{}) {
    double elapsed = std::chrono::duration<double>(now - refilled_).count();
    tokens_ = std::min(kChecksPerSecond, tokens_ + elapsed * kChecksPerSecond);
  }
  refilled_ = now;
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

bool BasicAuth::check(std::string_view user, std::string_view password, Clock::time_point now) {
  std::string pair = std::string(user) + '\0' + std::string(password);
  for (const auto& r : remembered_)
    if (same(r, pair)) return true;
  auto it = users_.find(std::string(user));
  if (!take_token(now)) return false;
  ++checks_;
  // An unknown user costs a check too, against the first hash, so that the
  // answer time does not tell which user names exist.
  const std::string& hash = it != users_.end() ? it->second : users_.begin()->second;
  auto data = std::make_unique<crypt_data>();
  const std::string pw(password);
  const char* out = crypt_r(pw.c_str(), hash.c_str(), data.get());
  bool ok = it != users_.end() && out && same(out, hash);
  if (ok) {
    if (remembered_.size() >= kRemembered) remembered_.erase(remembered_.begin());
    remembered_.push_back(std::move(pair));
  }
  return ok;
}

}  // namespace tierscope
