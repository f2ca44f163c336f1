// Every tests/testdata/config/invalid-*.yaml file, paired with the exact first error it gives.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.h"

namespace hdm {
namespace {

const std::string kDir = std::string(HDM_TESTDATA_DIR) + "/config/";

// Parses a testdata file under its bare name, so that messages do not depend on the checkout.
ConfigResult ParseTestdata(const std::string& name) {
  std::ifstream in(kDir + name);
  EXPECT_TRUE(in.good()) << "cannot open " << kDir << name;
  std::ostringstream text;
  text << in.rdbuf();
  return ParseConfig(text.str(), name);
}

const std::map<std::string, std::string>& FirstErrors() {
  static const std::map<std::string, std::string> table = {
      {"invalid-action-purge.yaml",
       "invalid-action-purge.yaml:6:22: policies[0].action.purge: expected connection or table, "
       "got \"everything\""},
      {"invalid-action-table-no-tables.yaml",
       "invalid-action-table-no-tables.yaml:6:13: policies[0].action: purge: table needs a tables: "
       "list unless the event is table_stale or alert"},
      {"invalid-action-table-ref.yaml",
       "invalid-action-table-ref.yaml:8:31: policies[0].action.tables[1]: expected "
       "\"schema.table\", got \"orders\""},
      {"invalid-action-tables-with-connection.yaml",
       "invalid-action-tables-with-connection.yaml:6:42: policies[0].action.tables: tables only "
       "apply to purge: table"},
      {"invalid-api-not-mapping.yaml",
       "invalid-api-not-mapping.yaml:1:6: api: expected a mapping, got a list"},
      {"invalid-unknown-key-no-suggestion.yaml",
       "invalid-unknown-key-no-suggestion.yaml:3:1: zzz: unknown key \"zzz\""},
      {"invalid-bad-duration.yaml",
       "invalid-bad-duration.yaml:14:12: policies[2].when.for: expected a duration like 5m, got "
       "\"five\""},
      {"invalid-duration-too-long.yaml",
       "invalid-duration-too-long.yaml:7:15: policies[0].cooldown: must be at most 3650d (10 "
       "years), got 999999999d"},
      {"invalid-base-url-query.yaml",
       "invalid-base-url-query.yaml:2:13: api.base_url: must not have a query or fragment"},
      {"invalid-base-url-scheme.yaml",
       "invalid-base-url-scheme.yaml:2:13: api.base_url: expected an http:// or https:// URL, got "
       "\"ftp://app.hotdata.dev\""},
      {"invalid-basic-auth.yaml",
       "invalid-basic-auth.yaml:4:15: server.basic_auth.password_file: required key is missing"},
      {"invalid-concurrency.yaml",
       "invalid-concurrency.yaml:4:16: scheduler.concurrency: must be between 1 and 1024, got 0"},
      {"invalid-duplicate-key.yaml",
       "invalid-duplicate-key.yaml:4:3: api.timeout: duplicate key \"timeout\""},
      {"invalid-fraction.yaml",
       "invalid-fraction.yaml:4:40: safety.pause_when_unhealthy_fraction_above: must be between 0 "
       "and 1, got 1.5"},
      {"invalid-interval-too-short.yaml",
       "invalid-interval-too-short.yaml:4:13: scheduler.interval: must be at least 1s, got 500ms"},
      {"invalid-latency-missing-for.yaml",
       "invalid-latency-missing-for.yaml:5:11: policies[0].when.for: required key is missing"},
      {"invalid-latency-threshold.yaml",
       "invalid-latency-threshold.yaml:5:46: policies[0].when.threshold: must be greater than 0s, "
       "got 0s"},
      {"invalid-listen-ipv6-brackets.yaml",
       "invalid-listen-ipv6-brackets.yaml:4:11: server.listen: an IPv6 host needs brackets, like "
       "[::]:9977, got \"::1:9977\""},
      {"invalid-listen-no-port.yaml",
       "invalid-listen-no-port.yaml:4:11: server.listen: expected host:port like 0.0.0.0:9977, "
       ":9977 or [::]:9977, got \"9977\""},
      {"invalid-listen-port-range.yaml",
       "invalid-listen-port-range.yaml:4:11: server.listen: port \"99999\" is not a number in "
       "0-65535"},
      {"invalid-maintenance-cron.yaml",
       "invalid-maintenance-cron.yaml:5:15: safety.maintenance[0].cron: invalid cron expression "
       "\"0 25 * * *\": field 2 (hour): 25 is out of range 0-23"},
      {"invalid-maintenance-duration.yaml",
       "invalid-maintenance-duration.yaml:5:7: safety.maintenance[0].duration: required key is "
       "missing"},
      {"invalid-max-purges.yaml",
       "invalid-max-purges.yaml:4:24: safety.max_purges_per_hour: must be at least 0, got -1"},
      {"invalid-missing-api.yaml",
       "invalid-missing-api.yaml:1:1: api.base_url: required key is missing"},
      {"invalid-missing-base-url.yaml",
       "invalid-missing-base-url.yaml:2:3: api.base_url: required key is missing"},
      {"invalid-negative-duration.yaml",
       "invalid-negative-duration.yaml:3:12: api.timeout: expected a duration like 5m, got "
       "\"-5s\""},
      {"invalid-pause-min-connections.yaml",
       "invalid-pause-min-connections.yaml:4:26: safety.pause_min_connections: must be at least 1, "
       "got 0"},
      {"invalid-policies-not-list.yaml",
       "invalid-policies-not-list.yaml:4:3: policies: expected a list, got a mapping"},
      {"invalid-policy-duplicate-name.yaml",
       "invalid-policy-duplicate-name.yaml:7:11: policies[1].name: duplicate policy name "
       "\"nightly\" (also policies[0])"},
      {"invalid-policy-missing-action.yaml",
       "invalid-policy-missing-action.yaml:4:5: policies[0].action: required key is missing"},
      {"invalid-policy-no-name.yaml",
       "invalid-policy-no-name.yaml:4:5: policies[0].name: required key is missing"},
      {"invalid-policy-unknown-event.yaml",
       "invalid-policy-unknown-event.yaml:5:20: policies[0].when.event: unknown event \"down\"; "
       "expected one of unhealthy, recovered, latency_above, schedule, table_stale, "
       "tables_changed, alert"},
      {"invalid-alert-no-alertname.yaml",
       "invalid-alert-no-alertname.yaml:5:7: policies[0].when.alertname: required key is missing"},
      {"invalid-alert-labels.yaml",
       "invalid-alert-labels.yaml:5:91: policies[0].when.labels.severity: expected a string, got a "
       "list"},
      {"invalid-alert-alertname-in-labels.yaml",
       "invalid-alert-alertname-in-labels.yaml:5:49: policies[0].when.labels.alertname: give the "
       "alert name in when.alertname, not in labels"},
      {"invalid-alert-after-failures.yaml",
       "invalid-alert-after-failures.yaml:5:39: policies[0].when.after_failures: "
       "\"after_failures\" "
       "does not apply to event alert"},
      {"invalid-recovered-after-failures.yaml",
       "invalid-recovered-after-failures.yaml:5:47: policies[0].when.after_failures: must be at "
       "least 1, got 0"},
      {"invalid-recovered-cron.yaml",
       "invalid-recovered-cron.yaml:5:40: policies[0].when.cron: \"cron\" does not apply to event "
       "recovered"},
      {"invalid-retries-attempts.yaml",
       "invalid-retries-attempts.yaml:3:24: api.retries.attempts: must be between 1 and 10, got "
       "11"},
      {"invalid-retries-max-backoff.yaml",
       "invalid-retries-max-backoff.yaml:3:40: api.retries.max_backoff: must be at least backoff "
       "(2s), got 1s"},
      {"invalid-schedule-bad-cron.yaml",
       "invalid-schedule-bad-cron.yaml:5:36: policies[0].when.cron: invalid cron expression \"0 3 "
       "* *\": expected 5 fields (minute hour day-of-month month day-of-week), got 4"},
      {"invalid-schedule-cron-and-every.yaml",
       "invalid-schedule-cron-and-every.yaml:5:49: policies[0].when.every: cron and every exclude "
       "each other; give one of them"},
      {"invalid-schedule-every-zero.yaml",
       "invalid-schedule-every-zero.yaml:5:37: policies[0].when.every: must be greater than 0s, "
       "got 0s"},
      {"invalid-schedule-neither.yaml",
       "invalid-schedule-neither.yaml:5:11: policies[0].when: event schedule needs cron or every"},
      {"invalid-selector-glob.yaml",
       "invalid-selector-glob.yaml:5:31: policies[0].match.name[1]: unterminated '[' in glob "
       "\"prod-[ab\""},
      {"invalid-selector-not-mapping.yaml",
       "invalid-selector-not-mapping.yaml:4:12: scheduler.include: expected a mapping, got a list"},
      {"invalid-selector-unknown-field.yaml",
       "invalid-selector-unknown-field.yaml:4:14: scheduler.exclude.names: unknown key \"names\" "
       "(did you mean \"name\"?)"},
      {"invalid-server-tls.yaml",
       "invalid-server-tls.yaml:5:5: server.tls.key_file: required key is missing"},
      {"invalid-shard-count.yaml",
       "invalid-shard-count.yaml:4:19: scheduler.shard.count: must be at least 1, got 0"},
      {"invalid-shard-index.yaml",
       "invalid-shard-index.yaml:4:19: scheduler.shard.index: must be less than "
       "scheduler.shard.count (2), got 2"},
      {"invalid-state-file-empty.yaml",
       "invalid-state-file-empty.yaml:3:13: state_file: must not be empty"},
      {"invalid-table-entry.yaml",
       "invalid-table-entry.yaml:4:5: tables[0].table: required key is missing"},
      {"invalid-table-stale-max-age.yaml",
       "invalid-table-stale-max-age.yaml:7:11: policies[0].when.max_age: required key is missing"},
      {"invalid-table-stale-no-tables.yaml",
       "invalid-table-stale-no-tables.yaml:5:20: policies[0].when.event: event table_stale needs a "
       "non-empty top-level tables: list"},
      {"invalid-table-stale-purge-connection.yaml",
       "invalid-table-stale-purge-connection.yaml:8:22: policies[0].action.purge: event "
       "table_stale needs purge: table, got connection"},
      {"invalid-tables-changed-for.yaml",
       "invalid-tables-changed-for.yaml:5:36: policies[0].when.for: \"for\" does not apply to "
       "event tables_changed"},
      {"invalid-token-env-empty.yaml",
       "invalid-token-env-empty.yaml:3:14: api.token_env: must not be empty"},
      {"invalid-top-level-list.yaml",
       "invalid-top-level-list.yaml:1:1: expected a mapping at the top level, got a list"},
      {"invalid-two-documents.yaml",
       "invalid-two-documents.yaml:4:1: expected one YAML document, found 2"},
      {"invalid-unhealthy-needs-condition.yaml",
       "invalid-unhealthy-needs-condition.yaml:5:11: policies[0].when: event unhealthy needs for, "
       "after_failures or both"},
      {"invalid-unhealthy-threshold.yaml",
       "invalid-unhealthy-threshold.yaml:5:40: policies[0].when.threshold: \"threshold\" does not "
       "apply to event unhealthy"},
      {"invalid-unknown-key.yaml",
       "invalid-unknown-key.yaml:4:3: scheduler.intervall: unknown key \"intervall\" (did you mean "
       "\"interval\"?)"},
      {"invalid-unknown-top-level-key.yaml",
       "invalid-unknown-top-level-key.yaml:3:1: polices: unknown key \"polices\" (did you mean "
       "\"policies\"?)"},
      {"invalid-wrong-type-bool.yaml",
       "invalid-wrong-type-bool.yaml:4:12: safety.dry_run: expected true or false, got \"yes\""},
      {"invalid-wrong-type-integer.yaml",
       "invalid-wrong-type-integer.yaml:4:16: scheduler.concurrency: expected an integer, got "
       "\"lots\""},
      {"invalid-wrong-type-section.yaml",
       "invalid-wrong-type-section.yaml:3:9: server: expected a mapping, got \"9977\""},
      {"invalid-wrong-type-string-list.yaml",
       "invalid-wrong-type-string-list.yaml:5:11: scheduler.include.name: expected a list of "
       "strings, got a mapping"},
      {"invalid-wrong-type-string.yaml",
       "invalid-wrong-type-string.yaml:3:17: api.workspace_id: expected a string, got a list"},
      {"invalid-yaml-syntax.yaml",
       "invalid-yaml-syntax.yaml:6:1: YAML syntax error: end of sequence flow not found"},
      {"invalid-zero-timeout.yaml",
       "invalid-zero-timeout.yaml:3:12: api.timeout: must be greater than 0s, got 0s"},

  };
  return table;
}

TEST(ConfigInvalidTest, EachFileGivesItsFirstError) {
  for (const auto& [name, want] : FirstErrors()) {
    const ConfigResult result = ParseTestdata(name);
    ASSERT_FALSE(result.has_value()) << name << " parsed without errors";
    ASSERT_FALSE(result.error().empty()) << name;
    EXPECT_EQ(result.error()[0].ToString(), want) << name;
  }
}

TEST(ConfigInvalidTest, EveryInvalidFileIsInTheTable) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kDir)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("invalid-") || name == "invalid-several.yaml") continue;
    ++files;
    EXPECT_TRUE(FirstErrors().contains(name)) << name << " has no expected error";
  }
  EXPECT_EQ(files, static_cast<int>(FirstErrors().size()));
}

TEST(ConfigInvalidTest, ReportsEveryProblemInFileOrder) {
  const ConfigResult result = ParseTestdata("invalid-several.yaml");
  ASSERT_FALSE(result.has_value());
  std::vector<std::string> got;
  for (const ConfigError& e : result.error()) got.push_back(e.ToString());
  const std::vector<std::string> want = {
      "invalid-several.yaml:3:13: api.base_url: expected an http:// or https:// URL, got "
      "\"app.hotdata.dev\"",
      "invalid-several.yaml:4:12: api.timeout: expected a duration like 5m, got \"soon\"",
      "invalid-several.yaml:6:3: scheduler.intervall: unknown key \"intervall\" (did you mean "
      "\"interval\"?)",
      "invalid-several.yaml:7:16: scheduler.concurrency: must be between 1 and 1024, got 2000",
      "invalid-several.yaml:9:11: server.listen: expected host:port like 0.0.0.0:9977, :9977 or "
      "[::]:9977, got \"9977\"",
      "invalid-several.yaml:12:11: policies[0].when.threshold: required key is missing",
      "invalid-several.yaml:14:11: policies[1].name: duplicate policy name \"p\" (also "
      "policies[0])",
      "invalid-several.yaml:15:31: policies[1].when.max_age: \"max_age\" does not apply to event "
      "unhealthy",
  };
  EXPECT_EQ(got, want);
}

// Every duration key has the same upper bound: a time point computed from it stays far inside
// the clocks' range (`now + cooldown` overflowed with 999999999d).
TEST(ConfigInvalidTest, EveryDurationIsAtMostTenYears) {
  const std::string head = "api:\n  base_url: https://app.hotdata.dev\n";
  struct Case {
    std::string yaml;
    std::string key;
  };
  const std::vector<Case> cases = {
      {"  timeout: {}\n", "api.timeout"},
      {"  retries: { attempts: 2, backoff: 1s, max_backoff: {} }\n", "api.retries.max_backoff"},
      {"scheduler:\n  interval: {}\n", "scheduler.interval"},
      {"scheduler:\n  discovery_interval: {}\n", "scheduler.discovery_interval"},
      {"policies:\n  - name: p\n    when: { event: schedule, every: {} }\n"
       "    action: { purge: connection }\n",
       "policies[0].when.every"},
      {"policies:\n  - name: p\n    when: { event: unhealthy, for: {} }\n"
       "    action: { purge: connection }\n",
       "policies[0].when.for"},
      {"policies:\n  - name: p\n    when: { event: unhealthy, after_failures: 1 }\n"
       "    action: { purge: connection }\n    cooldown: {}\n",
       "policies[0].cooldown"},
      {"safety:\n  maintenance:\n    - { cron: \"0 3 * * *\", duration: {} }\n",
       "safety.maintenance[0].duration"},
  };
  for (const Case& c : cases) {
    auto with = [&](const std::string& value) {
      std::string yaml = c.yaml;
      yaml.replace(yaml.find("{}"), 2, value);
      return ParseConfig(head + yaml, "t.yaml");
    };
    EXPECT_TRUE(with("3650d").has_value()) << c.key << ": exactly 10 years is allowed";
    const ConfigResult over = with("3650d1ms");
    ASSERT_FALSE(over.has_value()) << c.key;
    EXPECT_EQ(over.error()[0].key, c.key);
    EXPECT_EQ(over.error()[0].message, "must be at most 3650d (10 years), got 3650d1ms");
  }
}

TEST(ConfigInvalidTest, ErrorFieldsAreOneBasedAndNamed) {
  const ConfigResult result = ParseTestdata("invalid-bad-duration.yaml");
  ASSERT_FALSE(result.has_value());
  const ConfigError& e = result.error()[0];
  EXPECT_EQ(e.file, "invalid-bad-duration.yaml");
  EXPECT_EQ(e.line, 14);
  EXPECT_EQ(e.column, 12);
  EXPECT_EQ(e.key, "policies[2].when.for");
  EXPECT_EQ(e.message, "expected a duration like 5m, got \"five\"");
}

}  // namespace
}  // namespace hdm
