// The one-shot commands: --once and --check-config. Each returns the process exit code and
// writes its report to `out` and its errors to `err`.
#pragma once

#include <iosfwd>

#include "app/cli.h"

namespace hdm {

int RunOnce(const CliOptions& cli, std::ostream& out, std::ostream& err);
int RunCheckConfig(const CliOptions& cli, std::ostream& out, std::ostream& err);

}  // namespace hdm
