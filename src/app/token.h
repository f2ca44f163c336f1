// Reads the API token named by the config: `token_file` when set (with ${NAME} expanded from the
// environment, config/path_vars.h), else the environment variable `token_env`. Errors name the file
// or variable, never the token. Makes the process non-dumpable first (prctl PR_SET_DUMPABLE 0): no
// core dump holds the token.
#pragma once

#include <expected>
#include <string>

#include "config/config.h"

namespace hdm {

std::expected<std::string, std::string> ReadToken(const ApiConfig& api);

}  // namespace hdm
