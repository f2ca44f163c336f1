#include "http/connection_manager.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>

#include <spdlog/spdlog.h>

#include "http/socket_bio.h"

namespace hdm {
namespace {

constexpr char kTooManyConnections[] =
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 21\r\n"
    "Retry-After: 1\r\n"
    "Connection: close\r\n"
    "\r\n"
    "too many connections\n";

}  // namespace

ConnectionManager::ConnectionManager(ConnectionLimits limits, SSL_CTX* tls, ServeOne serve)
    : limits_(limits),
      tls_(tls),
      serve_(std::move(serve)),
      epoll_fd_(epoll_create1(EPOLL_CLOEXEC)),
      wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      pool_(limits.max_workers, limits.worker_idle_exit) {
  epoll_event ev{.events = EPOLLIN, .data = {.fd = wake_fd_}};
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  waiter_ = std::thread([this] { WaitForRequests(); });
}

ConnectionManager::~ConnectionManager() {
  Stop();
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

void ConnectionManager::Adopt(int fd) {
  if (!Admit()) return Refuse(fd);
  const int one = 1;  // without it a kept-alive scrape waits ~40 ms on delayed ACKs
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  SSL* ssl = nullptr;
  if (tls_ != nullptr) {
    ssl = SSL_new(tls_);
    BIO* bio = ssl != nullptr ? NewNoSigpipeSocketBio(fd) : nullptr;
    if (bio != nullptr) {
      SSL_set_bio(ssl, bio, bio);
      SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);  // an idle connection keeps no 16 KB buffers
    } else if (ssl != nullptr) {
      SSL_free(ssl);
      ssl = nullptr;
    }
  }
  auto e = std::make_unique<Entry>(Entry{.parser = RequestParser(limits_.request)});
  e->conn = std::make_unique<Connection>(fd, ssl);
  if (tls_ != nullptr && ssl == nullptr) return Drop(std::move(e));
  Park(std::move(e), Clock::now() + limits_.read_timeout);
}

bool ConnectionManager::Admit() {
  std::lock_guard lock(mu_);
  if (!stopping_ && open_ < limits_.max_connections) {
    ++open_;
    refusing_ = false;
    return true;
  }
  ++refused_;
  if (!refusing_ && !stopping_) {
    spdlog::warn("HTTP: {} connections open, the most allowed; refusing new ones with 503", open_);
  }
  refusing_ = true;
  return false;
}

// An answer that fits in an empty socket buffer, so the send never blocks. A TLS client would
// not understand it: it only sees the connection close.
void ConnectionManager::Refuse(int fd) {
  if (tls_ == nullptr) {
    [[maybe_unused]] auto sent = ::send(fd, kTooManyConnections, sizeof kTooManyConnections - 1,
                                        MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  ::close(fd);
}

void ConnectionManager::Park(std::unique_ptr<Entry> e, Clock::time_point deadline) {
  std::unique_lock lock(mu_);
  if (stopping_) {
    lock.unlock();
    return Drop(std::move(e));
  }
  const int fd = e->conn->socket();
  epoll_event ev{.events = EPOLLIN | EPOLLONESHOT, .data = {.fd = fd}};
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    lock.unlock();
    return Drop(std::move(e));
  }
  e->deadline = deadline;
  parked_[fd] = std::move(e);
  if (deadline < waiter_wakes_at_) {  // the waiter must wake earlier than it planned
    waiter_wakes_at_ = deadline;
    Wake();
  }
}

void ConnectionManager::Wake() {
  const uint64_t one = 1;
  [[maybe_unused]] auto written = ::write(wake_fd_, &one, sizeof one);
}

void ConnectionManager::Drop(std::unique_ptr<Entry> e) {
  e.reset();  // closes the socket
  std::lock_guard lock(mu_);
  --open_;
}

void ConnectionManager::WaitForRequests() {
  pthread_setname_np(pthread_self(), "hdm-http-wait");
  std::array<epoll_event, 64> events;
  int timeout_ms = -1;
  for (;;) {
    const int n = epoll_wait(epoll_fd_, events.data(), events.size(), timeout_ms);
    std::vector<std::unique_ptr<Entry>> ready;
    std::vector<std::unique_ptr<Entry>> expired;
    timeout_ms = TakeReadyAndExpired(events.data(), std::max(n, 0), ready, expired);
    if (timeout_ms == -2) return;  // stopping
    for (auto& e : ready) {
      pool_.Post([this, e = std::move(e)]() mutable { Serve(std::move(e)); });
    }
    for (auto& e : expired) Drop(std::move(e));
  }
}

// Moves the parked connections that became readable to `ready`, those past their deadline to
// `expired`; returns the epoll timeout until the next deadline (-1: none), or -2 when stopping.
int ConnectionManager::TakeReadyAndExpired(const epoll_event* events, int n,
                                           std::vector<std::unique_ptr<Entry>>& ready,
                                           std::vector<std::unique_ptr<Entry>>& expired) {
  std::lock_guard lock(mu_);
  if (stopping_) return -2;
  const auto now = Clock::now();
  for (int i = 0; i < n; ++i) {
    const int fd = events[i].data.fd;
    if (fd == wake_fd_) {
      uint64_t count;
      [[maybe_unused]] auto r = ::read(wake_fd_, &count, sizeof count);
      continue;
    }
    auto it = parked_.find(fd);
    if (it == parked_.end()) continue;
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    it->second->conn->set_arrived(now);
    ready.push_back(std::move(it->second));
    parked_.erase(it);
  }
  auto next = Clock::time_point::max();
  for (auto it = parked_.begin(); it != parked_.end();) {
    if (it->second->deadline > now) {
      next = std::min(next, it->second->deadline);
      ++it;
      continue;
    }
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->first, nullptr);
    expired.push_back(std::move(it->second));
    it = parked_.erase(it);
  }
  waiter_wakes_at_ = next;
  if (next == Clock::time_point::max()) return -1;
  return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(next - now).count());
}

void ConnectionManager::Serve(std::unique_ptr<Entry> e) {
  {
    std::unique_lock lock(mu_);
    if (stopping_) {
      lock.unlock();
      return Drop(std::move(e));
    }
    serving_.insert(e->conn.get());
  }
  const bool keep = ServeRequests(*e);
  {
    std::lock_guard lock(mu_);
    serving_.erase(e->conn.get());
  }
  if (keep) return Park(std::move(e), Clock::now() + limits_.idle_timeout);
  Drop(std::move(e));
}

// Answers requests while they come without a pause; true when the connection is to be kept.
bool ConnectionManager::ServeRequests(Entry& e) {
  if (!e.conn->Handshake(Clock::now() + limits_.read_timeout)) return false;
  for (bool first = true; first || e.parser.HasInput() || e.conn->HasBufferedInput();
       first = false) {
    if (!first) e.conn->set_arrived(Clock::now());
    e.conn->set_read_deadline(Clock::now() + limits_.read_timeout);
    bool last = ++e.served >= limits_.max_requests_per_connection;
    {
      std::lock_guard lock(mu_);
      last = last || stopping_;
    }
    if (!serve_(*e.conn, e.parser, last, limits_.write_timeout)) return false;
  }
  return true;
}

void ConnectionManager::Stop() {
  std::unordered_map<int, std::unique_ptr<Entry>> parked;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    for (Connection* c : serving_) c->Abort();
    parked.swap(parked_);
  }
  Wake();
  waiter_.join();
  for (auto& [fd, e] : parked) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    Drop(std::move(e));
  }
  pool_.Stop();  // the requests queued meanwhile find stopping_ and close
}

ConnectionManager::Stats ConnectionManager::stats() const {
  std::lock_guard lock(mu_);
  return {.open = open_,
          .parked = static_cast<int>(parked_.size()),
          .queued = pool_.queued(),
          .worker_threads = pool_.threads(),
          .peak_worker_threads = pool_.peak_threads(),
          .refused = refused_};
}

}  // namespace hdm
