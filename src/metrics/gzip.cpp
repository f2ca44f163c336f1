#include "metrics/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <limits>

namespace hdm {

std::string GzipCompress(std::string_view data, int level) {
  level = std::clamp(level, Z_DEFAULT_COMPRESSION, Z_BEST_COMPRESSION);
  z_stream zs{};
  constexpr int kGzipWindowBits = 15 + 16;  // 32 KiB window, gzip header and trailer
  constexpr int kMemLevel = 8;              // zlib's default
  if (deflateInit2(&zs, level, Z_DEFLATED, kGzipWindowBits, kMemLevel, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return {};
  }
  constexpr size_t kMaxChunk = std::numeric_limits<uInt>::max();
  std::string out;
  // Text compresses well: start at an eighth of the input (the loop below grows it) rather than
  // at deflateBound, which would allocate and zero more than the whole input.
  out.resize(std::max<size_t>(data.size() / 8, 1024));
  size_t consumed = 0;
  int rc = Z_OK;
  while (rc == Z_OK) {
    if (zs.avail_in == 0) {
      const size_t chunk = std::min(data.size() - consumed, kMaxChunk);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + consumed));
      zs.avail_in = static_cast<uInt>(chunk);
      consumed += chunk;
    }
    if (zs.total_out == out.size()) out.resize(out.size() * 2);
    const size_t room = std::min(out.size() - zs.total_out, kMaxChunk);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + zs.total_out);
    zs.avail_out = static_cast<uInt>(room);
    rc = deflate(&zs, consumed == data.size() ? Z_FINISH : Z_NO_FLUSH);
  }
  const bool ok = rc == Z_STREAM_END;
  out.resize(ok ? zs.total_out : 0);
  deflateEnd(&zs);
  return out;
}

}  // namespace hdm
