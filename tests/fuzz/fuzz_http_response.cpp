// ResponseParser: the HTTP/1.1 answers of the Hotdata API as they come off the socket.
// The first byte sets the size of the pieces the rest is fed in. Properties:
//  - feeding the stream whole or in pieces gives the same result, status and body;
//  - a complete answer's body is within the limit and its status is 200-599;
//  - an error always says what it was.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "hotdata/http_wire.h"

namespace {

constexpr size_t kMaxBody = 4096;

struct Outcome {
  hdm::hotdata::ResponseParser::Result result;
  int status;
  std::string body;
  std::string error;
};

Outcome Parse(std::string_view wire, size_t piece) {
  using Result = hdm::hotdata::ResponseParser::Result;
  hdm::hotdata::ResponseParser p(kMaxBody);
  Result r = Result::kNeedMore;
  for (size_t at = 0; at < wire.size() && r == Result::kNeedMore; at += piece) {
    r = p.Feed(wire.substr(at, piece));
  }
  if (r == Result::kNeedMore) r = p.FeedEnd();
  return {r, p.status(), p.body(), p.error()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using Result = hdm::hotdata::ResponseParser::Result;
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 16;
  const std::string_view wire = hdm::fuzz::AsText(data + 1, size - 1);
  const Outcome whole = Parse(wire, wire.size() + 1);
  const Outcome pieces = Parse(wire, piece);
  FUZZ_CHECK(whole.result == pieces.result, "pieces of " + std::to_string(piece) + " gave " +
                                                std::to_string(static_cast<int>(pieces.result)) +
                                                ", whole " +
                                                std::to_string(static_cast<int>(whole.result)));
  FUZZ_CHECK(whole.status == pieces.status, "status differs with pieces");
  if (whole.result == Result::kDone) {
    FUZZ_CHECK(whole.body == pieces.body, "body differs with pieces");
    FUZZ_CHECK(whole.body.size() <= kMaxBody, "body over the limit");
    FUZZ_CHECK(whole.status >= 200 && whole.status <= 599, std::to_string(whole.status));
  } else {
    FUZZ_CHECK(!whole.error.empty() && !pieces.error.empty(), "an error without a reason");
  }
  return 0;
}
