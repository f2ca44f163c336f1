// Test harness: a FakeHotdataServer, a config file in a temporary directory, and an in-process
// Daemon started against them. Plus WaitFor: the one way tests synchronise (a condition polled
// until a deadline, never a bare sleep).
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include <httplib.h>

#include "app/daemon.h"
#include "fakes/fake_hotdata.h"

namespace hdm::testing {

inline constexpr char kToken[] = "tok_SECRET_do_not_log_4242";

// Polls `cond` every 10 ms until it holds or `timeout` passes; returns its last value.
bool WaitFor(const std::function<bool()>& cond,
             std::chrono::milliseconds timeout = std::chrono::seconds(15));

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& content) const;

 private:
  std::filesystem::path path_;
};

// Three connections by default: pg (healthy), my (healthy), sf (unhealthy).
void AddDefaultConnections(fake::FakeHotdataServer& fake);

// A config for the daemon against `base_url`, with short intervals so tests run fast.
// `extra` is appended verbatim (more top-level keys).
std::string TestConfig(const std::string& base_url, const std::string& token_file,
                       const std::string& extra = "");

class DaemonHarness {
 public:
  explicit DaemonHarness(const std::string& extra_config = "");
  ~DaemonHarness();

  fake::FakeHotdataServer& fake() { return *fake_; }
  Daemon& daemon() { return *daemon_; }
  int port() const { return port_; }
  const TempDir& dir() const { return dir_; }

  // GET on the daemon's HTTP server; status -1 when no answer.
  struct Reply {
    int status = -1;
    std::string body;
    std::string content_encoding;
  };
  Reply Get(const std::string& path, bool gzip = false);
  std::string Metrics() { return Get("/metrics").body; }
  // Stops the daemon and starts a new one on the same config and state file; `while_stopped`,
  // when given, runs in between (to put a config or state file in place).
  void RestartDaemon(const std::function<void()>& while_stopped = nullptr);
  // True once a completed round is visible and every connection has been checked.
  bool WaitForRounds(uint64_t rounds);

 private:
  TempDir dir_;
  std::unique_ptr<fake::FakeHotdataServer> fake_;
  std::unique_ptr<Daemon> daemon_;
  int port_ = 0;
  std::string config_path_;
  void StartDaemon();
};

// The value of the series whose line starts with `series` (name and labels exactly as
// rendered), or nullopt when absent.
std::optional<double> SeriesValue(const std::string& exposition, const std::string& series);

}  // namespace hdm::testing
