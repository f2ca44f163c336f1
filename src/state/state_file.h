// The daemon's persisted state: one versioned JSON document, written atomically, so that
// cooldowns, budget spending, permanent marks, episodes and the recent audit entries survive a
// restart.
//
// The file is `{"version": 1, "readable_by": 1, "saved_at": "<RFC 3339>", <section>: {...}, ...}`;
// each component owns top-level sections (the policy engine "policy", its audit log "audit", the
// operator command line "manual_actions"). This module only knows the envelope; what a section
// holds is its owner's business.
//
// Errors are values; nothing here throws. Stateless free functions: writers of one path
// serialise their read-merge-write with StateLock (state_lock.h): the daemon's policy service
// and the operator command line both write it.
#pragma once

#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"

namespace hdm::state {

// Versions. A change that an older reader can ignore (a new optional field or section) keeps the
// version: readers skip what they do not know. A change that an older reader would misread bumps
// it and comes with a Migration from the version before, so that an upgrade keeps cooldowns and
// budget. A file also says which readers may still use it ("readable_by": the oldest version
// whose reader may read it, using only the fields it knows): a build reads a newer file when
// readable_by is at most its own version, and holds every purge (the caller's business)
// otherwise. Version 1 is the first ever written: there is nothing to migrate from yet.
inline constexpr int kStateVersion = 1;
inline constexpr int kStateReadableBy = 1;

// Turns the sections (the document without "version", "readable_by" and "saved_at") of a file of
// version `from` into those of version `from + 1`, or says why it cannot.
struct Migration {
  int from = 0;
  std::function<std::expected<nlohmann::json, std::string>(nlohmann::json sections)> apply;
};
// How a build reads the envelope: its version and the migrations from older ones.
struct Format {
  int version = kStateVersion;
  std::vector<Migration> migrations;
};
// This build's format: version kStateVersion, no migrations.
const Format& CurrentFormat();

struct Upgraded {
  nlohmann::json sections;  // without "version", "readable_by", "saved_at"
  // How the file was read when it was not of format.version, ready to log: "version 0 migrated to
  // version 1", "version 2, written by a newer hotdata-monitor and readable by version 1: reading
  // the fields that version 1 knows". Empty for a file of format.version.
  std::string note;
};
// Checks a parsed document's envelope against `format` and migrates it: the same version is read
// as is; an older one goes through each migration up to format.version (an older version without
// a migration cannot be used); a newer one is read when its "readable_by" is at most
// format.version (else it cannot be used). The error says why the document cannot be used, e.g.
// `version 3 is newer than this build's version 1 and not readable by it (readable_by 3)`.
// Never throws.
std::expected<Upgraded, std::string> Upgrade(nlohmann::json doc, const Format& format);
// Makes Load() (and Upgrade() callers that ask CurrentFormat()) use `format` (nullptr: this
// build's) and returns the one it replaces. For tests of migrations that no release needed yet.
const Format* SetFormatForTesting(const Format* format);

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
  // The file was read but its content cannot be used (not valid JSON, not an object, no version,
  // a version that cannot be read or migrated): what it held (cooldowns, budget) is lost to the
  // caller. Always with the file set aside or `message` saying why it could not be.
  bool unusable = false;
  // With `unusable`: the file's last modification (its last save), when it could be read; nothing
  // in it can matter once its longest-lived entry would have expired after this.
  std::optional<SysTime> modified;
};

// Reads `path` and returns its sections (the document without "version", "readable_by" and
// "saved_at"), migrated to this build's version (Upgrade()); `note`, when given, receives
// Upgraded::note. A missing file is no error: it gives an empty object (first start). A file that
// is not valid JSON or not a JSON object is renamed to `<path>.corrupt-<unix seconds of now>`, one
// of a version that can be neither read nor migrated to `<path>.v<version>-<unix seconds>` (never
// overwriting an earlier one), and reported with `unusable`, so that it is neither lost nor read
// again: the caller starts from an empty state. A file that cannot be read (EIO, EMFILE, EACCES, a
// directory, a symlink: never followed) is left in place and reported with `read_failed`: the
// caller must not write over it before it read it.
std::expected<nlohmann::json, LoadError> Load(const std::string& path, SysTime now,
                                              std::string* note = nullptr);

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

// Renames `path` to `<path>.<kind>-<unix seconds>` (or `...-<n>` when that exists) and returns
// the new name. For callers whose own section turned out unusable after a successful Load().
std::expected<std::string, std::string> SetAside(const std::string& path, SysTime now,
                                                 const std::string& kind = "corrupt");

// The last modification time of `path` (not following a symlink), if it can be read.
std::optional<SysTime> ModifiedAt(const std::string& path);

}  // namespace hdm::state
