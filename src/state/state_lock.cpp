#include "state/state_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace hdm::state {

std::expected<StateLock, std::string> StateLock::Acquire(const std::string& state_path,
                                                         std::chrono::milliseconds timeout) {
  const std::string lock_path = state_path + ".lock";
  // Read-only is enough for flock, so a lock file created by root serves the daemon's user too.
  // Never through a symlink (O_CREAT would create its target), nor blocking on a planted FIFO.
  const int fd =
      ::open(lock_path.c_str(), O_RDONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    struct stat st {};
    const bool link = err == ELOOP && ::lstat(lock_path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
    return std::unexpected("cannot open " + lock_path + ": " +
                           (link ? "it is a symbolic link (not followed)" : std::strerror(err)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return std::unexpected("cannot open " + lock_path + ": not a regular file");
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return StateLock(fd);
    const int err = errno;
    if (err == EINTR) continue;
    if (err != EWOULDBLOCK || std::chrono::steady_clock::now() >= deadline) {
      ::close(fd);
      return std::unexpected("cannot lock " + lock_path + ": " +
                             (err == EWOULDBLOCK ? std::string("held by another process")
                                                 : std::string(std::strerror(err))));
    }
    // Holders keep it for milliseconds (one read-merge-write); poll rather than block forever.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

StateLock::StateLock(StateLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

StateLock& StateLock::operator=(StateLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

StateLock::~StateLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

std::optional<FileStamp> Stamp(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileStamp{
      .device = st.st_dev,
      .inode = st.st_ino,
      .mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
      .size = static_cast<int64_t>(st.st_size)};
}

}  // namespace hdm::state
