// TLS of the monitor's own server: a certificate chain and its key, loaded and checked up front
// (a bad file is an error that names it), with the handshake policy that goes with them (client
// certificates, TLS versions), and an SSL_CTX setup that applies whichever identity is current at
// each handshake, so that a reload can swap certificates and policy without a restart.
// TLS 1.2 is the default minimum; compression and renegotiation are off.
#pragma once

#include <openssl/ssl.h>

#include <expected>
#include <memory>
#include <mutex>
#include <string>

#include "config/config.h"

namespace hdm {

// A certificate (leaf first, then any intermediates), its private key, and the handshake policy
// (client certificates and the CAs that verify them, TLS versions). Immutable.
struct TlsIdentity;

// Reads `cert_file` (PEM: the leaf certificate, then its chain) and `key_file` (PEM, not
// encrypted) and checks that they belong together. Errors name the file at fault.
std::expected<std::shared_ptr<const TlsIdentity>, std::string> LoadTlsIdentity(
    const std::string& cert_file, const std::string& key_file);
// The same, with the policy of `tls` (--web.config.file's tls_server_config): client_auth and
// client_ca_file (PEM, one or more CA certificates), min_version and max_version.
std::expected<std::shared_ptr<const TlsIdentity>, std::string> LoadTlsIdentity(
    const ServerTlsConfig& tls);

// The identity that new handshakes present. Thread-safe; must outlive every SSL_CTX set up with
// it.
class TlsIdentitySlot {
 public:
  void Set(std::shared_ptr<const TlsIdentity> identity);
  std::shared_ptr<const TlsIdentity> Get() const;

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const TlsIdentity> identity_;  // Guarded by mu_.
};

// Configures a server SSL_CTX: no compression or renegotiation, and at every handshake the slot's
// identity with its policy (TLS versions, client certificates). Sessions are not resumed, so a
// reload that tightens the client certificate policy is not bypassed by resumption. False (with the
// OpenSSL error in `error`) when the context refuses it.
bool SetupServerTlsContext(SSL_CTX& ctx, TlsIdentitySlot& slot, std::string& error);

}  // namespace hdm
