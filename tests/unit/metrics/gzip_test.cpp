#include "metrics/gzip.h"

#include <zlib.h>

#include <gtest/gtest.h>

namespace hdm {
namespace {

// Inflates one gzip member; "<error>" when it is not valid gzip.
std::string Gunzip(const std::string& gz) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return "<error>";
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  std::string out;
  char buf[16384];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
  }
  inflateEnd(&zs);
  return rc == Z_STREAM_END ? out : "<error>";
}

TEST(GzipTest, RoundTripsAndCarriesTheGzipMagic) {
  std::string text;
  for (int i = 0; i < 20000; ++i)
    text += "hotdata_connection_healthy{connection_id=\"c" + std::to_string(i) + "\"} 1\n";
  const std::string gz = GzipCompress(text, 6);
  ASSERT_GE(gz.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(gz[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(gz[1]), 0x8b);
  EXPECT_LT(gz.size(), text.size() / 5);
  EXPECT_EQ(Gunzip(gz), text);
}

TEST(GzipTest, EmptyInputGivesAValidEmptyMember) {
  const std::string gz = GzipCompress("", -1);
  EXPECT_FALSE(gz.empty());
  EXPECT_EQ(Gunzip(gz), "");
}

TEST(GzipTest, IncompressibleInputAndOutOfRangeLevelsStillRoundTrip) {
  std::string noise;
  uint32_t x = 12345;
  for (int i = 0; i < 100000; ++i) {
    x = x * 1664525u + 1013904223u;
    noise += static_cast<char>(x >> 24);
  }
  EXPECT_EQ(Gunzip(GzipCompress(noise, 0)), noise);
  EXPECT_EQ(Gunzip(GzipCompress(noise, 42)), noise);
  EXPECT_EQ(Gunzip(GzipCompress(noise, -7)), noise);
}

// Any gzip reader decodes the sliced member (inflate checks the combined CRC and the length),
// whatever the number of slices and wherever their bounds fall.
TEST(GzipTest, ParallelSlicesMakeOneValidMember) {
  std::string text;
  for (int i = 0; text.size() < 3'000'000; ++i) {
    text += "hotdata_connection_last_check_timestamp_seconds{connection_id=\"conn_" +
            std::to_string(i) + "\",connection=\"prod-pg-" + std::to_string(i % 977) + "\"} " +
            std::to_string(1795629577.8031642 + i * 0.37) + "\n";
  }
  std::string noise(700'001, '\0');
  uint32_t x = 12345;
  for (char& c : noise) c = static_cast<char>((x = x * 1103515245 + 12345) >> 24);
  for (const std::string* input : {&text, &noise}) {
    for (int parts : {1, 2, 3, 4, 7}) {
      const std::string gz = GzipCompressParallel(*input, 1, parts);
      ASSERT_FALSE(gz.empty());
      EXPECT_EQ(Gunzip(gz), *input) << parts << " parts";
    }
  }
  EXPECT_LT(GzipCompressParallel(text, 1, 2).size(), text.size() / 5);
  // Small inputs take the one-piece path.
  EXPECT_EQ(Gunzip(GzipCompressParallel("", 1, 2)), "");
  EXPECT_EQ(Gunzip(GzipCompressParallel("abc\n", 1, 2)), "abc\n");
}

}  // namespace
}  // namespace hdm
