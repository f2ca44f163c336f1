#include "state/state_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/time_format.h"

namespace hdm::state {
namespace {

// CheckUsable() writes at least this much: a state file of a few entries fits.
constexpr size_t kMinProbeBytes = 4096;

std::string Errno(int err) { return std::strerror(err); }

constexpr const char* kSymlink = "it is a symbolic link (not followed)";

bool IsSymlink(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

// Why `path` could not be opened or read: `err` (errno), naming a refused symlink as such.
std::string ReadProblem(const std::string& path, int err) {
  return err == ELOOP && IsSymlink(path) ? kSymlink : Errno(err);
}

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
  if (::lstat(path.c_str(), &st) != 0 && ::stat(DirectoryOf(path).c_str(), &st) != 0) return;
  if (st.st_uid != 0 || st.st_gid != 0) (void)::fchown(fd, st.st_uid, st.st_gid);
}

// Writes `text` to `<path>.tmp` and syncs it; on failure removes it and says why.
std::expected<void, std::string> WriteTemp(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  // Created exclusively and never through a symlink: whoever may write the directory cannot make
  // this write (or the fchown after it) land on another file. Writers hold StateLock, so what
  // is there already is left by a crash, or planted: it is removed (a symlink itself, not its
  // target), and the name taken afresh.
  constexpr int kFlags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  int fd = ::open(tmp.c_str(), kFlags, 0600);
  if (fd < 0 && errno == EEXIST) {
    if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) {
      return std::unexpected("cannot write " + tmp + ": " + Errno(errno));
    }
    fd = ::open(tmp.c_str(), kFlags, 0600);
  }
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

// Why a document's "version" (or "readable_by") is no version: nullopt when it is one.
std::optional<int64_t> VersionField(const nlohmann::json& doc, const char* key) {
  const auto it = doc.find(key);
  if (it == doc.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

std::atomic<const Format*> g_format{nullptr};

// Reads all of `path`, riding over short reads and EINTR.
std::expected<std::string, int> ReadWholeFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return std::unexpected(errno);
  std::string content;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return std::unexpected(err);
    }
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return content;
}

std::atomic<FileReader> g_reader{nullptr};

std::expected<std::string, int> ReadFile(const std::string& path) {
  const FileReader reader = g_reader.load();
  return reader != nullptr ? reader(path) : ReadWholeFile(path);
}

LoadError Reject(const std::string& path, const std::string& why, SysTime now,
                 const std::string& kind = "corrupt") {
  LoadError error{.unusable = true, .modified = ModifiedAt(path)};
  auto moved = SetAside(path, now, kind);
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

const Format& CurrentFormat() {
  static const Format kFormat{.version = kStateVersion, .migrations = {}};
  const Format* testing = g_format.load();
  return testing != nullptr ? *testing : kFormat;
}

const Format* SetFormatForTesting(const Format* format) { return g_format.exchange(format); }

std::expected<Upgraded, std::string> Upgrade(nlohmann::json doc, const Format& format) {
  if (!doc.is_object()) return std::unexpected("not a JSON object");
  if (!doc.contains("version")) return std::unexpected("no \"version\" field");
  const std::optional<int64_t> version = VersionField(doc, "version");
  if (!version) return std::unexpected("version " + doc["version"].dump() + " is not a version");
  const std::string mine = std::to_string(format.version);
  Upgraded out;
  if (*version > format.version) {
    const std::optional<int64_t> readable_by = VersionField(doc, "readable_by");
    if (!readable_by || *readable_by > format.version || *readable_by > *version) {
      return std::unexpected(
          "version " + std::to_string(*version) + " is newer than this build's version " + mine +
          " and not readable by it (readable_by " +
          (doc.contains("readable_by") ? doc["readable_by"].dump() : std::string("absent")) + ")");
    }
    out.note = "version " + std::to_string(*version) +
               ", written by a newer hotdata-monitor and readable by version " +
               std::to_string(*readable_by) + ": reading the fields that version " + mine +
               " knows, and saving it as version " + mine;
  }
  doc.erase("version");
  doc.erase("readable_by");
  doc.erase("saved_at");
  for (int64_t v = *version; v < format.version; ++v) {
    const auto m = std::find_if(format.migrations.begin(), format.migrations.end(),
                                [&](const Migration& m) { return m.from == v; });
    if (m == format.migrations.end() || !m->apply) {
      return std::unexpected("version " + std::to_string(*version) +
                             " is older than this build's version " + mine +
                             " and has no migration from version " + std::to_string(v));
    }
    auto next = m->apply(std::move(doc));
    if (!next) {
      return std::unexpected("version " + std::to_string(*version) +
                             " could not be migrated from version " + std::to_string(v) + ": " +
                             next.error());
    }
    if (!next->is_object()) {
      return std::unexpected("version " + std::to_string(*version) +
                             ": the migration from version " + std::to_string(v) +
                             " gave no JSON object");
    }
    doc = std::move(*next);
  }
  if (*version < format.version) {
    out.note = "version " + std::to_string(*version) + " migrated to version " + mine;
  }
  out.sections = std::move(doc);
  return out;
}

std::optional<SysTime> ModifiedAt(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return std::nullopt;
  return SysTime(std::chrono::duration_cast<SysTime::duration>(
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
}

std::expected<std::string, std::string> SetAside(const std::string& path, SysTime now,
                                                 const std::string& kind) {
  const std::string base =
      path + "." + kind + "-" +
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

FileReader SetFileReaderForTesting(FileReader reader) { return g_reader.exchange(reader); }

std::expected<nlohmann::json, LoadError> Load(const std::string& path, SysTime now,
                                              std::string* note) {
  auto content = ReadFile(path);
  if (!content) {
    if (content.error() == ENOENT) return nlohmann::json::object();
    // Not a sign of a damaged file: it stays where it is, to be read again.
    return std::unexpected(
        LoadError{.message = path + ": cannot read: " + ReadProblem(path, content.error()),
                  .read_failed = true});
  }

  nlohmann::json doc = nlohmann::json::parse(*content, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return std::unexpected(Reject(path, "not valid JSON", now));
  const std::optional<int64_t> version =
      doc.is_object() ? VersionField(doc, "version") : std::optional<int64_t>();
  auto upgraded = Upgrade(std::move(doc), CurrentFormat());
  if (!upgraded) {
    // A file of a real version goes aside under a name that says which: it may be needed back
    // by the release that wrote it.
    return std::unexpected(
        Reject(path, upgraded.error(), now, version ? "v" + std::to_string(*version) : "corrupt"));
  }
  if (note != nullptr) *note = std::move(upgraded->note);
  return std::move(upgraded->sections);
}

std::expected<void, std::string> Save(const std::string& path, const nlohmann::json& sections,
                                      SysTime now) {
  if (!sections.is_object()) return std::unexpected(path + ": state must be a JSON object");
  nlohmann::json doc = sections;
  doc["version"] = kStateVersion;
  doc["readable_by"] = kStateReadableBy;
  doc["saved_at"] = FormatRfc3339(now);
  // Replace invalid UTF-8 rather than throw: names come from the API.
  const std::string text = doc.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";

  if (IsSymlink(path)) return std::unexpected("cannot write " + path + ": " + kSymlink);
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
  auto content = ReadFile(path);
  if (content) {
    size = std::max(size, content->size());
  } else if (content.error() != ENOENT) {
    return std::unexpected("cannot read " + path + ": " + ReadProblem(path, content.error()));
  }
  if (auto written = WriteTemp(path, std::string(size, ' ')); !written) return written;
  ::unlink((path + ".tmp").c_str());
  return {};
}

}  // namespace hdm::state
