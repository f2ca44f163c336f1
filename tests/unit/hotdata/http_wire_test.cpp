#include "hotdata/http_wire.h"

#include <gtest/gtest.h>

#include <string>

namespace hdm::hotdata {
namespace {

using Result = ResponseParser::Result;

constexpr size_t kMax = 1 << 20;

struct Parsed {
  Result result = Result::kNeedMore;
  int status = 0;
  std::string body;
  bool keep_alive = false;
  std::string error;
};

// Feeds `wire` in pieces of `piece` bytes (0: all at once), then the end of the stream when
// `then_close`.
Parsed Parse(std::string_view wire, size_t piece = 0, bool then_close = false, size_t max = kMax) {
  ResponseParser p(max);
  Parsed out;
  if (piece == 0) piece = wire.size() + 1;
  for (size_t at = 0; at < wire.size() && out.result == Result::kNeedMore; at += piece) {
    out.result = p.Feed(wire.substr(at, piece));
  }
  if (then_close && out.result == Result::kNeedMore) out.result = p.FeedEnd();
  out.status = p.status();
  out.body = p.body();
  out.keep_alive = p.keep_alive();
  out.error = p.error();
  return out;
}

constexpr std::string_view kLengthAnswer =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n"
    "{\"healthy\":1}";
constexpr std::string_view kChunkedAnswer =
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
    "4;name=value\r\nWiki\r\n5 \r\npedia\r\nA\r\n in chunks\r\n0\r\nX-Trailer: 1\r\n\r\n";

TEST(ResponseParserTest, ReadsABodyFramedByContentLength) {
  Parsed p = Parse(kLengthAnswer);
  EXPECT_EQ(p.result, Result::kDone);
  EXPECT_EQ(p.status, 200);
  EXPECT_EQ(p.body, "{\"healthy\":1}");
  EXPECT_TRUE(p.keep_alive);
}

TEST(ResponseParserTest, ReadsAChunkedBodyWithExtensionsAndTrailers) {
  Parsed p = Parse(kChunkedAnswer);
  EXPECT_EQ(p.result, Result::kDone) << p.error;
  EXPECT_EQ(p.body, "Wikipedia in chunks");
  EXPECT_TRUE(p.keep_alive);
}

TEST(ResponseParserTest, GivesTheSameAnswerForEverySplitOfTheStream) {
  for (std::string_view wire : {kLengthAnswer, kChunkedAnswer}) {
    const Parsed whole = Parse(wire);
    for (size_t piece = 1; piece < wire.size(); ++piece) {
      Parsed p = Parse(wire, piece);
      EXPECT_EQ(p.result, Result::kDone) << "piece " << piece << ": " << p.error;
      EXPECT_EQ(p.body, whole.body) << "piece " << piece;
    }
    // Two pieces split at every position: "\r" and "\n" apart, the blank line cut.
    for (size_t cut = 1; cut < wire.size(); ++cut) {
      ResponseParser parser(kMax);
      Result r = parser.Feed(wire.substr(0, cut));
      if (r == Result::kNeedMore) r = parser.Feed(wire.substr(cut));
      EXPECT_EQ(r, Result::kDone) << "cut " << cut << ": " << parser.error();
      EXPECT_EQ(parser.body(), whole.body) << "cut " << cut;
    }
  }
}

TEST(ResponseParserTest, ABodyWithoutLengthRunsToTheEndOfTheConnection) {
  constexpr std::string_view wire =
      "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 7\r\n\r\nlater";
  ResponseParser p(kMax);
  EXPECT_EQ(p.Feed(wire), Result::kNeedMore);
  EXPECT_EQ(p.FeedEnd(), Result::kDone);
  EXPECT_EQ(p.status(), 503);
  EXPECT_EQ(p.body(), "later");
  ASSERT_TRUE(p.retry_after());
  EXPECT_EQ(*p.retry_after(), "7");
  EXPECT_FALSE(p.keep_alive());
}

TEST(ResponseParserTest, KeepsTheConnectionOnlyWhenTheServerDoes) {
  EXPECT_FALSE(
      Parse("HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n")
          .keep_alive);
  EXPECT_FALSE(Parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive);
  EXPECT_TRUE(
      Parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n").keep_alive);
  // More than was asked for: the stream is out of step, so the connection is not reused.
  ResponseParser p(kMax);
  EXPECT_EQ(p.Feed("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n"), Result::kDone);
  EXPECT_GT(p.extra_bytes(), 0u);
  EXPECT_FALSE(p.keep_alive());
}

TEST(ResponseParserTest, AcceptsBareLineFeedsAndSkipsInterimAnswers) {
  Parsed p = Parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\nContent-Length: 2\n\n{}");
  EXPECT_EQ(p.result, Result::kDone) << p.error;
  EXPECT_EQ(p.status, 201);
  EXPECT_EQ(p.body, "{}");
}

TEST(ResponseParserTest, TransferEncodingWinsOverContentLength) {
  Parsed p = Parse(
      "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
      "2\r\nok\r\n0\r\n\r\n");
  EXPECT_EQ(p.result, Result::kDone) << p.error;
  EXPECT_EQ(p.body, "ok");
}

TEST(ResponseParserTest, RefusesABodyLargerThanTheLimitHoweverItIsFramed) {
  for (std::string_view wire :
       {"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n123456\r\n5\r\n12345\r\n",
        "HTTP/1.1 200 OK\r\n\r\n12345678901"}) {
    Parsed p = Parse(wire, 0, false, 10);
    EXPECT_EQ(p.result, Result::kTooLarge) << wire;
    EXPECT_EQ(p.error, "body larger than 10 bytes");
  }
  EXPECT_EQ(Parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n1234567890", 0, false, 10).result,
            Result::kDone);
}

TEST(ResponseParserTest, CallsWhatIsNotHttpMalformed) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"SSH-2.0-OpenSSH_9.2\r\n\r\n", "invalid status line"},
      {"HTTP/1.1 abc OK\r\n\r\n", "invalid status line"},
      {"HTTP/1.1 20 OK\r\n\r\n", "invalid status line"},
      {"HTTP/1.1 700 Odd\r\n\r\n", "invalid status 700"},
      {"HTTP/2 200\r\n\r\n", "invalid status line"},
      {"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "invalid header line"},
      {"HTTP/1.1 200 OK\r\nName : value\r\n\r\n", "invalid header line"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n", "invalid Content-Length"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
       "invalid Content-Length"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
       "conflicting Content-Length"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "invalid chunk size"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokX\r\n",
       "chunk data not followed by CRLF"},
      {"HTTP/1.1 101 Switching Protocols\r\n\r\n", "unexpected 101 Switching Protocols"},
  };
  for (const auto& [wire, error] : cases) {
    Parsed p = Parse(wire);
    EXPECT_EQ(p.result, Result::kMalformed) << wire;
    EXPECT_EQ(p.error, error) << wire;
  }
}

TEST(ResponseParserTest, RejectsWhatIsNotHttpBeforeTheHeadIsComplete) {
  for (std::string_view start :
       {"S", "SSH-2.0-OpenSSH_9.2\r\n", "HTTP/2", "\x15\x03\x03", "HTTP/1.1 abc\r\n"}) {
    ResponseParser p(kMax);
    EXPECT_EQ(p.Feed(start), Result::kMalformed) << start;
    EXPECT_EQ(p.error(), "invalid status line");
  }
  for (std::string_view start : {"H", "HTTP/1", "HTTP/1.1 2", "HTTP/1.1 200 OK\r\nX: y"}) {
    ResponseParser p(kMax);
    EXPECT_EQ(p.Feed(start), Result::kNeedMore) << start;
  }
}

TEST(ResponseParserTest, BoundsTheHeadAndTheChunkLines) {
  std::string endless_head = "HTTP/1.1 200 OK\r\nX: ";
  endless_head.append(70 << 10, 'a');
  EXPECT_EQ(Parse(endless_head, 4096).error, "headers larger than 64 KiB");
  std::string endless_size = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  endless_size.append(8 << 10, '0');
  EXPECT_EQ(Parse(endless_size, 1000).error, "chunk-size line too long");
}

TEST(ResponseParserTest, TellsATruncatedAnswerFromNoAnswer) {
  Parsed cut = Parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345", 0, true);
  EXPECT_EQ(cut.result, Result::kMalformed);
  EXPECT_EQ(cut.error, "truncated");
  EXPECT_EQ(cut.status, 200);

  ResponseParser none(kMax);
  EXPECT_EQ(none.FeedEnd(), Result::kMalformed);
  EXPECT_FALSE(none.started());
  EXPECT_EQ(none.error(), "no answer");
}

TEST(ResponseParserTest, ResetReadsTheNextAnswerOnTheSameConnection) {
  ResponseParser p(kMax);
  EXPECT_EQ(p.Feed("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 2\r\nContent-Length: 0\r\n\r\n"),
            Result::kDone);
  EXPECT_EQ(p.status(), 429);
  p.Reset();
  EXPECT_FALSE(p.started());
  EXPECT_EQ(p.Feed(kLengthAnswer), Result::kDone);
  EXPECT_EQ(p.status(), 200);
  EXPECT_FALSE(p.retry_after());
  EXPECT_EQ(p.body(), "{\"healthy\":1}");
}

}  // namespace
}  // namespace hdm::hotdata
