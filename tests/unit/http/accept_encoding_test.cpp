#include "http/accept_encoding.h"

#include <gtest/gtest.h>

namespace hdm {
namespace {

TEST(AcceptEncodingTest, Table) {
  struct Case {
    const char* header;
    bool gzip;
  };
  const Case cases[] = {
      {"", false},
      {"gzip", true},
      {"GZip", true},
      {"x-gzip", true},
      {"identity", false},
      {"br", false},
      {"gzip, deflate, br", true},
      {"br;q=1.0, gzip;q=0.8, *;q=0.1", true},  // what Prometheus sends, more or less
      {"deflate, gzip ;q=0.5", true},
      {"gzip;q=0", false},
      {"gzip; q=0.000", false},
      {"gzip;q=0.001", true},
      {"*", true},
      {"*;q=0", false},
      {"gzip;q=0, *", false},  // the explicit entry wins
      {"identity, *;q=0.5", true},
      {" , ,gzip", true},
      {"gzipx", false},
  };
  for (const Case& c : cases) EXPECT_EQ(AcceptsGzip(c.header), c.gzip) << '"' << c.header << '"';
}

}  // namespace
}  // namespace hdm
