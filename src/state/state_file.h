// The daemon's persisted state: one versioned JSON document, written atomically, so that
// cooldowns, budget spending, permanent marks, episodes and the recent audit entries survive a
// restart.
//
// The file is `{"version": 1, "saved_at": "<RFC 3339>", <section>: {...}, ...}`; each component
// owns top-level sections (the policy engine "policy", its audit log "audit", the operator
// command line "manual_actions"). This module only knows the envelope; what a section holds is
// its owner's business.
//
// Errors are values; nothing here throws. Stateless free functions: writers of one path
// serialise their read-merge-write with StateLock (state_lock.h): the daemon's policy service
// and the operator command line both write it.
#pragma once

#include <expected>
#include <string>

#include <nlohmann/json.hpp>

#include "common/clock.h"

namespace hdm::state {

inline constexpr int kStateVersion = 1;

// Why Load() could not use the file.
struct LoadError {
  // e.g. `state.json: not valid JSON (line 3, column 1: ...); set aside as
  // state.json.corrupt-1700000000`. Ready to log.
  std::string message;
  // Where the bad file now is; empty when it could not be moved (then `message` says why).
  std::string set_aside_path;
  // The file could not be read (EIO, EMFILE, EACCES, a directory or a symlink in its place): it
  // is left where it is, and reading it again later may succeed.
  bool read_failed = false;
};

// Reads `path` and returns its sections (the document without "version" and "saved_at").
// A missing file is no error: it gives an empty object (first start). A file that is not valid
// JSON, not a JSON object, or has another version is renamed to
// `<path>.corrupt-<unix seconds of now>` (never overwriting an earlier one) and reported, so
// that it is neither lost nor read again: the caller starts from an empty state. A file that
// cannot be read (EIO, EMFILE, EACCES, a directory, a symlink: never followed) is left in place
// and reported with `read_failed`: the caller must not write over it before it read it.
std::expected<nlohmann::json, LoadError> Load(const std::string& path, SysTime now);

// Writes `sections` (a JSON object) with the version envelope to `path` atomically: create
// `<path>.tmp` exclusively (a stale one, even a symlink, is removed first), fsync it, rename it
// over `path`, fsync the directory. Run as root, the new file keeps the owner of the one it
// replaces (else of the directory). A crash at any point leaves either the old or the new file.
// Returns why it failed (the old file is then intact); a `path` that is a symlink is refused.
std::expected<void, std::string> Save(const std::string& path, const nlohmann::json& sections,
                                      SysTime now);

// Whether the daemon can keep its state at `path`, checked at start so that a missing, read-only
// or full directory is an error then rather than a failed save at the first purge: an existing
// file must read to its end (and be no symlink), and `<path>.tmp` as large as the file (4 KiB at
// least) must write and sync; it is removed again. Hold StateLock around it: `<path>.tmp` is
// Save()'s. The error names the file and the reason, e.g. `cannot write /var/lib/x/state.json.tmp:
// No space left on device`.
std::expected<void, std::string> CheckUsable(const std::string& path);

// How Load() reads a file: its whole content, or the errno of the open or read that failed
// (ENOENT: there is no file). The seam where tests inject read errors (EIO, EMFILE) that a real
// file cannot be made to give on demand.
using FileReader = std::expected<std::string, int> (*)(const std::string& path);
// Makes Load() and CheckUsable() read with `reader` (nullptr: the real one, the default) and
// returns the one it replaces. For tests; thread-safe.
FileReader SetFileReaderForTesting(FileReader reader);

// Renames `path` to `<path>.corrupt-<unix seconds>` (or `...-<n>` when that exists) and returns
// the new name. For callers whose own section turned out unusable after a successful Load().
std::expected<std::string, std::string> SetAside(const std::string& path, SysTime now);

}  // namespace hdm::state
