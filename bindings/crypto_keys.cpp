// SPDX-License-Identifier: MIT
// JWS signatures with OpenSSL 3's EVP APIs (RFC 7518 §3.3-3.5): ES256 (ECDSA P-256 + SHA-256, the JOSE r || s
// form), RS256 (RSASSA-PKCS1-v1_5 + SHA-256) and PS256 (RSASSA-PSS, SHA-256, MGF1-SHA-256, 32-byte salt); key
// generation, PEM import and export, public JWKs (RFC 7517/7518 §6) and JWK thumbprints (RFC 7638).
//
// Every function is pure and thread-safe. OpenSSL's error queue is per thread and shared with the TLS code of the
// same worker, so every function leaves it empty, failure or not.
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <memory>
#include <string>

#include "bindings/crypto.hpp"

namespace luaload::bindings::codec {

namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Free>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, Free>;
using Bio = std::unique_ptr<BIO, Free>;
using Bignum = std::unique_ptr<BIGNUM, Free>;
using EcdsaSig = std::unique_ptr<ECDSA_SIG, Free>;

constexpr int kMinRsaBits = 2048;
constexpr size_t kP256Bytes = 32;

// Clears the thread's OpenSSL error queue when the function that holds it returns.
struct ClearErrors {
  ~ClearErrors() { ERR_clear_error(); }
};

// Encrypted PEM keys are refused instead of prompting on the terminal for a pass phrase.
int no_password_cb(char*, int, int, void*) { return -1; }

Bio read_bio(std::string_view pem) { return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))); }

Key read_private(std::string_view pem) {
  Bio bio = read_bio(pem);
  return Key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_password_cb, nullptr) : nullptr);
}

// A public key (SubjectPublicKeyInfo PEM), or the public half of a private key PEM.
Key read_public_or_private(std::string_view pem) {
  Bio bio = read_bio(pem);
  Key key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, no_password_cb, nullptr) : nullptr);
  return key ? std::move(key) : read_private(pem);
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(length));
}

std::string group_name(EVP_PKEY* key) {
  char name[64] = {0};
  size_t length = 0;
  return EVP_PKEY_get_group_name(key, name, sizeof name, &length) == 1 ? std::string(name, length) : std::string();
}

// "an RSA key of 1024 bits", "an EC key on secp384r1", "an ED25519 key"
std::string describe(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "RSA")) return "an RSA key of " + std::to_string(EVP_PKEY_get_bits(key)) + " bits";
  if (EVP_PKEY_is_a(key, "EC")) return "an EC key on " + group_name(key);
  const char* type = EVP_PKEY_get0_type_name(key);
  return std::string("a key of type ") + (type != nullptr ? type : "unknown");
}

bool check_key(SignAlgorithm alg, EVP_PKEY* key, std::string* error) {
  if (alg == SignAlgorithm::ES256) {
    if (EVP_PKEY_is_a(key, "EC") && group_name(key) == "prime256v1") return true;
    *error = "ES256 needs an EC P-256 key, got " + describe(key);
    return false;
  }
  if (EVP_PKEY_is_a(key, "RSA") && EVP_PKEY_get_bits(key) >= kMinRsaBits) return true;
  *error = std::string(sign_algorithm_name(alg)) + " needs an RSA key of at least 2048 bits, got " + describe(key);
  return false;
}

// EVP_DigestSignInit/VerifyInit with SHA-256 and, for PS256, the PSS parameters of RFC 7518 §3.5.
bool init_digest(SignAlgorithm alg, EVP_MD_CTX* ctx, EVP_PKEY* key, bool signing) {
  EVP_PKEY_CTX* pctx = nullptr;
  const int rc = signing ? EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), nullptr, key)
                         : EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), nullptr, key);
  if (rc != 1) return false;
  if (alg != SignAlgorithm::PS256) return true;
  return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1;
}

// OpenSSL's ECDSA signatures are DER; JWS wants r || s, each left-padded to 32 bytes (RFC 7518 §3.4).
bool der_to_jose(std::string* signature) {
  const auto* p = reinterpret_cast<const unsigned char*>(signature->data());
  EcdsaSig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(signature->size())));
  if (!sig) return false;
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string jose(2 * kP256Bytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(jose.data());
  if (BN_bn2binpad(r, out, kP256Bytes) < 0 || BN_bn2binpad(s, out + kP256Bytes, kP256Bytes) < 0) return false;
  *signature = std::move(jose);
  return true;
}

// The DER form of a 64-byte r || s signature; empty when it has another length (an invalid signature).
std::string jose_to_der(std::string_view signature) {
  if (signature.size() != 2 * kP256Bytes) return {};
  const auto* in = reinterpret_cast<const unsigned char*>(signature.data());
  EcdsaSig sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(in, kP256Bytes, nullptr);
  BIGNUM* s = BN_bin2bn(in + kP256Bytes, kP256Bytes, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return {};
  }
  const int length = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (length <= 0) return {};
  std::string der(static_cast<size_t>(length), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  i2d_ECDSA_SIG(sig.get(), &out);
  return der;
}

std::string bignum_bytes(const BIGNUM* n, int pad_to) {
  const int size = pad_to > 0 ? pad_to : BN_num_bytes(n);
  std::string out(static_cast<size_t>(size), '\0');
  BN_bn2binpad(n, reinterpret_cast<unsigned char*>(out.data()), size);
  return out;
}

Bignum bn_param(EVP_PKEY* key, const char* name) {
  BIGNUM* value = nullptr;
  EVP_PKEY_get_bn_param(key, name, &value);
  return Bignum(value);
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      static const char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

}  // namespace

std::optional<SignAlgorithm> sign_algorithm(std::string_view name) {
  if (name == "ES256") return SignAlgorithm::ES256;
  if (name == "RS256") return SignAlgorithm::RS256;
  if (name == "PS256") return SignAlgorithm::PS256;
  return std::nullopt;
}

const char* sign_algorithm_name(SignAlgorithm alg) {
  switch (alg) {
    case SignAlgorithm::ES256: return "ES256";
    case SignAlgorithm::RS256: return "RS256";
    case SignAlgorithm::PS256: return "PS256";
  }
  return "?";
}

bool sign(SignAlgorithm alg, std::string_view private_pem, std::string_view data, std::string* signature,
          std::string* error) {
  ClearErrors clear;
  Key key = read_private(private_pem);
  if (!key) {
    *error = "cannot read the private key: expected an unencrypted PEM private key (PKCS#8, SEC 1 or PKCS#1)";
    return false;
  }
  if (!check_key(alg, key.get(), error)) return false;
  MdCtx ctx(EVP_MD_CTX_new());
  size_t length = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(data.data());
  bool ok = ctx && init_digest(alg, ctx.get(), key.get(), true) &&
            EVP_DigestSign(ctx.get(), nullptr, &length, in, data.size()) == 1;
  if (ok) {
    signature->assign(length, '\0');
    ok = EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature->data()), &length, in, data.size()) == 1;
    signature->resize(length);
  }
  if (ok && alg == SignAlgorithm::ES256) ok = der_to_jose(signature);
  if (!ok) *error = "OpenSSL could not sign";
  return ok;
}

bool verify(SignAlgorithm alg, std::string_view key_pem, std::string_view data, std::string_view signature,
            bool* valid, std::string* error) {
  ClearErrors clear;
  Key key = read_public_or_private(key_pem);
  if (!key) {
    *error = "cannot read the key: expected a PEM public key (SubjectPublicKeyInfo) or private key";
    return false;
  }
  if (!check_key(alg, key.get(), error)) return false;
  const std::string der = alg == SignAlgorithm::ES256 ? jose_to_der(signature) : std::string();
  const std::string_view checked = alg == SignAlgorithm::ES256 ? std::string_view(der) : signature;
  MdCtx ctx(EVP_MD_CTX_new());
  *valid = !checked.empty() && ctx && init_digest(alg, ctx.get(), key.get(), false) &&
           EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(checked.data()), checked.size(),
                            reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  return true;
}

bool generate_key(SignAlgorithm alg, int rsa_bits, std::string* private_pem, std::string* error) {
  ClearErrors clear;
  Key key(alg == SignAlgorithm::ES256 ? EVP_EC_gen("P-256") : EVP_RSA_gen(static_cast<unsigned int>(rsa_bits)));
  Bio bio(BIO_new(BIO_s_mem()));
  if (!key || !bio || PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    *error = "OpenSSL could not generate the key";
    return false;
  }
  *private_pem = bio_text(bio.get());
  return true;
}

bool public_key_pem(std::string_view key_pem, std::string* public_pem, std::string* error) {
  ClearErrors clear;
  Key key = read_public_or_private(key_pem);
  Bio bio(BIO_new(BIO_s_mem()));
  if (!key || !bio || PEM_write_bio_PUBKEY(bio.get(), key.get()) != 1) {
    *error = "cannot read the key: expected a PEM public key (SubjectPublicKeyInfo) or private key";
    return false;
  }
  *public_pem = bio_text(bio.get());
  return true;
}

bool public_jwk(std::string_view key_pem, JwkMembers* members, std::string* error) {
  ClearErrors clear;
  Key key = read_public_or_private(key_pem);
  if (!key) {
    *error = "cannot read the key: expected a PEM public key (SubjectPublicKeyInfo) or private key";
    return false;
  }
  if (EVP_PKEY_is_a(key.get(), "RSA")) {
    Bignum n = bn_param(key.get(), OSSL_PKEY_PARAM_RSA_N);
    Bignum e = bn_param(key.get(), OSSL_PKEY_PARAM_RSA_E);
    if (!n || !e) {
      *error = "OpenSSL could not read the RSA key";
      return false;
    }
    *members = {{"kty", "RSA"}, {"n", base64_encode(bignum_bytes(n.get(), 0), true)},
                {"e", base64_encode(bignum_bytes(e.get(), 0), true)}};
    return true;
  }
  if (EVP_PKEY_is_a(key.get(), "EC") && group_name(key.get()) == "prime256v1") {
    Bignum x = bn_param(key.get(), OSSL_PKEY_PARAM_EC_PUB_X);
    Bignum y = bn_param(key.get(), OSSL_PKEY_PARAM_EC_PUB_Y);
    if (!x || !y) {
      *error = "OpenSSL could not read the EC key";
      return false;
    }
    *members = {{"kty", "EC"}, {"crv", "P-256"}, {"x", base64_encode(bignum_bytes(x.get(), kP256Bytes), true)},
                {"y", base64_encode(bignum_bytes(y.get(), kP256Bytes), true)}};
    return true;
  }
  *error = "only RSA and EC P-256 keys have a JWK here, got " + describe(key.get());
  return false;
}

std::string jwk_thumbprint(JwkMembers required) {
  std::sort(required.begin(), required.end());
  std::string json = "{";
  for (const auto& [name, value] : required) {
    if (json.size() > 1) json += ',';
    json += json_string(name) + ':' + json_string(value);
  }
  json += '}';
  return base64_encode(sha256(json), true);
}

}  // namespace luaload::bindings::codec
