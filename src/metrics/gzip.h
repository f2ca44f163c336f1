// gzip (RFC 1952) compression of a whole response body, for Content-Encoding: gzip.
#pragma once

#include <string>
#include <string_view>

namespace hdm {

// Returns `data` as one gzip member compressed at `level` (0 to 9, or -1 for zlib's default;
// other values are clamped). Returns "" only on failure (zlib out of memory): the gzip of any
// input, the empty one included, is never empty. Thread-safe.
std::string GzipCompress(std::string_view data, int level = -1);

}  // namespace hdm
