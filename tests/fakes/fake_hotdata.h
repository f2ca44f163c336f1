// FakeHotdataServer: an in-process Hotdata API on 127.0.0.1:0 that behaves as
// ../shared/spec/hotdata-api.md says (all eight connection operations, the error bodies), and
// whose answers a test can script and whose requests it records.
//
// Thread-safe: tests mutate the workspace and read the recorded requests while the server
// answers from its own threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hdm::fake {

struct FakeTable {
  std::string schema;
  std::string table;
  int64_t row_count = 0;
  std::optional<std::string> synced_at;              // RFC 3339; absent when nullopt
  nlohmann::json columns = nlohmann::json::array();  // ColumnProfileInfo objects as on the wire
  bool has_profile = true;                           // false: profile 404
};

struct FakeConnection {
  std::string id;
  std::string name;
  std::string source_type = "postgres";
  int64_t table_count = 0;
  int64_t synced_table_count = 0;
  bool healthy = true;
  int64_t latency_ms = 5;                     // reported in the health answer
  std::optional<std::string> error;           // health answer's `error` (null when nullopt)
  std::chrono::milliseconds health_delay{0};  // how long the server takes to answer /health
  bool backs_default_catalog = false;         // purge and delete answer 409
  std::vector<FakeTable> tables;
  // source_type "managed" makes a purge answer 400 (managed catalogs cannot be purged).
};

// A scripted answer that replaces the normal behaviour for matching requests.
struct ScriptedResponse {
  int status = 200;
  std::string body;  // sent as is (may be malformed JSON on purpose)
  std::string content_type = "application/json";
  std::map<std::string, std::string> headers;  // e.g. {"Retry-After", "2"}
  std::chrono::milliseconds delay{0};          // before answering
  bool drop = false;                           // close the connection without answering
  int times = -1;  // how many matching requests it answers; -1: until cleared
};

struct RecordedRequest {
  std::string method;
  std::string path;  // raw, still percent-encoded, without the query
  std::string body;
  std::multimap<std::string, std::string> headers;
  int remote_port =
      0;  // the client socket's port: equal across requests of one keep-alive connection
  std::string Header(const std::string& name) const;  // case-insensitive; "" when absent
};

struct FakeServerOptions {
  std::string cert_file;  // both set: serve HTTPS
  std::string key_file;
  std::string expected_token;          // non-empty: requests without `Bearer <token>` get 401
  int keep_alive_timeout_seconds = 1;  // keeps Stop() quick in tests
  size_t keep_alive_max_count = 1000;  // requests per connection before the server closes it
  int threads = 8;
  bool record_requests = true;  // false: Requests() stays empty (long simulator runs)
  // Called from the server's threads once each answer is ready, just before it is sent, with the
  // method, the raw path (as Requests() has it) and the status; e.g. the simulator's purge log.
  // Must be thread-safe.
  std::function<void(const std::string& method, const std::string& path, int status)> on_answered;
};

class FakeHotdataServer {
 public:
  explicit FakeHotdataServer(FakeServerOptions options = {});
  ~FakeHotdataServer();  // stops and joins
  FakeHotdataServer(const FakeHotdataServer&) = delete;
  FakeHotdataServer& operator=(const FakeHotdataServer&) = delete;

  // Binds 127.0.0.1:port (0: any free port) and serves from a background thread; returns the
  // bound port, or -1 when it could not bind (or the TLS files do not load). Already running:
  // returns the current port.
  int Start(int port = 0);
  // Cuts pending health and scripted delays short, then waits for in-flight requests and for
  // idle keep-alive connections (at most keep_alive_timeout_seconds). The workspace, scripts and
  // recorded requests survive: Start() may serve again, on the same port too.
  void Stop();
  int port() const;
  std::string base_url() const;  // "http://127.0.0.1:PORT" (https when TLS)

  // The workspace.
  void Upsert(FakeConnection c);
  void Remove(const std::string& id);
  void SetHealth(const std::string& id, bool healthy, int64_t latency_ms,
                 std::optional<std::string> error = std::nullopt);
  std::optional<FakeConnection> Get(const std::string& id) const;
  std::vector<FakeConnection> Connections() const;

  // Scripts answer requests whose method and raw path match exactly (path as sent, without the
  // query). The most recently added matching script with answers left wins. A script answers
  // before the token check; its request is recorded like any other.
  void Script(const std::string& method, const std::string& path, ScriptedResponse response);
  void ClearScripts();

  std::vector<RecordedRequest> Requests() const;
  size_t CountRequests(const std::string& method, const std::string& path) const;
  void ClearRequests();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Writes a self-signed certificate and key for 127.0.0.1/localhost into `dir`
// (cert.pem, key.pem) with the openssl library.
std::expected<void, std::string> WriteSelfSignedCert(const std::string& dir);
// The same for a TLS client (extended key usage clientAuth, CN "hotdata-monitor test client"):
// its cert.pem is also the CA file that verifies it.
std::expected<void, std::string> WriteSelfSignedClientCert(const std::string& dir);

}  // namespace hdm::fake
