#include "fakes/fake_hotdata.h"

#include <strings.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <thread>

#include <httplib.h>

#include "fakes/fake_drop.h"
#include "fakes/fake_routes.h"

namespace hdm::fake {
namespace {

using std::chrono::milliseconds;

// Matches any path, newlines included (a %0A decodes to one in httplib's req.path).
constexpr const char* kAnyPath = R"([\s\S]*)";
// No health check or scripted delay holds a request longer than this.
constexpr milliseconds kMaxDelay{60'000};

bool IEquals(const std::string& a, const std::string& b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// httplib adds these to every request's headers; they were not sent by the client.
bool IsSynthesized(const std::string& name) {
  for (const char* s : {"REMOTE_ADDR", "REMOTE_PORT", "LOCAL_ADDR", "LOCAL_PORT"}) {
    if (name == s) return true;
  }
  return false;
}

// The request target as sent, without the query.
std::string RawPath(const httplib::Request& req) {
  return req.target.substr(0, req.target.find('?'));
}

void Reply(httplib::Response& res, const internal::Answer& answer) {
  res.status = answer.status;
  if (!answer.body.is_null()) {
    res.set_content(answer.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                    "application/json");
  }
}

}  // namespace

std::string RecordedRequest::Header(const std::string& name) const {
  for (const auto& [key, value] : headers) {
    if (IEquals(key, name)) return value;
  }
  return "";
}

struct FakeHotdataServer::Impl {
  struct Script {
    std::string method;
    std::string path;
    ScriptedResponse response;
    int left;  // -1: unlimited
  };

  explicit Impl(FakeServerOptions o) : options(std::move(o)) {}

  void Handle(const httplib::Request& req, httplib::Response& res);
  void SendScripted(const ScriptedResponse& script, const httplib::Request& req,
                    httplib::Response& res);
  // Waits `delay` or until Stop(), whichever comes first.
  void WaitFor(milliseconds delay);

  const FakeServerOptions options;
  const bool tls = !options.cert_file.empty() && !options.key_file.empty();
  std::atomic<int> port{-1};

  std::mutex lifecycle_mu;  // serialises Start() and Stop()
  // Guarded by lifecycle_mu.
  std::unique_ptr<httplib::Server> server;
  std::thread listener;

  mutable std::mutex mu;
  std::condition_variable stop_cv;
  // Guarded by mu.
  bool stopping = false;
  internal::Workspace workspace;
  std::vector<Script> scripts;
  std::vector<RecordedRequest> requests;
};

void FakeHotdataServer::Impl::WaitFor(milliseconds delay) {
  if (delay <= milliseconds::zero()) return;
  std::unique_lock lock(mu);
  stop_cv.wait_for(lock, std::min(delay, kMaxDelay), [this] { return stopping; });
}

void FakeHotdataServer::Impl::Handle(const httplib::Request& req, httplib::Response& res) {
  const std::string path = RawPath(req);
  RecordedRequest record{req.method, path, req.body, {}, req.remote_port};
  for (const auto& [key, value] : req.headers) {
    if (!IsSynthesized(key)) record.headers.emplace(key, value);
  }
  std::optional<ScriptedResponse> script;
  {
    std::lock_guard lock(mu);
    if (options.record_requests) requests.push_back(std::move(record));
    for (auto it = scripts.rbegin(); it != scripts.rend(); ++it) {
      if (it->left == 0 || it->method != req.method || it->path != path) continue;
      if (it->left > 0) --it->left;
      script = it->response;
      break;
    }
  }
  if (script) return SendScripted(*script, req, res);

  if (!options.expected_token.empty() &&
      req.get_header_value("Authorization") != "Bearer " + options.expected_token) {
    Reply(res, internal::ErrorAnswer(401, "UNAUTHORIZED", "Missing or invalid bearer token"));
    res.set_header("WWW-Authenticate", "Bearer");
    return;
  }
  const internal::Route route = internal::ParseRoute(req.method, path);
  if (route.op == internal::Op::kCheckHealth) {
    milliseconds delay{0};
    {
      std::lock_guard lock(mu);
      auto it = workspace.connections.find(route.connection_id);
      if (it != workspace.connections.end()) delay = it->second.health_delay;
    }
    WaitFor(delay);
  }
  internal::Answer answer;
  {
    std::lock_guard lock(mu);
    answer = internal::Serve(workspace, route, req.method, req.body);
  }
  Reply(res, answer);
}

void FakeHotdataServer::Impl::SendScripted(const ScriptedResponse& script,
                                           const httplib::Request& req, httplib::Response& res) {
  WaitFor(script.delay);
  if (script.drop) return internal::DropConnection(req.local_port, req.remote_port);
  res.status = script.status;
  for (const auto& [key, value] : script.headers) res.set_header(key, value);
  if (!script.body.empty()) res.set_content(script.body, script.content_type);
}

FakeHotdataServer::FakeHotdataServer(FakeServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

FakeHotdataServer::~FakeHotdataServer() { Stop(); }

int FakeHotdataServer::Start(int port) {
  std::lock_guard life(impl_->lifecycle_mu);
  if (impl_->server) return impl_->port;
  std::unique_ptr<httplib::Server> server;
  if (impl_->tls) {
    server = std::make_unique<httplib::SSLServer>(impl_->options.cert_file.c_str(),
                                                  impl_->options.key_file.c_str());
  } else {
    server = std::make_unique<httplib::Server>();
  }
  if (!server->is_valid()) return -1;
  server->set_keep_alive_timeout(impl_->options.keep_alive_timeout_seconds);
  server->set_keep_alive_max_count(impl_->options.keep_alive_max_count);
  server->set_tcp_nodelay(true);  // headers and body go out in separate writes
  const size_t threads = static_cast<size_t>(std::max(1, impl_->options.threads));
  server->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  auto handler = [impl = impl_.get()](const httplib::Request& req, httplib::Response& res) {
    impl->Handle(req, res);
    if (impl->options.on_answered) impl->options.on_answered(req.method, RawPath(req), res.status);
  };
  server->Get(kAnyPath, handler);
  server->Post(kAnyPath, handler);
  server->Put(kAnyPath, handler);
  server->Patch(kAnyPath, handler);
  server->Delete(kAnyPath, handler);

  int bound = port == 0 ? server->bind_to_any_port("127.0.0.1")
                        : (server->bind_to_port("127.0.0.1", port) ? port : -1);
  if (bound < 0) return -1;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = false;
  }
  impl_->listener = std::thread([s = server.get()] { s->listen_after_bind(); });
  // stop() is a no-op until the listener runs, so Stop() must not overtake it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!server->is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(1));
  }
  impl_->server = std::move(server);
  impl_->port = bound;
  return bound;
}

void FakeHotdataServer::Stop() {
  std::lock_guard life(impl_->lifecycle_mu);
  if (!impl_->server) return;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->stop_cv.notify_all();
  impl_->server->stop();
  impl_->listener.join();
  impl_->server.reset();
}

int FakeHotdataServer::port() const { return impl_->port; }

std::string FakeHotdataServer::base_url() const {
  return std::string(impl_->tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port());
}

void FakeHotdataServer::Upsert(FakeConnection c) {
  std::lock_guard lock(impl_->mu);
  std::string id = c.id;
  impl_->workspace.connections[id] = std::move(c);
}

void FakeHotdataServer::Remove(const std::string& id) {
  std::lock_guard lock(impl_->mu);
  impl_->workspace.connections.erase(id);
}

void FakeHotdataServer::SetHealth(const std::string& id, bool healthy, int64_t latency_ms,
                                  std::optional<std::string> error) {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->workspace.connections.find(id);
  if (it == impl_->workspace.connections.end()) return;
  it->second.healthy = healthy;
  it->second.latency_ms = latency_ms;
  it->second.error = std::move(error);
}

std::optional<FakeConnection> FakeHotdataServer::Get(const std::string& id) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->workspace.connections.find(id);
  if (it == impl_->workspace.connections.end()) return std::nullopt;
  return it->second;
}

std::vector<FakeConnection> FakeHotdataServer::Connections() const {
  std::lock_guard lock(impl_->mu);
  std::vector<FakeConnection> out;
  for (const auto& [id, c] : impl_->workspace.connections) out.push_back(c);
  return out;
}

void FakeHotdataServer::Script(const std::string& method, const std::string& path,
                               ScriptedResponse response) {
  std::lock_guard lock(impl_->mu);
  const int times = response.times;
  impl_->scripts.push_back({method, path, std::move(response), times});
}

void FakeHotdataServer::ClearScripts() {
  std::lock_guard lock(impl_->mu);
  impl_->scripts.clear();
}

std::vector<RecordedRequest> FakeHotdataServer::Requests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->requests;
}

size_t FakeHotdataServer::CountRequests(const std::string& method, const std::string& path) const {
  std::lock_guard lock(impl_->mu);
  return std::count_if(
      impl_->requests.begin(), impl_->requests.end(),
      [&](const RecordedRequest& r) { return r.method == method && r.path == path; });
}

void FakeHotdataServer::ClearRequests() {
  std::lock_guard lock(impl_->mu);
  impl_->requests.clear();
}

}  // namespace hdm::fake
