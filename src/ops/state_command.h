// `hotdata-monitor [--config PATH] state clear-hold`: ends the hold of every purge (state_lost)
// that the daemon began when its state file could not be used at a start (corrupt, or of a
// version it can neither read nor migrate). It writes the end into the state file, under the
// state lock; a running daemon reads it within a second (it re-reads the file whenever its stamp
// changes), a stopped one at its next start. Reads the config (for state_file), never the token.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "app/cli.h"
#include "common/clock.h"

namespace hdm::ops {

std::string StateUsageText();

// `args` are those after "state". Exit codes: 0 cleared (or nothing was held), 2 usage or
// configuration error, or the state file could not be read or written.
int RunStateCommand(const std::vector<std::string>& args, const std::string& config_path,
                    const Clock& clock, std::ostream& out, std::ostream& err);

// The command line's entry: RunStateCommand with cli.state_args and the system clock.
int RunState(const CliOptions& cli, std::ostream& out, std::ostream& err);

}  // namespace hdm::ops
