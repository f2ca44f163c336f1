// Support for the tests of `hotdata-monitor connections ...`: runs the real binary against a
// FakeHotdataServer with a config in a temporary directory, feeding stdin and capturing stdout
// and stderr apart. Every run checks that the token appears in neither.
#pragma once

#include <sys/wait.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "integration/harness.h"

namespace hdm::testing {

struct OpsRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class OpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GT(fake_.Start(), 0);
    token_ = dir_.Write("token", kToken);
    fake_.Upsert({.id = "c1", .name = "prod-pg", .table_count = 3, .synced_table_count = 2});
    fake_.Upsert({.id = "c2", .name = "prod-my", .source_type = "mysql", .latency_ms = 7});
    fake_.Upsert(
        {.id = "c3", .name = "dup", .source_type = "snowflake", .healthy = false, .error = "no"});
    fake_.Upsert({.id = "c4", .name = "dup", .source_type = "bigquery"});
    WriteConfig();
  }
  // (Re)writes the monitor config with `extra` top-level keys.
  void WriteConfig(const std::string& extra = "") {
    config_ = dir_.Write("config.yaml", TestConfig(fake_.base_url(), token_, extra));
  }
  std::string StatePath() const { return (dir_.path() / "state.json").string(); }

  // Runs `hotdata-monitor --config CONFIG connections ARGS` with `input` on stdin.
  OpsRun Run(const std::string& args, const std::string& input = "") {
    const std::string in = dir_.Write("stdin", input);
    const std::string out = (dir_.path() / "stdout").string();
    const std::string err = (dir_.path() / "stderr").string();
    const std::string cmd = std::string(HDM_BINARY_DIR) + "/hotdata-monitor --config " + config_ +
                            " connections " + args + " <" + in + " >" + out + " 2>" + err;
    const int status = std::system(cmd.c_str());
    OpsRun r{.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1,
             .out = ReadWhole(out),
             .err = ReadWhole(err)};
    EXPECT_EQ(r.out.find(kToken), std::string::npos) << "token on stdout of " << args;
    EXPECT_EQ(r.err.find(kToken), std::string::npos) << "token on stderr of " << args;
    return r;
  }

  fake::FakeHotdataServer fake_;
  TempDir dir_;
  std::string token_;
  std::string config_;
};

inline bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace hdm::testing
