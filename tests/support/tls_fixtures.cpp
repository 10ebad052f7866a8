// SPDX-License-Identifier: MIT
#include "support/tls_fixtures.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <utility>

#include "support/temp_dir.hpp"

namespace luaload::test {
namespace {

constexpr long kDay = 24 * 60 * 60;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "tls_fixtures: %s failed\n", what);
  std::abort();
}

struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CertFree {
  void operator()(X509* cert) const { X509_free(cert); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

Key make_key() {
  Key key(EVP_EC_gen("P-256"));
  if (!key) {
    die("EVP_EC_gen");
  }
  return key;
}

struct CertSpec {
  const char* common_name;
  const char* subject_alt_names;  // nullptr for none, else "DNS:a,IP:1.2.3.4"
  bool is_ca = false;
  long valid_from = -kDay;        // seconds from now
  long valid_until = 30 * kDay;
};

void add_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, ctx, nid, value);
  if (extension == nullptr || X509_add_ext(cert, extension, -1) != 1) {
    die("X509_add_ext");
  }
  X509_EXTENSION_free(extension);
}

void add_extensions(X509* cert, X509* issuer, const CertSpec& spec) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  add_extension(cert, &ctx, NID_basic_constraints, spec.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  add_extension(cert, &ctx, NID_key_usage,
                spec.is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,keyEncipherment");
  add_extension(cert, &ctx, NID_subject_key_identifier, "hash");
  if (!spec.is_ca) {
    add_extension(cert, &ctx, NID_ext_key_usage, "serverAuth");
  }
  if (spec.subject_alt_names != nullptr) {
    add_extension(cert, &ctx, NID_subject_alt_name, spec.subject_alt_names);
  }
}

// Issued by (issuer, issuer_key), or self-signed when issuer is nullptr.
Cert make_cert(EVP_PKEY* key, const CertSpec& spec, X509* issuer, EVP_PKEY* issuer_key) {
  static long serial = 1;
  Cert cert(X509_new());
  if (!cert) {
    die("X509_new");
  }
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), spec.valid_from);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), spec.valid_until);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("luaload tests"), -1,
                             -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(spec.common_name), -1, -1, 0);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  add_extensions(cert.get(), signer, spec);
  if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) == 0) {
    die("X509_sign");
  }
  return cert;
}

// What was written to the memory BIO `bio`, which is freed.
std::string take_bio_text(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<size_t>(size));
  BIO_free(bio);
  return text;
}

std::string cert_pem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr || PEM_write_bio_X509(bio, cert) != 1) {
    die("PEM_write_bio_X509");
  }
  return take_bio_text(bio);
}

std::string key_pem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr || PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    die("PEM_write_bio_PrivateKey");
  }
  return take_bio_text(bio);
}

class Generated {
 public:
  Generated() {
    files_.dir = dir_.path().string();
    Key ca_key = make_key();
    Cert ca = make_cert(ca_key.get(), {.common_name = "luaload test CA", .subject_alt_names = nullptr, .is_ca = true},
                        nullptr, nullptr);
    files_.ca_cert = write("ca.pem", cert_pem(ca.get()));
    constexpr const char* kLocalNames = "DNS:localhost,IP:127.0.0.1,IP:::1";
    issue("server", {.common_name = "localhost", .subject_alt_names = kLocalNames}, ca.get(), ca_key.get(),
          &files_.server_cert, &files_.server_key);
    issue("self-signed", {.common_name = "localhost", .subject_alt_names = kLocalNames}, nullptr, nullptr,
          &files_.self_signed_cert, &files_.self_signed_key);
    issue("wrong-name", {.common_name = "wrong.example", .subject_alt_names = "DNS:wrong.example"}, ca.get(),
          ca_key.get(), &files_.wrong_name_cert, &files_.wrong_name_key);
    issue("expired",
          {.common_name = "localhost", .subject_alt_names = kLocalNames, .valid_from = -3 * kDay,
           .valid_until = -2 * kDay},
          ca.get(), ca_key.get(), &files_.expired_cert, &files_.expired_key);
  }

  const TlsFiles& files() const { return files_; }

 private:
  std::string write(const std::string& name, const std::string& content) {
    return dir_.write_file(name, content).string();
  }

  void issue(const std::string& name, const CertSpec& spec, X509* ca, EVP_PKEY* ca_key, std::string* cert_path,
             std::string* key_path) {
    Key key = make_key();
    Cert cert = make_cert(key.get(), spec, ca, ca_key);
    *cert_path = write(name + ".pem", cert_pem(cert.get()));
    *key_path = write(name + ".key", key_pem(key.get()));
  }

  TempDir dir_;
  TlsFiles files_;
};

}  // namespace

const TlsFiles& tls_files() {
  static const Generated generated;
  return generated.files();
}

}  // namespace luaload::test
