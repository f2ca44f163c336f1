// The subcommands of `hotdata-monitor connections`, one function each. Each writes its report
// to ctx.out and its errors to ctx.err and returns the process exit code (ops_cli.h's usage
// text lists them). None prints the token: API errors are printed as ApiError::ToString().
#pragma once

#include "ops/context.h"
#include "ops/ops_cli.h"

namespace hdm::ops {

int RunList(const OpsContext& ctx, const OpsOptions& o);     // subcommands_read.cpp
int RunGet(const OpsContext& ctx, const OpsOptions& o);      // subcommands_read.cpp
int RunHealth(const OpsContext& ctx, const OpsOptions& o);   // subcommands_read.cpp
int RunProfile(const OpsContext& ctx, const OpsOptions& o);  // subcommand_profile.cpp
int RunCreate(const OpsContext& ctx, const OpsOptions& o);   // subcommands_write.cpp
int RunDelete(const OpsContext& ctx, const OpsOptions& o);   // subcommands_write.cpp
int RunPurge(const OpsContext& ctx, const OpsOptions& o);    // subcommand_purge.cpp

// Prints "hotdata-monitor: <message>" to ctx.err and returns its exit code.
int Fail(const OpsContext& ctx, const OpsError& error);

// Asks `question [y/N] ` on ctx.err and reads one line from ctx.in: true for y or yes (any
// case). End of input is no.
bool Confirm(const OpsContext& ctx, const std::string& question);

// Runs fn(api, i) for every i in [0, n) on at most `threads` threads, each with its own client
// from ctx.make_api. Returns when all are done.
void ForEachParallel(const OpsContext& ctx, size_t n, size_t threads,
                     const std::function<void(hotdata::HotdataApi&, size_t)>& fn);

}  // namespace hdm::ops
