// TLS of the monitor's own server: a certificate chain and its key, loaded and checked up front
// (a bad file is an error that names it), and an SSL_CTX setup that serves whichever identity
// is current at each handshake, so that a reload can swap certificates without a restart.
// TLS 1.2 is the minimum; compression and renegotiation are off.
#pragma once

#include <openssl/ssl.h>

#include <expected>
#include <memory>
#include <mutex>
#include <string>

namespace hdm {

// A certificate (leaf first, then any intermediates) and its private key. Immutable.
struct TlsIdentity;

// Reads `cert_file` (PEM: the leaf certificate, then its chain) and `key_file` (PEM, not
// encrypted) and checks that they belong together. Errors name the file at fault.
std::expected<std::shared_ptr<const TlsIdentity>, std::string> LoadTlsIdentity(
    const std::string& cert_file, const std::string& key_file);

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

// Configures a server SSL_CTX: TLS >= 1.2, no compression or renegotiation, the slot's identity
// at every handshake. False (with the OpenSSL error in `error`) when the context refuses it.
bool SetupServerTlsContext(SSL_CTX& ctx, TlsIdentitySlot& slot, std::string& error);

}  // namespace hdm
