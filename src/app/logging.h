// Process-wide logging setup (spdlog's default logger, to stderr).
#pragma once

#include <expected>
#include <string>

namespace hdm {

enum class LogFormat { kText, kJson };

// level: trace|debug|info|warn|error. Text lines look like
// `2026-11-25T14:52:28.123Z info discovery: 12 connections monitored`; JSON lines are one
// object each: {"ts":"...","level":"info","msg":"..."}.
std::expected<void, std::string> SetupLogging(const std::string& level, LogFormat format);

}  // namespace hdm
