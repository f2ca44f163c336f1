// Content negotiation for /metrics: does the client's Accept-Encoding allow gzip?
#pragma once

#include <string_view>

namespace hdm {

// True when `accept_encoding` (an Accept-Encoding header value, RFC 9110 12.5.3) lists gzip,
// x-gzip or * with a non-zero quality. Case-insensitive; an empty header allows none.
bool AcceptsGzip(std::string_view accept_encoding);

}  // namespace hdm
