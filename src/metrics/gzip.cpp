#include "metrics/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <limits>
#include <thread>
#include <vector>

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

namespace {

constexpr size_t kWindow = 32 * 1024;
constexpr size_t kMinParallel = 256 * 1024;

struct Slice {
  std::string deflated;  // raw deflate; empty with ok = false on failure
  uLong crc = 0;
  bool ok = false;
};

// Raw-deflates data[begin, end), primed with up to 32 KiB before `begin`; ends the stream when
// `last`, else flushes to a byte boundary so that the next slice can follow it.
Slice DeflateSlice(std::string_view data, size_t begin, size_t end, int level, bool last) {
  Slice out;
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) return out;
  if (begin > 0) {
    const size_t from = begin > kWindow ? begin - kWindow : 0;
    deflateSetDictionary(&zs, reinterpret_cast<const Bytef*>(data.data() + from),
                         static_cast<uInt>(begin - from));
  }
  const size_t size = end - begin;  // < 4 GiB: callers slice far below that
  // Text compresses well: start at an eighth of the slice and grow, rather than allocate (and
  // touch) deflateBound, more than the slice itself.
  out.deflated.resize(std::max<size_t>(size / 8, 4096));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + begin));
  zs.avail_in = static_cast<uInt>(size);
  const int flush = last ? Z_FINISH : Z_SYNC_FLUSH;
  int rc = Z_OK;
  for (;;) {
    zs.next_out = reinterpret_cast<Bytef*>(out.deflated.data() + zs.total_out);
    zs.avail_out = static_cast<uInt>(out.deflated.size() - zs.total_out);
    rc = deflate(&zs, flush);
    // Done: the stream ended (last), or all input went in and the flush fit (avail_out left).
    if (rc == Z_STREAM_END || (rc == Z_OK && !last && zs.avail_in == 0 && zs.avail_out > 0)) break;
    if (rc != Z_OK && !(rc == Z_BUF_ERROR && zs.avail_out == 0)) break;  // an error
    out.deflated.resize(out.deflated.size() * 2);
  }
  out.ok = last ? rc == Z_STREAM_END : (rc == Z_OK && zs.avail_in == 0);
  out.deflated.resize(out.ok ? zs.total_out : 0);
  deflateEnd(&zs);
  out.crc = crc32(0, reinterpret_cast<const Bytef*>(data.data() + begin), static_cast<uInt>(size));
  return out;
}

void AppendLittleEndian32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

}  // namespace

std::string GzipCompressParallel(std::string_view data, int level, int parts) {
  if (parts < 2 || data.size() < kMinParallel || data.size() > (1u << 31)) {
    return GzipCompress(data, level);
  }
  level = std::clamp(level, Z_DEFAULT_COMPRESSION, Z_BEST_COMPRESSION);
  const size_t n = static_cast<size_t>(parts);
  const size_t step = (data.size() + n - 1) / n;
  std::vector<Slice> slices(n);
  std::vector<std::thread> threads;
  threads.reserve(n - 1);
  auto run = [&](size_t i) {
    const size_t begin = std::min(data.size(), i * step);
    const size_t end = std::min(data.size(), begin + step);
    slices[i] = DeflateSlice(data, begin, end, level, i + 1 == n);
  };
  for (size_t i = 1; i < n; ++i) threads.emplace_back(run, i);
  run(0);
  for (auto& t : threads) t.join();

  std::string out = {'\x1f', '\x8b', '\x08', '\0', '\0', '\0', '\0', '\0', '\0', '\x03'};
  size_t total = out.size() + 8;
  for (const Slice& s : slices) {
    if (!s.ok) return {};
    total += s.deflated.size();
  }
  out.reserve(total);
  uLong crc = crc32(0, nullptr, 0);
  for (size_t i = 0; i < n; ++i) {
    out += slices[i].deflated;
    const size_t begin = std::min(data.size(), i * step);
    const size_t end = std::min(data.size(), begin + step);
    crc = crc32_combine(crc, slices[i].crc, static_cast<z_off_t>(end - begin));
  }
  AppendLittleEndian32(out, static_cast<uint32_t>(crc));
  AppendLittleEndian32(out, static_cast<uint32_t>(data.size()));
  return out;
}

}  // namespace hdm
