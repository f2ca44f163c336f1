#include "http/exchange.h"

#include <ctime>
#include <exception>

#include <spdlog/spdlog.h>

namespace hdm {
namespace {

constexpr size_t kReadChunk = 16 * 1024;
// A body up to this size goes out in the same write as the head.
constexpr size_t kInlineBody = 16 * 1024;

// The Date field's value (RFC 9110 IMF-fixdate), formatted once per second per thread.
std::string_view HttpDate() {
  thread_local std::time_t last = 0;
  thread_local char text[40] = {};
  const std::time_t now = std::time(nullptr);
  if (now != last) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    last = now;
  }
  return text;
}

// A header field the server may send: a token name and a value without CR, LF or NUL.
bool SafeField(const std::string& name, const std::string& value) {
  if (name.empty()) return false;
  for (char c : name) {
    if (c <= ' ' || c == ':' || c == 0x7f) return false;
  }
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos;
}

bool NoBodyStatus(int status) { return status < 200 || status == 204 || status == 304; }

bool WriteResponse(Connection& c, const Request& req, const Response& res, bool keep_alive,
                   Connection::Clock::time_point deadline) {
  std::string out = FormatResponseHead(res, keep_alive, keep_alive && req.minor_version == 0);
  const std::string_view body =
      NoBodyStatus(res.status) || req.method == "HEAD" ? std::string_view() : res.Body();
  if (body.size() <= kInlineBody) {
    out += body;
    return c.WriteAll(out, deadline);
  }
  return c.WriteAll(out, deadline) && c.WriteAll(body, deadline);
}

// The answer to a request that could not be parsed: always closes.
void WriteRefusal(Connection& c, const RequestParser& parser,
                  Connection::Clock::time_point deadline) {
  Response res;
  res.SetText(parser.error_status(),
              std::string(ReasonPhrase(parser.error_status())) + ": " + parser.error() + "\n");
  spdlog::debug("HTTP request from {} refused with {}: {}", c.RemoteAddress(),
                parser.error_status(), parser.error());
  Request req;  // what was parsed may be partial: answer as to a GET
  req.method = "GET";
  WriteResponse(c, req, res, false, deadline);
}

void Handle(const ExchangeHandler& handler, const Request& req, Response& res) {
  try {
    handler.handle(req, res);
  } catch (const std::exception& e) {
    spdlog::error("HTTP handler for {} failed: {}", req.path, e.what());
    res = Response{};
    res.SetText(500, "internal error\n");
  } catch (...) {
    spdlog::error("HTTP handler for {} failed", req.path);
    res = Response{};
    res.SetText(500, "internal error\n");
  }
}

}  // namespace

std::string FormatResponseHead(const Response& res, bool keep_alive, bool http10_keep_alive) {
  std::string out;
  out.reserve(256);
  out += "HTTP/1.1 ";
  out += std::to_string(res.status);
  out += ' ';
  out += ReasonPhrase(res.status);
  out += "\r\nDate: ";
  out += HttpDate();
  out += "\r\n";
  if (!NoBodyStatus(res.status)) {
    if (!res.content_type.empty() && SafeField("Content-Type", res.content_type)) {
      out += "Content-Type: ";
      out += res.content_type;
      out += "\r\n";
    }
    out += "Content-Length: ";
    out += std::to_string(res.Body().size());
    out += "\r\n";
  }
  for (const auto& [name, value] : res.headers) {
    if (!SafeField(name, value)) continue;
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (!keep_alive) {
    out += "Connection: close\r\n";
  } else if (http10_keep_alive) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
  return out;
}

bool ServeExchange(Connection& c, RequestParser& parser, bool last,
                   std::chrono::milliseconds write_timeout, const ExchangeHandler& handler) {
  const auto deadline = [write_timeout] { return Connection::Clock::now() + write_timeout; };
  char buf[kReadChunk];
  bool head_accepted = false;
  for (bool done = false; !done;) {
    switch (parser.Parse()) {
      case RequestParser::Result::kComplete:
        done = true;
        break;
      case RequestParser::Result::kError:
        if (head_accepted && parser.error_status() == 413 && handler.body_too_large) {
          const Request& req = parser.request();
          Response res;
          if (handler.body_too_large(req, res)) {
            spdlog::debug("HTTP request from {} refused with 413: {}", c.RemoteAddress(),
                          parser.error());
            WriteResponse(c, req, res, false, deadline());
            return false;
          }
        }
        WriteRefusal(c, parser, deadline());
        return false;
      case RequestParser::Result::kHead: {
        Request& req = parser.request();
        req.arrived = c.arrived();
        req.remote_address = c.RemoteAddress();
        Response res;
        if (handler.head && !handler.head(req, parser, res)) {
          WriteResponse(c, req, res, false, deadline());
          return false;
        }
        if (req.expects_continue && !c.WriteAll("HTTP/1.1 100 Continue\r\n\r\n", deadline())) {
          return false;
        }
        head_accepted = true;
        break;
      }
      case RequestParser::Result::kIncomplete: {
        const ssize_t n = c.Read(buf, sizeof buf);
        if (n <= 0) return false;  // closed, failed, or not in by the read deadline
        parser.Append(std::string_view(buf, static_cast<size_t>(n)));
        break;
      }
    }
  }
  Request& req = parser.request();
  req.arrived = c.arrived();
  if (req.remote_address.empty()) req.remote_address = c.RemoteAddress();
  Response res;
  Handle(handler, req, res);
  const bool keep_alive = req.keep_alive && !last;
  const bool written = WriteResponse(c, req, res, keep_alive, deadline());
  parser.Next();
  return written && keep_alive;
}

}  // namespace hdm
