#include "integration/harness.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

namespace hdm::testing {
namespace {
// spdlog's registry is built on first use; build it on the main thread before any daemon thread
// logs (as main() does in the daemon), so the first log lines do not race its construction.
[[maybe_unused]] const bool kLoggingReady = (spdlog::default_logger_raw() != nullptr);
}  // namespace

bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "hdm-test-XXXXXX").string();
  char* p = mkdtemp(tmpl.data());
  path_ = p ? std::filesystem::path(p) : std::filesystem::temp_directory_path();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::Write(const std::string& name, const std::string& content) const {
  const auto p = path_ / name;
  std::ofstream(p) << content;
  return p.string();
}

void AddDefaultConnections(fake::FakeHotdataServer& fake) {
  fake.Upsert({.id = "conn_pg",
               .name = "prod-pg",
               .source_type = "postgres",
               .table_count = 12,
               .synced_table_count = 10,
               .healthy = true,
               .latency_ms = 42,
               .tables = {{.schema = "public",
                           .table = "orders",
                           .row_count = 1234,
                           .synced_at = "2023-11-14T22:13:20Z"},
                          {.schema = "eu.sales", .table = "Order Items", .row_count = 7}}});
  fake.Upsert({.id = "conn_my",
               .name = "prod-mysql",
               .source_type = "mysql",
               .table_count = 3,
               .synced_table_count = 3,
               .healthy = true,
               .latency_ms = 7});
  fake.Upsert({.id = "conn_sf",
               .name = "analytics-sf",
               .source_type = "snowflake",
               .table_count = 40,
               .synced_table_count = 0,
               .healthy = false,
               .latency_ms = 1500,
               .error = "connection refused"});
}

std::string TestConfig(const std::string& base_url, const std::string& token_file,
                       const std::string& extra) {
  std::ostringstream c;
  c << "api:\n"
    << "  base_url: " << base_url << "\n"
    << "  workspace_id: ws_test\n"
    << "  token_file: " << token_file << "\n"
    << "  timeout: 500ms\n"
    << "  retries: { attempts: 2, backoff: 10ms, max_backoff: 50ms }\n"
    << "scheduler:\n"
    << "  interval: 1s\n"
    << "  discovery_interval: 1s\n"
    << "  concurrency: 4\n"
    << "server:\n"
    << "  listen: \"127.0.0.1:0\"\n"
    << "state_file: " << (std::filesystem::path(token_file).parent_path() / "state.json").string()
    << "\n"
    << extra;
  return c.str();
}

DaemonHarness::DaemonHarness(const std::string& extra_config)
    : fake_(std::make_unique<fake::FakeHotdataServer>()) {
  AddDefaultConnections(*fake_);
  EXPECT_GT(fake_->Start(), 0);
  const std::string token_file = dir_.Write("token", std::string(kToken) + "\n");
  config_path_ = dir_.Write("config.yaml", TestConfig(fake_->base_url(), token_file, extra_config));
  StartDaemon();
}

void DaemonHarness::RestartDaemon(const std::function<void()>& while_stopped) {
  if (daemon_) daemon_->Stop();
  daemon_.reset();
  if (while_stopped) while_stopped();
  StartDaemon();
}

void DaemonHarness::StartDaemon() {
  auto d = Daemon::Create({.config_path = config_path_});
  if (!d) {
    ADD_FAILURE() << d.error();
    return;
  }
  daemon_ = std::move(*d);
  auto port = daemon_->Start();
  if (!port) {
    ADD_FAILURE() << port.error();
    return;
  }
  port_ = *port;
}

DaemonHarness::~DaemonHarness() {
  if (daemon_) daemon_->Stop();
  daemon_.reset();
  fake_->Stop();
}

DaemonHarness::Reply DaemonHarness::Get(const std::string& path, bool gzip) {
  httplib::Client cli("127.0.0.1", port_);
  cli.set_read_timeout(5, 0);
  cli.set_keep_alive(false);
  cli.set_decompress(true);
  // Exactly what this request accepts: without an Accept-Encoding of ours, cpp-httplib 0.12 and
  // later (Debian 13) send "br, gzip, deflate" of their own; 0.11 (Debian 12) sends none.
  httplib::Headers headers{{"Accept-Encoding", gzip ? "gzip" : "identity"}};
  auto res = cli.Get(path, headers);
  if (!res) return {};
  return {res->status, res->body, res->get_header_value("Content-Encoding")};
}

bool DaemonHarness::WaitForRounds(uint64_t rounds) {
  return WaitFor([&] { return daemon_ && daemon_->scheduler().RoundsCompleted() >= rounds; });
}

std::optional<double> SeriesValue(const std::string& exposition, const std::string& series) {
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nullopt;
}

}  // namespace hdm::testing
