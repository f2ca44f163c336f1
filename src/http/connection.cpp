#include "http/connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace hdm {

Connection::Connection(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {
  fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK);
}

Connection::~Connection() {
  if (ssl_ != nullptr) {
    if (SSL_is_init_finished(ssl_)) SSL_shutdown(ssl_);  // one try, never waits
    SSL_free(ssl_);
    ERR_clear_error();
  }
  ::close(fd_);
}

bool Connection::Handshake(Clock::time_point deadline) {
  // Done already (a kept-alive connection): arrived_ stays when its next request came.
  if (ssl_ == nullptr || SSL_is_init_finished(ssl_)) return true;
  for (;;) {
    ERR_clear_error();
    const int r = SSL_accept(ssl_);
    if (r == 1) {
      arrived_ = Clock::now();  // the request itself comes after the handshake
      return true;
    }
    const int error = SSL_get_error(ssl_, r);
    short wait = 0;
    if (error == SSL_ERROR_WANT_READ) wait = POLLIN;
    if (error == SSL_ERROR_WANT_WRITE) wait = POLLOUT;
    if (wait == 0 || !Wait(wait, deadline)) {
      ERR_clear_error();
      return false;
    }
  }
}

bool Connection::HasBufferedInput() const { return ssl_ != nullptr && SSL_pending(ssl_) > 0; }

void Connection::Abort() { ::shutdown(fd_, SHUT_RDWR); }

bool Connection::Wait(short events, Clock::time_point until) const {
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{.fd = fd_, .events = events, .revents = 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1 << 30)));
    if (n > 0) return true;  // ready, or an error or hang-up that the next transfer reports
    if (n < 0 && errno != EINTR) return false;
  }
}

ssize_t Connection::RecvOnce(char* ptr, size_t size, short& wait) {
  wait = 0;
  if (ssl_ == nullptr) {
    for (;;) {
      const ssize_t n = ::recv(fd_, ptr, size, 0);
      if (n >= 0) return n;
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) wait = POLLIN;
      return -1;
    }
  }
  ERR_clear_error();
  const int n = SSL_read(ssl_, ptr, static_cast<int>(std::min<size_t>(size, 1 << 30)));
  return n > 0 ? n : SslFailure(n, wait);
}

ssize_t Connection::SendOnce(const char* ptr, size_t size, short& wait) {
  wait = 0;
  if (ssl_ == nullptr) {
    for (;;) {
      const ssize_t n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
      if (n >= 0) return n;
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) wait = POLLOUT;
      return -1;
    }
  }
  ERR_clear_error();
  const int n = SSL_write(ssl_, ptr, static_cast<int>(std::min<size_t>(size, 1 << 30)));
  if (n > 0) return n;
  // A peer's close_notify ends a write with an error, never 0.
  return std::min<ssize_t>(SslFailure(n, wait), -1);
}

ssize_t Connection::SslFailure(int ret, short& wait) {
  switch (SSL_get_error(ssl_, ret)) {
    case SSL_ERROR_WANT_READ:
      wait = POLLIN;
      return -1;
    case SSL_ERROR_WANT_WRITE:
      wait = POLLOUT;
      return -1;
    case SSL_ERROR_ZERO_RETURN:  // close_notify: the end of the stream
      return 0;
    default:
      ERR_clear_error();
      return -1;
  }
}

ssize_t Connection::Read(char* ptr, size_t size) {
  for (;;) {
    short wait = 0;
    const ssize_t n = RecvOnce(ptr, size, wait);
    if (n >= 0 || wait == 0 || !Wait(wait, read_deadline_)) return n;
  }
}

bool Connection::WriteAll(std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    short wait = 0;
    const ssize_t n = SendOnce(data.data(), data.size(), wait);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
    } else if (n == 0 || wait == 0 || !Wait(wait, deadline)) {
      return false;
    }
  }
  return true;
}

const std::string& Connection::RemoteAddress() {
  if (remote_address_known_) return remote_address_;
  remote_address_known_ = true;
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  char host[NI_MAXHOST];
  if (getpeername(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0 &&
      getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, host, sizeof host, nullptr, 0,
                  NI_NUMERICHOST) == 0) {
    remote_address_ = host;
  }
  return remote_address_;
}

}  // namespace hdm
