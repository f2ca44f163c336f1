// Internal to the HTTP client: one TCP connection, optionally TLS, with blocking reads and writes
// that give up at a deadline. Blocking, not event-driven: a worker thread owns one connection and
// a check costs one write and (usually) one read system call. The socket's own receive and send
// timeouts bound each call, so no poll() precedes them; they are re-armed only when the deadline
// is nearer than the timeout already set.
#pragma once

#include <chrono>
#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "hotdata/resolver.h"

using SSL_CTX = struct ssl_ctx_st;
using SSL = struct ssl_st;
using BIO = struct bio_st;

namespace hdm::hotdata {

using SteadyTime = std::chrono::steady_clock::time_point;

// A client TLS context, shared by every connection with the same settings (it holds the CA
// store, which is large for the system CAs). Verification is on unless `insecure_skip_verify`.
struct TlsSettings {
  std::string ca_file;  // empty: the system CAs
  bool insecure_skip_verify = false;
};
std::expected<std::shared_ptr<SSL_CTX>, std::string> ClientTlsContext(const TlsSettings& settings);

enum class IoError {
  kTimeout,  // the deadline passed
  kClosed,   // the peer closed the connection (or reset it)
  kTls,      // a TLS-level failure (handshake, bad record)
  kVerify,   // the server's certificate failed verification
};

class ClientConnection {
 public:
  // Told the socket right after it is created and -1 before it is closed, so that another
  // thread can shut it down to abort a blocked call; returns false to abort the connect.
  using SocketHook = std::function<bool(int fd)>;

  // Connects to `port` on each of `addresses` (those of `host`, resolved already) in turn and,
  // with `tls`, does the handshake (SNI and host name verification against `host`).
  static std::expected<std::unique_ptr<ClientConnection>, IoError> Open(
      const std::string& host, const Addresses& addresses, int port,
      const std::shared_ptr<SSL_CTX>& tls, SteadyTime deadline, const SocketHook& hook);
  ~ClientConnection();
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  std::expected<void, IoError> Write(std::string_view data, SteadyTime deadline);
  // Reads what is available (at least one byte) into `buf`; kClosed at the end of the stream.
  std::expected<size_t, IoError> Read(char* buf, size_t size, SteadyTime deadline);
  // True when the idle connection cannot carry another request: the server closed it or sent
  // something unasked (a TLS close_notify, an HTTP 408). One non-blocking peek.
  bool Stale() const;

 private:
  ClientConnection(int fd, SocketHook hook) : fd_(fd), hook_(std::move(hook)) {}
  std::expected<void, IoError> Handshake(const std::shared_ptr<SSL_CTX>& tls,
                                         const std::string& host, SteadyTime deadline);
  // Sets the socket's timeouts so that a blocked call returns by `deadline`; kTimeout when it
  // has passed.
  std::expected<void, IoError> Arm(SteadyTime deadline);
  // OpenSSL reads a record in as many read()s as it takes, and each restarts the socket's
  // timeout: without this, a server dripping one record would hold one SSL_read or SSL_connect
  // far past the deadline. Called by the socket BIO before each of its reads and writes; once
  // the deadline has passed, the call fails at once (EAGAIN) and the SSL call returns.
  static long BeforeSocketIo(BIO* bio, int oper, const char* argp, size_t len, int argi, long argl,
                             int ret, size_t* processed);

  int fd_ = -1;
  SocketHook hook_;
  std::shared_ptr<SSL_CTX> tls_;  // keeps the context alive as long as `ssl_`
  SSL* ssl_ = nullptr;
  std::chrono::microseconds armed_{0};  // the socket's timeouts now; 0: none set yet
  SteadyTime io_deadline_{};            // of the SSL call in progress (BeforeSocketIo)
};

}  // namespace hdm::hotdata
