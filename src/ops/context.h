// What every subcommand of `hotdata-monitor connections` works with: the loaded config, a way to
// make API clients, the streams, and the clock. Built by RunConnections() (connections.h); tests
// build it around a fake.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>

#include "common/clock.h"
#include "config/config.h"
#include "hotdata/api.h"

namespace hdm::ops {

struct OpsContext {
  const Config& config;
  // A new client per call: each serves one thread (health and list fan out over several).
  std::function<std::unique_ptr<hotdata::HotdataApi>()> make_api;
  std::istream& in;  // confirmations
  std::ostream& out;
  std::ostream& err;
  const Clock& clock;
  bool color = false;  // colour the health table
  std::string user;    // who runs the command, for the audit log
};

// A subcommand's failure: what to print (without the "hotdata-monitor: " prefix) and the exit
// code.
struct OpsError {
  int exit_code = 0;
  std::string message;
};

}  // namespace hdm::ops
