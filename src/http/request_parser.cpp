#include "http/request_parser.h"

#include <algorithm>
#include <charconv>
#include <limits>

namespace hdm {
namespace {

constexpr int kMaxEmptyLinesBefore = 4;
constexpr size_t kMaxChunkLine = 4096;  // chunk size plus extensions

bool IsTokenChar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view s) { return !s.empty() && std::ranges::all_of(s, IsTokenChar); }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls `each` with every element of a comma-separated field value, trimmed, empty ones skipped.
template <class F>
void ForEachListElement(std::string_view value, F each) {
  while (!value.empty()) {
    const size_t comma = value.find(',');
    const std::string_view element = Trim(value.substr(0, comma));
    if (!element.empty()) each(element);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
}

// A field value may hold visible characters, obs-text, spaces and tabs.
bool IsFieldValue(std::string_view v) {
  return std::ranges::none_of(v, [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && u != '\t') || u == 0x7f;
  });
}

// The request-target may hold visible ASCII only.
bool IsTargetText(std::string_view t) {
  return std::ranges::all_of(t, [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f && c != '#';
  });
}

std::string Shown(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 40)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7f && c != '"') ? c : '?';
  }
  return s.size() > 40 ? out + "..." : out;
}

}  // namespace

RequestParser::RequestParser(RequestLimits limits)
    : limits_(limits), default_max_body_(limits.max_body_bytes) {}

RequestParser::Result RequestParser::Fail(int status, std::string reason) {
  state_ = State::kError;
  error_status_ = status;
  error_ = std::move(reason);
  return Result::kError;
}

bool RequestParser::TakeLine(std::string_view& line, size_t limit, int too_long_status,
                             const char* what) {
  const size_t from = std::max(pos_, scanned_);
  const size_t end = buf_.find('\n', from);
  const size_t length = (end == std::string::npos ? buf_.size() : end) - pos_;
  // A line may be `limit` bytes plus its CR.
  if (length > limit + 1 ||
      (end != std::string::npos && length == limit + 1 && buf_[end - 1] != '\r')) {
    Fail(too_long_status, std::string(what) + " longer than " + std::to_string(limit) + " bytes");
    return false;
  }
  if (end == std::string::npos) {
    scanned_ = buf_.size();
    return false;
  }
  line = std::string_view(buf_).substr(pos_, end - pos_);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  pos_ = end + 1;
  scanned_ = pos_;
  if (line.find('\r') != std::string_view::npos) {
    Fail(400, "bare CR in a line");
    return false;
  }
  return true;
}

RequestParser::Result RequestParser::Parse() {
  for (;;) {
    std::string_view line;
    switch (state_) {
      case State::kRequestLine:
        if (!TakeLine(line, limits_.max_request_line, 414, "request line")) break;
        if (line.empty()) {
          if (++skipped_ > kMaxEmptyLinesBefore) return Fail(400, "empty lines, no request line");
          continue;
        }
        if (!ParseRequestLine(line)) return Result::kError;
        state_ = State::kHeaders;
        continue;

      case State::kHeaders:
        if (!TakeLine(line, limits_.max_header_bytes - header_bytes_, 431, "header fields")) break;
        if (line.empty()) return EndOfHead();
        header_bytes_ += line.size();
        if (!ParseFieldLine(line, false)) return Result::kError;
        continue;

      case State::kBody: {
        if (request_.body.size() + remaining_ > limits_.max_body_bytes) {
          return Fail(413, "body of " + std::to_string(request_.body.size() + remaining_) +
                               " bytes, more than the " + std::to_string(limits_.max_body_bytes) +
                               " allowed");
        }
        if (!TakeBodyBytes()) break;
        state_ = State::kDone;
        continue;
      }

      case State::kChunkSize:
        if (!TakeLine(line, kMaxChunkLine, 400, "chunk size line")) break;
        if (!ParseChunkSize(line)) return Result::kError;
        continue;

      case State::kChunkData:
        if (!TakeBodyBytes()) break;
        state_ = State::kChunkDataEnd;
        continue;

      case State::kChunkDataEnd:
        if (!TakeLine(line, 1, 400, "chunk data")) break;
        if (!line.empty()) return Fail(400, "chunk data longer than its size");
        state_ = State::kChunkSize;
        continue;

      case State::kTrailers:
        if (!TakeLine(line, limits_.max_header_bytes - header_bytes_, 431, "trailer fields")) {
          break;
        }
        if (line.empty()) {
          state_ = State::kDone;
          continue;
        }
        header_bytes_ += line.size();
        if (!ParseFieldLine(line, true)) return Result::kError;
        continue;

      case State::kDone:
        return Result::kComplete;
      case State::kError:
        return Result::kError;
    }
    // A state that needs more bytes (or TakeLine failed).
    if (state_ == State::kError) return Result::kError;
    if (pos_ == buf_.size() && pos_ > 0) {  // all consumed: the buffer starts over
      buf_.clear();
      pos_ = scanned_ = 0;
    }
    return Result::kIncomplete;
  }
}

bool RequestParser::TakeBodyBytes() {
  const size_t n = std::min(remaining_, buf_.size() - pos_);
  request_.body.append(buf_, pos_, n);
  pos_ += n;
  remaining_ -= n;
  return remaining_ == 0;
}

bool RequestParser::ParseRequestLine(std::string_view line) {
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    Fail(400, "malformed request line \"" + Shown(line) + "\"");
    return false;
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!IsToken(method)) {
    Fail(400, "malformed method \"" + Shown(method) + "\"");
    return false;
  }
  if (version.size() != 8 || !version.starts_with("HTTP/") || version[6] != '.' ||
      version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9') {
    Fail(400, "malformed HTTP version \"" + Shown(version) + "\"");
    return false;
  }
  if (version[5] != '1') {
    Fail(505, "HTTP version " + std::string(version.substr(5)) + " is not supported");
    return false;
  }
  request_.method = method;
  request_.minor_version = version[7] == '0' ? 0 : 1;  // 1.2 and later are answered as 1.1
  return ParseTarget(target);
}

bool RequestParser::ParseTarget(std::string_view target) {
  if (target.empty() || !IsTargetText(target)) {
    Fail(400, "malformed request target \"" + Shown(target) + "\"");
    return false;
  }
  request_.target = target;
  std::string_view rest = target;
  if (target == "*") {
    if (request_.method != "OPTIONS") {
      Fail(400, "request target * is for OPTIONS only");
      return false;
    }
    request_.path = "*";
    return true;
  }
  if (rest.front() != '/') {
    // absolute-form: http://authority/path?query
    const size_t scheme_end = rest.find("://");
    const std::string_view scheme =
        rest.substr(0, scheme_end == std::string_view::npos ? 0 : scheme_end);
    if (!EqualsIgnoreCase(scheme, "http") && !EqualsIgnoreCase(scheme, "https")) {
      Fail(400, "malformed request target \"" + Shown(target) + "\"");
      return false;
    }
    rest.remove_prefix(scheme_end + 3);
    const size_t path_start = rest.find_first_of("/?");
    if (path_start == 0) {
      Fail(400, "request target without a host \"" + Shown(target) + "\"");
      return false;
    }
    rest = path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
  }
  const size_t question = rest.find('?');
  std::string_view path = rest.substr(0, question);
  if (question != std::string_view::npos) request_.query = rest.substr(question + 1);
  if (path.empty()) path = "/";
  auto decoded = PercentDecode(path, false);
  if (!decoded) {
    Fail(400, "malformed percent-encoding in \"" + Shown(path) + "\"");
    return false;
  }
  request_.path = std::move(*decoded);
  return true;
}

bool RequestParser::ParseFieldLine(std::string_view line, bool trailer) {
  if (line.front() == ' ' || line.front() == '\t') {
    Fail(400, "obsolete line folding in the header fields");
    return false;
  }
  const size_t colon = line.find(':');
  const std::string_view name = line.substr(0, colon);
  if (colon == std::string_view::npos || !IsToken(name)) {
    Fail(400, "malformed header field \"" + Shown(line) + "\"");
    return false;
  }
  const std::string_view value = Trim(line.substr(colon + 1));
  if (!IsFieldValue(value)) {
    Fail(400, "control character in the value of " + std::string(name));
    return false;
  }
  if (trailer) return true;  // trailers are read and dropped
  if (request_.headers.size() >= limits_.max_header_count) {
    Fail(431, "more than " + std::to_string(limits_.max_header_count) + " header fields");
    return false;
  }
  request_.headers.emplace_back(name, value);
  return true;
}

RequestParser::Result RequestParser::EndOfHead() {
  Request& r = request_;
  bool has_length = false;
  bool has_coding = false;
  uint64_t length = 0;
  for (const auto& [name, value] : r.headers) {
    if (EqualsIgnoreCase(name, "Content-Length")) {
      bool bad = false;
      ForEachListElement(value, [&](std::string_view element) {
        uint64_t n = 0;
        const auto [end, ec] = std::from_chars(element.data(), element.data() + element.size(), n);
        if (ec == std::errc::result_out_of_range) n = std::numeric_limits<uint64_t>::max();
        if ((ec != std::errc() && ec != std::errc::result_out_of_range) ||
            end != element.data() + element.size() || element.front() == '+' ||
            element.front() == '-' || (has_length && n != length)) {
          bad = true;
        }
        has_length = true;
        length = n;
      });
      if (bad || value.empty()) return Fail(400, "malformed or conflicting Content-Length");
    } else if (EqualsIgnoreCase(name, "Transfer-Encoding")) {
      bool only_chunked = true;
      int codings = 0;
      ForEachListElement(value, [&](std::string_view coding) {
        ++codings;
        only_chunked = only_chunked && EqualsIgnoreCase(coding, "chunked");
      });
      if (has_coding || codings != 1 || !only_chunked) {
        return Fail(501, "transfer coding \"" + Shown(value) + "\" is not supported");
      }
      has_coding = true;
    } else if (EqualsIgnoreCase(name, "Connection")) {
      ForEachListElement(value, [&](std::string_view option) {
        if (EqualsIgnoreCase(option, "close")) r.keep_alive = false;
      });
    }
  }
  if (has_coding && has_length) return Fail(400, "both Content-Length and Transfer-Encoding");
  if (has_coding && r.minor_version == 0) return Fail(400, "Transfer-Encoding in HTTP/1.0");
  if (r.minor_version == 0) {
    // HTTP/1.0 closes after each request unless the client asks to keep the connection.
    bool keep = false;
    ForEachListElement(r.Header("Connection"), [&](std::string_view option) {
      keep = keep || EqualsIgnoreCase(option, "keep-alive");
    });
    r.keep_alive = r.keep_alive && keep;
  }
  const bool body_follows = has_coding || length > 0;
  if (r.HasHeader("Expect")) {
    if (!EqualsIgnoreCase(r.Header("Expect"), "100-continue")) {
      return Fail(417, "expectation \"" + Shown(r.Header("Expect")) + "\" is not supported");
    }
    r.expects_continue = body_follows && r.minor_version == 1;
  }
  if (!body_follows) {
    state_ = State::kDone;
    return Result::kComplete;
  }
  if (has_coding) {
    state_ = State::kChunkSize;
  } else {
    remaining_ =
        static_cast<size_t>(std::min<uint64_t>(length, std::numeric_limits<size_t>::max()));
    state_ = State::kBody;
  }
  return Result::kHead;
}

bool RequestParser::ParseChunkSize(std::string_view line) {
  const std::string_view digits = Trim(line.substr(0, line.find(';')));
  uint64_t size = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), size, 16);
  if (digits.empty() || end != digits.data() + digits.size() ||
      (ec != std::errc() && ec != std::errc::result_out_of_range)) {
    Fail(400, "malformed chunk size \"" + Shown(line) + "\"");
    return false;
  }
  if (ec == std::errc::result_out_of_range ||
      size > limits_.max_body_bytes - std::min(limits_.max_body_bytes, request_.body.size())) {
    Fail(413,
         "chunked body more than the " + std::to_string(limits_.max_body_bytes) + " bytes allowed");
    return false;
  }
  if (size == 0) {
    state_ = State::kTrailers;
  } else {
    remaining_ = static_cast<size_t>(size);
    state_ = State::kChunkData;
  }
  return true;
}

void RequestParser::Next() {
  buf_.erase(0, pos_);
  pos_ = 0;
  scanned_ = 0;
  state_ = State::kRequestLine;
  skipped_ = 0;
  header_bytes_ = 0;
  remaining_ = 0;
  request_ = Request{};
  error_status_ = 0;
  error_.clear();
  limits_.max_body_bytes = default_max_body_;
}

}  // namespace hdm
