// Connection: one accepted client socket of the monitor's server (non-blocking, optionally under
// TLS), as the httplib::Stream that httplib's request parser reads and writes through.
//
// Reads wait at most until the read deadline that the caller sets for each request, however the
// bytes trickle in; each wait to write lasts at most the write timeout. Reads are buffered, so
// that httplib's byte-by-byte header parsing costs one syscall per packet, and so that a
// pipelined request already read is not lost between two requests (HasBufferedInput).
//
// Used by one thread at a time.
#pragma once

#include <openssl/ssl.h>

#include <array>
#include <chrono>
#include <string>

#include <httplib.h>

namespace hdm {

class Connection final : public httplib::Stream {
 public:
  using Clock = std::chrono::steady_clock;

  // Takes `fd` (made non-blocking here) and `ssl` (null for plain HTTP; set up on `fd`).
  Connection(int fd, SSL* ssl, std::chrono::milliseconds write_timeout);
  ~Connection() override;  // closes the socket (after a TLS close_notify when it can)
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Completes the TLS handshake, by `deadline`; true at once for plain HTTP.
  bool Handshake(Clock::time_point deadline);
  void set_read_deadline(Clock::time_point deadline) { read_deadline_ = deadline; }
  // When the first byte of the request being served was seen (it may then have waited its turn
  // for a worker).
  Clock::time_point arrived() const { return arrived_; }
  void set_arrived(Clock::time_point t) { arrived_ = t; }
  // Bytes of a next request are already read (the client pipelined it).
  bool HasBufferedInput() const;
  // Shuts the socket down both ways (any thread): the owner's waits end at once.
  void Abort();

  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override { return fd_; }

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
  const std::chrono::milliseconds write_timeout_;
  Clock::time_point read_deadline_ = Clock::now();
  Clock::time_point arrived_ = Clock::now();
  std::array<char, 4096> buf_{};
  size_t buf_begin_ = 0;
  size_t buf_end_ = 0;
};

}  // namespace hdm
