// Decoders of the API's JSON bodies. Each accepts exactly the wire model of the API page,
// ignores unknown fields, and turns a missing field, a wrong type or a body that is not JSON
// into an error message naming the field (e.g. `connections[3].id: expected string, got null`).
// Never throws.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "hotdata/types.h"

namespace hdm::hotdata {

template <typename T>
using Decoded = std::expected<T, std::string>;

Decoded<std::vector<ConnectionInfo>> DecodeListConnections(std::string_view body);
Decoded<ConnectionDetails> DecodeGetConnection(std::string_view body);
Decoded<HealthResponse> DecodeHealth(std::string_view body);
Decoded<CreateConnectionResponse> DecodeCreateConnection(std::string_view body);
Decoded<TableProfile> DecodeTableProfile(std::string_view body);

// The `{"error": {"code": ..., "message": ...}}` body of an error answer; nullopt-like error
// when the body is not of that shape (a proxy's HTML page, say).
struct ApiErrorBody {
  std::string code;
  std::string message;
};
Decoded<ApiErrorBody> DecodeErrorBody(std::string_view body);

// Request body of create_connection.
std::string EncodeCreateConnection(const CreateConnectionRequest& req);

}  // namespace hdm::hotdata
