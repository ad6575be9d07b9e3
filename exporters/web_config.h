#pragma once
// TLS and basic auth for /metrics, configured with the Prometheus exporter
// web configuration file (the format `promtool check web-config` checks,
// shared by node_exporter and every exporter-toolkit exporter):
//
//   tls_server_config:
//     cert_file: server.crt          # PEM; relative paths are relative to this file
//     key_file: server.key
//     client_auth_type: RequireAndVerifyClientCert   # or NoClientCert (default), VerifyClientCertIfGiven
//     client_ca_file: clients-ca.crt
//     min_version: TLS12             # TLS10..TLS13 (default TLS12); max_version likewise
//   basic_auth_users:
//     prometheus: $2y$10$...         # bcrypt hashes (htpasswd -nBC 10 "" | tr -d ':\n')
//
// Loading reads the certificates and keys into memory and checks them (a
// cert that does not match its key, an unreadable file, a hash that is not
// bcrypt all fail here, with one line); a reload loads the file again, so
// certificates rotate without a restart.

#include <map>
#include <optional>
#include <stdexcept>
#include <string>

namespace tierscope {

class WebConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class ClientAuth { none, verify_if_given, require_and_verify };

struct TlsSettings {
  std::string cert_file, key_file, client_ca_file;  // resolved paths, for messages
  std::string cert_pem, key_pem, client_ca_pem;     // their content
  ClientAuth client_auth = ClientAuth::none;
  std::string priorities;                           // GnuTLS priority string from min/max_version
};

// Settings in force are compared by content (a reload that changes only a
// certificate's bytes is a change); the resolved paths are for messages.
inline bool operator==(const TlsSettings& a, const TlsSettings& b) {
  return a.cert_pem == b.cert_pem && a.key_pem == b.key_pem && a.client_ca_pem == b.client_ca_pem &&
         a.client_auth == b.client_auth && a.priorities == b.priorities;
}

struct WebConfig {
  std::string path;                           // "" when there is none: plain HTTP, no auth
  std::optional<TlsSettings> tls;
  std::map<std::string, std::string> users;   // user -> bcrypt hash; empty: no auth

  bool operator==(const WebConfig&) const = default;
};

// Throws WebConfigError naming the file, the key and what is wrong.
WebConfig parse_web_config(const std::string& yaml, const std::string& path);
WebConfig load_web_config(const std::string& path);

}  // namespace tierscope
