#include "http/basic_auth.h"

#include <gtest/gtest.h>

#include <atomic>

#include "unit/http/bcrypt_hash.h"

namespace hdm {
namespace {

using testing::MakeBcryptHash;

// RFC 7617 header value for user:password.
std::string Basic(const std::string& user, const std::string& password) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const std::string in = user + ":" + password;
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t n = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[n & 63] : '=';
  }
  return "Basic " + out;
}

class BasicAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = BasicAuthChecker::Create("prom", MakeBcryptHash("s3cret pass"),
                                      [this] { return now_.load(); });
    ASSERT_TRUE(c.has_value()) << c.error();
    checker_ = std::move(*c);
  }
  std::atomic<std::chrono::steady_clock::time_point> now_{std::chrono::steady_clock::now()};
  std::unique_ptr<BasicAuthChecker> checker_;
};

TEST_F(BasicAuthTest, AcceptsTheRightUserAndPassword) {
  EXPECT_TRUE(checker_->Check(Basic("prom", "s3cret pass")));
}

TEST_F(BasicAuthTest, RefusesAWrongUserOrPassword) {
  EXPECT_FALSE(checker_->Check(Basic("admin", "s3cret pass")));
  EXPECT_FALSE(checker_->Check(Basic("prom", "s3cret pasS")));
  EXPECT_FALSE(checker_->Check(Basic("prom", "")));
  EXPECT_FALSE(checker_->Check(Basic("", "s3cret pass")));
  EXPECT_FALSE(checker_->Check(Basic("prom", std::string("s3cret pass\0x", 13))));
  // A wrong user pays the bcrypt too: timing does not tell user names apart.
  EXPECT_EQ(checker_->Verifications(), 4u);
}

// --web.config.file's basic_auth_users: several users, each with a hash of its own.
TEST(BasicAuthUsersTest, EachUserWithItsOwnPassword) {
  auto c = BasicAuthChecker::Create(std::map<std::string, std::string>{
      {"alice", MakeBcryptHash("alice-pass")}, {"bob", MakeBcryptHash("bob-pass")}});
  ASSERT_TRUE(c.has_value()) << c.error();
  EXPECT_TRUE((*c)->Check(Basic("alice", "alice-pass")));
  EXPECT_TRUE((*c)->Check(Basic("bob", "bob-pass")));
  EXPECT_FALSE((*c)->Check(Basic("alice", "bob-pass")));
  EXPECT_FALSE((*c)->Check(Basic("bob", "alice-pass")));
  EXPECT_FALSE((*c)->Check(Basic("carol", "alice-pass")));
  // Every uncached check paid a bcrypt, the unknown user's too.
  EXPECT_EQ((*c)->Verifications(), 5u);
}

TEST(BasicAuthUsersTest, RefusesNoUserABadNameOrABadHash) {
  EXPECT_FALSE(BasicAuthChecker::Create(std::map<std::string, std::string>{}).has_value());
  EXPECT_FALSE(
      BasicAuthChecker::Create(std::map<std::string, std::string>{{"ok", MakeBcryptHash("x")},
                                                                  {"a:b", MakeBcryptHash("y")}})
          .has_value());
  auto plain = BasicAuthChecker::Create(
      std::map<std::string, std::string>{{"ok", MakeBcryptHash("x")}, {"bob", "hunter2"}});
  ASSERT_FALSE(plain.has_value());
  EXPECT_NE(plain.error().find("bob"), std::string::npos) << plain.error();
  EXPECT_EQ(plain.error().find("hunter2"), std::string::npos) << plain.error();
}

TEST_F(BasicAuthTest, RefusesMalformedHeaders) {
  const std::string good = Basic("prom", "s3cret pass");
  const std::string b64 = good.substr(6);
  for (const std::string& header :
       {std::string(), std::string("Basic"), std::string("Basic "), "Bearer " + b64, b64,
        "Basic " + b64.substr(1), "Basic " + b64 + "=", "Basic " + b64 + "A",
        "Basic !" + b64.substr(1), std::string("Basic cHJvbQ=="),  // "prom", no colon
        std::string("Digest username=\"prom\"")}) {
    EXPECT_FALSE(checker_->Check(header)) << header;
  }
  EXPECT_EQ(checker_->Verifications(), 0u);  // none of them reached bcrypt
}

TEST_F(BasicAuthTest, SchemeIsCaseInsensitive) {
  EXPECT_TRUE(checker_->Check("basic " + Basic("prom", "s3cret pass").substr(6)));
  EXPECT_TRUE(checker_->Check("BASIC " + Basic("prom", "s3cret pass").substr(6)));
}

TEST_F(BasicAuthTest, CachesASuccessForAMinuteAndNeverAFailure) {
  const std::string good = Basic("prom", "s3cret pass");
  ASSERT_TRUE(checker_->Check(good));
  EXPECT_EQ(checker_->Verifications(), 1u);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(checker_->Check(good));
  EXPECT_EQ(checker_->Verifications(), 1u);

  EXPECT_FALSE(checker_->Check(Basic("prom", "wrong")));
  EXPECT_FALSE(checker_->Check(Basic("prom", "wrong")));
  EXPECT_EQ(checker_->Verifications(), 3u);

  now_ = now_.load() + BasicAuthChecker::kCacheTtl - std::chrono::seconds(1);
  ASSERT_TRUE(checker_->Check(good));
  EXPECT_EQ(checker_->Verifications(), 3u);
  now_ = now_.load() + std::chrono::seconds(2);  // past the TTL: verified again
  ASSERT_TRUE(checker_->Check(good));
  EXPECT_EQ(checker_->Verifications(), 4u);
}

TEST_F(BasicAuthTest, AWrongPasswordIsNotLetInByACachedRightOne) {
  ASSERT_TRUE(checker_->Check(Basic("prom", "s3cret pass")));
  EXPECT_FALSE(checker_->Check(Basic("prom", "s3cret pas")));
  EXPECT_FALSE(checker_->Check(Basic("pro", "ms3cret pass")));  // same "user:pass" bytes moved
}

TEST(BasicAuthCreateTest, AcceptsEveryBcryptPrefixThatLibxcryptKnows) {
  const std::string hash = MakeBcryptHash("pw");
  for (const char* prefix : {"$2b$", "$2y$", "$2a$"}) {
    auto c = BasicAuthChecker::Create("u", prefix + hash.substr(4));
    ASSERT_TRUE(c.has_value()) << prefix << ": " << c.error();
    EXPECT_TRUE((*c)->Check("Basic dTpwdw==")) << prefix;  // u:pw
  }
}

TEST(BasicAuthCreateTest, RefusesWhatIsNotABcryptHash) {
  for (const std::string& hash :
       {std::string("hunter2plain"), std::string("$1$abcdefgh$0123456789012345678901"),
        std::string("$6$salt$") + std::string(86, 'a'),
        std::string("$2b$03$") + std::string(53, 'a'),
        std::string("$2b$10$") + std::string(52, 'a'),
        std::string("$2x$10$") + std::string(53, 'a'),
        std::string("$2b$10$") + std::string(52, 'a') + "!", std::string()}) {
    auto c = BasicAuthChecker::Create("prom", hash);
    ASSERT_FALSE(c.has_value()) << hash;
    if (!hash.empty()) {
      EXPECT_EQ(c.error().find(hash), std::string::npos) << c.error();
    }
  }
  EXPECT_FALSE(BasicAuthChecker::Create("", MakeBcryptHash("x")).has_value());
  EXPECT_FALSE(BasicAuthChecker::Create("a:b", MakeBcryptHash("x")).has_value());
}

TEST(ParseBasicAuthorizationTest, SplitsAtTheFirstColon) {
  auto c = ParseBasicAuthorization("Basic dXNlcjpwYTpzcw==");  // user:pa:ss
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->user, "user");
  EXPECT_EQ(c->password, "pa:ss");
  c = ParseBasicAuthorization("Basic Og==");  // ":"
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->user, "");
  EXPECT_EQ(c->password, "");
}

}  // namespace
}  // namespace hdm
