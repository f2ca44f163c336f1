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
#include <cstring>

namespace hdm {
namespace {

// The numeric address and port of a socket name from getpeername or getsockname.
void AddressOf(const sockaddr_storage& addr, socklen_t len, std::string& ip, int& port) {
  char host[NI_MAXHOST];
  char serv[NI_MAXSERV];
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, host, sizeof host, serv,
                  sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return;
  }
  ip = host;
  port = std::atoi(serv);
}

}  // namespace

Connection::Connection(int fd, SSL* ssl, std::chrono::milliseconds write_timeout)
    : fd_(fd), ssl_(ssl), write_timeout_(write_timeout) {
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

bool Connection::HasBufferedInput() const {
  return buf_begin_ < buf_end_ || (ssl_ != nullptr && SSL_pending(ssl_) > 0);
}

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
  // A peer's close_notify ends a write with an error, never 0 (httplib's writer would loop).
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

bool Connection::is_readable() const { return HasBufferedInput() || Wait(POLLIN, read_deadline_); }

bool Connection::is_writable() const { return Wait(POLLOUT, Clock::now() + write_timeout_); }

ssize_t Connection::read(char* ptr, size_t size) {
  while (buf_begin_ == buf_end_) {
    short wait = 0;
    const ssize_t n = RecvOnce(buf_.data(), buf_.size(), wait);
    if (n > 0) {
      buf_begin_ = 0;
      buf_end_ = static_cast<size_t>(n);
    } else if (n == 0 || wait == 0 || !Wait(wait, read_deadline_)) {
      return n;
    }
  }
  const size_t n = std::min(size, buf_end_ - buf_begin_);
  std::memcpy(ptr, buf_.data() + buf_begin_, n);
  buf_begin_ += n;
  return static_cast<ssize_t>(n);
}

ssize_t Connection::write(const char* ptr, size_t size) {
  for (;;) {
    short wait = 0;
    const ssize_t n = SendOnce(ptr, size, wait);
    if (n >= 0 || wait == 0 || !Wait(wait, Clock::now() + write_timeout_)) return n;
  }
}

void Connection::get_remote_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getpeername(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    AddressOf(addr, len, ip, port);
  }
}

void Connection::get_local_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    AddressOf(addr, len, ip, port);
  }
}

}  // namespace hdm
