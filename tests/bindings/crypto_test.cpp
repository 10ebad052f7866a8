// SPDX-License-Identifier: MIT
// The C++ side of luaload.encoding and luaload.crypto, against published test vectors.
#include "bindings/crypto.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace luaload::bindings::codec {
namespace {

TEST(Base64Test, EncodesTheRfc4648TestVectors) {
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},        {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(plain, false), encoded);
    EXPECT_EQ(base64_decode(encoded, false), plain);
  }
}

TEST(Base64Test, Base64UrlUsesDashUnderscoreAndNoPadding) {
  const std::string bytes("\xfb\xff\xbf", 3);
  EXPECT_EQ(base64_encode(bytes, false), "+/+/");
  EXPECT_EQ(base64_encode(bytes, true), "-_-_");
  EXPECT_EQ(base64_encode("fo", true), "Zm8");
  EXPECT_EQ(base64_decode("Zm8", true), "fo");
  EXPECT_EQ(base64_decode("Zm8=", true), "fo");
}

TEST(Base64Test, DecodeRejectsInvalidInput) {
  EXPECT_EQ(base64_decode("Zm9v!", false), std::nullopt);   // not in the alphabet
  EXPECT_EQ(base64_decode("Zm8", false), std::nullopt);     // standard base64 needs its padding
  EXPECT_EQ(base64_decode("Zh==", false), std::nullopt);    // non-zero trailing bits
  EXPECT_EQ(base64_decode("Z===", false), std::nullopt);    // one sextet cannot make a byte
  EXPECT_EQ(base64_decode("Zm 9v", false), std::nullopt);   // no whitespace
  EXPECT_EQ(base64_decode("-_-_", false), std::nullopt);    // url alphabet in standard mode
  EXPECT_EQ(base64_decode("+/+/", true), std::nullopt);     // standard alphabet in url mode
}

TEST(UrlEncodingTest, PercentEncodesEverythingButUnreservedCharacters) {
  EXPECT_EQ(url_encode("AZaz09-._~ /?#[]@!$&'()*+,;=%\xc3\xa9"),
            "AZaz09-._~%20%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D%25%C3%A9");
}

TEST(UrlEncodingTest, DecodeHandlesPlusOnlyInFormMode) {
  EXPECT_EQ(url_decode("a+b%2Bc%c3%A9", false), "a+b+c\xc3\xa9");
  EXPECT_EQ(url_decode("a+b%2Bc", true), "a b+c");
}

TEST(UrlEncodingTest, DecodeRejectsMalformedEscapes) {
  EXPECT_EQ(url_decode("%", false), std::nullopt);
  EXPECT_EQ(url_decode("ab%4", false), std::nullopt);
  EXPECT_EQ(url_decode("%zz", false), std::nullopt);
}

TEST(Sha256Test, MatchesTheFips180Vector) {
  EXPECT_EQ(hex_encode(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex_encode(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(HmacSha256Test, MatchesRfc4231TestCases1And2) {
  EXPECT_EQ(hex_encode(hmac_sha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(hex_encode(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256Test, AcceptsAnEmptyKey) {
  EXPECT_EQ(hex_encode(hmac_sha256("", "")), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(RandomTest, RandomBytesHaveTheRequestedLengthAndDiffer) {
  auto a = random_bytes(32);
  auto b = random_bytes(32);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->size(), 32u);
  EXPECT_NE(*a, *b);
  EXPECT_EQ(random_bytes(0), std::string());
}

TEST(RandomTest, UuidIsVersion4WithTheRfcVariant) {
  const std::regex shape("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto uuid = uuid_v4();
    ASSERT_TRUE(uuid);
    EXPECT_TRUE(std::regex_match(*uuid, shape)) << *uuid;
    seen.insert(*uuid);
  }
  EXPECT_EQ(seen.size(), 100u);
}

}  // namespace
}  // namespace luaload::bindings::codec
