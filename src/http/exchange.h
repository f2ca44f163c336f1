// One HTTP/1.1 exchange on a server connection: read a request with RequestParser, hand it to
// the handler, write the response (no body for HEAD), and say whether the connection stays open.
//
// A request the parser refuses is answered with its status (400, 413, 414, 431, 501, 505...)
// and a one-line reason, then the connection closes. When a body is to follow its head, the
// handler's `head` decides first whether to read it (authentication, route, body limit): a
// refusal is answered without reading the body, and "Expect: 100-continue" gets its interim
// "100 Continue" only after the head was accepted. A handler that throws is answered 500.
#pragma once

#include <functional>

#include "http/connection.h"
#include "http/request.h"
#include "http/request_parser.h"

namespace hdm {

struct ExchangeHandler {
  // The head of a request with a body to come: false refuses it with `res`. May raise the
  // body limit for this request (parser.set_max_body_bytes).
  std::function<bool(const Request& req, RequestParser& parser, Response& res)> head;
  // The whole request: fills `res`.
  std::function<void(const Request& req, Response& res)> handle;
  // A body that went over the limit after `head` had accepted its head (a chunked body has no
  // size to judge it by before): true when it filled `res`, which is then sent in place of the
  // parser's 413. May be empty.
  std::function<bool(const Request& req, Response& res)> body_too_large;
};

// Serves one request from `c`, its answer written within `write_timeout` (or the connection is
// closed). True when the connection may stay open for another: the client did not ask to close,
// `last` is false and everything was written.
bool ServeExchange(Connection& c, RequestParser& parser, bool last,
                   std::chrono::milliseconds write_timeout, const ExchangeHandler& handler);

// The status line and header fields of `res` for a request with `method` (HEAD: no body follows,
// but Content-Length tells the size it would have), ending with the empty line. `keep_alive`
// false adds "Connection: close"; `http10_keep_alive` adds "Connection: keep-alive".
std::string FormatResponseHead(const Response& res, bool keep_alive, bool http10_keep_alive);

}  // namespace hdm
