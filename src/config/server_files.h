// The files that server.tls and server.basic_auth name. LoadConfig() checks them after the YAML
// is valid (so --check-config, startup and every reload see the same problems); ParseConfig()
// does not touch the file system. Nothing here ever quotes a file's content: it may be a secret.
#pragma once

#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace hdm {

// Why `hash` is not a bcrypt hash (`$2a$`, `$2b$` or `$2y$`, a two-digit cost 04-31, then 53
// characters of salt and digest), or nullopt when it is one.
std::optional<std::string> BcryptHashProblem(std::string_view hash);

// Reads server.basic_auth.password_file: one bcrypt hash, surrounding whitespace ignored. The
// error names the file and what is wrong, never the content.
std::expected<std::string, std::string> ReadPasswordHash(const std::string& path);

// Why `path` is not a readable PEM file ("cannot read /x: ...", "/x is not a PEM file"), or
// nullopt when it is one. Only the start of a PEM block is looked for: the TLS setup parses it.
std::optional<std::string> PemFileProblem(const std::string& path);

// Checks that server.tls.cert_file and key_file are readable PEM files and that
// server.basic_auth.password_file holds a bcrypt hash. One error per problem, with its key and
// no position (`config.yaml: server.tls.key_file: cannot read /x/key.pem: Permission denied`).
std::vector<ConfigError> CheckServerFiles(const ServerConfig& server,
                                          const std::string& config_file);

}  // namespace hdm
