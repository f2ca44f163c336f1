// --web.listen-address (DaemonOptions::listen_override) wins over server.listen, at start and
// across reloads (issue #14: the listen address set in one place, on the command line).
#include <gtest/gtest.h>

#include "integration/harness.h"

namespace hdm::testing {
namespace {

TEST(ListenOverrideTest, TheFlagWinsOverTheConfigAtStartAndAfterAReload) {
  fake::FakeHotdataServer fake;
  AddDefaultConnections(fake);
  ASSERT_GT(fake.Start(), 0);
  TempDir dir;
  const std::string token = dir.Write("token", std::string(kToken) + "\n");
  // 192.0.2.1 (TEST-NET-1) is on no host: listening there fails.
  std::string text = TestConfig(fake.base_url(), token);
  const std::string from = "listen: \"127.0.0.1:0\"";
  ASSERT_NE(text.find(from), std::string::npos);
  text.replace(text.find(from), from.size(), "listen: \"192.0.2.1:9977\"");
  const std::string config = dir.Write("config.yaml", text);

  auto refused = Daemon::Create({.config_path = config});
  ASSERT_TRUE(refused.has_value()) << refused.error().message;
  EXPECT_FALSE((*refused)->Start().has_value()) << "192.0.2.1 should not be on this host";
  (*refused)->Stop();

  auto daemon = Daemon::Create({.config_path = config, .listen_override = "127.0.0.1:0"});
  ASSERT_TRUE(daemon.has_value()) << daemon.error().message;
  auto port = (*daemon)->Start();
  ASSERT_TRUE(port.has_value()) << port.error().message;
  httplib::Client client("127.0.0.1", *port);
  auto healthz = client.Get("/healthz");
  ASSERT_TRUE(healthz);
  EXPECT_EQ(healthz->status, 200);
  EXPECT_EQ((*daemon)->config()->server.listen, "127.0.0.1:0");
  ASSERT_TRUE((*daemon)->Reload().has_value());
  EXPECT_EQ((*daemon)->config()->server.listen, "127.0.0.1:0");
  auto again = client.Get("/healthz");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
  (*daemon)->Stop();
}

}  // namespace
}  // namespace hdm::testing
