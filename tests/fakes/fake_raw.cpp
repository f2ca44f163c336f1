#include "fakes/fake_raw.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>

namespace hdm::fake {
namespace {

using std::chrono::milliseconds;

constexpr size_t kMaxHeadBytes = 64 << 10;
constexpr size_t kStreamBlock = 16 << 10;  // kStream writes its filler in blocks of this size

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && strncasecmp(s.data(), prefix.data(), prefix.size()) == 0;
}

// Calls `fn` with each header line of a request head (the request line and the blank line
// excluded).
template <typename Fn>
void ForEachHeader(std::string_view head, Fn fn) {
  size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos) {
    const size_t start = pos + 2;
    pos = head.find("\r\n", start);
    if (pos == std::string_view::npos || pos == start) return;
    fn(head.substr(start, pos - start));
  }
}

size_t ContentLength(std::string_view head) {
  size_t length = 0;
  ForEachHeader(head, [&](std::string_view line) {
    if (StartsWithIgnoreCase(line, "content-length:")) {
      length = std::strtoul(std::string(line.substr(15)).c_str(), nullptr, 10);
    }
  });
  return length;
}

// The head with its Connection header replaced by "Connection: close".
std::string ClosingHead(std::string_view head) {
  std::string out(head.substr(0, head.find("\r\n") + 2));
  ForEachHeader(head, [&](std::string_view line) {
    if (!StartsWithIgnoreCase(line, "connection:")) out.append(line).append("\r\n");
  });
  return out + "Connection: close\r\n\r\n";
}

}  // namespace

std::string RawAnswer(int status, const std::string& body, const std::string& extra_headers) {
  return "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Scripted") +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n" + extra_headers + "\r\n" + body;
}

RawStep Drip(std::string bytes, milliseconds gap) {
  return {.bytes = std::move(bytes), .chunk = 1, .gap = gap};
}

struct FakeRawServer::Impl {
  struct Request {
    RawRequest record;
    std::string head;  // request line, headers and blank line as received
    std::string body;
  };
  enum class Wait { kReady, kStopped, kTimedOut };

  Impl() : stop_fd(::eventfd(0, EFD_CLOEXEC)) {}
  ~Impl() {
    if (listen_fd >= 0) ::close(listen_fd);
    if (stop_fd >= 0) ::close(stop_fd);
  }

  // Waits until `fd` (-1: none) is ready for `events`, Stop() is called, or `timeout` passes
  // (negative: no limit).
  Wait WaitFor(int fd, short events, int timeout_ms) const;
  bool Pause(milliseconds d) const {
    return WaitFor(-1, 0, static_cast<int>(d.count())) == Wait::kTimedOut;
  }
  bool SendAll(int fd, std::string_view data) const;
  // Reads what has come, waiting for it; 0: closed, failed or stopped.
  size_t Receive(int fd, char* buf, size_t size) const;

  void Accept();
  void Serve(int fd, int index);
  std::optional<Request> ReadRequest(int fd, std::string& pending, int index) const;
  std::optional<RawScript> TakeScriptLocked(const std::string& path);
  // Plays `script`; true when the connection should read its next request.
  bool Play(int fd, const RawScript& script) const;
  bool PlayStep(int fd, const RawStep& step) const;
  void Relay(int fd, const Request& request, int upstream_port) const;

  const int stop_fd;  // an eventfd, readable once Stop() was called
  int listen_fd = -1;
  std::atomic<int> port{-1};
  std::atomic<int> open{0};
  std::thread acceptor;

  mutable std::mutex mu;
  // Guarded by mu.
  std::vector<std::thread> connections;
  std::vector<RawScript> scripts;  // `times` counts down the answers left
  std::vector<RawRequest> requests;
  int accepted = 0;
  int relay_port = 0;
};

FakeRawServer::Impl::Wait FakeRawServer::Impl::WaitFor(int fd, short events, int timeout_ms) const {
  pollfd fds[2] = {{stop_fd, POLLIN, 0}, {fd, events, 0}};
  for (;;) {
    const int n = ::poll(fds, fd >= 0 ? 2 : 1, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || (fds[0].revents & POLLIN) != 0) return Wait::kStopped;
    return n == 0 ? Wait::kTimedOut : Wait::kReady;
  }
}

bool FakeRawServer::Impl::SendAll(int fd, std::string_view data) const {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (WaitFor(fd, POLLOUT, -1) != Wait::kReady) return false;
    } else {
      return false;
    }
  }
  return true;
}

size_t FakeRawServer::Impl::Receive(int fd, char* buf, size_t size) const {
  for (;;) {
    const ssize_t n = ::recv(fd, buf, size, MSG_DONTWAIT);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return 0;
    if (WaitFor(fd, POLLIN, -1) != Wait::kReady) return 0;
  }
}

void FakeRawServer::Impl::Accept() {
  while (WaitFor(listen_fd, POLLIN, -1) == Wait::kReady) {
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // each write its own segment
    ++open;
    std::lock_guard lock(mu);
    const int index = ++accepted;
    connections.emplace_back([this, fd, index] { Serve(fd, index); });
  }
}

void FakeRawServer::Impl::Serve(int fd, int index) {
  std::string pending;  // bytes read past the previous request
  for (;;) {
    auto request = ReadRequest(fd, pending, index);
    if (!request) break;
    std::optional<RawScript> script;
    int upstream = 0;
    {
      std::lock_guard lock(mu);
      requests.push_back(request->record);
      script = TakeScriptLocked(request->record.path);
      upstream = relay_port;
    }
    if (!script) {
      if (upstream > 0) Relay(fd, *request, upstream);
      break;
    }
    if (!Play(fd, *script)) break;
  }
  ::close(fd);
  --open;
}

std::optional<FakeRawServer::Impl::Request> FakeRawServer::Impl::ReadRequest(int fd,
                                                                             std::string& pending,
                                                                             int index) const {
  char buf[4096];
  size_t end = 0;
  while ((end = pending.find("\r\n\r\n")) == std::string::npos) {
    if (pending.size() > kMaxHeadBytes) return std::nullopt;
    const size_t n = Receive(fd, buf, sizeof buf);
    if (n == 0) return std::nullopt;
    pending.append(buf, n);
  }
  Request r;
  r.head = pending.substr(0, end + 4);
  pending.erase(0, end + 4);
  const size_t length = ContentLength(r.head);
  while (pending.size() < length) {
    const size_t n = Receive(fd, buf, sizeof buf);
    if (n == 0) return std::nullopt;
    pending.append(buf, n);
  }
  r.body = pending.substr(0, length);
  pending.erase(0, length);

  RawRequest& rec = r.record;
  rec.line = r.head.substr(0, r.head.find("\r\n"));
  const size_t method_end = rec.line.find(' ');
  rec.method = rec.line.substr(0, method_end);
  if (method_end != std::string::npos) {
    const std::string target =
        rec.line.substr(method_end + 1, rec.line.rfind(' ') - method_end - 1);
    rec.path = target.substr(0, target.find('?'));
  }
  rec.connection = index;
  rec.at = std::chrono::steady_clock::now();
  return r;
}

std::optional<RawScript> FakeRawServer::Impl::TakeScriptLocked(const std::string& path) {
  for (auto it = scripts.rbegin(); it != scripts.rend(); ++it) {
    if (it->times == 0 || (!it->path.empty() && it->path != path)) continue;
    if (it->times > 0) --it->times;
    return *it;
  }
  return std::nullopt;
}

bool FakeRawServer::Impl::Play(int fd, const RawScript& script) const {
  for (const RawStep& step : script.steps) {
    if (!PlayStep(fd, step)) return false;
  }
  switch (script.end) {
    case RawEnd::kClose:
      return false;
    case RawEnd::kHold: {
      char buf[4096];
      while (Receive(fd, buf, sizeof buf) > 0) {
      }
      return false;
    }
    case RawEnd::kStream: {
      if (script.filler.empty()) return false;
      std::string block = script.filler;
      while (block.size() < kStreamBlock) block += script.filler;
      while (SendAll(fd, block)) {
      }
      return false;
    }
    case RawEnd::kKeepAlive:
      return true;
  }
  return false;
}

bool FakeRawServer::Impl::PlayStep(int fd, const RawStep& step) const {
  if (!Pause(step.pause_before)) return false;
  std::string_view rest = step.bytes;
  const size_t chunk = step.chunk == 0 ? rest.size() : step.chunk;
  while (!rest.empty()) {
    const size_t n = std::min(chunk, rest.size());
    if (!SendAll(fd, rest.substr(0, n))) return false;
    rest.remove_prefix(n);
    if (!rest.empty() && !Pause(step.gap)) return false;
  }
  return Pause(step.pause_after);
}

void FakeRawServer::Impl::Relay(int fd, const Request& request, int upstream_port) const {
  const int up = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (up < 0) return;
  const sockaddr_in addr = Loopback(upstream_port);
  char buf[4096];
  if (::connect(up, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 &&
      SendAll(up, ClosingHead(request.head) + request.body)) {
    for (size_t n; (n = Receive(up, buf, sizeof buf)) > 0;) {
      if (!SendAll(fd, {buf, n})) break;
    }
  }
  ::close(up);
}

FakeRawServer::FakeRawServer() : impl_(std::make_unique<Impl>()) {}

FakeRawServer::~FakeRawServer() { Stop(); }

int FakeRawServer::Start() {
  if (impl_->listen_fd >= 0) return impl_->port;
  if (impl_->stop_fd < 0) return -1;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  sockaddr_in addr = Loopback(0);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd, SOMAXCONN) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return -1;
  }
  impl_->listen_fd = fd;
  impl_->port = ntohs(addr.sin_port);
  impl_->acceptor = std::thread([impl = impl_.get()] { impl->Accept(); });
  return impl_->port;
}

void FakeRawServer::Stop() {
  if (!impl_->acceptor.joinable()) return;
  ::eventfd_write(impl_->stop_fd, 1);
  impl_->acceptor.join();  // no connection is accepted after this
  std::vector<std::thread> connections;
  {
    std::lock_guard lock(impl_->mu);
    connections.swap(impl_->connections);
  }
  for (auto& t : connections) t.join();
}

int FakeRawServer::port() const { return impl_->port; }

std::string FakeRawServer::base_url() const { return "http://127.0.0.1:" + std::to_string(port()); }

void FakeRawServer::Script(RawScript script) {
  std::lock_guard lock(impl_->mu);
  impl_->scripts.push_back(std::move(script));
}

void FakeRawServer::RelayTo(int port) {
  std::lock_guard lock(impl_->mu);
  impl_->relay_port = port;
}

std::vector<RawRequest> FakeRawServer::Requests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->requests;
}

size_t FakeRawServer::CountRequests(const std::string& path) const {
  std::lock_guard lock(impl_->mu);
  return std::ranges::count_if(impl_->requests,
                               [&](const RawRequest& r) { return r.path == path; });
}

int FakeRawServer::Accepted() const {
  std::lock_guard lock(impl_->mu);
  return impl_->accepted;
}

int FakeRawServer::OpenSockets() const { return impl_->open; }

}  // namespace hdm::fake
