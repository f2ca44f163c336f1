#include "hotdata/client_connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <mutex>
#include <optional>

namespace hdm::hotdata {

namespace {

using std::chrono::microseconds;
using Clock = std::chrono::steady_clock;

bool IsIpLiteral(const std::string& host) {
  in6_addr addr{};
  return inet_pton(AF_INET, host.c_str(), &addr) == 1 ||
         inet_pton(AF_INET6, host.c_str(), &addr) == 1;
}

bool SetBlocking(int fd) {
  const int flags = fcntl(fd, F_GETFL);
  return flags >= 0 && fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0;
}

// Waits for a non-blocking connect on `fd` to finish by `deadline`.
std::expected<void, IoError> AwaitConnect(int fd, SteadyTime deadline) {
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return std::unexpected(IoError::kTimeout);
    pollfd p{.fd = fd, .events = POLLOUT, .revents = 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1 << 30)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::unexpected(IoError::kClosed);
    if (n == 0) continue;  // the deadline is checked above
    int error = 0;
    socklen_t len = sizeof error;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error != 0) {
      return std::unexpected(IoError::kClosed);
    }
    return {};
  }
}

// What an SSL call that returned `ret` <= 0 means: nullopt to call it again (the socket's
// timeout expired, or OpenSSL wants the other direction), else the error.
std::optional<IoError> SslFailure(SSL* ssl, int ret) {
  switch (SSL_get_error(ssl, ret)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      return std::nullopt;
    case SSL_ERROR_ZERO_RETURN:
      return IoError::kClosed;
    case SSL_ERROR_SYSCALL:
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) return std::nullopt;
      return IoError::kClosed;
    default:
      return IoError::kTls;
  }
}

}  // namespace

std::expected<std::shared_ptr<SSL_CTX>, std::string> ClientTlsContext(const TlsSettings& settings) {
  static std::mutex mu;
  static std::map<std::pair<std::string, bool>, std::weak_ptr<SSL_CTX>> contexts;
  const auto key = std::make_pair(settings.ca_file, settings.insecure_skip_verify);
  std::lock_guard lock(mu);
  if (auto shared = contexts[key].lock()) return shared;

  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (!ctx) return std::unexpected("cannot set up TLS");
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  // A server closing without close_notify ends the stream like any close; the HTTP framing
  // tells a complete answer from a cut one.
  SSL_CTX_set_options(ctx.get(), SSL_OP_IGNORE_UNEXPECTED_EOF);
  // Read whole records at once: one read() per answer instead of two per record.
  SSL_CTX_set_read_ahead(ctx.get(), 1);
  if (settings.insecure_skip_verify) {
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  } else {
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    const bool loaded =
        settings.ca_file.empty()
            ? SSL_CTX_set_default_verify_paths(ctx.get()) == 1
            : SSL_CTX_load_verify_locations(ctx.get(), settings.ca_file.c_str(), nullptr) == 1;
    ERR_clear_error();
    if (!loaded) return std::unexpected("cannot load CA certificates");
  }
  contexts[key] = ctx;
  return ctx;
}

std::expected<std::unique_ptr<ClientConnection>, IoError> ClientConnection::Open(
    const std::string& host, const Addresses& addresses, int port,
    const std::shared_ptr<SSL_CTX>& tls, SteadyTime deadline, const SocketHook& hook) {
  IoError last = IoError::kClosed;
  for (const ResolvedAddress& a : addresses) {
    ResolvedAddress target = a;
    if (target.family == AF_INET && target.len >= sizeof(sockaddr_in)) {
      reinterpret_cast<sockaddr_in*>(&target.addr)->sin_port = htons(static_cast<uint16_t>(port));
    } else if (target.family == AF_INET6 && target.len >= sizeof(sockaddr_in6)) {
      reinterpret_cast<sockaddr_in6*>(&target.addr)->sin6_port = htons(static_cast<uint16_t>(port));
    } else {
      continue;
    }
    const int fd = ::socket(target.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    // From here the connection owns the socket: its destructor closes it.
    std::unique_ptr<ClientConnection> conn(new ClientConnection(fd, hook));
    if (!hook(fd)) return std::unexpected(IoError::kClosed);
    std::expected<void, IoError> connected;
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&target.addr), target.len) != 0) {
      connected =
          errno == EINPROGRESS ? AwaitConnect(fd, deadline) : std::unexpected(IoError::kClosed);
    }
    if (connected && !SetBlocking(fd)) connected = std::unexpected(IoError::kClosed);
    if (!connected) {
      last = connected.error();
      if (last == IoError::kTimeout) break;
      continue;
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (tls) {
      if (auto shaken = conn->Handshake(tls, host, deadline); !shaken) {
        return std::unexpected(shaken.error());
      }
    }
    return conn;
  }
  return std::unexpected(last);
}

ClientConnection::~ClientConnection() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  hook_(-1);
  ::close(fd_);
}

std::expected<void, IoError> ClientConnection::Handshake(const std::shared_ptr<SSL_CTX>& tls,
                                                         const std::string& host,
                                                         SteadyTime deadline) {
  tls_ = tls;
  ssl_ = SSL_new(tls.get());
  if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1) return std::unexpected(IoError::kTls);
  BIO* socket_bio = SSL_get_rbio(ssl_);  // SSL_set_fd: one socket BIO reads and writes
  BIO_set_callback_arg(socket_bio, reinterpret_cast<char*>(this));
  BIO_set_callback_ex(socket_bio, &ClientConnection::BeforeSocketIo);
  const bool ip = IsIpLiteral(host);
  if (!ip) SSL_set_tlsext_host_name(ssl_, host.c_str());
  if ((SSL_CTX_get_verify_mode(tls.get()) & SSL_VERIFY_PEER) != 0) {
    const int named = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host.c_str())
                         : SSL_set1_host(ssl_, host.c_str());
    if (named != 1) return std::unexpected(IoError::kTls);
  }
  io_deadline_ = deadline;
  for (;;) {
    if (auto armed = Arm(deadline); !armed) return armed;
    ERR_clear_error();
    errno = 0;
    const int ret = SSL_connect(ssl_);
    if (ret == 1) return {};
    if (auto failure = SslFailure(ssl_, ret)) {
      const bool unverified = SSL_get_verify_result(ssl_) != X509_V_OK;
      ERR_clear_error();
      return std::unexpected(unverified ? IoError::kVerify : IoError::kTls);
    }
  }
}

long ClientConnection::BeforeSocketIo(BIO* bio, int oper, const char*, size_t, int, long, int ret,
                                      size_t*) {
  if (oper != BIO_CB_READ && oper != BIO_CB_WRITE) return ret;  // after the call, or another
  auto* conn = reinterpret_cast<ClientConnection*>(BIO_get_callback_arg(bio));
  if (!conn->Arm(conn->io_deadline_)) {
    const timeval tv{.tv_sec = 0, .tv_usec = 1};
    setsockopt(conn->fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(conn->fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    conn->armed_ = microseconds(1);
  }
  return ret;
}

std::expected<void, IoError> ClientConnection::Arm(SteadyTime deadline) {
  const auto left = std::chrono::ceil<microseconds>(deadline - Clock::now());
  if (left.count() <= 0) return std::unexpected(IoError::kTimeout);
  // Keep the timeouts already set while they end at most a little after the deadline and are
  // not much shorter than what is left (which would wake the thread for nothing).
  const microseconds slack = std::min<microseconds>(left / 8, std::chrono::milliseconds(50));
  if (armed_.count() > 0 && armed_ <= left + slack && armed_ >= left / 2) return {};
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(left.count() / 1'000'000);
  tv.tv_usec = static_cast<suseconds_t>(left.count() % 1'000'000);
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  armed_ = left;
  return {};
}

std::expected<void, IoError> ClientConnection::Write(std::string_view data, SteadyTime deadline) {
  while (!data.empty()) {
    if (auto armed = Arm(deadline); !armed) return armed;
    if (ssl_ != nullptr) {
      io_deadline_ = deadline;
      ERR_clear_error();
      errno = 0;
      const int n = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
      if (n > 0) {
        data.remove_prefix(static_cast<size_t>(n));
      } else if (auto failure = SslFailure(ssl_, n)) {
        return std::unexpected(*failure);
      }
      continue;
    }
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n >= 0) {
      data.remove_prefix(static_cast<size_t>(n));
    } else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
      return std::unexpected(IoError::kClosed);
    }
  }
  return {};
}

std::expected<size_t, IoError> ClientConnection::Read(char* buf, size_t size, SteadyTime deadline) {
  for (;;) {
    if (auto armed = Arm(deadline); !armed) return std::unexpected(armed.error());
    if (ssl_ != nullptr) {
      io_deadline_ = deadline;
      ERR_clear_error();
      errno = 0;
      const int n = SSL_read(ssl_, buf, static_cast<int>(std::min<size_t>(size, 1 << 30)));
      if (n > 0) return static_cast<size_t>(n);
      if (auto failure = SslFailure(ssl_, n)) return std::unexpected(*failure);
      continue;
    }
    const ssize_t n = ::recv(fd_, buf, size, 0);
    if (n > 0) return static_cast<size_t>(n);
    if (n == 0) return std::unexpected(IoError::kClosed);
    if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
      return std::unexpected(IoError::kClosed);
    }
  }
}

bool ClientConnection::Stale() const {
  if (ssl_ != nullptr && SSL_has_pending(ssl_) != 0) return true;
  char byte = 0;
  const ssize_t n = ::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n >= 0) return true;
  return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

}  // namespace hdm::hotdata
