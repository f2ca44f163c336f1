// POST /api/v1/alerts gets any body from whoever can reach it: the decoder and the engine's alert
// handling must survive every one. Properties:
//  - nothing throws, nothing crashes;
//  - a refusal is one line of bounded length (it is the 400's body and a log line);
//  - a decoded alert has an alertname, a fingerprint of 1 to 64 bytes and a startsAt in whole
//    milliseconds (the state file's precision: otherwise a restart would see a new episode);
//  - the engine, fed every decoded notification, keeps at most kMaxAlertEpisodes episodes and
//    decides on monitored connections only.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "config/config.h"
#include "fuzz_support.h"
#include "policy/engine.h"
#include "webhook/payload.h"

namespace {

using namespace hdm;

policy::PolicyEngine& Engine() {
  static std::unique_ptr<policy::PolicyEngine> engine = [] {
    auto config = ParseConfig(R"(
api: { base_url: http://127.0.0.1:1 }
policies:
  - { name: c, when: { event: alert, alertname: [A, HotdataQueryLatencyHigh] }, action: { purge: connection }, cooldown: 0s }
  - { name: t, when: { event: alert, alertname: [A, B], for: 1m }, action: { purge: table }, cooldown: 0s }
)",
                              "fuzz.yaml");
    if (!config) std::abort();
    auto e = std::make_unique<policy::PolicyEngine>(
        std::make_shared<const Config>(std::move(*config)), policy::PolicyState{});
    std::vector<ConnectionState> fleet(2);
    fleet[0].info = {.id = "conn_pg", .name = "prod-pg", .source_type = "postgres"};
    fleet[1].info = {.id = "c1", .name = "prod-pg", .source_type = "postgres"};
    e->OnDiscovery(fleet, SysTime(std::chrono::seconds(1'700'000'000)));
    return e;
  }();
  return *engine;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body = hdm::fuzz::AsText(data, size);
  auto payload = webhook::DecodePayload(body);
  if (!payload) {
    FUZZ_CHECK(payload.error().find('\n') == std::string::npos, payload.error());
    FUZZ_CHECK(payload.error().size() <= 1024, payload.error());
    return 0;
  }
  for (const webhook::Alert& a : payload->alerts) {
    FUZZ_CHECK(a.labels.contains("alertname"), "no alertname");
    FUZZ_CHECK(!a.fingerprint.empty() && a.fingerprint.size() <= 64, a.fingerprint);
    FUZZ_CHECK(
        a.starts_at.time_since_epoch() % std::chrono::milliseconds(1) == SysTime::duration::zero(),
        "startsAt finer than a millisecond");
  }
  static SysTime now = SysTime(std::chrono::seconds(1'700'000'000));
  now += std::chrono::seconds(30);
  policy::PolicyEngine& engine = Engine();
  engine.OnAlerts(payload->alerts, now);
  for (const policy::Decision& d : engine.Evaluate(now)) {
    FUZZ_CHECK(d.target.connection_id == "conn_pg" || d.target.connection_id == "c1",
               d.target.connection_id);
    if (d.verdict == policy::Verdict::kPerform) {
      engine.OnOutcome(d, policy::Outcome{}, now);
    }
  }
  FUZZ_CHECK(engine.Export().alert_episodes.size() <= policy::kMaxAlertEpisodes, "too many");
  return 0;
}
