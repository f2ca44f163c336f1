// ParseConfig: YAML text to a validated Config, or every error found. Properties:
//  - nothing throws, and the result is deterministic (a second parse gives the same outcome);
//  - errors are non-empty, each names the file, and they are ordered by position;
//  - a Config that exists is valid: its values are within the documented ranges, its cron
//    texts and durations reparse to what it holds, and the server can parse its listen address
//    (the config and the server agree on what a valid `server.listen` is).
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "config/config.h"
#include "config/cron.h"
#include "fuzz_support.h"
#include "http/server.h"

namespace {

constexpr const char* kFile = "fuzz.yaml";

std::string Describe(const hdm::ConfigResult& r) {
  if (r) return "ok";
  std::string out;
  for (const auto& e : r.error()) out += e.ToString() + "\n";
  return out;
}

bool SameCron(const hdm::CronSpec& a, const hdm::CronSpec& b) {
  return a.minutes == b.minutes && a.hours == b.hours && a.days_of_month == b.days_of_month &&
         a.months == b.months && a.days_of_week == b.days_of_week &&
         a.dom_restricted == b.dom_restricted && a.dow_restricted == b.dow_restricted;
}

void CheckCron(const std::string& text, const hdm::CronSpec& spec) {
  const auto again = hdm::ParseCron(text);
  FUZZ_CHECK(again.has_value() && SameCron(*again, spec),
             "cron \"" + text + "\" reparses differently");
}

void CheckDuration(hdm::Millis d, hdm::Millis min, const char* what) {
  FUZZ_CHECK(d >= min, std::string(what) + " below its minimum: " + hdm::FormatDuration(d));
  FUZZ_CHECK(hdm::ParseDuration(hdm::FormatDuration(d)) == d, what);
}

void CheckValid(const hdm::Config& c) {
  const std::string& url = c.api.base_url;
  FUZZ_CHECK(url.starts_with("http://") || url.starts_with("https://"), "base_url " + url);
  FUZZ_CHECK(!url.ends_with('/'), "base_url keeps a trailing '/': " + url);
  FUZZ_CHECK(!c.api.token_env.empty() || !c.api.token_file.empty(), "no token source");
  CheckDuration(c.api.timeout, hdm::Millis{1}, "api.timeout");
  FUZZ_CHECK(c.api.retries.attempts >= 1 && c.api.retries.attempts <= 10, "retries.attempts");
  CheckDuration(c.api.retries.backoff, hdm::Millis{1}, "retries.backoff");
  FUZZ_CHECK(c.api.retries.max_backoff >= c.api.retries.backoff, "max_backoff < backoff");

  CheckDuration(c.scheduler.interval, hdm::Millis{1'000}, "scheduler.interval");
  CheckDuration(c.scheduler.discovery_interval, hdm::Millis{1}, "discovery_interval");
  FUZZ_CHECK(c.scheduler.concurrency >= 1 && c.scheduler.concurrency <= 1024, "concurrency");
  FUZZ_CHECK(c.scheduler.shard.count >= 1 && c.scheduler.shard.index >= 0 &&
                 c.scheduler.shard.index < c.scheduler.shard.count,
             "shard index/count");

  const auto listen = hdm::ParseListenAddress(c.server.listen);
  FUZZ_CHECK(listen.has_value(),
             "config accepts server.listen \"" + c.server.listen +
                 "\" that the server rejects: " + (listen ? "" : listen.error()));
  FUZZ_CHECK(!c.state_file.empty(), "empty state_file");

  FUZZ_CHECK(c.safety.max_purges_per_hour >= 0, "max_purges_per_hour");
  FUZZ_CHECK(c.safety.pause_when_unhealthy_fraction_above >= 0.0 &&
                 c.safety.pause_when_unhealthy_fraction_above <= 1.0,
             "pause fraction");
  FUZZ_CHECK(c.safety.pause_min_connections >= 1, "pause_min_connections");
  for (const auto& w : c.safety.maintenance) {
    CheckCron(w.cron_text, w.cron);
    CheckDuration(w.duration, hdm::Millis{1}, "maintenance duration");
  }

  for (size_t i = 0; i < c.policies.size(); ++i) {
    const hdm::PolicyConfig& p = c.policies[i];
    FUZZ_CHECK(!p.name.empty(), "policy without a name");
    for (size_t j = 0; j < i; ++j)
      FUZZ_CHECK(c.policies[j].name != p.name, "duplicate policy name");
    CheckDuration(p.cooldown, hdm::Millis{0}, "cooldown");
    if (p.when.cron) CheckCron(p.when.cron_text, *p.when.cron);
    if (p.when.event == hdm::EventKind::kSchedule) {
      FUZZ_CHECK(p.when.cron.has_value() != p.when.every.has_value(),
                 "schedule needs cron xor every");
    }
    if (p.when.every) CheckDuration(*p.when.every, hdm::Millis{1}, "when.every");
    if (p.when.after_failures) FUZZ_CHECK(*p.when.after_failures >= 1, "after_failures");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(hdm::fuzz::AsText(data, size));
  const hdm::ConfigResult first = hdm::ParseConfig(text, kFile);
  const hdm::ConfigResult second = hdm::ParseConfig(text, kFile);
  FUZZ_CHECK(Describe(first) == Describe(second),
             "not deterministic:\n" + Describe(first) + "---\n" + Describe(second));
  if (!first) {
    const auto& errors = first.error();
    FUZZ_CHECK(!errors.empty(), "failure without an error");
    for (size_t i = 0; i < errors.size(); ++i) {
      FUZZ_CHECK(errors[i].file == kFile && !errors[i].message.empty(), errors[i].ToString());
      FUZZ_CHECK(errors[i].ToString().starts_with(kFile), errors[i].ToString());
      if (i > 0) {
        FUZZ_CHECK(std::pair(errors[i - 1].line, errors[i - 1].column) <=
                       std::pair(errors[i].line, errors[i].column),
                   "errors out of order:\n" + Describe(first));
      }
    }
    return 0;
  }
  FUZZ_CHECK(first->source_path == kFile, "source_path");
  CheckValid(*first);
  return 0;
}
