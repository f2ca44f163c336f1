#include "http/server_tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace hdm {

struct TlsIdentity {
  X509* cert = nullptr;
  EVP_PKEY* key = nullptr;
  STACK_OF(X509) * chain = nullptr;
  TlsIdentity() = default;
  TlsIdentity(const TlsIdentity&) = delete;
  TlsIdentity& operator=(const TlsIdentity&) = delete;
  ~TlsIdentity() {
    X509_free(cert);
    EVP_PKEY_free(key);
    sk_X509_pop_free(chain, X509_free);
  }
};

namespace {

// The latest OpenSSL error as text (and the queue cleared), or `fallback`.
std::string OpenSslError(const char* fallback) {
  std::string out = fallback;
  if (unsigned long code = ERR_peek_last_error(); code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    out = buf;
  }
  ERR_clear_error();
  return out;
}

struct BioCloser {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioCloser>;

// Presents the slot's identity; runs on the handshake's thread for every new connection.
int UseCurrentIdentity(SSL* ssl, void* arg) {
  const auto identity = static_cast<TlsIdentitySlot*>(arg)->Get();
  if (!identity) return 0;
  return SSL_use_cert_and_key(ssl, identity->cert, identity->key, identity->chain, 1) == 1 ? 1 : 0;
}

}  // namespace

std::expected<std::shared_ptr<const TlsIdentity>, std::string> LoadTlsIdentity(
    const std::string& cert_file, const std::string& key_file) {
  ERR_clear_error();
  auto id = std::make_shared<TlsIdentity>();
  BioPtr cert_bio(BIO_new_file(cert_file.c_str(), "r"));
  if (!cert_bio) {
    return std::unexpected("cannot read TLS certificate " + cert_file + ": " +
                           OpenSslError("cannot open"));
  }
  id->cert = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr);
  if (id->cert == nullptr) {
    return std::unexpected("no PEM certificate in " + cert_file + ": " +
                           OpenSslError("cannot parse"));
  }
  id->chain = sk_X509_new_null();
  while (X509* extra = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr)) {
    sk_X509_push(id->chain, extra);
  }
  ERR_clear_error();  // the loop ends on "no start line"

  BioPtr key_bio(BIO_new_file(key_file.c_str(), "r"));
  if (!key_bio) {
    return std::unexpected("cannot read TLS key " + key_file + ": " + OpenSslError("cannot open"));
  }
  // An empty passphrase callback: an encrypted key fails here instead of prompting.
  id->key = PEM_read_bio_PrivateKey(
      key_bio.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr);
  if (id->key == nullptr) {
    return std::unexpected("no PEM private key in " + key_file +
                           " (encrypted keys are not supported): " + OpenSslError("cannot parse"));
  }
  if (X509_check_private_key(id->cert, id->key) != 1) {
    return std::unexpected("the TLS key " + key_file + " does not match the certificate " +
                           cert_file);
  }
  ERR_clear_error();
  return std::shared_ptr<const TlsIdentity>(std::move(id));
}

void TlsIdentitySlot::Set(std::shared_ptr<const TlsIdentity> identity) {
  std::lock_guard lock(mu_);
  identity_ = std::move(identity);
}

std::shared_ptr<const TlsIdentity> TlsIdentitySlot::Get() const {
  std::lock_guard lock(mu_);
  return identity_;
}

bool SetupServerTlsContext(SSL_CTX& ctx, TlsIdentitySlot& slot, std::string& error) {
  const auto identity = slot.Get();
  if (!identity) {
    error = "no TLS certificate loaded";
    return false;
  }
  SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                SSL_OP_CIPHER_SERVER_PREFERENCE |
                                SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
  if (SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_use_cert_and_key(&ctx, identity->cert, identity->key, identity->chain, 1) != 1) {
    error = OpenSslError("cannot configure TLS");
    return false;
  }
  SSL_CTX_set_cert_cb(&ctx, UseCurrentIdentity, &slot);
  return true;
}

}  // namespace hdm
