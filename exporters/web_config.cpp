#include "exporters/web_config.h"

#include <crypt.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <memory>
#include <vector>

#include "core/text.h"
#include "core/user_file.h"
#include "core/yaml_reader.h"

namespace tierscope {

namespace {

class Reader final : public YamlReader {
 public:
  explicit Reader(const std::string& file) : file_(file) {}

 private:
  std::string origin(const YAML::Mark& mark, std::string_view) const override { return file_position(file_, mark); }
  [[noreturn]] void raise(const std::string& message) const override { throw WebConfigError(message); }
  const std::string& file_;
};

// Keys exporter-toolkit knows that tierscope does not implement: refused by
// name rather than ignored, so no one believes they are in force.
constexpr std::string_view kUnsupported[] = {"cipher_suites", "curve_preferences", "prefer_server_cipher_suites",
                                             "client_allowed_sans", "cert", "key", "client_ca"};

bool unsupported(std::string_view key) {
  for (auto k : kUnsupported)
    if (k == key) return true;
  return false;
}

std::string read_pem(const Reader& p, const YAML::Node& n, const std::string& key, const std::string& dir,
                     std::string& resolved) {
  auto name = p.scalar(n, key, "a file path");
  if (name.empty()) p.fail(n.Mark(), key, "expected a file path, got an empty string");
  std::filesystem::path path(name);
  if (path.is_relative()) path = std::filesystem::path(dir) / path;
  resolved = path.lexically_normal().native();
  std::string error;
  auto text = read_user_file(resolved, error);
  if (!text) p.fail(n.Mark(), key, "cannot read " + resolved + ": " + error);
  return *text;
}

// "TLS12" -> 2 (index into kVersions).
constexpr std::string_view kVersions[] = {"TLS10", "TLS11", "TLS12", "TLS13"};
constexpr std::string_view kGnutlsVersions[] = {"+VERS-TLS1.0", "+VERS-TLS1.1", "+VERS-TLS1.2", "+VERS-TLS1.3"};

std::size_t tls_version(const Reader& p, const YAML::Node& n, const std::string& key) {
  auto v = p.choice(n, key, {kVersions[0], kVersions[1], kVersions[2], kVersions[3]});
  for (std::size_t i = 0; i < std::size(kVersions); ++i)
    if (kVersions[i] == v) return i;
  return 2;
}

struct Credentials {
  gnutls_certificate_credentials_t cred = nullptr;
  Credentials() { gnutls_certificate_allocate_credentials(&cred); }
  ~Credentials() {
    if (cred) gnutls_certificate_free_credentials(cred);
  }
  Credentials(const Credentials&) = delete;
  Credentials& operator=(const Credentials&) = delete;
};

gnutls_datum_t datum(const std::string& s) {
  return {reinterpret_cast<unsigned char*>(const_cast<char*>(s.data())), static_cast<unsigned>(s.size())};
}

// The checks a TLS server would only make at the first handshake, made now.
void check_tls(const Reader& p, const YAML::Node& node, const TlsSettings& t) {
  Credentials c;
  auto cert = datum(t.cert_pem), key = datum(t.key_pem);
  if (int rc = gnutls_certificate_set_x509_key_mem2(c.cred, &cert, &key, GNUTLS_X509_FMT_PEM, nullptr, 0); rc < 0) {
    std::string why = rc == GNUTLS_E_CERTIFICATE_KEY_MISMATCH ? "the certificate does not match the key"
                                                               : gnutls_strerror(rc);
    p.fail(node.Mark(), "tls_server_config", t.cert_file + " / " + t.key_file + ": " + why);
  }
  if (!t.client_ca_pem.empty()) {
    auto ca = datum(t.client_ca_pem);
    int n = gnutls_certificate_set_x509_trust_mem(c.cred, &ca, GNUTLS_X509_FMT_PEM);
    if (n <= 0)
      p.fail(node.Mark(), "tls_server_config.client_ca_file",
             t.client_ca_file + ": " + (n < 0 ? gnutls_strerror(n) : "no certificate in the file"));
  }
  const char* err_pos = nullptr;
  gnutls_priority_t prio = nullptr;
  if (gnutls_priority_init(&prio, t.priorities.c_str(), &err_pos) < 0)
    p.fail(node.Mark(), "tls_server_config", "min_version/max_version give no usable TLS version");
  gnutls_priority_deinit(prio);
}

TlsSettings parse_tls(const Reader& p, const YAML::Node& v, const std::string& dir) {
  TlsSettings t;
  std::size_t min_v = 2, max_v = 3;
  std::string auth = "NoClientCert";
  std::vector<std::string_view> known{"cert_file", "key_file", "client_auth_type", "client_ca_file", "min_version",
                                      "max_version"};
  for (auto k : kUnsupported) known.push_back(k);
  p.each_key(v, "tls_server_config", known, [&](const std::string& k, const std::string& f, const YAML::Node& n) {
    if (unsupported(k)) p.fail(n.Mark(), f, "supported by other Prometheus exporters, not by tierscope");
    if (k == "cert_file") t.cert_pem = read_pem(p, n, f, dir, t.cert_file);
    else if (k == "key_file") t.key_pem = read_pem(p, n, f, dir, t.key_file);
    else if (k == "client_ca_file") t.client_ca_pem = read_pem(p, n, f, dir, t.client_ca_file);
    else if (k == "min_version") min_v = tls_version(p, n, f);
    else if (k == "max_version") max_v = tls_version(p, n, f);
    else {
      auth = p.choice(n, f, {"NoClientCert", "RequestClientCert", "RequireAnyClientCert", "VerifyClientCertIfGiven",
                             "RequireAndVerifyClientCert"});
      if (auth == "RequestClientCert" || auth == "RequireAnyClientCert")
        p.fail(n.Mark(), f, auth + " accepts unverified certificates; tierscope verifies them against client_ca_file: "
                          "use VerifyClientCertIfGiven or RequireAndVerifyClientCert");
    }
  });
  if (t.cert_pem.empty() || t.key_pem.empty())
    p.fail(v.Mark(), "tls_server_config", "cert_file and key_file are both required");
  t.client_auth = auth == "RequireAndVerifyClientCert" ? ClientAuth::require_and_verify
                  : auth == "VerifyClientCertIfGiven"  ? ClientAuth::verify_if_given
                                                       : ClientAuth::none;
  if (t.client_auth != ClientAuth::none && t.client_ca_pem.empty())
    p.fail(v.Mark(), "tls_server_config.client_ca_file", "required by client_auth_type " + auth);
  if (min_v > max_v) p.fail(v.Mark(), "tls_server_config.min_version", "is above max_version");
  t.priorities = "NORMAL:-VERS-ALL";
  for (std::size_t i = min_v; i <= max_v; ++i) t.priorities += ":" + std::string(kGnutlsVersions[i]);
  check_tls(p, v, t);
  return t;
}

// A bcrypt hash that libcrypt can check: $2a$, $2b$ or $2y$, cost, 53 characters.
bool is_bcrypt(const std::string& hash) {
  if (hash.size() != 60 || hash[0] != '$' || hash[1] != '2' || hash[3] != '$' || hash[6] != '$') return false;
  if (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') return false;
  crypt_data data{};
  const char* out = crypt_r("", hash.c_str(), &data);
  return out && out[0] == '$' && out[1] == '2';
}

}  // namespace

WebConfig parse_web_config(const std::string& yaml, const std::string& path) {
  Reader p(path);
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    p.fail(e.mark, "", "YAML syntax error: " + e.msg);
  }
  WebConfig c;
  c.path = path;
  const std::string dir = std::filesystem::path(path).parent_path().native();
  p.each_key(root, "", {"tls_server_config", "basic_auth_users", "http_server_config"},
             [&](const std::string& k, const std::string& f, const YAML::Node& v) {
               if (k == "http_server_config")
                 p.fail(v.Mark(), f, "supported by other Prometheus exporters, not by tierscope");
               if (k == "tls_server_config") {
                 if (!v.IsNull()) c.tls = parse_tls(p, v, dir.empty() ? "." : dir);
                 return;
               }
               if (v.IsNull()) return;
               if (!v.IsMap()) p.fail(v.Mark(), f, "expected a mapping of user names to bcrypt hashes");
               for (auto it = v.begin(); it != v.end(); ++it) {
                 auto user = p.scalar(it->first, f, "a user name");
                 auto hash = p.scalar(it->second, f + "." + user, "a bcrypt hash");
                 if (user.empty() || user.find(':') != std::string::npos)
                   p.fail(it->first.Mark(), f, "expected a user name without ':', got " + text::quoted(user));
                 if (!is_bcrypt(hash))
                   p.fail(it->second.Mark(), f + "." + user,
                          "expected a bcrypt hash ($2y$10$ and 53 characters, e.g. from htpasswd -nBC 10), got " +
                              text::quoted(hash));
                 if (!c.users.emplace(user, hash).second) p.fail(it->first.Mark(), f, "user " + user + " given twice");
               }
             });
  return c;
}

WebConfig load_web_config(const std::string& path) {
  std::string error;
  auto text = read_user_file(path, error);
  if (!text) throw WebConfigError(path + ": cannot read the web config file: " + error);
  return parse_web_config(*text, path);
}

}  // namespace tierscope
