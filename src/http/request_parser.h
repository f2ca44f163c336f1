// RequestParser: an incremental HTTP/1.1 request parser (RFC 9112) for the monitor's server.
//
// Bytes go in as they arrive (Append), in pieces of any size; Parse() advances as far as they
// allow and says whether a whole request is there. Nothing is ever parsed twice, so a client
// that drips its headers byte by byte costs constant work per byte. Bytes past the end of one
// request (a pipelined next one) stay buffered for the next: call Next() after answering.
//
// What it accepts: request-line `METHOD SP target SP HTTP/1.x` (origin-form, absolute-form, or
// `*`); header fields `name: value`; a body of Content-Length bytes or chunked. Lines end in
// CRLF or a bare LF; up to four empty lines before a request are skipped. What it refuses, with
// the status to answer and a one-line reason: malformed syntax (400), a bare CR, obs-fold or
// whitespace before a field's colon (400), conflicting Content-Length, or Content-Length with
// Transfer-Encoding (400), a transfer coding other than chunked (501), an HTTP version other
// than 1.0 and 1.1 (505), a request line over the limit (414), header fields over the limits
// (431), a body over the limit (413, decided from Content-Length before any body byte is read),
// and `Expect` other than 100-continue (417). After an error the connection is to be closed.
//
// Not thread-safe: one parser per connection.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "http/request.h"

namespace hdm {

struct RequestLimits {
  size_t max_request_line = 8 * 1024;
  size_t max_header_bytes = 32 * 1024;  // every field line together, trailers included
  size_t max_header_count = 100;
  size_t max_body_bytes = 64 * 1024;
};

class RequestParser {
 public:
  enum class Result {
    kIncomplete,  // more bytes are needed
    kHead,        // the head is complete and a body is to come (returned once per request)
    kComplete,    // request() is whole
    kError,       // error_status() and error() say why; close after answering
  };

  explicit RequestParser(RequestLimits limits = {});

  void Append(std::string_view bytes) { buf_.append(bytes); }
  Result Parse();

  // The request parsed so far: after kHead the method, target and headers; after kComplete all.
  const Request& request() const { return request_; }
  Request& request() { return request_; }
  int error_status() const { return error_status_; }
  const std::string& error() const { return error_; }

  // Limits of the current request's body, from kHead on (a route may allow more than others).
  void set_max_body_bytes(size_t n) { limits_.max_body_bytes = n; }

  // Forgets the request just completed; the bytes after it start the next one.
  void Next();
  // Bytes of a request not yet complete are buffered (the next one, pipelined).
  bool HasInput() const { return pos_ < buf_.size(); }

 private:
  enum class State {
    kRequestLine,
    kHeaders,
    kBody,  // Content-Length bytes
    kChunkSize,
    kChunkData,
    kChunkDataEnd,  // the CRLF after a chunk's data
    kTrailers,
    kDone,
    kError,
  };

  // The next line (without its line ending) when a whole one is buffered: advances pos_.
  // False with nothing consumed when it is not there yet; fails with `too_long` (431, 414...)
  // when more than `limit` bytes arrived without a line end.
  bool TakeLine(std::string_view& line, size_t limit, int too_long_status, const char* what);
  Result Fail(int status, std::string reason);
  // Moves up to remaining_ buffered bytes into the body; true once remaining_ is 0.
  bool TakeBodyBytes();
  bool ParseRequestLine(std::string_view line);
  bool ParseTarget(std::string_view target);
  bool ParseFieldLine(std::string_view line, bool trailer);
  Result EndOfHead();
  bool ParseChunkSize(std::string_view line);

  RequestLimits limits_;
  const size_t default_max_body_;
  std::string buf_;
  size_t pos_ = 0;      // bytes of buf_ consumed
  size_t scanned_ = 0;  // bytes of buf_ searched for a line end without finding one
  State state_ = State::kRequestLine;
  int skipped_ = 0;  // empty lines before the request line
  size_t header_bytes_ = 0;
  size_t remaining_ = 0;  // body bytes still to come (kBody) or in this chunk (kChunkData)
  Request request_;
  int error_status_ = 0;
  std::string error_;
};

}  // namespace hdm
