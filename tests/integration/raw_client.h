// RawClient: a TCP client of 127.0.0.1:port for server tests, doing what httplib's client cannot:
// connect and say nothing, send a request a few bytes at a time, read slowly.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace hdm::testing {

class RawClient {
 public:
  using Clock = std::chrono::steady_clock;
  using milliseconds = std::chrono::milliseconds;

  // `receive_buffer` > 0 shrinks the socket's receive buffer (before connecting), so that the
  // server's writes block as soon as the client stops reading.
  explicit RawClient(int port, int receive_buffer = 0)
      : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    if (receive_buffer > 0) {
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }
  bool Send(std::string_view bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  // What arrives until the server closes the connection (`closed` set), `enough` arrived (when
  // not empty), or `limit` passes.
  std::string Read(milliseconds limit, bool& closed, std::string_view enough = {}) {
    std::string out;
    closed = false;
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline && (enough.empty() || out.find(enough) == std::string::npos)) {
      pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 1))) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed = true;
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  // One recv of at most `max` bytes, waiting up to `limit`: the count, 0 when the server
  // closed, -1 when nothing came.
  ssize_t ReadSome(size_t max, milliseconds limit) {
    pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
    if (::poll(&p, 1, static_cast<int>(limit.count())) <= 0) return -1;
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, std::min(max, sizeof buf), 0);
    return n < 0 ? 0 : n;  // a reset is a close too
  }

 private:
  int fd_;
  bool connected_ = false;
};

}  // namespace hdm::testing
