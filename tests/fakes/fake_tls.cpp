// WriteSelfSignedCert with the OpenSSL 3 library (no `openssl` process).
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <filesystem>
#include <memory>

#include "fakes/fake_hotdata.h"

namespace hdm::fake {
namespace {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;

std::unexpected<std::string> OpenSslError(const std::string& what) {
  std::string message = what;
  if (unsigned long code = ERR_get_error(); code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    message += ": ";
    message += buf;
  }
  ERR_clear_error();
  return std::unexpected(message);
}

bool AddExtension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

std::expected<X509Ptr, std::string> MakeCert(EVP_PKEY* key, bool client) {
  X509Ptr cert(X509_new());
  if (!cert) return OpenSslError("X509_new");
  X509_set_version(cert.get(), 2);  // v3
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), static_cast<long>(time(nullptr)));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3650L * 24 * 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("hotdata-monitor tests"), -1,
                             -1, 0);
  X509_NAME_add_entry_by_txt(
      name, "CN", MBSTRING_ASC,
      reinterpret_cast<const unsigned char*>(client ? "hotdata-monitor test client" : "127.0.0.1"),
      -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key);
  // CA:TRUE lets a client use this very certificate as its trust anchor.
  if (!AddExtension(cert.get(), NID_basic_constraints, "critical,CA:TRUE") ||
      !AddExtension(cert.get(), NID_key_usage, "critical,digitalSignature,keyCertSign") ||
      !AddExtension(cert.get(), NID_ext_key_usage, client ? "clientAuth" : "serverAuth") ||
      !AddExtension(cert.get(), NID_subject_key_identifier, "hash") ||
      !AddExtension(cert.get(), NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost")) {
    return OpenSslError("adding certificate extensions");
  }
  if (X509_sign(cert.get(), key, EVP_sha256()) == 0) return OpenSslError("X509_sign");
  return cert;
}

std::expected<void, std::string> WriteCert(const std::string& dir, bool client) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return std::unexpected("cannot create " + dir + ": " + ec.message());

  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslError("generating the EC key");
  auto cert = MakeCert(key.get(), client);
  if (!cert) return std::unexpected(cert.error());

  const std::string cert_path = dir + "/cert.pem";
  const std::string key_path = dir + "/key.pem";
  BioPtr cert_bio(BIO_new_file(cert_path.c_str(), "w"));
  if (!cert_bio || PEM_write_bio_X509(cert_bio.get(), cert->get()) != 1 ||
      BIO_flush(cert_bio.get()) != 1) {
    return OpenSslError("writing " + cert_path);
  }
  BioPtr key_bio(BIO_new_file(key_path.c_str(), "w"));
  if (!key_bio) return OpenSslError("writing " + key_path);
  chmod(key_path.c_str(), 0600);
  if (PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
          1 ||
      BIO_flush(key_bio.get()) != 1) {
    return OpenSslError("writing " + key_path);
  }
  return {};
}

}  // namespace

std::expected<void, std::string> WriteSelfSignedCert(const std::string& dir) {
  return WriteCert(dir, false);
}

std::expected<void, std::string> WriteSelfSignedClientCert(const std::string& dir) {
  return WriteCert(dir, true);
}

}  // namespace hdm::fake
