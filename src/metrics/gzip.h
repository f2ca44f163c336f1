// gzip (RFC 1952) compression of a whole response body, for Content-Encoding: gzip.
#pragma once

#include <string>
#include <string_view>

namespace hdm {

// Returns `data` as one gzip member compressed at `level` (0 to 9, or -1 for zlib's default;
// other values are clamped). Returns "" only on failure (zlib out of memory): the gzip of any
// input, the empty one included, is never empty. Thread-safe.
std::string GzipCompress(std::string_view data, int level = -1);

// The same gzip member (any gzip reader decodes it), compressed in `parts` slices at once, one
// thread each (the caller's included), as pigz does: each slice is a raw deflate stream primed
// with the 32 KiB before it, all but the last ended on a byte boundary (Z_SYNC_FLUSH); the CRC
// is combined. The output is a little larger than GzipCompress's. Inputs under 256 KiB, or
// parts < 2, compress in one piece. "" only on failure. Thread-safe.
std::string GzipCompressParallel(std::string_view data, int level, int parts);

}  // namespace hdm
