#include "state/state_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/time_format.h"

namespace hdm::state {
namespace {

// CheckUsable() writes at least this much: a state file of a few entries fits.
constexpr size_t kMinProbeBytes = 4096;

std::string Errno(int err) { return std::strerror(err); }

std::string DirectoryOf(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

// Writes all of `data` to `fd`, riding over short writes and EINTR.
bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

// Run as root (the operator command line), give the new file the owner of the one it replaces
// (else of the directory), so that the daemon's own user can still read and replace it.
void KeepOwner(int fd, const std::string& path) {
  if (::geteuid() != 0) return;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 && ::stat(DirectoryOf(path).c_str(), &st) != 0) return;
  if (st.st_uid != 0 || st.st_gid != 0) (void)::fchown(fd, st.st_uid, st.st_gid);
}

// Writes `text` to `<path>.tmp` and syncs it; on failure removes it and says why.
std::expected<void, std::string> WriteTemp(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return std::unexpected("cannot write " + tmp + ": " + Errno(errno));
  KeepOwner(fd, path);
  const bool written = WriteAll(fd, text);
  const int write_err = errno;
  const bool synced = written && ::fsync(fd) == 0;
  const int sync_err = errno;
  const bool closed = ::close(fd) == 0;
  if (!written || !synced || !closed) {
    const int err = !written ? write_err : !synced ? sync_err : errno;
    ::unlink(tmp.c_str());
    return std::unexpected("cannot write " + tmp + ": " + Errno(err));
  }
  return {};
}

// The reason a file's content cannot be used, or nullopt when `doc` is a usable envelope.
std::optional<std::string> CheckEnvelope(const nlohmann::json& doc) {
  if (!doc.is_object()) return "not a JSON object";
  const auto it = doc.find("version");
  if (it == doc.end()) return "no \"version\" field";
  if (!it->is_number_integer() || it->get<int64_t>() != kStateVersion) {
    return "version " + it->dump() + " is not the supported version " +
           std::to_string(kStateVersion);
  }
  return std::nullopt;
}

LoadError Reject(const std::string& path, const std::string& why, SysTime now) {
  LoadError error;
  auto moved = SetAside(path, now);
  if (moved) {
    error.set_aside_path = *moved;
    error.message = path + ": " + why + "; set aside as " + *moved + ", starting from empty state";
  } else {
    error.message = path + ": " + why + "; could not set it aside (" + moved.error() +
                    "), starting from empty state";
  }
  return error;
}

}  // namespace

std::expected<std::string, std::string> SetAside(const std::string& path, SysTime now) {
  const std::string base =
      path + ".corrupt-" +
      std::to_string(
          std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
  std::string target = base;
  std::error_code ec;
  for (int n = 1; std::filesystem::exists(target, ec); ++n) {
    target = base + "-" + std::to_string(n);
  }
  if (::rename(path.c_str(), target.c_str()) != 0) return std::unexpected(Errno(errno));
  return target;
}

std::expected<nlohmann::json, LoadError> Load(const std::string& path, SysTime now) {
  std::error_code dir_ec;
  if (std::filesystem::is_directory(path, dir_ec)) {
    return std::unexpected(Reject(path, "cannot read: it is a directory", now));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec) && !ec) return nlohmann::json::object();
    return std::unexpected(Reject(path, "cannot read: " + Errno(err), now));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return std::unexpected(Reject(path, "cannot read: " + Errno(errno), now));
  in.close();

  nlohmann::json doc = nlohmann::json::parse(buffer.str(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return std::unexpected(Reject(path, "not valid JSON", now));
  if (auto why = CheckEnvelope(doc)) return std::unexpected(Reject(path, *why, now));
  doc.erase("version");
  doc.erase("saved_at");
  return doc;
}

std::expected<void, std::string> Save(const std::string& path, const nlohmann::json& sections,
                                      SysTime now) {
  if (!sections.is_object()) return std::unexpected(path + ": state must be a JSON object");
  nlohmann::json doc = sections;
  doc["version"] = kStateVersion;
  doc["saved_at"] = FormatRfc3339(now);
  // Replace invalid UTF-8 rather than throw: names come from the API.
  const std::string text = doc.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";

  const std::string tmp = path + ".tmp";
  if (auto written = WriteTemp(path, text); !written) return written;
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return std::unexpected("cannot rename " + tmp + " to " + path + ": " + Errno(err));
  }
  // The rename is durable only once the directory entry is on disk.
  const std::string dir = DirectoryOf(path);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return std::unexpected("cannot open directory " + dir + ": " + Errno(errno));
  const bool dir_synced = ::fsync(dfd) == 0;
  const int dir_err = errno;
  ::close(dfd);
  if (!dir_synced) return std::unexpected("cannot fsync directory " + dir + ": " + Errno(dir_err));
  return {};
}

std::expected<void, std::string> CheckUsable(const std::string& path) {
  size_t size = kMinProbeBytes;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
      size = std::max(size, static_cast<size_t>(st.st_size));
    }
    ::close(fd);
  } else if (errno != ENOENT) {
    return std::unexpected("cannot read " + path + ": " + Errno(errno));
  }
  if (auto written = WriteTemp(path, std::string(size, ' ')); !written) return written;
  ::unlink((path + ".tmp").c_str());
  return {};
}

}  // namespace hdm::state
