#include "hotdata/http_wire.h"

#include <algorithm>
#include <charconv>

#include "hotdata/http_support.h"

namespace hdm::hotdata {

namespace {

constexpr size_t kMaxHeadBytes = 64 << 10;  // status line and headers together
constexpr size_t kMaxLineBytes = 4 << 10;   // a chunk-size or trailer line

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    return lower(x) == lower(y);
  });
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Calls `fn` with each comma-separated, trimmed token of a header value.
template <typename Fn>
void ForEachToken(std::string_view value, Fn fn) {
  while (!value.empty()) {
    const size_t comma = value.find(',');
    fn(TrimOws(value.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
}

// The end of the head in `text` (the index after its blank line), searching from `from`.
std::optional<size_t> HeadEnd(std::string_view text, size_t from) {
  for (size_t i = text.find('\n', from); i != std::string_view::npos; i = text.find('\n', i + 1)) {
    // "\n\n" or "\n\r\n" ends the head.
    if (i + 1 < text.size() && text[i + 1] == '\n') return i + 2;
    if (i + 2 < text.size() && text[i + 1] == '\r' && text[i + 2] == '\n') return i + 3;
  }
  return std::nullopt;
}

// HTTP/1.x SP 3DIGIT [SP reason] [CR]
bool IsStatusLine(std::string_view line) {
  if (line.ends_with('\r')) line.remove_suffix(1);
  return line.size() >= 12 && line.starts_with("HTTP/1.") && IsDigit(line[7]) && line[8] == ' ' &&
         IsDigit(line[9]) && IsDigit(line[10]) && IsDigit(line[11]) &&
         (line.size() == 12 || line[12] == ' ');
}

// False when the start of a head seen so far cannot begin a valid status line.
bool StatusLineMayFollow(std::string_view head) {
  const size_t eol = head.find('\n');
  if (eol != std::string_view::npos) return IsStatusLine(head.substr(0, eol));
  constexpr std::string_view kStart = "HTTP/1.";
  return kStart.starts_with(head.substr(0, kStart.size()));
}

}  // namespace

void ResponseParser::Reset() {
  stage_ = Stage::kHead;
  started_ = false;
  status_ = 0;
  http10_ = false;
  keep_alive_ = true;
  chunked_ = false;
  content_length_.reset();
  remaining_ = 0;
  extra_ = 0;
  head_.clear();
  line_.clear();
  body_.clear();
  retry_after_.reset();
  error_.clear();
}

ResponseParser::Result ResponseParser::Fail(std::string what) {
  if (error_.empty()) error_ = std::move(what);
  return Result::kMalformed;
}

ResponseParser::Result ResponseParser::FailTooLarge() {
  error_ = "body larger than " + std::to_string(max_body_) + " bytes";
  return Result::kTooLarge;
}

ResponseParser::Result ResponseParser::Feed(std::string_view data) {
  if (!error_.empty()) return Fail(error_);
  if (!data.empty()) started_ = true;
  while (!data.empty()) {
    switch (stage_) {
      case Stage::kHead: {
        // The previous piece may have ended inside the blank line: search its last 2 bytes too.
        const size_t had = head_.size();
        head_.append(data);
        const auto end = HeadEnd(head_, had < 2 ? 0 : had - 2);
        if (!end || *end > kMaxHeadBytes) {
          if (end || head_.size() > kMaxHeadBytes) return Fail("headers larger than 64 KiB");
          // Not HTTP (an SSH banner, a TLS alert) fails at once, not after the timeout.
          if (!StatusLineMayFollow(head_)) return Fail("invalid status line");
          return Result::kNeedMore;
        }
        data.remove_prefix(*end - had);
        head_.resize(*end);
        if (auto r = ParseHead(head_); r != Result::kNeedMore) return r;
        head_.clear();
        break;
      }
      case Stage::kBody:
        TakeCounted(data, Stage::kDone);
        break;
      case Stage::kChunkSize: {
        bool complete = false;
        if (!TakeLine(data, line_, complete)) return Fail("chunk-size line too long");
        if (!complete) break;
        std::string_view size = TrimOws(std::string_view(line_).substr(0, line_.find(';')));
        uint64_t n = 0;
        auto [end, ec] = std::from_chars(size.data(), size.data() + size.size(), n, 16);
        if (size.empty() || ec != std::errc() || end != size.data() + size.size()) {
          return Fail("invalid chunk size");
        }
        line_.clear();
        if (n == 0) {
          stage_ = Stage::kTrailer;
        } else if (n > max_body_ - body_.size()) {
          return FailTooLarge();
        } else {
          remaining_ = n;
          stage_ = Stage::kChunkData;
        }
        break;
      }
      case Stage::kChunkData:
        TakeCounted(data, Stage::kChunkEnd);
        break;
      case Stage::kChunkEnd: {
        bool complete = false;
        if (!TakeLine(data, line_, complete) || (complete && !line_.empty()) ||
            (!complete && line_ != "\r")) {
          return Fail("chunk data not followed by CRLF");
        }
        if (complete) stage_ = Stage::kChunkSize;
        break;
      }
      case Stage::kTrailer: {
        bool complete = false;
        if (!TakeLine(data, line_, complete)) return Fail("trailer line too long");
        if (!complete) break;
        if (line_.empty()) stage_ = Stage::kDone;
        line_.clear();
        break;
      }
      case Stage::kToEnd:
        if (data.size() > max_body_ - body_.size()) return FailTooLarge();
        body_.append(data);
        data = {};
        break;
      case Stage::kDone:
        extra_ += data.size();
        data = {};
        break;
    }
  }
  return stage_ == Stage::kDone ? Result::kDone : Result::kNeedMore;
}

ResponseParser::Result ResponseParser::FeedEnd() {
  if (!error_.empty()) return Fail(error_);
  if (stage_ == Stage::kToEnd) stage_ = Stage::kDone;
  if (stage_ == Stage::kDone) return Result::kDone;
  return Fail(started_ ? "truncated" : "no answer");
}

void ResponseParser::TakeCounted(std::string_view& data, Stage then) {
  const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, data.size()));
  body_.append(data.substr(0, n));
  data.remove_prefix(n);
  remaining_ -= n;
  if (remaining_ == 0) stage_ = then;
}

bool ResponseParser::TakeLine(std::string_view& data, std::string& line, bool& complete) {
  const size_t nl = data.find('\n');
  complete = nl != std::string_view::npos;
  const std::string_view piece = data.substr(0, nl);
  if (line.size() + piece.size() > kMaxLineBytes) return false;
  line.append(piece);
  data.remove_prefix(complete ? nl + 1 : data.size());
  if (complete && !line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

ResponseParser::Result ResponseParser::ParseHead(std::string_view head) {
  size_t eol = head.find('\n');
  if (!IsStatusLine(head.substr(0, eol))) return Fail("invalid status line");
  http10_ = head[7] == '0';
  status_ = (head[9] - '0') * 100 + (head[10] - '0') * 10 + (head[11] - '0');
  if (status_ < 100 || status_ > 599) return Fail("invalid status " + std::to_string(status_));

  bool keep_alive_token = false;
  bool transfer_encoding = false;
  for (std::string_view rest = head.substr(eol + 1); !rest.empty();) {
    eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.empty()) break;
    const size_t colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos ||
        line.substr(0, colon).find_first_of(" \t") != std::string_view::npos) {
      return Fail("invalid header line");
    }
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = TrimOws(line.substr(colon + 1));
    if (EqualsIgnoreCase(name, "content-length")) {
      uint64_t n = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
        return Fail("invalid Content-Length");
      }
      if (content_length_ && *content_length_ != n) return Fail("conflicting Content-Length");
      content_length_ = n;
    } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
      transfer_encoding = true;
      chunked_ = false;
      ForEachToken(value, [&](std::string_view t) { chunked_ = EqualsIgnoreCase(t, "chunked"); });
    } else if (EqualsIgnoreCase(name, "connection")) {
      ForEachToken(value, [&](std::string_view t) {
        if (EqualsIgnoreCase(t, "close")) keep_alive_ = false;
        if (EqualsIgnoreCase(t, "keep-alive")) keep_alive_token = true;
      });
    } else if (EqualsIgnoreCase(name, "retry-after")) {
      retry_after_ = std::string(value);
    }
  }
  if (http10_ && !keep_alive_token) keep_alive_ = false;
  if (status_ < 200) {
    if (status_ == 101) return Fail("unexpected 101 Switching Protocols");
    // An interim answer (100 Continue, 103 Early Hints): the real one follows.
    Reset();
    started_ = true;
    return Result::kNeedMore;
  }
  if (transfer_encoding) content_length_.reset();  // Transfer-Encoding wins (RFC 9112 6.3)
  return StartBody(transfer_encoding);
}

ResponseParser::Result ResponseParser::StartBody(bool transfer_encoding) {
  if (status_ == 204 || status_ == 304) {
    stage_ = Stage::kDone;
  } else if (chunked_) {
    stage_ = Stage::kChunkSize;
  } else if (transfer_encoding || !content_length_) {
    keep_alive_ = false;  // the body runs to the end of the connection
    stage_ = Stage::kToEnd;
  } else if (*content_length_ > max_body_) {
    return FailTooLarge();
  } else {
    remaining_ = *content_length_;
    // What was announced, up to 64 KiB: a server announcing a large body need not send it.
    body_.reserve(static_cast<size_t>(std::min<uint64_t>(remaining_, 64 << 10)));
    stage_ = remaining_ == 0 ? Stage::kDone : Stage::kBody;
  }
  return Result::kNeedMore;  // Feed() goes on with the bytes after the head
}

}  // namespace hdm::hotdata
