// Process-wide logging setup (spdlog's default logger, to stderr).
#pragma once

#include <expected>
#include <memory>
#include <string>

namespace spdlog {
class logger;
namespace sinks {
class sink;
}  // namespace sinks
}  // namespace spdlog

namespace hdm {

enum class LogFormat { kText, kJson };

// level: trace|debug|info|warn|error. Text lines look like
// `2026-11-25T14:52:28.123Z info discovery: 12 connections monitored`; JSON lines are one
// object each: {"ts":"...","level":"info","msg":"..."}. Every message is one line: in the text
// and journal formats its control characters are escaped (\n, \r, \t, \xHH), so that a string
// from the API, the config or a request cannot forge a line; JSON escapes them itself.
std::expected<void, std::string> SetupLogging(const std::string& level, LogFormat format);

// The logger that SetupLogging() installs, writing to `sink` instead of stderr. `journal`: the
// format for the journal (SetupLogging() picks it when JOURNAL_STREAM is set): each line is
// `<N>message`, N the syslog priority of the level. Errors as SetupLogging()'s.
std::expected<std::shared_ptr<spdlog::logger>, std::string> MakeLogger(
    const std::string& level, LogFormat format, bool journal,
    std::shared_ptr<spdlog::sinks::sink> sink);

}  // namespace hdm
