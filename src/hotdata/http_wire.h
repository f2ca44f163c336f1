// Internal to the HTTP client: HTTP/1.1 as bytes. ResponseParser reads one answer from a stream
// fed in pieces of any size (status line, headers, then a body framed by Content-Length, chunked
// encoding or the end of the connection). Pure, no sockets: tests and the fuzzer feed it every
// split of a stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hdm::hotdata {

class ResponseParser {
 public:
  enum class Result {
    kNeedMore,   // the answer is not complete yet
    kDone,       // a whole answer was read
    kMalformed,  // not HTTP/1.x as a server may send it (error() says what)
    kTooLarge,   // the body is larger than max_body_bytes
  };

  explicit ResponseParser(size_t max_body_bytes) : max_body_(max_body_bytes) {}

  // Forgets the last answer; the next Feed() starts a new one.
  void Reset();

  // Reads the next piece of the stream. After kDone, bytes past the end of the answer are not
  // consumed: extra_bytes() counts them (a server that sent more than asked for).
  Result Feed(std::string_view data);
  // The server closed the connection: ends a body that runs to the end of the connection
  // (kDone); an answer cut short is kMalformed ("truncated").
  Result FeedEnd();

  bool started() const { return started_; }  // at least one byte of an answer came
  int status() const { return status_; }     // 0 until the status line was read
  std::string& body() { return body_; }
  // The Retry-After header's value, as sent.
  const std::optional<std::string>& retry_after() const { return retry_after_; }
  // After kDone: the connection may carry the next request.
  bool keep_alive() const { return keep_alive_ && extra_ == 0; }
  size_t extra_bytes() const { return extra_; }
  const std::string& error() const { return error_; }

 private:
  enum class Stage { kHead, kBody, kChunkSize, kChunkData, kChunkEnd, kTrailer, kToEnd, kDone };

  Result ParseHead(std::string_view head);
  Result ParseHeader(std::string_view line);
  Result StartBody(bool transfer_encoding);
  // Body bytes of a Content-Length body or a chunk (remaining_ of them); `then` once all came.
  void TakeCounted(std::string_view& data, Stage then);
  // A line of the head, a chunk size or a trailer: false once `line_` would pass its bound.
  bool TakeLine(std::string_view& data, std::string& line, bool& complete);
  Result Fail(std::string what);
  Result FailTooLarge();

  const size_t max_body_;
  Stage stage_ = Stage::kHead;
  bool started_ = false;
  int status_ = 0;
  bool http10_ = false;
  bool keep_alive_ = true;
  bool chunked_ = false;
  std::optional<uint64_t> content_length_;
  uint64_t remaining_ = 0;  // of the Content-Length body or of the current chunk
  size_t extra_ = 0;
  std::string head_;  // the head read so far (status line and headers)
  std::string line_;  // a chunk-size or trailer line read so far
  std::string body_;
  std::optional<std::string> retry_after_;
  std::string error_;
};

}  // namespace hdm::hotdata
