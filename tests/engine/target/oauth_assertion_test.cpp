// SPDX-License-Identifier: MIT
// The authorization server's JWT features: private_key_jwt client authentication (ES256 and RS256), token exchange
// to an ID-JAG and its JWT bearer redemption, ID tokens verifiable with the published JWKS, and Client ID Metadata
// Document clients.
#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "engine/target/oauth_fixture.hpp"
#include "engine/target/oauth_jose.hpp"
#include "support/server_thread.hpp"

namespace luaload::test {
namespace {

using engine::target::base64url_encode;
using engine::target::SigningKey;
using json = nlohmann::json;

constexpr const char* kAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// An RS256 key for one test: signs compact JWS and exports its public JWK.
class RsaKey {
 public:
  RsaKey() : key_(EVP_RSA_gen(2048)) {}
  ~RsaKey() { EVP_PKEY_free(key_); }
  json jwks() const {
    return {{"keys", json::array({{{"kty", "RSA"}, {"kid", "rsa-1"}, {"n", param(OSSL_PKEY_PARAM_RSA_N)},
                                   {"e", param(OSSL_PKEY_PARAM_RSA_E)}}})}};
  }
  std::string sign(const json& claims) const {
    std::string input = base64url_encode(json({{"alg", "RS256"}, {"kid", "rsa-1"}}).dump()) + "." +
                        base64url_encode(claims.dump());
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    size_t length = 0;
    EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, key_);
    EVP_DigestSign(md, nullptr, &length, reinterpret_cast<const unsigned char*>(input.data()), input.size());
    std::string signature(length, '\0');
    EVP_DigestSign(md, reinterpret_cast<unsigned char*>(signature.data()), &length,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    EVP_MD_CTX_free(md);
    return input + "." + base64url_encode(signature.substr(0, length));
  }

 private:
  std::string param(const char* name) const {
    BIGNUM* bn = nullptr;
    EVP_PKEY_get_bn_param(key_, name, &bn);
    std::string bytes(static_cast<size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
    BN_free(bn);
    return base64url_encode(bytes);
  }
  EVP_PKEY* key_;
};

class AssertionTest : public AuthTest {
 protected:
  json jwt_client(const json& jwks) {
    return register_client({{"grant_types", {"client_credentials"}},
                            {"token_endpoint_auth_method", "private_key_jwt"},
                            {"jwks", jwks}});
  }
  json assertion_claims(const std::string& client_id, const json& aud, const std::string& jti) {
    return {{"iss", client_id}, {"sub", client_id}, {"aud", aud}, {"exp", now_s() + 60}, {"iat", now_s()}, {"jti", jti}};
  }
  HttpResponse with_assertion(const std::string& assertion) {
    return token({{"grant_type", "client_credentials"}, {"client_assertion_type", kAssertionType},
                  {"client_assertion", assertion}, {"resource", resource()}});
  }
};

TEST_F(AssertionTest, PrivateKeyJwtWithAnEs256AssertionAuthenticatesOnceAndOnlyOnce) {
  start();
  SigningKey client_key;
  std::string id = jwt_client(client_key.jwks())["client_id"];
  std::string assertion = client_key.sign(assertion_claims(id, base() + "/oauth", "j1"));
  HttpResponse ok = with_assertion(assertion);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(protected_call(json::parse(ok.body)["access_token"], modern_call(1, "tools/list")).status, 200);
  HttpResponse replay = with_assertion(assertion);
  EXPECT_EQ(replay.status, 401);
  EXPECT_EQ(json::parse(replay.body)["error"], "invalid_client");
}

TEST_F(AssertionTest, PrivateKeyJwtWithAnRs256AssertionToTheTokenEndpointAudience) {
  start();
  RsaKey client_key;
  std::string id = jwt_client(client_key.jwks())["client_id"];
  HttpResponse ok = with_assertion(client_key.sign(assertion_claims(id, json::array({base() + "/oauth/token"}), "r1")));
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST_F(AssertionTest, AssertionsWithTheWrongKeyAudienceOrExpiryAreRejected) {
  start();
  SigningKey client_key, other_key;
  std::string id = jwt_client(client_key.jwks())["client_id"];
  EXPECT_EQ(with_assertion(other_key.sign(assertion_claims(id, base() + "/oauth", "a"))).status, 401);
  EXPECT_EQ(with_assertion(client_key.sign(assertion_claims(id, "https://elsewhere.example", "b"))).status, 401);
  json expired = assertion_claims(id, base() + "/oauth", "c");
  expired["exp"] = now_s() - 5;
  EXPECT_EQ(with_assertion(client_key.sign(expired)).status, 401);
  json wrong_subject = assertion_claims(id, base() + "/oauth", "d");
  wrong_subject["sub"] = "someone-else";
  EXPECT_EQ(with_assertion(client_key.sign(wrong_subject)).status, 401);
}

TEST_F(AssertionTest, AnIdTokenIsVerifiableWithThePublishedJwks) {
  start();
  HttpResponse res = token({{"grant_type", "password"}, {"username", "u7"}, {"password", "pass"},
                            {"scope", "openid mcp:read"}},
                           "Authorization: Basic bHVhbG9hZDpzZWNyZXQ=\r\n");
  ASSERT_EQ(res.status, 200) << res.body;
  auto jws = engine::target::parse_jws(json::parse(res.body)["id_token"].get<std::string>());
  ASSERT_TRUE(jws.has_value());
  EXPECT_EQ(jws->claims["sub"], "u7");
  EXPECT_EQ(jws->claims["iss"], base() + "/oauth");
  json jwks = json::parse(request("GET", "/oauth/jwks").body);
  EXPECT_TRUE(engine::target::verify_jws(*jws, jwks));
}

TEST_F(AssertionTest, TokenExchangeToAnIdJagThenAJwtBearerGrantReachesTheProtectedMcp) {
  start();
  std::string basic = "Authorization: Basic bHVhbG9hZDpzZWNyZXQ=\r\n";
  json login = json::parse(token({{"grant_type", "password"}, {"username", "u2"}, {"password", "pass"},
                                  {"scope", "openid"}}, basic).body);
  HttpResponse exchange = token({{"grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"},
                                 {"subject_token", login["id_token"]},
                                 {"subject_token_type", "urn:ietf:params:oauth:token-type:id_token"},
                                 {"requested_token_type", "urn:ietf:params:oauth:token-type:id-jag"},
                                 {"audience", base() + "/oauth"}, {"resource", resource()}, {"scope", "mcp:read"}},
                                basic);
  ASSERT_EQ(exchange.status, 200) << exchange.body;
  json jag = json::parse(exchange.body);
  EXPECT_EQ(jag["issued_token_type"], "urn:ietf:params:oauth:token-type:id-jag");
  EXPECT_EQ(jag["token_type"], "N_A");
  auto parsed = engine::target::parse_jws(jag["access_token"].get<std::string>());
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->header["typ"], "oauth-id-jag+jwt");
  EXPECT_EQ(parsed->claims["resource"], resource());
  HttpResponse redeemed = token({{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
                                 {"assertion", jag["access_token"]}},
                                basic);
  ASSERT_EQ(redeemed.status, 200) << redeemed.body;
  EXPECT_EQ(protected_call(json::parse(redeemed.body)["access_token"], modern_call(1, "tools/list")).status, 200);
  HttpResponse again = token({{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
                              {"assertion", jag["access_token"]}},
                             basic);
  EXPECT_EQ(json::parse(again.body)["error"], "invalid_grant");
}

TEST_F(AssertionTest, JwtAccessTokensCarryTheAudienceAndDieAtTheirWholeSecondExp) {
  engine::target::TargetOptions options;
  options.jwt_access_tokens = true;
  options.token_ttl_ms = 2000;
  start(options);
  json tokens = login();
  EXPECT_EQ(tokens["expires_in"], 2);
  auto jws = engine::target::parse_jws(tokens["access_token"].get<std::string>());
  ASSERT_TRUE(jws.has_value());
  EXPECT_EQ(jws->header["typ"], "at+jwt");
  EXPECT_EQ(jws->claims["aud"], resource());
  EXPECT_EQ(jws->claims["exp"].get<int64_t>() - jws->claims["iat"].get<int64_t>(), 2);
  EXPECT_TRUE(engine::target::verify_jws(*jws, json::parse(request("GET", "/oauth/jwks").body)));
  EXPECT_EQ(protected_call(tokens["access_token"], modern_call(1, "tools/list")).status, 200);
  // The token is dead once the clock passes exp (at most 2 s after it was issued, often less).
  int64_t exp_ms = jws->claims["exp"].get<int64_t>() * 1000;
  while (std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
             .count() < exp_ms + 50) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(protected_call(tokens["access_token"], modern_call(2, "tools/list")).status, 401);
}

TEST_F(AssertionTest, AMetadataDocumentClientIsFetchedAndAuthorized) {
  start();
  std::string id = base() + "/oauth/client-metadata.json";
  auto redirect = authorize(id, "", "/oauth/authorize", "http://127.0.0.1:4567/callback");
  ASSERT_FALSE(redirect["code"].empty());
  HttpResponse res = token({{"grant_type", "authorization_code"}, {"code", redirect["code"]}, {"client_id", id},
                            {"redirect_uri", "http://127.0.0.1:4567/callback"}, {"code_verifier", kVerifier},
                            {"resource", resource()}});
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_TRUE(authorize(id, "", "/oauth/authorize", "http://evil.example/callback").empty());
}

TEST_F(AssertionTest, AMetadataDocumentThatDoesNotNameItsOwnUrlIsRefused) {
  start();
  std::string doc = json({{"client_id", "https://elsewhere.example/client.json"}, {"client_name", "x"},
                          {"redirect_uris", {kRedirect}}}).dump();
  ServerThread docs({{Reply::Action::Respond, http_response(200, doc, "Content-Type: application/json\r\n")}});
  docs.start();
  std::string id = docs.server().url("/client.json");
  HttpResponse res = request("GET", "/oauth/authorize?" + form({{"response_type", "code"}, {"client_id", id},
                                                                 {"redirect_uri", kRedirect},
                                                                 {"code_challenge", kChallenge},
                                                                 {"code_challenge_method", "S256"}}));
  EXPECT_EQ(res.status, 400);
  EXPECT_NE(res.body.find("does not match its URL"), std::string::npos) << res.body;
  docs.stop();
}

}  // namespace
}  // namespace luaload::test
