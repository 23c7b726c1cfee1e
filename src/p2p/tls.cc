#include "p2p/tls.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstring>

namespace automata::p2p {
namespace {

constexpr char kExporterLabel[] = "EXPORTER-automata-p2p-handshake-v1";

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  if (code == 0) return "unknown OpenSSL error";
  char buffer[256];
  ERR_error_string_n(code, buffer, sizeof buffer);
  return buffer;
}

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct X509Deleter {
  void operator()(X509* cert) const { X509_free(cert); }
};

// A self-signed certificate for key, valid from a day ago for ten years.
// Its contents carry no meaning: peers ignore it.
std::unique_ptr<X509, X509Deleter> self_signed_certificate(EVP_PKEY* key) {
  std::unique_ptr<X509, X509Deleter> cert(X509_new());
  if (!cert) return nullptr;
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -24L * 3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("automata-p2p"), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (X509_set_pubkey(cert.get(), key) != 1) return nullptr;
  if (X509_sign(cert.get(), key, EVP_sha256()) == 0) return nullptr;
  return cert;
}

}  // namespace

std::unique_ptr<boost::asio::ssl::context> make_tls_context(Status* error) {
  auto context = std::make_unique<boost::asio::ssl::context>(boost::asio::ssl::context::tls);
  SSL_CTX* native = context->native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(native, TLS1_3_VERSION) != 1) {
    *error = Status::io_error("failed to limit TLS to version 1.3: " + openssl_error());
    return nullptr;
  }
  std::unique_ptr<EVP_PKEY, PkeyDeleter> key(EVP_EC_gen("P-256"));
  if (!key) {
    *error = Status::io_error("failed to generate the TLS certificate key: " + openssl_error());
    return nullptr;
  }
  auto cert = self_signed_certificate(key.get());
  if (!cert) {
    *error = Status::io_error("failed to make the self-signed TLS certificate: " + openssl_error());
    return nullptr;
  }
  if (SSL_CTX_use_certificate(native, cert.get()) != 1 || SSL_CTX_use_PrivateKey(native, key.get()) != 1) {
    *error = Status::io_error("failed to load the TLS certificate: " + openssl_error());
    return nullptr;
  }
  context->set_verify_mode(boost::asio::ssl::verify_none);
  return context;
}

std::optional<Hash32> export_keying_material(SSL* ssl) {
  Hash32 out{};
  if (SSL_export_keying_material(ssl, out.data(), out.size(), kExporterLabel, std::strlen(kExporterLabel), nullptr,
                                 0, 0) != 1) {
    return std::nullopt;
  }
  return out;
}

}  // namespace automata::p2p
