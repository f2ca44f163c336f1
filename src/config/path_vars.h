// ${NAME} in a configured file path, from the environment: the shipped config reads the token
// from `${CREDENTIALS_DIRECTORY}/api-token`, the directory where systemd's LoadCredential= puts
// it (/run/credentials/<unit>/, which differs per unit and per template instance).
//
// Only `${NAME}` is expanded (NAME: letters, digits and `_`, not starting with a digit); any
// other `$` is kept as it is. A variable that is unset or empty is an error that names it, so a
// path never silently becomes "/api-token". Thread-safe (reads the environment only).
#pragma once

#include <expected>
#include <string>
#include <string_view>

namespace hdm {

std::expected<std::string, std::string> ExpandPathVariables(std::string_view path);

}  // namespace hdm
