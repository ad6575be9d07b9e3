// The web config reader and basic auth (exporters/web_config.h, basic_auth.h);
// TLS end to end is tests/e2e/web_config.sh.

#include <gtest/gtest.h>

#include "exporters/basic_auth.h"
#include "exporters/web_config.h"
#include "test_util.h"

using namespace tierscope;
using namespace std::chrono_literals;

namespace {
// bcrypt of "secret", cost 10.
const std::string kHash = "$2b$10$qAYcR325YU.9hzHV8Bhhvui8rc2WI0ZCn.k9D7CduW9LGZPjYMDR6";

std::string error_of(const std::string& yaml) {
  try {
    parse_web_config(yaml, "/etc/tierscope/web.yml");
  } catch (const WebConfigError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(WebConfig, UsersAndNoTls) {
  auto c = parse_web_config("basic_auth_users:\n  prometheus: " + kHash + "\n", "w.yml");
  EXPECT_FALSE(c.tls);
  ASSERT_EQ(c.users.size(), 1u);
  EXPECT_EQ(c.users.at("prometheus"), kHash);
  EXPECT_TRUE(parse_web_config("", "w.yml").users.empty());
}

TEST(WebConfig, ErrorsNameFileKeyAndProblem) {
  EXPECT_EQ(error_of("basic_auth_users: {prometheus: secret}\n"),
            "/etc/tierscope/web.yml:1:32: basic_auth_users.prometheus: expected a bcrypt hash ($2y$10$ and 53 "
            "characters, e.g. from htpasswd -nBC 10), got \"secret\"");
  EXPECT_EQ(error_of("tls_server_config: {cert_file: a.crt}\n").find("/etc/tierscope/web.yml:1:32: "
                                                                     "tls_server_config.cert_file: cannot read "
                                                                     "/etc/tierscope/a.crt: No such file"),
            0u);
  EXPECT_NE(error_of("http_server_config: {http2: false}\n").find("not by tierscope"), std::string::npos);
  EXPECT_NE(error_of("tls_server_confg: {}\n").find("unknown key; did you mean \"tls_server_config\"?"), std::string::npos);
  // A long value is quoted in part only.
  auto long_hash = error_of("basic_auth_users: {u: " + std::string(5000, 'x') + "}\n");
  EXPECT_LT(long_hash.size(), 300u);
  EXPECT_NE(long_hash.find("(5000 bytes)"), std::string::npos);
}

TEST(WebConfig, LoadRefusesWhatIsNotARegularFile) {
  try {
    load_web_config("/dev/zero");
    FAIL() << "read /dev/zero";
  } catch (const WebConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "/dev/zero: cannot read the web config file: not a regular file (a character device)");
  }
}

TEST(BasicAuth, ChecksBcryptAndRemembersWhatPassed) {
  BasicAuth a({{"prometheus", kHash}});
  auto t = BasicAuth::Clock::now();
  EXPECT_TRUE(a.required());
  EXPECT_FALSE(a.check("prometheus", "wrong", t));
  EXPECT_FALSE(a.check("nobody", "secret", t + 1s));
  EXPECT_TRUE(a.check("prometheus", "secret", t + 2s));
  const auto checks = a.bcrypt_checks();
  EXPECT_EQ(checks, 3u);
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(a.check("prometheus", "secret", t + 2s));
  EXPECT_EQ(a.bcrypt_checks(), checks);  // remembered: no bcrypt per scrape
  a.set_users({{"prometheus", kHash}});  // a reload forgets
  EXPECT_TRUE(a.check("prometheus", "secret", t + 10s));
  EXPECT_EQ(a.bcrypt_checks(), checks + 1);
  EXPECT_FALSE(BasicAuth().required());
}

TEST(BasicAuth, AFloodOfWrongPasswordsRunsAFewChecksPerSecond) {
  BasicAuth a({{"prometheus", kHash}});
  auto t = BasicAuth::Clock::now();
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(a.check("prometheus", "guess" + std::to_string(i), t));
  EXPECT_EQ(a.bcrypt_checks(), static_cast<std::size_t>(BasicAuth::kChecksPerSecond));
  // The right password still passes once the bucket refills.
  EXPECT_TRUE(a.check("prometheus", "secret", t + 1s));
}
