#include "config/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace hdm {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const std::string kTestdata = std::string(HDM_TESTDATA_DIR) + "/config/";

std::string AllErrors(const ConfigResult& result) {
  if (result) return "(no errors)";
  std::string out;
  for (const ConfigError& e : result.error()) out += e.ToString() + "\n";
  return out;
}

TEST(ConfigTest, MinimalConfigGetsEveryDefault) {
  const ConfigResult result = ParseConfig("api:\n  base_url: http://127.0.0.1:8080\n", "min.yaml");
  ASSERT_TRUE(result.has_value()) << AllErrors(result);
  const Config& c = *result;
  EXPECT_EQ(c.source_path, "min.yaml");
  EXPECT_EQ(c.api.base_url, "http://127.0.0.1:8080");
  EXPECT_EQ(c.api.workspace_id, "");
  EXPECT_EQ(c.api.token_file, "");
  EXPECT_EQ(c.api.token_env, "HOTDATA_API_TOKEN");
  EXPECT_EQ(c.api.timeout, seconds{15});
  EXPECT_EQ(c.api.retries.attempts, 3);
  EXPECT_EQ(c.api.retries.backoff, Millis{500});
  EXPECT_EQ(c.api.retries.max_backoff, seconds{10});
  EXPECT_EQ(c.api.tls.ca_file, "");
  EXPECT_FALSE(c.api.tls.insecure_skip_verify);
  EXPECT_EQ(c.scheduler.interval, seconds{30});
  EXPECT_EQ(c.scheduler.discovery_interval, minutes{5});
  EXPECT_EQ(c.scheduler.concurrency, 16);
  EXPECT_FALSE(c.scheduler.include.has_value());
  EXPECT_FALSE(c.scheduler.exclude.has_value());
  EXPECT_EQ(c.scheduler.shard.index, 0);
  EXPECT_EQ(c.scheduler.shard.count, 1);
  EXPECT_TRUE(c.tables.empty());
  EXPECT_EQ(c.server.listen, "0.0.0.0:9977");
  EXPECT_FALSE(c.server.tls.has_value());
  EXPECT_FALSE(c.server.basic_auth.has_value());
  EXPECT_EQ(c.state_file, "/var/lib/hotdata-monitor/state.json");
  EXPECT_FALSE(c.safety.dry_run);
  EXPECT_TRUE(c.safety.maintenance.empty());
  EXPECT_EQ(c.safety.max_purges_per_hour, 30);
  EXPECT_DOUBLE_EQ(c.safety.pause_when_unhealthy_fraction_above, 0.5);
  EXPECT_EQ(c.safety.pause_min_connections, 3);
  EXPECT_TRUE(c.policies.empty());
}

TEST(ConfigTest, FullConfigSetsEveryKey) {
  // Parsed, not loaded: LoadConfig would also read the server's files, which do not exist here
  // (server_files_test.cpp covers that).
  std::ifstream in(kTestdata + "valid-full.yaml");
  std::ostringstream text;
  text << in.rdbuf();
  const ConfigResult result = ParseConfig(text.str(), kTestdata + "valid-full.yaml");
  ASSERT_TRUE(result.has_value()) << AllErrors(result);
  const Config& c = *result;
  EXPECT_EQ(c.api.base_url, "https://app.hotdata.dev");  // trailing '/' removed
  EXPECT_EQ(c.api.workspace_id, "ws_123");
  EXPECT_EQ(c.api.token_file, "/run/credentials/hotdata-monitor.service/api-token");
  EXPECT_EQ(c.api.token_env, "MY_TOKEN");
  EXPECT_EQ(c.api.timeout, seconds{20});
  EXPECT_EQ(c.api.retries.attempts, 5);
  EXPECT_EQ(c.api.retries.backoff, Millis{250});
  EXPECT_EQ(c.api.retries.max_backoff, minutes{1});
  EXPECT_EQ(c.api.tls.ca_file, "/etc/ssl/ca.pem");
  EXPECT_TRUE(c.api.tls.insecure_skip_verify);

  EXPECT_EQ(c.scheduler.interval, seconds{10});
  EXPECT_EQ(c.scheduler.discovery_interval, minutes{90});
  EXPECT_EQ(c.scheduler.concurrency, 4);
  ASSERT_TRUE(c.scheduler.include.has_value());
  EXPECT_EQ(c.scheduler.include->name, (std::vector<std::string>{"prod-*", "stage-?"}));
  EXPECT_EQ(c.scheduler.include->id, (std::vector<std::string>{"conn_1"}));
  EXPECT_EQ(c.scheduler.include->source_type, (std::vector<std::string>{"postgres"}));
  ASSERT_TRUE(c.scheduler.exclude.has_value());
  EXPECT_EQ(c.scheduler.exclude->name, (std::vector<std::string>{"*-scratch"}));
  EXPECT_TRUE(c.scheduler.exclude->id.empty());
  EXPECT_EQ(c.scheduler.shard.index, 1);
  EXPECT_EQ(c.scheduler.shard.count, 3);

  ASSERT_EQ(c.tables.size(), 2u);
  EXPECT_EQ(c.tables[0].connection, "prod-pg");
  EXPECT_EQ(c.tables[0].table, (TableRef{"public", "orders"}));
  EXPECT_EQ(c.tables[1].connection, "conn_2");
  EXPECT_EQ(c.tables[1].table, (TableRef{"eu.sales", "Order Items"}));

  EXPECT_EQ(c.server.listen, "[::]:9100");
  ASSERT_TRUE(c.server.tls.has_value());
  EXPECT_EQ(c.server.tls->cert_file, "/etc/hdm/cert.pem");
  EXPECT_EQ(c.server.tls->key_file, "/etc/hdm/key.pem");
  ASSERT_TRUE(c.server.basic_auth.has_value());
  EXPECT_EQ(c.server.basic_auth->username, "prom");
  EXPECT_EQ(c.server.basic_auth->password_file, "/etc/hdm/password");
  EXPECT_EQ(c.state_file, "/tmp/hdm-state.json");

  EXPECT_TRUE(c.safety.dry_run);
  ASSERT_EQ(c.safety.maintenance.size(), 2u);
  EXPECT_EQ(c.safety.maintenance[0].cron_text, "0 2 * * 6");
  EXPECT_TRUE(c.safety.maintenance[0].cron.hours[2]);
  EXPECT_EQ(c.safety.maintenance[0].duration, hours{2});
  EXPECT_EQ(c.safety.maintenance[1].cron_text, "30 1 1 * *");
  EXPECT_EQ(c.safety.maintenance[1].duration, minutes{45});
  EXPECT_EQ(c.safety.max_purges_per_hour, 0);
  EXPECT_DOUBLE_EQ(c.safety.pause_when_unhealthy_fraction_above, 0.25);
  EXPECT_EQ(c.safety.pause_min_connections, 5);

  ASSERT_EQ(c.policies.size(), 7u);
  const PolicyConfig& outage = c.policies[0];
  EXPECT_EQ(outage.name, "purge-after-outage");
  EXPECT_EQ(outage.match.name, (std::vector<std::string>{"prod-*"}));
  EXPECT_EQ(outage.match.source_type, (std::vector<std::string>{"postgres", "mysql"}));
  EXPECT_EQ(outage.when.event, EventKind::kRecovered);
  EXPECT_EQ(outage.when.after_failures, 3);
  EXPECT_FALSE(outage.when.for_duration.has_value());
  EXPECT_EQ(outage.action.purge, PurgeKind::kConnection);
  EXPECT_EQ(outage.cooldown, minutes{30});
  EXPECT_FALSE(outage.dry_run);

  const PolicyConfig& slow = c.policies[1];
  EXPECT_TRUE(slow.match.Empty());
  EXPECT_EQ(slow.when.event, EventKind::kLatencyAbove);
  EXPECT_EQ(slow.when.threshold, seconds{2});
  EXPECT_EQ(slow.when.for_duration, minutes{10});
  EXPECT_EQ(slow.cooldown, hours{1});

  const PolicyConfig& nightly = c.policies[2];
  EXPECT_EQ(nightly.match.name, (std::vector<std::string>{"prod-orders"}));
  EXPECT_EQ(nightly.when.event, EventKind::kSchedule);
  ASSERT_TRUE(nightly.when.cron.has_value());
  EXPECT_EQ(nightly.when.cron_text, "0 3 * * *");
  EXPECT_TRUE(nightly.when.cron->hours[3]);
  EXPECT_FALSE(nightly.when.every.has_value());
  EXPECT_EQ(nightly.action.purge, PurgeKind::kTable);
  EXPECT_EQ(
      nightly.action.tables,
      (std::vector<TableRef>{{"public", "orders"}, {"eu.sales", "Order Items"}, {"a", "b.c"}}));
  EXPECT_EQ(nightly.cooldown, minutes{30});  // default

  const PolicyConfig& every = c.policies[3];
  EXPECT_EQ(every.when.every, hours{6});
  EXPECT_FALSE(every.when.cron.has_value());
  EXPECT_EQ(every.cooldown, Millis{0});

  const PolicyConfig& stale = c.policies[4];
  EXPECT_EQ(stale.when.event, EventKind::kTableStale);
  EXPECT_EQ(stale.when.max_age, hours{6});
  EXPECT_EQ(stale.action.purge, PurgeKind::kTable);
  EXPECT_TRUE(stale.action.tables.empty());
  EXPECT_TRUE(stale.dry_run);

  const PolicyConfig& down = c.policies[5];
  EXPECT_EQ(down.when.event, EventKind::kUnhealthy);
  EXPECT_EQ(down.when.for_duration, minutes{5});
  EXPECT_EQ(down.when.after_failures, 2);

  const PolicyConfig& changed = c.policies[6];
  EXPECT_EQ(changed.when.event, EventKind::kTablesChanged);
  EXPECT_EQ(changed.match.id, (std::vector<std::string>{"conn_*"}));
  EXPECT_FALSE(changed.dry_run);
}

TEST(ConfigTest, ShippedExampleLoadsWithoutErrors) {
  const std::string path = std::string(HDM_TESTDATA_DIR) + "/../../config/example.yaml";
  const ConfigResult result = LoadConfig(path);
  ASSERT_TRUE(result.has_value()) << AllErrors(result);
  EXPECT_FALSE(result->policies.empty());
}

TEST(ConfigTest, ListenAcceptsHostPortForms) {
  for (const char* listen :
       {"0.0.0.0:9977", ":9977", "[::]:9977", "localhost:0", "[::1]:65535", "127.0.0.1:80"}) {
    const std::string text =
        "api: {base_url: http://x}\nserver: {listen: \"" + std::string(listen) + "\"}\n";
    EXPECT_TRUE(ParseConfig(text, "t.yaml").has_value()) << listen;
  }
}

TEST(ConfigTest, MissingFileNamesTheFileWithoutPosition) {
  const ConfigResult result = LoadConfig(kTestdata + "does-not-exist.yaml");
  ASSERT_FALSE(result.has_value());
  ASSERT_EQ(result.error().size(), 1u);
  EXPECT_EQ(result.error()[0].ToString(),
            kTestdata + "does-not-exist.yaml: cannot read file: No such file or directory");
  const ConfigResult dir = LoadConfig(kTestdata);
  ASSERT_FALSE(dir.has_value());
  EXPECT_EQ(dir.error()[0].message, "cannot read file: Is a directory");
}

TEST(ConfigTest, EmptyFileIsAnError) {
  for (const char* text : {"", "\n\n", "# only a comment\n", "---\n"}) {
    const ConfigResult result = ParseConfig(text, "empty.yaml");
    ASSERT_FALSE(result.has_value()) << text;
    EXPECT_EQ(result.error()[0].ToString(),
              "empty.yaml: the file is empty; a minimal config needs api.base_url");
  }
}

TEST(ConfigTest, OddYamlGivesErrorsNotExceptions) {
  const std::string inputs[] = {
      std::string(5000, '['),
      "api: &a [*a]\n",
      "api: {base_url: http://x}\n<<: {x: 1}\n",
      "api: {base_url: http://x}\nstate_file: !!binary aGk=\nscheduler: &s {interval: 1m}\n"
      "safety: *s\n",
      std::string("\0\xff\xfe", 3),
      "? [a, b]\n: c\n",
      "api: {base_url: http://x}\npolicies: [[], 1, ~, {}]\n",
      "api: {base_url: http://x}\npolicies: [{name: p, when: 1, action: [x]}]\n",
  };
  for (const std::string& input : inputs) {
    ConfigResult result;
    EXPECT_NO_THROW(result = ParseConfig(input, "odd.yaml")) << input.substr(0, 80);
    EXPECT_FALSE(result.has_value()) << input.substr(0, 80);
  }
}

TEST(ConfigErrorTest, ToStringLeavesOutAbsentParts) {
  EXPECT_EQ((ConfigError{"c.yaml", 14, 5, "policies[2].when.for", "bad"}).ToString(),
            "c.yaml:14:5: policies[2].when.for: bad");
  EXPECT_EQ((ConfigError{"c.yaml", 3, 1, "", "bad"}).ToString(), "c.yaml:3:1: bad");
  EXPECT_EQ((ConfigError{"c.yaml", 0, 0, "api", "bad"}).ToString(), "c.yaml: api: bad");
}

}  // namespace
}  // namespace hdm

namespace hdm {
namespace {

TEST(ConfigAlertTest, AlertPolicyReadsNamesLabelsAndFor) {
  auto c = ParseConfig(R"(
api: { base_url: https://api.hotdata.dev }
policies:
  - name: one
    when: { event: alert, alertname: HotdataQueryLatencyHigh }
    action: { purge: connection }
  - name: many
    match: { source_type: [postgres] }
    when: { event: alert, alertname: [A, B], labels: { severity: critical, team: "" }, for: 2m }
    action: { purge: table }
  - name: zero
    when: { event: alert, alertname: [A], for: 0s }
    action: { purge: table, tables: [public.orders] }
)",
                       "c.yaml");
  ASSERT_TRUE(c.has_value()) << c.error()[0].ToString();
  ASSERT_EQ(c->policies.size(), 3u);
  const WhenConfig& one = c->policies[0].when;
  EXPECT_EQ(one.event, EventKind::kAlert);
  EXPECT_EQ(one.alertnames, std::vector<std::string>{"HotdataQueryLatencyHigh"});
  EXPECT_TRUE(one.alert_labels.empty());
  EXPECT_FALSE(one.for_duration.has_value());
  const WhenConfig& many = c->policies[1].when;
  EXPECT_EQ(many.alertnames, (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(many.alert_labels,
            (std::map<std::string, std::string>{{"severity", "critical"}, {"team", ""}}));
  EXPECT_EQ(many.for_duration, Millis(120'000));
  EXPECT_TRUE(c->policies[1].action.tables.empty());  // the alert's schema and table labels
  EXPECT_EQ(c->policies[2].when.for_duration, Millis(0));
}

TEST(ConfigAlertTest, AlertKeysBelongToTheAlertEventOnly) {
  auto c = ParseConfig(R"(
api: { base_url: https://api.hotdata.dev }
policies:
  - { name: u, when: { event: unhealthy, after_failures: 1, alertname: A }, action: { purge: connection } }
  - { name: e, when: { event: alert, alertname: [] }, action: { purge: connection } }
)",
                       "c.yaml");
  ASSERT_FALSE(c.has_value());
  ASSERT_EQ(c.error().size(), 2u);
  EXPECT_EQ(c.error()[0].key, "policies[0].when.alertname");
  EXPECT_EQ(c.error()[0].message, "\"alertname\" does not apply to event unhealthy");
  EXPECT_EQ(c.error()[1].key, "policies[1].when.alertname");
  EXPECT_EQ(c.error()[1].message, "name at least one alert");
}

}  // namespace
}  // namespace hdm
