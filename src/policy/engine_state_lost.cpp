// PolicyEngine: the state_lost hold (engine.h). Every purge is held while the state holds a
// StateLostHold; it ends by an operator's clear (through MergeShared) or by age.
#include <algorithm>

#include "common/saturating_time.h"
#include "common/time_format.h"
#include "policy/engine.h"

namespace hdm::policy {

std::optional<SysTime> PolicyEngine::StateLostUntil() const {
  if (!state_.state_lost) return std::nullopt;
  Millis longest = std::chrono::duration_cast<Millis>(kBudgetWindow);
  for (const PolicyConfig& p : config_->policies) longest = std::max(longest, p.cooldown);
  return SaturatingAdd(state_.state_lost->file_time, longest);
}

std::optional<std::string> PolicyEngine::StateLost() const {
  if (!state_.state_lost) return std::nullopt;
  const StateLostHold& hold = *state_.state_lost;
  return "the state file could not be used (" + hold.why +
         "): its cooldowns and budget are lost; " +
         "every purge is held until an operator runs `hotdata-monitor state clear-hold` or " +
         FormatRfc3339(*StateLostUntil()) +
         " (the longest cooldown and the budget's hour after the file's last save at " +
         FormatRfc3339(hold.file_time) + ")";
}

std::optional<std::pair<SuppressReason, std::string>> PolicyEngine::StateLostHeld() const {
  auto why = StateLost();
  if (!why) return std::nullopt;
  return std::pair{SuppressReason::kStateLost, std::move(*why)};
}

void PolicyEngine::LiftStateLostIfAged(SysTime now) {
  const std::optional<SysTime> until = StateLostUntil();
  if (!until || now < *until) return;
  state_lost_end_ = "aged out at " + FormatRfc3339(*until) +
                    ": the longest cooldown and the budget's hour have passed since the unusable "
                    "state file's last save at " +
                    FormatRfc3339(state_.state_lost->file_time) +
                    ", so nothing it held could still hold a purge back";
  state_.state_lost.reset();
}

void PolicyEngine::MergeShared(const PolicyState& from) {
  const bool held = state_.state_lost.has_value();
  policy::MergeShared(state_, from);
  if (held && !state_.state_lost) {
    state_lost_end_ = "cleared by an operator (hotdata-monitor state clear-hold)";
  }
}

std::optional<std::string> PolicyEngine::TakeStateLostEnd() {
  return std::exchange(state_lost_end_, std::nullopt);
}

}  // namespace hdm::policy
