// The hotdata-monitor binary itself: --once exit codes and output, --check-config, flags.
#include <sys/wait.h>

#include <gtest/gtest.h>
#include <cstdio>

#include "integration/harness.h"
#include "unit/http/bcrypt_hash.h"

namespace hdm::testing {
namespace {

struct ProcessRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

ProcessRun RunMonitor(const std::string& args) {
  const std::string cmd = std::string(HDM_BINARY_DIR) + "/hotdata-monitor " + args + " 2>&1";
  ProcessRun r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GT(fake_.Start(), 0);
    token_ = dir_.Write("token", kToken);
  }
  std::string Config(const std::string& extra = "") {
    return dir_.Write("config.yaml", TestConfig(fake_.base_url(), token_, extra));
  }
  fake::FakeHotdataServer fake_;
  TempDir dir_;
  std::string token_;
};

TEST_F(CliTest, OnceExitsZeroWhenEveryConnectionIsHealthy) {
  fake_.Upsert({.id = "c1", .name = "prod-pg", .healthy = true, .latency_ms = 12});
  fake_.Upsert({.id = "c2", .name = "prod-my", .source_type = "mysql", .healthy = true});
  ProcessRun r = RunMonitor("--once --config " + Config());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("prod-pg"), std::string::npos);
  EXPECT_NE(r.output.find("healthy"), std::string::npos);
  EXPECT_NE(r.output.find("12ms"), std::string::npos);
  EXPECT_EQ(r.output.find(kToken), std::string::npos);
}

TEST_F(CliTest, OnceExitsOneWhenAConnectionAnsweredUnhealthy) {
  fake_.Upsert({.id = "c1", .name = "prod-pg", .healthy = true});
  fake_.Upsert({.id = "c2", .name = "down", .healthy = false, .error = "timeout connecting"});
  fake_.Script("GET", "/v1/connections/c1/health", {.status = 500, .body = "{}"});
  ProcessRun r = RunMonitor("--once --config " + Config());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("UNHEALTHY"), std::string::npos);
  EXPECT_NE(r.output.find("timeout connecting"), std::string::npos);
}

TEST_F(CliTest, OnceExitsThreeWhenACheckGotNoValidAnswer) {
  fake_.Upsert({.id = "c1", .name = "prod-pg", .healthy = true});
  fake_.Script("GET", "/v1/connections/c1/health", {.status = 200, .body = "not json"});
  ProcessRun r = RunMonitor("--once --config " + Config());
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("NO ANSWER"), std::string::npos);
}

TEST_F(CliTest, OnceExitsThreeWhenTheListFails) {
  fake_.Script("GET", "/v1/connections", {.status = 500, .body = "{}"});
  ProcessRun r = RunMonitor("--once --config " + Config());
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("cannot list connections"), std::string::npos);
}

TEST_F(CliTest, ConfigErrorsExitTwoWithFileLineAndColumn) {
  const std::string bad =
      dir_.Write("bad.yaml", "api:\n  base_url: http://x\nscheduler:\n  intervall: 5s\n");
  ProcessRun r = RunMonitor("--once --config " + bad);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("bad.yaml:4:3: scheduler.intervall"), std::string::npos) << r.output;
  ProcessRun c = RunMonitor("--check-config --config " + bad);
  EXPECT_EQ(c.exit_code, 2) << c.output;
}

TEST_F(CliTest, CheckConfigReportsWhatWouldBeMonitored) {
  fake_.Upsert({.id = "c1", .name = "prod-pg"});
  fake_.Upsert({.id = "c2", .name = "dev-pg"});
  ProcessRun r = RunMonitor("--check-config --config " +
                            Config("policies:\n"
                                   "  - name: purge-after-outage\n"
                                   "    match: { name: [\"prod-*\"] }\n"
                                   "    when: { event: recovered, after_failures: 3 }\n"
                                   "    action: { purge: connection }\n"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("2 connections, 2 monitored"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("policy purge-after-outage"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("matches 1 connection(s): prod-pg"), std::string::npos) << r.output;
}

TEST_F(CliTest, CheckConfigWithAnUnreachableApiStillExitsZero) {
  const std::string cfg =
      dir_.Write("c.yaml", TestConfig("http://127.0.0.1:1", token_));  // nothing listens on port 1
  ProcessRun r = RunMonitor("--check-config --config " + cfg);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("not reachable"), std::string::npos) << r.output;
}

// issue #14: the unit's ExecReload checks the file before it signals the daemon, and must not
// read the token or ask the API to do so.
TEST_F(CliTest, CheckConfigOfflineAsksNoApiAndStillRefusesABadFile) {
  ProcessRun r = RunMonitor("--check-config --offline --config " + Config(""));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("API not asked: --offline"), std::string::npos) << r.output;
  EXPECT_EQ(fake_.Requests().size(), 0u);
  const std::string bad = dir_.Write("bad.yaml", "api: { base_url: 42 }\nbogus: 1\n");
  EXPECT_EQ(RunMonitor("--check-config --offline --config " + bad).exit_code, 2);
  EXPECT_EQ(RunMonitor("--offline").exit_code, 2);
}

// issue #14: the Prometheus exporters' spellings of the flags; the old ones stay.
TEST_F(CliTest, ExporterFlagSpellingsAreAccepted) {
  const std::string cfg = Config("");
  for (const std::string& flags :
       {"--config.file " + cfg, "--config.file=" + cfg, "--config " + cfg + " --log.level=debug",
        "--config " + cfg + " --log.format json", "-c " + cfg + " --log-level warn",
        "--config " + cfg + " --web.listen-address 127.0.0.1:19977"}) {
    ProcessRun r = RunMonitor("--check-config --offline " + flags);
    EXPECT_EQ(r.exit_code, 0) << flags << ": " << r.output;
    EXPECT_NE(r.output.find(": valid ("), std::string::npos) << flags << ": " << r.output;
  }
  ProcessRun bad = RunMonitor("--check-config --config " + cfg + " --web.listen-address nope");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("--web.listen-address: "), std::string::npos) << bad.output;
  ProcessRun fmt = RunMonitor("--log.format xml");
  EXPECT_EQ(fmt.exit_code, 2);
  EXPECT_NE(fmt.output.find("--log.format: expected text or json"), std::string::npos)
      << fmt.output;
}

// issue #14: --check-config validates --web.config.file too (offline, as ExecReload runs it).
TEST_F(CliTest, CheckConfigValidatesTheWebConfigFile) {
  const std::string cfg = Config("");
  ASSERT_TRUE(fake::WriteSelfSignedCert((dir_.path() / "tls").string()).has_value());
  const std::string web =
      dir_.Write("web.yml",
                 "tls_server_config: { cert_file: tls/cert.pem, key_file: tls/key.pem }\n"
                 "basic_auth_users:\n  prom: " +
                     MakeBcryptHash("p1") + "\n  grafana: " + MakeBcryptHash("p2") +
                     "\nhttp_server_config: { http2: true, headers: { X-Frame-Options: deny } }\n");
  ProcessRun r =
      RunMonitor("--check-config --offline --config " + cfg + " --web.config.file=" + web);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(web + ": valid (TLS (no client certificates), 2 basic auth users, 1 "
                                "header)"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("http2: hotdata-monitor serves HTTP/1.1 only"), std::string::npos)
      << r.output;

  const std::string bad = dir_.Write("bad-web.yml",
                                     "tls_server_config: { cert_file: tls/cert.pem, key_file: "
                                     "tls/key.pem, client_auth_type: Always }\n"
                                     "basic_auth_users: { prom: hunter2 }\n");
  ProcessRun b =
      RunMonitor("--check-config --offline --config " + cfg + " --web.config.file " + bad);
  EXPECT_EQ(b.exit_code, 2) << b.output;
  EXPECT_NE(b.output.find(bad + ":1:"), std::string::npos) << b.output;
  EXPECT_NE(b.output.find("tls_server_config.client_auth_type: expected one of"), std::string::npos)
      << b.output;
  EXPECT_NE(b.output.find("basic_auth_users.prom: not a bcrypt hash"), std::string::npos)
      << b.output;
  EXPECT_EQ(b.output.find("hunter2"), std::string::npos) << b.output;
  EXPECT_NE(b.output.find(bad + ": 2 error(s)"), std::string::npos) << b.output;

  ProcessRun missing = RunMonitor("--check-config --offline --config " + cfg +
                                  " --web.config.file " + (dir_.path() / "nope.yml").string());
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_NE(missing.output.find("nope.yml: cannot read file"), std::string::npos) << missing.output;
  EXPECT_EQ(RunMonitor("--check-config --config " + cfg + " --web.config.file=").exit_code, 2);
}

TEST_F(CliTest, UsageErrorsVersionAndHelp) {
  EXPECT_EQ(RunMonitor("--bogus").exit_code, 2);
  ProcessRun v = RunMonitor("--version");
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_NE(v.output.find("hotdata-monitor "), std::string::npos);
  ProcessRun h = RunMonitor("--help");
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.output.find("--check-config"), std::string::npos);
}

}  // namespace
}  // namespace hdm::testing
