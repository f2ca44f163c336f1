// Connection: one accepted client socket of the monitor's server (non-blocking, optionally under
// TLS): the bytes in and out of the server's exchanges.
//
// Reads wait at most until the read deadline that the caller sets for each request, and writes
// until the deadline it gives for each response, however slowly the bytes trickle in or out.
//
// Used by one thread at a time.
#pragma once

#include <openssl/ssl.h>

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>

namespace hdm {

class Connection final {
 public:
  using Clock = std::chrono::steady_clock;

  // Takes `fd` (made non-blocking here) and `ssl` (null for plain HTTP; set up on `fd`).
  Connection(int fd, SSL* ssl);
  ~Connection();  // closes the socket (after a TLS close_notify when it can)
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Completes the TLS handshake, by `deadline`; true at once for plain HTTP.
  bool Handshake(Clock::time_point deadline);
  void set_read_deadline(Clock::time_point deadline) { read_deadline_ = deadline; }
  // When the first byte of the request being served was seen (it may then have waited its turn
  // for a worker).
  Clock::time_point arrived() const { return arrived_; }
  void set_arrived(Clock::time_point t) { arrived_ = t; }
  // TLS has decrypted bytes that Read() will return without waiting.
  bool HasBufferedInput() const;
  // Shuts the socket down both ways (any thread): the owner's waits end at once.
  void Abort();

  // Up to `size` bytes, waiting for the first until the read deadline: the count (> 0), 0 at the
  // end of the stream, or -1 on an error or when the deadline passed.
  ssize_t Read(char* ptr, size_t size);
  // Writes all of `data` by `deadline`; false on an error or when the deadline passed first.
  bool WriteAll(std::string_view data, Clock::time_point deadline);
  // The client's numeric address ("127.0.0.1", "::1"); "" when unknown. Looked up once.
  const std::string& RemoteAddress();
  int socket() const { return fd_; }

 private:
  // One non-blocking transfer: bytes moved (> 0), 0 at the end of the stream, or -1 with `wait`
  // set to the poll event to wait for before retrying (0: a hard error).
  ssize_t RecvOnce(char* ptr, size_t size, short& wait);
  ssize_t SendOnce(const char* ptr, size_t size, short& wait);
  // RecvOnce's result for an SSL call that returned `ret` <= 0 (clears OpenSSL's errors).
  ssize_t SslFailure(int ret, short& wait);
  bool Wait(short events, Clock::time_point until) const;

  const int fd_;
  SSL* const ssl_;
  Clock::time_point read_deadline_ = Clock::now();
  Clock::time_point arrived_ = Clock::now();
  std::string remote_address_;
  bool remote_address_known_ = false;
};

}  // namespace hdm
