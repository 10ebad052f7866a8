// SPDX-License-Identifier: MIT
// JWS signing (ES256, RS256, PS256), keys and JWK thumbprints, against the RFC 7515 / RFC 7638 examples, and the
// Lua face of luaload.crypto's signing functions.
#include <gtest/gtest.h>
#include <openssl/err.h>

#include <string>

#include "bindings/crypto.hpp"
#include "bindings/jws_test_keys.hpp"
#include "bindings/runtime_fixture.hpp"

namespace luaload::bindings::test {
namespace {

using codec::SignAlgorithm;
namespace keys = test_keys;

// RFC 7515 appendix A.2 and A.3: the JWS signing input (header.payload) and the published signatures.
constexpr const char* kA2Input =
    "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
constexpr const char* kA2Signature =
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1d"
    "nZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwu"
    "sC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
constexpr const char* kA3Input =
    "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
constexpr const char* kA3Signature =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

std::string b64url_decode(const char* text) { return codec::base64_decode(text, true).value_or(""); }

bool verifies(SignAlgorithm alg, const std::string& pem, const std::string& data, const std::string& signature) {
  bool valid = false;
  std::string error;
  EXPECT_TRUE(codec::verify(alg, pem, data, signature, &valid, &error)) << error;
  return valid;
}

std::string signed_by(SignAlgorithm alg, const std::string& pem, const std::string& data) {
  std::string signature, error;
  EXPECT_TRUE(codec::sign(alg, pem, data, &signature, &error)) << error;
  return signature;
}

TEST(JwsTest, Es256VerifiesTheRfc7515A3ExampleAndRejectsItTampered) {
  const std::string signature = b64url_decode(kA3Signature);
  ASSERT_EQ(signature.size(), 64u);
  EXPECT_TRUE(verifies(SignAlgorithm::ES256, keys::kRfc7515A3Public, kA3Input, signature));
  EXPECT_TRUE(verifies(SignAlgorithm::ES256, keys::kRfc7515A3Pkcs8, kA3Input, signature));  // a private key will do
  std::string flipped = signature;
  flipped[10] ^= 1;
  EXPECT_FALSE(verifies(SignAlgorithm::ES256, keys::kRfc7515A3Public, kA3Input, flipped));
  EXPECT_FALSE(verifies(SignAlgorithm::ES256, keys::kRfc7515A3Public, std::string(kA3Input) + "x", signature));
  EXPECT_FALSE(verifies(SignAlgorithm::ES256, keys::kRfc7515A3Public, kA3Input, signature.substr(0, 63)));
  EXPECT_FALSE(verifies(SignAlgorithm::ES256, keys::kRfc7515A3Public, kA3Input, ""));
}

TEST(JwsTest, Es256SignaturesAreSixtyFourBytesOfRAndSAndVerifyWithBothKeyFormats) {
  for (const char* pem : {keys::kRfc7515A3Pkcs8, keys::kRfc7515A3Sec1}) {
    const std::string signature = signed_by(SignAlgorithm::ES256, pem, kA3Input);
    EXPECT_EQ(signature.size(), 64u);
    EXPECT_TRUE(verifies(SignAlgorithm::ES256, keys::kRfc7515A3Public, kA3Input, signature));
  }
}

TEST(JwsTest, Rs256ReproducesTheRfc7515A2SignatureExactly) {
  EXPECT_EQ(codec::base64_encode(signed_by(SignAlgorithm::RS256, keys::kRfc7515A2Pkcs1, kA2Input), true), kA2Signature);
  EXPECT_TRUE(verifies(SignAlgorithm::RS256, keys::kRfc7515A2Pkcs1, kA2Input, b64url_decode(kA2Signature)));
}

TEST(JwsTest, Ps256RoundTripsIsRandomizedAndIsNotRs256) {
  const std::string a = signed_by(SignAlgorithm::PS256, keys::kRfc7515A2Pkcs1, kA2Input);
  const std::string b = signed_by(SignAlgorithm::PS256, keys::kRfc7515A2Pkcs1, kA2Input);
  EXPECT_EQ(a.size(), 256u);
  EXPECT_NE(a, b);  // a random salt each time
  EXPECT_TRUE(verifies(SignAlgorithm::PS256, keys::kRfc7515A2Pkcs1, kA2Input, a));
  EXPECT_TRUE(verifies(SignAlgorithm::PS256, keys::kRfc7515A2Pkcs1, kA2Input, b));
  EXPECT_FALSE(verifies(SignAlgorithm::RS256, keys::kRfc7515A2Pkcs1, kA2Input, a));
  EXPECT_FALSE(verifies(SignAlgorithm::PS256, keys::kRfc7515A2Pkcs1, kA2Input, b64url_decode(kA2Signature)));
}

TEST(JwsTest, KeysThatDoNotFitTheAlgorithmAreRefusedWithAReason) {
  std::string signature, error;
  EXPECT_FALSE(codec::sign(SignAlgorithm::ES256, keys::kRfc7515A2Pkcs1, "x", &signature, &error));
  EXPECT_EQ(error, "ES256 needs an EC P-256 key, got an RSA key of 2048 bits");
  EXPECT_FALSE(codec::sign(SignAlgorithm::RS256, keys::kRfc7515A3Pkcs8, "x", &signature, &error));
  EXPECT_EQ(error, "RS256 needs an RSA key of at least 2048 bits, got an EC key on prime256v1");
  EXPECT_FALSE(codec::sign(SignAlgorithm::PS256, keys::kRsa1024, "x", &signature, &error));
  EXPECT_EQ(error, "PS256 needs an RSA key of at least 2048 bits, got an RSA key of 1024 bits");
  EXPECT_FALSE(codec::sign(SignAlgorithm::ES256, keys::kRfc7515A3Public, "x", &signature, &error));
  EXPECT_NE(error.find("cannot read the private key"), std::string::npos) << error;
  EXPECT_FALSE(codec::sign(SignAlgorithm::ES256, "not a key", "x", &signature, &error));
  bool valid = true;
  EXPECT_FALSE(codec::verify(SignAlgorithm::RS256, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "x",
                             "y", &valid, &error));
  EXPECT_NE(error.find("cannot read the key"), std::string::npos) << error;
  EXPECT_EQ(ERR_peek_error(), 0u) << "OpenSSL errors left on the thread's queue";
}

TEST(JwsTest, GeneratedKeysSignAndTheirPublicKeysVerify) {
  for (SignAlgorithm alg : {SignAlgorithm::ES256, SignAlgorithm::RS256, SignAlgorithm::PS256}) {
    std::string pem, public_pem, error;
    ASSERT_TRUE(codec::generate_key(alg, 2048, &pem, &error)) << error;
    EXPECT_EQ(pem.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
    ASSERT_TRUE(codec::public_key_pem(pem, &public_pem, &error)) << error;
    EXPECT_EQ(public_pem.rfind("-----BEGIN PUBLIC KEY-----", 0), 0u);
    EXPECT_TRUE(verifies(alg, public_pem, "payload", signed_by(alg, pem, "payload")));
  }
}

TEST(JwkTest, ThePublicJwkOfTheRfc7515A3KeyHasItsPublishedCoordinates) {
  codec::JwkMembers members;
  std::string error;
  ASSERT_TRUE(codec::public_jwk(keys::kRfc7515A3Sec1, &members, &error)) << error;
  const codec::JwkMembers expected = {{"kty", "EC"}, {"crv", "P-256"},
                                      {"x", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"},
                                      {"y", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}};
  EXPECT_EQ(members, expected);
}

TEST(JwkTest, TheRfc7638ExampleKeyHasThePublishedThumbprint) {
  codec::JwkMembers members;
  std::string error;
  ASSERT_TRUE(codec::public_jwk(keys::kRfc7638Public, &members, &error)) << error;
  ASSERT_EQ(members.size(), 3u);
  EXPECT_EQ(members[2], (std::pair<std::string, std::string>{"e", "AQAB"}));
  EXPECT_EQ(members[1].second.substr(0, 12), "0vx7agoebGcQ");
  EXPECT_EQ(codec::jwk_thumbprint(members), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

TEST_F(RuntimeTest, TheLuaFunctionsSignVerifyExportAndExplainMisuse) {
  RuntimeConfig config;
  config.env["EC_KEY"] = keys::kRfc7515A3Pkcs8;
  config.env["EC_PUB"] = keys::kRfc7515A3Public;
  config.env["RSA_KEY"] = keys::kRfc7515A2Pkcs1;
  config.env["SMALL"] = keys::kRsa1024;
  load(R"lua(
    local ll = require("luaload")
    local crypto = require("luaload.crypto")
    local encoding = require("luaload.encoding")
    local function expect(cond, what) if not cond then error("expected " .. what, 2) end end
    local function raises(fn, text)
      local ok, err = pcall(fn)
      expect(not ok and err:find(text, 1, true), "an error with " .. text .. ", got " .. tostring(err))
    end
    local input = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    local rfc_sig = "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
    function default()
      expect(crypto.verify("ES256", ll.env.EC_PUB, input, encoding.base64url_decode(rfc_sig)), "the RFC signature to verify")
      local sig = crypto.sign("ES256", ll.env.EC_KEY, input, "base64url")
      expect(#sig == 86 and crypto.verify("ES256", ll.env.EC_PUB, input, encoding.base64url_decode(sig)), "a JOSE signature")
      expect(crypto.verify("ES256", ll.env.EC_PUB, input .. "x", encoding.base64url_decode(sig)) == false, "tampering to fail")
      local jwk = crypto.public_jwk(ll.env.EC_KEY)
      expect(jwk.kty == "EC" and jwk.crv == "P-256" and jwk.x == "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
             and jwk.y == "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0" and jwk.d == nil, "the public JWK")
      expect(crypto.public_key(ll.env.EC_KEY) == ll.env.EC_PUB, "the public PEM")
      local rsa = crypto.public_jwk(ll.env.RSA_KEY)
      expect(rsa.kty == "RSA" and rsa.e == "AQAB" and #rsa.n == 342, "the RSA JWK")
      local thumb = crypto.jwk_thumbprint({ kty = "RSA", e = "AQAB", kid = "2011-04-29", alg = "RS256", n =
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjh" ..
        "Mstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL" ..
        "5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw" })
      expect(thumb == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", "the RFC 7638 thumbprint, got " .. thumb)
      expect(crypto.jwk_thumbprint(jwk) == crypto.jwk_thumbprint({ kty = "EC", crv = "P-256", x = jwk.x, y = jwk.y, use = "sig" }),
             "optional members not to count")
      local pem = crypto.generate_key("ES256")
      expect(crypto.verify("ES256", crypto.public_key(pem), "m", crypto.sign("ES256", pem, "m")), "a generated key to work")
      raises(function() crypto.sign("HS256", ll.env.EC_KEY, "m") end, 'crypto.sign: unsupported algorithm "HS256" (ES256, RS256 or PS256)')
      raises(function() crypto.sign("RS256", ll.env.SMALL, "m") end, "crypto.sign: RS256 needs an RSA key of at least 2048 bits, got an RSA key of 1024 bits")
      raises(function() crypto.sign("ES256", "garbage", "m") end, "crypto.sign: cannot read the private key")
      raises(function() crypto.verify("ES256", "garbage", "m", "s") end, "crypto.verify: cannot read the key")
      raises(function() crypto.public_jwk("garbage") end, "crypto.public_jwk: cannot read the key")
      raises(function() crypto.generate_key("ES256", 4096) end, "crypto.generate_key: a key size is for RS256/PS256 only")
      raises(function() crypto.generate_key("RS256", 1024) end, "a whole number of bits from 2048 to 8192")
      raises(function() crypto.jwk_thumbprint({ kty = "EC", crv = "P-256", x = "a" }) end,
             'crypto.jwk_thumbprint: a JWK of kty "EC" needs the string member "y"')
      raises(function() crypto.jwk_thumbprint({ kty = "XYZ" }) end, 'the JWK\'s kty must be "EC", "RSA", "oct" or "OKP" (got "XYZ")')
      raises(function() crypto.sign("ES256", ll.env.EC_KEY, "m", "b32") end, "crypto.sign: output encoding must be")
    end
  )lua", config);
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
}

}  // namespace
}  // namespace luaload::bindings::test
