// Fingerprints of configuration: how the engine tells "this policy changed" and "the config
// changed" across reloads and restarts. Stable across runs and versions of the same build
// (FNV-1a 64 over a canonical text), 16 hex digits. Pure functions; thread-safe.
#pragma once

#include <string>

#include "config/config.h"

namespace hdm::policy {

// What defines when a policy fires and what it acts on: match, when and action. Not cooldown
// or dry_run: turning dry-run off must not restart the policy's episodes.
std::string PolicyFingerprint(const PolicyConfig& policy);

// What a permanent mark depends on: every policy (all its keys), the tables list and the API
// the purges go to.
std::string ConfigFingerprint(const Config& config);

}  // namespace hdm::policy
