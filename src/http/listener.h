// Listener: the monitor's listening socket and the thread ("hdm-http") that accepts on it.
//
// Accepting never blocks on a client: each accepted socket goes straight to the `adopt`
// callback (the ConnectionManager), so the thread only ever waits in poll(). When the process
// runs out of file descriptors, accepting pauses for 100 ms at a time (logged once per spell)
// instead of spinning on a socket it cannot take.
//
// Start() once, Stop() from any thread; the destructor stops and closes.
#pragma once

#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace hdm {

// Why Open() failed: the message, and the errno of the bind or listen (0 when the host did not
// resolve or the failure came after).
struct ListenError {
  std::string message;
  int error = 0;
};

class Listener {
 public:
  // Binds `host` (a name or numeric address; "::" also takes IPv4; a name that resolves to both
  // families gets its first IPv4 address) and `port` (0: any free one) and listens. The error names
  // the cause as the system does: "Address already in use", "Permission denied", "Cannot assign
  // requested address", or why `host` does not resolve.
  static std::expected<std::unique_ptr<Listener>, ListenError> Open(const std::string& host,
                                                                    int port);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  int port() const { return port_; }
  // Accepts on a thread of its own until Stop(), handing each socket (owned by the callee) to
  // `adopt`.
  void Start(std::function<void(int fd)> adopt);
  void Stop();

 private:
  Listener(int fd, int wake_fd, int port) : fd_(fd), wake_fd_(wake_fd), port_(port) {}
  void AcceptLoop();

  int fd_;             // -1 once Stop() closed it
  const int wake_fd_;  // eventfd: Stop() wakes the accepting thread with it
  const int port_;
  std::function<void(int)> adopt_;
  std::thread thread_;
};

}  // namespace hdm
