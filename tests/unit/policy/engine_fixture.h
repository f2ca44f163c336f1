// Helpers for PolicyEngine tests: configs from YAML text, a small fleet, explicit times, and
// decisions summarised as short strings so that tests read as tables.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/config.h"
#include "health/connection_state.h"
#include "health/scheduler.h"
#include "policy/engine.h"

namespace hdm::policy::testing {

using namespace std::chrono_literals;

// 2023-11-14T22:13:20Z
inline const SysTime kT0 = SysTime(std::chrono::seconds(1'700'000'000));

// Parses `yaml` (everything but the api section) into a config; throws on errors so that the
// test fails with the messages.
inline std::shared_ptr<const Config> ConfigFrom(const std::string& yaml) {
  auto result = ParseConfig("api: { base_url: http://127.0.0.1:1 }\n" + yaml, "test.yaml");
  if (!result) {
    std::string all;
    for (const auto& e : result.error()) all += e.ToString() + "\n";
    throw std::runtime_error("bad test config:\n" + all);
  }
  return std::make_shared<const Config>(std::move(*result));
}

inline ConnectionState Conn(const std::string& id, const std::string& name,
                            const std::string& source_type = "postgres") {
  ConnectionState s;
  s.info = {.id = id, .name = name, .source_type = source_type};
  return s;
}

// "policy target verdict" per decision: "p c1 perform", "p c1/public.orders dry_run",
// "p c2 suppressed:cooldown"; "+retry" marks a retry.
inline std::string Summary(const Decision& d) {
  std::string out = d.policy + " " + d.target.connection_id;
  if (d.target.table) out += "/" + d.target.table->schema + "." + d.target.table->table;
  switch (d.verdict) {
    case Verdict::kPerform:
      out += " perform";
      break;
    case Verdict::kDryRun:
      out += " dry_run";
      break;
    case Verdict::kSuppressed:
      out += " suppressed:" + std::string(ReasonName(d.reason));
      break;
  }
  if (d.retry) out += " +retry";
  return out;
}

inline std::vector<std::string> Summaries(const std::vector<Decision>& ds) {
  std::vector<std::string> out;
  for (const auto& d : ds) out.push_back(Summary(d));
  return out;
}

using Strings = std::vector<std::string>;

// An engine over a fleet of four healthy-by-default postgres connections c1..c4 (names prod-a,
// prod-b, dev-c, prod-d), discovered at kT0. Time is explicit: `t` moves only by Advance().
class EngineTest : public ::testing::Test {
 protected:
  void Start(const std::string& yaml, PolicyState state = {}) {
    config_ = ConfigFrom(yaml);
    engine_ = std::make_unique<PolicyEngine>(config_, std::move(state));
    engine_->OnDiscovery(fleet_, t);
  }
  // Rebuilds the engine from its exported state, as a restart does.
  void Restart(const std::string& yaml = "") {
    PolicyState state = engine_->Export();
    config_ = yaml.empty() ? config_ : ConfigFrom(yaml);
    engine_ = std::make_unique<PolicyEngine>(config_, std::move(state));
    engine_->OnDiscovery(fleet_, t);
  }
  ConnectionState& Fleet(const std::string& id) {
    for (auto& c : fleet_) {
      if (c.info.id == id) return c;
    }
    throw std::runtime_error("no connection " + id);
  }
  void Advance(SysTime::duration d) { t += d; }

  // A valid answer for `id` at `t`.
  void Answer(const std::string& id, bool healthy, double latency_seconds = 0.05) {
    CheckEvent e{.state = Fleet(id), .answered = true, .at = t};
    e.state.healthy = healthy;
    e.state.latency_seconds = latency_seconds;
    e.state.last_answer = t;
    engine_->OnCheck(e);
  }
  // A failed check for `id` at `t` (the API did not answer validly).
  void Fail(const std::string& id) {
    CheckEvent e{.state = Fleet(id), .answered = false, .at = t};
    e.state.check_success = false;
    engine_->OnCheck(e);
  }
  // Evaluates at `t` and reports `kind` for every kPerform decision.
  Strings Eval(OutcomeKind kind = OutcomeKind::kSuccess) {
    last_ = engine_->Evaluate(t);
    for (const auto& d : last_) {
      if (d.verdict == Verdict::kPerform) engine_->OnOutcome(d, Outcome{kind, "msg"}, t);
    }
    return Summaries(last_);
  }
  // Answers then evaluates: the common step of health tests.
  Strings Step(const std::string& id, bool healthy, double latency_seconds = 0.05) {
    Answer(id, healthy, latency_seconds);
    return Eval();
  }
  // Every connection answers (healthy or not) at `t`.
  void AllAnswer(bool healthy) {
    for (const auto& c : fleet_) Answer(c.info.id, healthy);
  }

  SysTime t = kT0;
  std::vector<ConnectionState> fleet_ = {Conn("c1", "prod-a"), Conn("c2", "prod-b"),
                                         Conn("c3", "dev-c"), Conn("c4", "prod-d", "mysql")};
  std::shared_ptr<const Config> config_;
  std::unique_ptr<PolicyEngine> engine_;
  std::vector<Decision> last_;
};

}  // namespace hdm::policy::testing
