#include "http/server_tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

namespace hdm {

struct TlsIdentity {
  X509* cert = nullptr;
  EVP_PKEY* key = nullptr;
  STACK_OF(X509) * chain = nullptr;
  // The handshake policy.
  int min_version = TLS1_2_VERSION;
  int max_version = TLS1_3_VERSION;
  bool prefer_server_ciphers = true;
  int verify_mode = SSL_VERIFY_NONE;
  bool verify_any = false;                   // a client certificate is taken without verification
  X509_STORE* ca_store = nullptr;            // verifies client certificates; null: none
  STACK_OF(X509_NAME) * ca_names = nullptr;  // sent in the CertificateRequest
  TlsIdentity() = default;
  TlsIdentity(const TlsIdentity&) = delete;
  TlsIdentity& operator=(const TlsIdentity&) = delete;
  ~TlsIdentity() {
    X509_free(cert);
    EVP_PKEY_free(key);
    sk_X509_pop_free(chain, X509_free);
    X509_STORE_free(ca_store);
    sk_X509_NAME_pop_free(ca_names, X509_NAME_free);
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

// RequestClientCert and RequireAnyClientCert: any certificate is taken, as Go's crypto/tls does.
int AcceptAnyCertificate(int, X509_STORE_CTX*) { return 1; }

int ProtocolVersion(TlsVersion v) {
  switch (v) {
    case TlsVersion::kTls10:
      return TLS1_VERSION;
    case TlsVersion::kTls11:
      return TLS1_1_VERSION;
    case TlsVersion::kTls12:
      return TLS1_2_VERSION;
    case TlsVersion::kTls13:
      return TLS1_3_VERSION;
  }
  return TLS1_2_VERSION;
}

// Applies the slot's policy to a handshake, before OpenSSL picks the version, looks up a session
// to resume or asks for a client certificate. Runs on the handshake's thread.
int ApplyCurrentPolicy(SSL* ssl, int* alert, void* arg) {
  const auto identity = static_cast<TlsIdentitySlot*>(arg)->Get();
  if (!identity) {
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_CLIENT_HELLO_ERROR;
  }
  bool ok = SSL_set_min_proto_version(ssl, identity->min_version) == 1 &&
            SSL_set_max_proto_version(ssl, identity->max_version) == 1;
  if (!identity->prefer_server_ciphers) SSL_clear_options(ssl, SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (ok && identity->verify_mode != SSL_VERIFY_NONE) {
    SSL_set_verify(ssl, identity->verify_mode,
                   identity->verify_any ? AcceptAnyCertificate : nullptr);
    if (identity->ca_store != nullptr) {
      ok = SSL_set1_verify_cert_store(ssl, identity->ca_store) == 1;
    }
    if (ok && identity->ca_names != nullptr) {
      STACK_OF(X509_NAME)* names = SSL_dup_CA_list(identity->ca_names);
      ok = names != nullptr;
      if (ok) SSL_set_client_CA_list(ssl, names);  // takes ownership
    }
  }
  if (!ok) {
    ERR_clear_error();
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_CLIENT_HELLO_ERROR;
  }
  return SSL_CLIENT_HELLO_SUCCESS;
}

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

std::expected<std::shared_ptr<const TlsIdentity>, std::string> LoadTlsIdentity(
    const ServerTlsConfig& tls) {
  auto loaded = LoadTlsIdentity(tls.cert_file, tls.key_file);
  if (!loaded) return loaded;
  // Loaded above as const; this is still the only reference.
  auto id = std::const_pointer_cast<TlsIdentity>(*loaded);
  id->min_version = ProtocolVersion(tls.min_version);
  id->max_version = ProtocolVersion(tls.max_version);
  id->prefer_server_ciphers = tls.prefer_server_cipher_suites;
  switch (tls.client_auth) {
    case ClientAuthType::kNoClientCert:
      id->verify_mode = SSL_VERIFY_NONE;
      break;
    case ClientAuthType::kRequestClientCert:
      id->verify_mode = SSL_VERIFY_PEER;
      id->verify_any = true;
      break;
    case ClientAuthType::kRequireAnyClientCert:
      id->verify_mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      id->verify_any = true;
      break;
    case ClientAuthType::kVerifyClientCertIfGiven:
      id->verify_mode = SSL_VERIFY_PEER;
      break;
    case ClientAuthType::kRequireAndVerifyClientCert:
      id->verify_mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      break;
  }
  if (!tls.client_ca_file.empty()) {
    ERR_clear_error();
    id->ca_names = SSL_load_client_CA_file(tls.client_ca_file.c_str());
    if (id->ca_names == nullptr || sk_X509_NAME_num(id->ca_names) == 0) {
      return std::unexpected("no PEM CA certificate in client_ca_file " + tls.client_ca_file +
                             ": " + OpenSslError("cannot read"));
    }
    id->ca_store = X509_STORE_new();
    if (id->ca_store == nullptr ||
        X509_STORE_load_file(id->ca_store, tls.client_ca_file.c_str()) != 1) {
      return std::unexpected("cannot load client_ca_file " + tls.client_ca_file + ": " +
                             OpenSslError("cannot parse"));
    }
    ERR_clear_error();
  }
  return loaded;
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
  // No session resumption (no cache, no tickets): every handshake meets the policy in force,
  // also after a reload that tightened it. Scrapers keep their connections open anyway.
  static constexpr unsigned char kSessionContext[] = "hotdata-monitor";
  SSL_CTX_set_session_cache_mode(&ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(&ctx, SSL_OP_NO_TICKET);
  if (SSL_CTX_set_num_tickets(&ctx, 0) != 1 ||
      SSL_CTX_set_session_id_context(&ctx, kSessionContext, sizeof kSessionContext - 1) != 1) {
    error = OpenSslError("cannot configure TLS sessions");
    return false;
  }
  SSL_CTX_set_client_hello_cb(&ctx, ApplyCurrentPolicy, &slot);
  SSL_CTX_set_cert_cb(&ctx, UseCurrentIdentity, &slot);
  return true;
}

}  // namespace hdm
