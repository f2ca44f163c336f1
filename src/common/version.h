// The build's version and git revision, as CMakeLists.txt computes them (--version,
// hotdata_monitor_build_info, the start line, the status page). They are defined in a source
// file that the build generates (cmake/version.cpp.in), so that a new commit recompiles that
// file alone rather than every file that a compile definition would reach.
#pragma once

namespace hdm {

extern const char* const kVersion;   // 0.1.0, or 0.1.0~git<commits> between tags
extern const char* const kRevision;  // the abbreviated commit, or "unknown" outside git

}  // namespace hdm
