// What the log formats make of strings that come from the API, the config or a request: a
// line break or another control character in them never starts a line of its own.
#include "app/logging.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>

namespace hdm {
namespace {

// A connection name as the API could send it: it carries a whole forged log line.
const std::string kForgedName = "prod\n2030-01-01T00:00:00.000Z critical FORGED line";
// A health error with the other control characters: CR, TAB, ESC (a terminal colour) and DEL.
const std::string kError = "down\r\tagain\x1b[31m\x7f";

// Logs one warning about `kForgedName` through the logger SetupLogging() would install.
std::string LogOne(LogFormat format, bool journal) {
  std::ostringstream out;
  auto logger =
      MakeLogger("info", format, journal, std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  EXPECT_TRUE(logger.has_value());
  if (!logger) return "";
  (*logger)->warn("connection {}: unhealthy: {}", kForgedName, kError);
  return out.str();
}

long Lines(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

TEST(LoggingTest, TextFormatEscapesControlCharactersOfLoggedStrings) {
  const std::string out = LogOne(LogFormat::kText, /*journal=*/false);
  EXPECT_EQ(Lines(out), 1) << out;
  const std::regex line(
      R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z warning connection prod\\n2030-01-01T00:00:00\.000Z )"
      R"(critical FORGED line: unhealthy: down\\r\\tagain\\x1b\[31m\\x7f\n)");
  EXPECT_TRUE(std::regex_match(out, line)) << out;
}

TEST(LoggingTest, JournalFormatEscapesControlCharactersButKeepsItsPriorityPrefix) {
  const std::string out = LogOne(LogFormat::kText, /*journal=*/true);
  EXPECT_EQ(out,
            "<4>connection prod\\n2030-01-01T00:00:00.000Z critical FORGED line: unhealthy: "
            "down\\r\\tagain\\x1b[31m\\x7f\n");
}

TEST(LoggingTest, JsonFormatKeepsTheStringWhole) {
  const std::string out = LogOne(LogFormat::kJson, /*journal=*/false);
  EXPECT_EQ(Lines(out), 1) << out;
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["msg"], "connection " + kForgedName + ": unhealthy: " + kError);
  EXPECT_EQ(j["level"], "warning");
}

TEST(LoggingTest, PrintableTextAndUtf8PassUnchanged) {
  std::ostringstream out;
  auto logger = MakeLogger("info", LogFormat::kText, /*journal=*/true,
                           std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  ASSERT_TRUE(logger.has_value());
  (*logger)->info("connection {}: path C:\\data, \"quoted\"", "prød-ü");
  EXPECT_EQ(out.str(), "<6>connection prød-ü: path C:\\data, \"quoted\"\n");
}

TEST(LoggingTest, UnknownLevelIsRefused) {
  std::ostringstream out;
  auto logger = MakeLogger("loud", LogFormat::kText, false,
                           std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  ASSERT_FALSE(logger.has_value());
  EXPECT_EQ(logger.error(),
            "--log-level: expected trace, debug, info, warn or error, got \"loud\"");
}

}  // namespace
}  // namespace hdm
