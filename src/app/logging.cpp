#include "app/logging.h"

#include <cstdlib>
#include <ctime>
#include <string_view>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

namespace hdm {
namespace {

std::string Timestamp(spdlog::log_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
  const std::time_t secs = ms.count() / 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms.count() % 1000));
  return buf;
}

// Appends `text` with its control characters (C0 and DEL) escaped: \n, \r, \t and \xHH. A
// message holds strings from the API, the config and requests (a connection name, a health
// error): escaped, none of them can end the line and start a forged one, nor put a journal
// priority prefix at the start of a line. Bytes from 0x80 up (UTF-8) pass unchanged.
void AppendEscaped(std::string_view text, spdlog::memory_buf_t& dest) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t plain = 0;  // start of the run not yet appended
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != 0x7f) continue;
    dest.append(text.data() + plain, text.data() + i);
    plain = i + 1;
    const char* escape = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : nullptr;
    if (escape != nullptr) {
      dest.append(escape, escape + 2);
    } else {
      const char hex[4] = {'\\', 'x', kHex[c >> 4], kHex[c & 0xf]};
      dest.append(hex, hex + 4);
    }
  }
  dest.append(text.data() + plain, text.data() + text.size());
}

// `2026-11-25T14:52:28.123Z info message`, the message escaped.
class TextFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string ts = Timestamp(msg.time);
    dest.append(ts.data(), ts.data() + ts.size());
    dest.push_back(' ');
    const auto level = spdlog::level::to_string_view(msg.level);
    dest.append(level.data(), level.data() + level.size());
    dest.push_back(' ');
    AppendEscaped(std::string_view(msg.payload.data(), msg.payload.size()), dest);
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<TextFormatter>();
  }
};

// JSON escapes control characters itself.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    nlohmann::json j;
    j["ts"] = Timestamp(msg.time);
    const auto level = spdlog::level::to_string_view(msg.level);
    j["level"] = std::string(level.data(), level.size());
    j["msg"] = std::string(msg.payload.data(), msg.payload.size());
    const std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

// Under systemd (JOURNAL_STREAM set) stderr goes to the journal, which adds its own timestamp
// and reads the sd-daemon `<N>` prefix as the line's priority.
class JournalFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const char* prio = "<6>";
    switch (msg.level) {
      case spdlog::level::trace:
      case spdlog::level::debug:
        prio = "<7>";
        break;
      case spdlog::level::info:
        prio = "<6>";
        break;
      case spdlog::level::warn:
        prio = "<4>";
        break;
      case spdlog::level::err:
        prio = "<3>";
        break;
      case spdlog::level::critical:
        prio = "<2>";
        break;
      default:
        break;
    }
    dest.append(prio, prio + 3);
    AppendEscaped(std::string_view(msg.payload.data(), msg.payload.size()), dest);
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JournalFormatter>();
  }
};

}  // namespace

std::expected<std::shared_ptr<spdlog::logger>, std::string> MakeLogger(
    const std::string& level, LogFormat format, bool journal,
    std::shared_ptr<spdlog::sinks::sink> sink) {
  const auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    return std::unexpected("--log-level: expected trace, debug, info, warn or error, got \"" +
                           level + "\"");
  }
  auto logger = std::make_shared<spdlog::logger>("hotdata-monitor", std::move(sink));
  if (format == LogFormat::kJson) {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else if (journal) {
    logger->set_formatter(std::make_unique<JournalFormatter>());
  } else {
    logger->set_formatter(std::make_unique<TextFormatter>());
  }
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::trace);
  return logger;
}

std::expected<void, std::string> SetupLogging(const std::string& level, LogFormat format) {
  const char* journal = std::getenv("JOURNAL_STREAM");
  auto logger = MakeLogger(level, format, journal != nullptr && *journal != '\0',
                           std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (!logger) return std::unexpected(logger.error());
  spdlog::set_default_logger(std::move(*logger));
  return {};
}

}  // namespace hdm
