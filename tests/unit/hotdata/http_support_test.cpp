#include <gtest/gtest.h>

#include "hotdata/http_client.h"
#include "hotdata/http_support.h"
#include "hotdata/text_util.h"

namespace hdm::hotdata {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(EncodePathSegmentTest, Table) {
  const std::pair<std::string, std::string> table[] = {
      {"conn_123", "conn_123"},
      {"Order Items", "Order%20Items"},
      {"a/b", "a%2Fb"},
      {"100%", "100%25"},
      {"A-Z.a_z~0-9", "A-Z.a_z~0-9"},
      {"a+b", "a%2Bb"},
      {"q?x=1#f", "q%3Fx%3D1%23f"},
      {"..", ".."},
      {"", ""},
      {"caf\xc3\xa9", "caf%C3%A9"},
      {std::string("nul\0x", 5), "nul%00x"},
      {"line\nbreak", "line%0Abreak"},
      {"eu.sales", "eu.sales"},
  };
  for (const auto& [in, out] : table) EXPECT_EQ(EncodePathSegment(in), out) << in;
}

TEST(ParseBaseUrlTest, AcceptsHttpAndHttpsWithPrefix) {
  auto a = ParseBaseUrl("https://app.hotdata.dev");
  ASSERT_TRUE(a) << a.error();
  EXPECT_EQ(a->scheme, "https");
  EXPECT_EQ(a->scheme_host_port, "https://app.hotdata.dev");
  EXPECT_EQ(a->path_prefix, "");

  auto b = ParseBaseUrl("http://127.0.0.1:8080/api/");
  ASSERT_TRUE(b) << b.error();
  EXPECT_EQ(b->scheme_host_port, "http://127.0.0.1:8080");
  EXPECT_EQ(b->path_prefix, "/api");

  auto c = ParseBaseUrl("http://[::1]:9000");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->scheme_host_port, "http://[::1]:9000");
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->port, 9000);
  EXPECT_EQ(c->authority, "[::1]:9000");
}

TEST(ParseBaseUrlTest, SplitsHostAndPortWithTheSchemesDefault) {
  auto a = ParseBaseUrl("https://app.hotdata.dev/v");
  ASSERT_TRUE(a) << a.error();
  EXPECT_EQ(a->host, "app.hotdata.dev");
  EXPECT_EQ(a->port, 443);
  EXPECT_EQ(a->authority, "app.hotdata.dev");
  auto b = ParseBaseUrl("http://127.0.0.1:8080");
  ASSERT_TRUE(b) << b.error();
  EXPECT_EQ(b->host, "127.0.0.1");
  EXPECT_EQ(b->port, 8080);
  EXPECT_EQ(ParseBaseUrl("http://localhost")->port, 80);
}

TEST(ParseBaseUrlTest, RejectsWhatTheClientCannotServe) {
  for (const char* url : {"app.hotdata.dev", "ftp://x", "https://", "http://u:p@host",
                          "http://host:0", "http://host:99999", "http://host:x",
                          "http://host/p?q=1", "http://[::1", "http://[]:80", "http://a]b"}) {
    EXPECT_FALSE(ParseBaseUrl(url)) << url;
  }
}

TEST(ParseRetryAfterTest, SecondsAndHttpDates) {
  // 2015-10-21T07:28:00Z
  const auto now = std::chrono::system_clock::from_time_t(1445412480);
  EXPECT_EQ(ParseRetryAfter("1", now), milliseconds(1000));
  EXPECT_EQ(ParseRetryAfter(" 120 ", now), milliseconds(120'000));
  EXPECT_EQ(ParseRetryAfter("0", now), milliseconds(0));
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", now), milliseconds(30'000));
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:00:00 GMT", now), milliseconds(0));
  EXPECT_EQ(ParseRetryAfter("99999999999999999999999", now), std::chrono::hours(24));
  EXPECT_FALSE(ParseRetryAfter("", now));
  EXPECT_FALSE(ParseRetryAfter("-5", now));
  EXPECT_FALSE(ParseRetryAfter("1.5", now));
  EXPECT_FALSE(ParseRetryAfter("soon", now));
}

TEST(BackoffDelayTest, DoublesUpToTheCap) {
  EXPECT_EQ(BackoffDelay(0, milliseconds(500), seconds(10)), milliseconds(500));
  EXPECT_EQ(BackoffDelay(1, milliseconds(500), seconds(10)), milliseconds(1000));
  EXPECT_EQ(BackoffDelay(3, milliseconds(500), seconds(10)), milliseconds(4000));
  EXPECT_EQ(BackoffDelay(5, milliseconds(500), seconds(10)), milliseconds(10'000));
  EXPECT_EQ(BackoffDelay(1000, milliseconds(500), seconds(10)), milliseconds(10'000));
  EXPECT_EQ(BackoffDelay(2, milliseconds(0), seconds(10)), milliseconds(0));
}

TEST(FormatDurationTest, SecondsWhenWhole) {
  EXPECT_EQ(FormatDuration(seconds(15)), "15s");
  EXPECT_EQ(FormatDuration(milliseconds(200)), "200ms");
  EXPECT_EQ(FormatDuration(milliseconds(1500)), "1500ms");
}

TEST(TextUtilTest, ExcerptIsPrintableAndBounded) {
  EXPECT_EQ(Excerpt("  <html>\r\n  <b>Bad\tGateway</b>\n</html>  "),
            "<html> <b>Bad Gateway</b> </html>");
  EXPECT_EQ(Excerpt("a\x01\xff"
                    "b"),
            "a??b");
  EXPECT_EQ(Excerpt(std::string(500, 'x')), std::string(200, 'x') + "...");
  EXPECT_EQ(Excerpt(""), "");
}

TEST(TextUtilTest, CleanUtf8CutsAtCharacterBoundaries) {
  EXPECT_EQ(CleanUtf8("a\nb"), "a b");
  EXPECT_EQ(CleanUtf8("\xc3\xa9\xc3\xa9", 3), "\xc3\xa9...");
  EXPECT_EQ(CleanUtf8("abc", 3), "abc");
}

TEST(TextUtilTest, RedactRemovesEverySecretOccurrence) {
  EXPECT_EQ(Redact("Bearer s3cret and s3cret", "s3cret"), "Bearer <redacted> and <redacted>");
  EXPECT_EQ(Redact("nothing", ""), "nothing");
}

}  // namespace
}  // namespace hdm::hotdata
