// `hotdata-monitor connections ...`: the operator command line over the eight connection
// operations of the Hotdata API, with the daemon's config and token (docs/operator-cli.md).
// Start here; the subcommands are in subcommands.h.
#pragma once

#include <iosfwd>

#include "app/cli.h"
#include "ops/context.h"
#include "ops/ops_cli.h"

namespace hdm::ops {

// Parses cli.connections_args, loads the config and token, runs the subcommand. Returns the
// process exit code; `in` answers confirmations.
int RunConnections(const CliOptions& cli, std::istream& in, std::ostream& out, std::ostream& err);

// The dispatch, for a context already built (tests build theirs around a fake).
int RunSubcommand(const OpsContext& ctx, const OpsOptions& options);

}  // namespace hdm::ops
