// RequestParser: the requests that reach the monitor's server, as they come off the socket,
// possibly several pipelined on one connection. The first byte sets the size of the pieces the
// rest is fed in, and the body limit of the first request (a route may raise it). Properties:
//  - feeding the stream whole or in pieces gives the same requests and the same outcome;
//  - a complete request has a token method, a non-empty path with no NUL, token field names,
//    field values without CR, LF or NUL, and a body within the limit;
//  - a refusal has a 4xx/5xx status the server answers with and a one-line reason.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "http/request_parser.h"

namespace {

using Result = hdm::RequestParser::Result;

constexpr size_t kMaxBody = 1024;
constexpr size_t kRaisedBody = 4096;

struct Outcome {
  std::vector<std::string> requests;  // a digest of each complete request
  Result last = Result::kIncomplete;
  int status = 0;
};

std::string Digest(const hdm::Request& r) {
  std::string out = r.method + ' ' + r.path + '?' + r.query + ' ' +
                    std::to_string(r.minor_version) + (r.keep_alive ? " ka" : " close") +
                    (r.expects_continue ? " 100" : "") + '\n';
  for (const auto& [name, value] : r.headers) out += name + ": " + value + '\n';
  return out + "\n" + r.body;
}

void CheckRequest(const hdm::Request& r, size_t limit) {
  FUZZ_CHECK(!r.method.empty(), "empty method");
  for (char c : r.method) FUZZ_CHECK(c > ' ' && c < 0x7f && c != ':', "method " + r.method);
  FUZZ_CHECK(!r.path.empty(), "empty path");
  FUZZ_CHECK(r.path.find('\0') == std::string::npos, "NUL in the path");
  for (const auto& [name, value] : r.headers) {
    FUZZ_CHECK(!name.empty() && name.find_first_of(" \t:\r\n") == std::string::npos,
               "field name " + name);
    FUZZ_CHECK(value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos,
               "field value of " + name);
  }
  FUZZ_CHECK(r.body.size() <= limit, "body of " + std::to_string(r.body.size()) + " bytes");
}

Outcome Parse(std::string_view wire, size_t piece, bool raise) {
  hdm::RequestParser p(hdm::RequestLimits{.max_body_bytes = kMaxBody});
  Outcome out;
  size_t limit = kMaxBody;
  for (size_t at = 0; at < wire.size(); at += piece) {
    p.Append(wire.substr(at, piece));
    for (;;) {
      out.last = p.Parse();
      if (out.last == Result::kHead) {
        if (raise && out.requests.empty()) {
          p.set_max_body_bytes(kRaisedBody);
          limit = kRaisedBody;
        }
        continue;
      }
      if (out.last != Result::kComplete) break;
      CheckRequest(p.request(), limit);
      out.requests.push_back(Digest(p.request()));
      p.Next();
      limit = kMaxBody;
    }
    if (out.last == Result::kError) break;
  }
  if (out.last == Result::kError) {
    out.status = p.error_status();
    FUZZ_CHECK(out.status >= 400 && out.status <= 505, "status " + std::to_string(out.status));
    FUZZ_CHECK(!p.error().empty() && p.error().find('\n') == std::string::npos,
               "reason \"" + p.error() + "\"");
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 16;
  const bool raise = (data[0] & 0x80) != 0;
  const std::string_view wire = hdm::fuzz::AsText(data + 1, size - 1);
  const Outcome whole = Parse(wire, wire.size() + 1, raise);
  const Outcome pieces = Parse(wire, piece, raise);
  FUZZ_CHECK(whole.requests == pieces.requests, "pieces of " + std::to_string(piece) + " gave " +
                                                    std::to_string(pieces.requests.size()) +
                                                    " requests, whole " +
                                                    std::to_string(whole.requests.size()));
  FUZZ_CHECK(whole.last == pieces.last, "outcome differs with pieces of " + std::to_string(piece));
  FUZZ_CHECK(whole.status == pieces.status, "status differs with pieces");
  return 0;
}
