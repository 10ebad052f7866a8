// SPDX-License-Identifier: MIT
#include "engine/target/oauth_jose.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "engine/core/assert.hpp"
#include "engine/target/http_util.hpp"

namespace luaload::engine::target {
namespace {

using json = nlohmann::json;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::string b64(std::string_view bytes) { return base64url_encode(bytes); }

std::optional<std::string> jwk_field(const json& jwk, const char* name) {
  auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string()) return std::nullopt;
  return base64url_decode(it->get<std::string>());
}

// Builds a public key from OSSL_PARAMs assembled by `fill`.
template <typename Fill>
Pkey from_params(const char* type, Fill fill) {
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  std::vector<BIGNUM*> bignums;
  Pkey out;
  if (fill(bld, bignums)) {
    OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
    EVP_PKEY* pkey = nullptr;
    if (ctx != nullptr && params != nullptr && EVP_PKEY_fromdata_init(ctx) == 1 &&
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1) {
      out.reset(pkey);
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
  }
  for (BIGNUM* bn : bignums) BN_free(bn);
  OSSL_PARAM_BLD_free(bld);
  return out;
}

Pkey ec_key(const json& jwk) {
  auto x = jwk_field(jwk, "x");
  auto y = jwk_field(jwk, "y");
  if (jwk.value("crv", "") != "P-256" || !x || !y || x->size() != 32 || y->size() != 32) return nullptr;
  std::string point = "\x04" + *x + *y;
  return from_params("EC", [&](OSSL_PARAM_BLD* bld, std::vector<BIGNUM*>&) {
    return OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
           OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) == 1;
  });
}

Pkey rsa_key(const json& jwk) {
  auto n = jwk_field(jwk, "n");
  auto e = jwk_field(jwk, "e");
  if (!n || !e) return nullptr;
  return from_params("RSA", [&](OSSL_PARAM_BLD* bld, std::vector<BIGNUM*>& bignums) {
    BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()), static_cast<int>(n->size()), nullptr);
    BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()), static_cast<int>(e->size()), nullptr);
    bignums = {bn_n, bn_e};
    return bn_n != nullptr && bn_e != nullptr && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
           OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1;
  });
}

// JOSE ES256 signatures are r||s (32 bytes each); OpenSSL wants DER.
std::optional<std::string> es256_to_der(const std::string& raw) {
  if (raw.size() != 64) return std::nullopt;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  ECDSA_SIG_set0(sig, BN_bin2bn(bytes, 32, nullptr), BN_bin2bn(bytes + 32, 32, nullptr));
  unsigned char* der = nullptr;
  int length = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (length <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  return out;
}

bool verify_with(EVP_PKEY* key, const std::string& input, const std::string& signature) {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(md, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                             reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(md);
  return ok;
}

bool verify_with_jwk(const Jws& jws, const std::string& alg, const json& jwk) {
  if (alg == "ES256" && jwk.value("kty", "") == "EC") {
    Pkey key = ec_key(jwk);
    auto der = es256_to_der(jws.signature);
    return key && der && verify_with(key.get(), jws.signing_input, *der);
  }
  if (alg == "RS256" && jwk.value("kty", "") == "RSA") {
    Pkey key = rsa_key(jwk);
    return key && verify_with(key.get(), jws.signing_input, jws.signature);
  }
  return false;
}

std::string bn_bytes(const BIGNUM* bn, int width) {
  std::string out(static_cast<size_t>(width), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), width);
  return out;
}

}  // namespace

std::optional<Jws> parse_jws(std::string_view token) {
  size_t first = token.find('.');
  size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) return std::nullopt;
  auto header = base64url_decode(token.substr(0, first));
  auto payload = base64url_decode(token.substr(first + 1, second - first - 1));
  auto signature = base64url_decode(token.substr(second + 1));
  if (!header || !payload || !signature) return std::nullopt;
  Jws jws{json::parse(*header, nullptr, false), json::parse(*payload, nullptr, false),
          std::string(token.substr(0, second)), std::move(*signature)};
  if (!jws.header.is_object() || !jws.claims.is_object()) return std::nullopt;
  return jws;
}

bool verify_jws(const Jws& jws, const json& jwks) {
  std::string alg = jws.header.value("alg", "");
  std::string kid = jws.header.value("kid", "");
  auto keys = jwks.is_object() ? jwks.find("keys") : jwks.end();
  if (!jwks.is_object() || keys == jwks.end() || !keys->is_array()) return false;
  for (const json& jwk : *keys) {
    if (!jwk.is_object() || (!kid.empty() && jwk.value("kid", "") != kid)) continue;
    if (verify_with_jwk(jws, alg, jwk)) return true;
  }
  return false;
}

struct SigningKey::Impl {
  Pkey key;
};

SigningKey::SigningKey() : impl_(std::make_unique<Impl>()) {
  impl_->key.reset(EVP_EC_gen("P-256"));
  LUALOAD_CHECK(impl_->key != nullptr, "cannot generate the target's ES256 signing key");
  BIGNUM* x = nullptr;
  BIGNUM* y = nullptr;
  EVP_PKEY_get_bn_param(impl_->key.get(), OSSL_PKEY_PARAM_EC_PUB_X, &x);
  EVP_PKEY_get_bn_param(impl_->key.get(), OSSL_PKEY_PARAM_EC_PUB_Y, &y);
  std::string jx = b64(bn_bytes(x, 32));
  std::string jy = b64(bn_bytes(y, 32));
  BN_free(x);
  BN_free(y);
  // RFC 7638 thumbprint: SHA-256 of the required members in lexicographic order, no whitespace.
  std::string canonical = R"({"crv":"P-256","kty":"EC","x":")" + jx + R"(","y":")" + jy + R"("})";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(canonical.data(), canonical.size(), digest, &length, EVP_sha256(), nullptr);
  kid_ = b64(std::string_view(reinterpret_cast<char*>(digest), length));
  jwks_ = {{"keys", json::array({{{"kty", "EC"}, {"crv", "P-256"}, {"x", jx}, {"y", jy}, {"kid", kid_},
                                  {"use", "sig"}, {"alg", "ES256"}}})}};
}

SigningKey::~SigningKey() = default;

std::string SigningKey::sign(const json& claims, std::string_view typ) const {
  json header = {{"alg", "ES256"}, {"kid", kid_}};
  if (!typ.empty()) header["typ"] = typ;
  std::string input = b64(header.dump()) + "." + b64(claims.dump());
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  size_t length = 0;
  std::string der;
  if (EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, impl_->key.get()) == 1 &&
      EVP_DigestSign(md, nullptr, &length, reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1) {
    der.resize(length);
    EVP_DigestSign(md, reinterpret_cast<unsigned char*>(der.data()), &length,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    der.resize(length);
  }
  EVP_MD_CTX_free(md);
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  LUALOAD_CHECK(sig != nullptr, "ES256 signing failed");
  std::string raw = bn_bytes(ECDSA_SIG_get0_r(sig), 32) + bn_bytes(ECDSA_SIG_get0_s(sig), 32);
  ECDSA_SIG_free(sig);
  return input + "." + b64(raw);
}

}  // namespace luaload::engine::target
