#include "http/listener.h"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

namespace hdm {
namespace {

// A socket bound to `ai` and listening, or -1 with errno set.
int BindAndListen(const addrinfo& ai) {
  const int fd =
      ::socket(ai.ai_family, ai.ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai.ai_protocol);
  if (fd < 0) return -1;
  const int yes = 1;
  const int no = 0;
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes) != 0 ||
      (ai.ai_family == AF_INET6 &&
       ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &no, sizeof no) != 0) ||
      ::bind(fd, ai.ai_addr, ai.ai_addrlen) != 0 || ::listen(fd, SOMAXCONN) != 0) {
    const int error = errno;
    ::close(fd);
    errno = error;
    return -1;
  }
  return fd;
}

int BoundPort(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return -1;
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in&>(addr).sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6&>(addr).sin6_port);
}

bool OutOfResources(int error) {
  return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
}

}  // namespace

std::expected<std::unique_ptr<Listener>, ListenError> Listener::Open(const std::string& host,
                                                                     int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return std::unexpected(ListenError{.message = host + ": " + ::gai_strerror(rc)});
  }
  // IPv4 first, as Go's exporters do: "localhost" then means 127.0.0.1, where a scraper of
  // 127.0.0.1 finds it (a socket on ::1 would not take IPv4).
  int fd = -1;
  int first_error = 0;
  for (const int family : {AF_INET, AF_INET6}) {
    for (const addrinfo* ai = found; ai != nullptr && fd < 0; ai = ai->ai_next) {
      if (ai->ai_family != family) continue;
      fd = BindAndListen(*ai);
      if (fd < 0 && first_error == 0) first_error = errno;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) {
    const int error = first_error != 0 ? first_error : EINVAL;
    return std::unexpected(ListenError{.message = std::strerror(error), .error = error});
  }
  const int wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  const int bound = BoundPort(fd);
  if (wake_fd < 0 || bound < 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    if (wake_fd >= 0) ::close(wake_fd);
    return std::unexpected(ListenError{.message = why});
  }
  return std::unique_ptr<Listener>(new Listener(fd, wake_fd, bound));
}

Listener::~Listener() {
  Stop();
  ::close(wake_fd_);
}

void Listener::Start(std::function<void(int fd)> adopt) {
  adopt_ = std::move(adopt);
  thread_ = std::thread([this] { AcceptLoop(); });
}

void Listener::Stop() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(wake_fd_, &one, sizeof one);
    thread_.join();
  }
  // Closed at once, not when the Listener goes: a client still in the backlog (connected, not
  // accepted) is reset now instead of waiting for an answer that never comes, and the port is
  // free for whoever binds it next.
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

void Listener::AcceptLoop() {
  pthread_setname_np(pthread_self(), "hdm-http");
  bool starved = false;  // out of descriptors just now
  bool warned = false;   // logged for this spell
  for (;;) {
    pollfd fds[2] = {{.fd = wake_fd_, .events = POLLIN, .revents = 0},
                     {.fd = fd_, .events = POLLIN, .revents = 0}};
    // While starved, only the wake-up is watched, for 100 ms: the listening socket would stay
    // readable and spin the loop.
    const int n = ::poll(fds, starved ? 1 : 2, starved ? 100 : -1);
    if (n < 0 && errno != EINTR) {
      spdlog::error("HTTP: waiting for connections failed: {}", std::strerror(errno));
      return;
    }
    if (fds[0].revents != 0) return;  // Stop()
    starved = false;
    for (;;) {
      const int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client >= 0) {
        warned = false;
        adopt_(client);
        continue;
      }
      if (OutOfResources(errno)) {
        if (!warned) {
          spdlog::warn("HTTP: cannot accept connections: {}; retrying every 100 ms",
                       std::strerror(errno));
        }
        starved = warned = true;
      }
      break;  // EAGAIN, or a connection that died before it was taken
    }
  }
}

}  // namespace hdm
