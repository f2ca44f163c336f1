// LoadConfig checks the files that server.tls and server.basic_auth name (ParseConfig does not).
#include "config/server_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace hdm {
namespace {

// A bcrypt hash of "pw" at cost 5 (what libxcrypt's crypt_rn gives for this salt).
constexpr char kHash[] = "$2b$05$abcdefghijklmnopqrstuuHIrMEWpUCQe2YqFR3sXwQ75u4od..9q";
constexpr char kPem[] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

class ServerFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "hdm-cfg-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& content) {
    const std::string p = (dir_ / name).string();
    std::ofstream(p) << content;
    return p;
  }
  ConfigResult Load(const std::string& server) {
    return LoadConfig(
        Write("config.yaml", "api:\n  base_url: http://127.0.0.1:1\nserver:\n" + server));
  }
  std::string Errors(const ConfigResult& r) {
    std::string out;
    if (!r) {
      for (const auto& e : r.error()) out += e.ToString() + "\n";
    }
    return out;
  }
  std::filesystem::path dir_;
};

TEST_F(ServerFilesTest, AcceptsReadablePemFilesAndABcryptHash) {
  const auto cert = Write("cert.pem", kPem);
  const auto key = Write("key.pem", "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n");
  const auto pw = Write("password", std::string(kHash) + "\n");  // a trailing newline is fine
  auto r = Load("  tls: { cert_file: " + cert + ", key_file: " + key +
                " }\n  basic_auth: { username: prom, password_file: " + pw + " }\n");
  ASSERT_TRUE(r.has_value()) << Errors(r);
  EXPECT_EQ(r->server.basic_auth->username, "prom");
}

TEST_F(ServerFilesTest, NamesEachUnreadableOrWrongFileWithItsKey) {
  const auto missing = (dir_ / "missing.pem").string();
  const auto junk = Write("junk.pem", "not pem\n");
  const auto plain = Write("password", "hunter2\n");
  auto r = Load("  tls: { cert_file: " + missing + ", key_file: " + junk +
                " }\n  basic_auth: { username: prom, password_file: " + plain + " }\n");
  ASSERT_FALSE(r.has_value());
  const std::string cfg = (dir_ / "config.yaml").string();
  ASSERT_EQ(r.error().size(), 3u) << Errors(r);
  EXPECT_EQ(r.error()[0].ToString(),
            cfg + ": server.tls.cert_file: cannot read " + missing + ": No such file or directory");
  EXPECT_EQ(r.error()[1].ToString(), cfg + ": server.tls.key_file: " + junk + " is not a PEM file");
  EXPECT_EQ(r.error()[2].ToString(),
            cfg + ": server.basic_auth.password_file: " + plain +
                " does not hold a bcrypt hash (expected a bcrypt hash starting $2b$, $2y$ or "
                "$2a$); plain passwords are not accepted; make one with: htpasswd -nbBC 10 \"\" "
                "'PASSWORD' | tr -d ':\\n'");
  EXPECT_EQ(Errors(r).find("hunter2"), std::string::npos);  // never the file's content
}

TEST_F(ServerFilesTest, ADirectoryOrAnEmptyFileIsNoPasswordHash) {
  auto r = Load("  basic_auth: { username: prom, password_file: " + dir_.string() + " }\n");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(Errors(r).find("Is a directory"), std::string::npos) << Errors(r);
  r = Load("  basic_auth: { username: prom, password_file: " + Write("empty", "\n") + " }\n");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(Errors(r).find("is empty"), std::string::npos) << Errors(r);
}

TEST_F(ServerFilesTest, AnHtpasswdLineGetsAHint) {
  auto r = Load("  basic_auth: { username: prom, password_file: " +
                Write("htpasswd", std::string("prom:") + kHash + "\n") + " }\n");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(Errors(r).find("looks like an htpasswd line"), std::string::npos) << Errors(r);
  EXPECT_EQ(Errors(r).find(kHash), std::string::npos);
}

TEST_F(ServerFilesTest, AnUnreadableFileIsReported) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads every file";
  const auto pw = Write("password", kHash);
  chmod(pw.c_str(), 0);
  auto r = Load("  basic_auth: { username: prom, password_file: " + pw + " }\n");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(Errors(r).find("Permission denied"), std::string::npos) << Errors(r);
}

TEST_F(ServerFilesTest, FilesAreNotCheckedWhileTheYamlHasErrors) {
  auto r = Load("  listen: nope\n  basic_auth: { username: prom, password_file: /nonexistent }\n");
  ASSERT_FALSE(r.has_value());
  ASSERT_EQ(r.error().size(), 1u) << Errors(r);
  EXPECT_EQ(r.error()[0].key, "server.listen");
}

TEST(ParseServerTest, AUserNameWithAColonIsRefusedWithItsPosition) {
  auto r = ParseConfig(
      "api:\n  base_url: http://x\nserver:\n  basic_auth: { username: \"a:b\", password_file: p "
      "}\n",
      "c.yaml");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error()[0].ToString(),
            "c.yaml:4:27: server.basic_auth.username: must not contain ':' (basic auth splits at "
            "the first ':')");
}

TEST(BcryptHashProblemTest, AcceptsTheThreePrefixesAndRefusesTheRest) {
  const std::string body = std::string(kHash).substr(4);
  EXPECT_FALSE(BcryptHashProblem(std::string("$2b$") + body));
  EXPECT_FALSE(BcryptHashProblem(std::string("$2y$") + body));
  EXPECT_FALSE(BcryptHashProblem(std::string("$2a$") + body));
  EXPECT_TRUE(BcryptHashProblem(std::string("$2x$") + body));
  EXPECT_TRUE(BcryptHashProblem(std::string("$2b$03$") + body.substr(3)));
  EXPECT_TRUE(BcryptHashProblem(std::string("$2b$32$") + body.substr(3)));
  EXPECT_TRUE(BcryptHashProblem(std::string(kHash).substr(0, 59)));
  EXPECT_TRUE(BcryptHashProblem(std::string(kHash) + "x"));
  EXPECT_TRUE(BcryptHashProblem(std::string(kHash).substr(0, 59) + "-"));
  EXPECT_TRUE(BcryptHashProblem("$6$rounds=5000$salt$hash"));
  EXPECT_TRUE(BcryptHashProblem("hunter2"));
}

}  // namespace
}  // namespace hdm
