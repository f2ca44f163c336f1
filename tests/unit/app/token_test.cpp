// ReadToken with ${CREDENTIALS_DIRECTORY} in api.token_file (issue #14: the shipped config reads
// the credential that the unit's LoadCredential= provides).
#include "app/token.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace hdm {
namespace {

namespace fs = std::filesystem;

TEST(TokenTest, TheTokenFileMayNameTheCredentialsDirectory) {
  const fs::path dir = fs::temp_directory_path() / ("hdm-token-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "api-token") << "tok_123\n";
  ApiConfig api;
  api.token_file = "${CREDENTIALS_DIRECTORY}/api-token";
  setenv("CREDENTIALS_DIRECTORY", dir.c_str(), 1);
  auto token = ReadToken(api);
  ASSERT_TRUE(token.has_value()) << token.error();
  EXPECT_EQ(*token, "tok_123");

  fs::remove(dir / "api-token");
  token = ReadToken(api);
  ASSERT_FALSE(token.has_value());
  EXPECT_EQ(token.error(), "cannot read api.token_file " + (dir / "api-token").string() +
                               ": No such file or directory");

  unsetenv("CREDENTIALS_DIRECTORY");
  token = ReadToken(api);
  ASSERT_FALSE(token.has_value());
  EXPECT_EQ(token.error().rfind("cannot read api.token_file ${CREDENTIALS_DIRECTORY}/api-token: "
                                "CREDENTIALS_DIRECTORY is not set",
                                0),
            0u)
      << token.error();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace hdm
