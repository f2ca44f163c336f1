// ${NAME} expansion in configured file paths (api.token_file), issue #14: the shipped config
// reads the token from ${CREDENTIALS_DIRECTORY}/api-token.
#include "config/path_vars.h"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace hdm {
namespace {

class PathVarsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("HDM_TEST_CREDS", "/run/credentials/hotdata-monitor@a.service", 1);
    unsetenv("HDM_TEST_UNSET");
    setenv("HDM_TEST_EMPTY", "", 1);
  }
  void TearDown() override {
    unsetenv("HDM_TEST_CREDS");
    unsetenv("HDM_TEST_EMPTY");
  }
};

TEST_F(PathVarsTest, ExpandsBracedNamesAndKeepsEverythingElse) {
  struct Case {
    const char* in;
    const char* want;
  };
  for (const Case& c : std::vector<Case>{
           {"/etc/hotdata-monitor/api-token", "/etc/hotdata-monitor/api-token"},
           {"${HDM_TEST_CREDS}/api-token", "/run/credentials/hotdata-monitor@a.service/api-token"},
           {"a${HDM_TEST_CREDS}b${HDM_TEST_CREDS}",
            "a/run/credentials/hotdata-monitor@a.service"
            "b/run/credentials/hotdata-monitor@a.service"},
           {"/tmp/$HDM_TEST_CREDS/x", "/tmp/$HDM_TEST_CREDS/x"},  // only ${...}
           {"/tmp/cost$", "/tmp/cost$"},
           {"/tmp/{x}", "/tmp/{x}"},
       }) {
    auto got = ExpandPathVariables(c.in);
    ASSERT_TRUE(got.has_value()) << c.in << ": " << got.error();
    EXPECT_EQ(*got, c.want) << c.in;
  }
}

TEST_F(PathVarsTest, AnUnsetOrEmptyVariableOrABadNameIsAnErrorThatNamesIt) {
  EXPECT_EQ(ExpandPathVariables("${HDM_TEST_UNSET}/t").error(), "HDM_TEST_UNSET is not set");
  EXPECT_EQ(ExpandPathVariables("${HDM_TEST_EMPTY}/t").error(), "HDM_TEST_EMPTY is not set");
  EXPECT_EQ(ExpandPathVariables("${HDM_TEST_CREDS/t").error(), "\"${\" without a closing \"}\"");
  EXPECT_EQ(ExpandPathVariables("${1X}/t").error(), "\"${1X}\" is not a variable name");
  EXPECT_EQ(ExpandPathVariables("${}/t").error(), "\"${}\" is not a variable name");
  unsetenv("CREDENTIALS_DIRECTORY");
  EXPECT_NE(ExpandPathVariables("${CREDENTIALS_DIRECTORY}/api-token")
                .error()
                .find("systemd sets it for a unit with LoadCredential="),
            std::string::npos);
}

}  // namespace
}  // namespace hdm
