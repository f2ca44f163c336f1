// Sharing the state file between processes: the daemon and the operator command line
// (`hotdata-monitor connections purge`) both read and write it.
//
// A writer holds StateLock (an exclusive flock on `<path>.lock`, a file that is never renamed)
// around its whole read-merge-write, so that no update of the other process is lost. Readers
// need no lock: Save() replaces the file atomically. Stamp() tells a reader cheaply whether the
// file changed since it last read or wrote it (Save() gives a new inode each time).
//
// Thread-safe as far as the kernel's flock is: one StateLock per process and path at a time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>

namespace hdm::state {

class StateLock {
 public:
  // Locks `<state_path>.lock` (created 0644 when missing; read access suffices), waiting at most
  // `timeout` for another holder. Errors name the lock file and why.
  static std::expected<StateLock, std::string> Acquire(const std::string& state_path,
                                                       std::chrono::milliseconds timeout);
  StateLock(StateLock&& other) noexcept;
  StateLock& operator=(StateLock&& other) noexcept;
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;
  ~StateLock();  // unlocks

 private:
  explicit StateLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// What identifies one version of a file: a different stamp means another write.
struct FileStamp {
  dev_t device = 0;
  ino_t inode = 0;
  int64_t mtime_ns = 0;
  int64_t size = 0;
  friend bool operator==(const FileStamp&, const FileStamp&) = default;
};
// nullopt when the file does not exist (or cannot be stat'ed).
std::optional<FileStamp> Stamp(const std::string& path);

}  // namespace hdm::state
