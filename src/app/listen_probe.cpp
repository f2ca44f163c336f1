#include "app/listen_probe.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "http/server.h"

namespace hdm {

std::optional<std::string> ListenProblem(const std::string& listen) {
  auto addr = ParseListenAddress(listen);
  if (!addr) return addr.error();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(addr->port);
  if (const int rc = ::getaddrinfo(addr->host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return std::string(::gai_strerror(rc));
  }
  std::optional<std::string> problem;
  const int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, found->ai_protocol);
  const int yes = 1;
  if (fd < 0) {
    problem = std::strerror(errno);
  } else if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes) != 0 ||
             ::bind(fd, found->ai_addr, found->ai_addrlen) != 0 || ::listen(fd, 1) != 0) {
    problem = std::strerror(errno);
  }
  if (fd >= 0) ::close(fd);
  ::freeaddrinfo(found);
  return problem;
}

}  // namespace hdm
