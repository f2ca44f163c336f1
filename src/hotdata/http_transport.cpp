#include "hotdata/http_transport.h"

#include <sys/socket.h>

#include <algorithm>

#include "hotdata/text_util.h"

namespace hdm::hotdata {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr size_t kReadBuffer = 16 << 10;

TransportFailure Failure(ErrorKind kind, std::string message, bool before_answer) {
  TransportFailure f;
  f.error.kind = kind;
  f.error.message = std::move(message);
  f.before_answer = before_answer;
  return f;
}

TransportFailure Cancelled() { return Failure(ErrorKind::kCancelled, "", false); }

TransportFailure TimedOut(milliseconds timeout, const std::string& where = "") {
  return Failure(ErrorKind::kTimeout, "after " + FormatDuration(timeout) + where, false);
}

// A header value must not break the request: no line breaks or other control characters.
bool IsHeaderSafe(std::string_view value) {
  return std::ranges::none_of(value, [](unsigned char c) { return c < 0x20 || c == 0x7F; });
}

}  // namespace

HttpTransport::HttpTransport(const ClientOptions& options)
    : options_(options),
      resolver_(options.resolver ? options.resolver : Resolver::Shared()),
      parser_(options.max_body_bytes) {
  auto base = ParseBaseUrl(options.base_url);
  if (!base) {
    init_error_ = base.error();
    return;
  }
  if (!IsHeaderSafe(options.token) || !IsHeaderSafe(options.workspace_id) ||
      !IsHeaderSafe(options.user_agent)) {
    init_error_ = "the API token, workspace id or user agent contains a control character";
    return;
  }
  if (base->scheme == "https") {
    auto tls = ClientTlsContext({options.ca_file, options.insecure_skip_verify});
    if (!tls) {
      init_error_ = tls.error();
      return;
    }
    tls_ = std::move(*tls);
  }
  base_ = std::move(*base);
  fixed_headers_ = "Host: " + base_->authority + "\r\n";
  if (!options.token.empty()) fixed_headers_ += "Authorization: Bearer " + options.token + "\r\n";
  if (!options.workspace_id.empty()) {
    fixed_headers_ += "X-Workspace-Id: " + options.workspace_id + "\r\n";
  }
  fixed_headers_ += "Accept: application/json\r\nUser-Agent: " + options.user_agent + "\r\n";
  in_ = std::make_unique<char[]>(kReadBuffer);
}

// The connection tells PublishSocket() when it closes, which takes mu_: close it while mu_ lives.
HttpTransport::~HttpTransport() { conn_.reset(); }

bool HttpTransport::cancelled() const {
  std::lock_guard lock(mu_);
  return cancelled_;
}

void HttpTransport::Cancel() {
  std::unique_lock lock(mu_);
  cancelled_ = true;
  cv_.notify_all();
  // Wakes a Send() waiting for the host name lookup (that would notice at PublishSocket()
  // otherwise) and one blocked on the socket.
  stop_.request_stop();
  if (socket_ >= 0) ::shutdown(socket_, SHUT_RDWR);
  cv_.wait(lock, [this] { return !in_flight_; });
}

bool HttpTransport::PublishSocket(int fd) {
  std::lock_guard lock(mu_);
  if (fd >= 0 && cancelled_) return false;
  socket_ = fd;
  return true;
}

bool HttpTransport::WaitCancelled(milliseconds d) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, d, [this] { return cancelled_; });
}

std::expected<HttpAnswer, TransportFailure> HttpTransport::Send(const HttpRequest& request,
                                                                milliseconds timeout) {
  {
    std::lock_guard lock(mu_);
    if (cancelled_) return std::unexpected(Cancelled());
    if (!base_) return std::unexpected(Failure(ErrorKind::kConnection, init_error_, false));
    in_flight_ = true;
  }
  request_written_ = false;
  std::expected<HttpAnswer, TransportFailure> result;
  try {
    result = Exchange(request, timeout);
  } catch (const std::exception& e) {
    conn_.reset();
    result = std::unexpected(
        Failure(ErrorKind::kConnection, Redact(Excerpt(e.what()), options_.token), false));
  }
  last_exchange_ = Clock::now();
  std::lock_guard lock(mu_);
  in_flight_ = false;
  cv_.notify_all();
  if (cancelled_) {
    TransportFailure cancelled = Cancelled();
    cancelled.error.request_sent = request_written_;
    return std::unexpected(std::move(cancelled));
  }
  if (!result) result.error().error.request_sent = request_written_;
  return result;
}

void HttpTransport::FormatRequest(const HttpRequest& request) {
  out_.clear();
  out_.append(request.method).append(" ").append(base_->path_prefix).append(request.path);
  out_.append(" HTTP/1.1\r\n").append(fixed_headers_);
  if (!request.body.empty()) {
    out_.append("Content-Type: application/json\r\nContent-Length: ")
        .append(std::to_string(request.body.size()))
        .append("\r\n");
  } else if (request.method != "GET") {
    out_.append("Content-Length: 0\r\n");
  }
  out_.append("\r\n").append(request.body);
}

std::expected<HttpAnswer, TransportFailure> HttpTransport::Exchange(const HttpRequest& request,
                                                                    milliseconds timeout) {
  timeout = std::max(timeout, milliseconds(1));
  const auto deadline = Clock::now() + timeout;
  const std::string& where = base_->scheme_host_port;
  // A server closes idle connections after its keep-alive timeout, seconds at the least: a
  // connection used moments ago is not worth the extra system call.
  if (conn_ && Clock::now() - last_exchange_ >= options_.stale_check_after && conn_->Stale()) {
    conn_.reset();
  }
  if (!conn_) {
    auto addresses = resolver_->Resolve(base_->host, deadline, stop_.get_token());
    if (!addresses) {
      switch (addresses.error().error) {
        case ResolveError::kCancelled:
          return std::unexpected(Cancelled());
        case ResolveError::kTimeout:
          // Like a connect timeout. The host comes from the config, not a server; redacted all
          // the same, as every message is.
          return std::unexpected(TimedOut(
              timeout,
              Redact(" (name resolution timed out for host " + base_->host + ")", options_.token)));
        case ResolveError::kFailed:
          return std::unexpected(Failure(ErrorKind::kConnection,
                                         Redact("cannot resolve host " + base_->host + ": " +
                                                    Excerpt(addresses.error().reason),
                                                options_.token),
                                         true));
      }
    }
    auto opened = ClientConnection::Open(base_->host, **addresses, base_->port, tls_, deadline,
                                         [this](int fd) { return PublishSocket(fd); });
    if (!opened) {
      switch (opened.error()) {
        case IoError::kTimeout:
          return std::unexpected(TimedOut(timeout, " (connect)"));
        case IoError::kClosed:
          return std::unexpected(
              Failure(ErrorKind::kConnection, "cannot connect to " + where, true));
        case IoError::kVerify:
          return std::unexpected(Failure(ErrorKind::kConnection,
                                         "TLS certificate of " + where + " failed verification",
                                         false));
        case IoError::kTls:
          return std::unexpected(
              Failure(ErrorKind::kConnection, "TLS handshake with " + where + " failed", false));
      }
    }
    conn_ = std::move(*opened);
  }
  FormatRequest(request);
  request_written_ = true;  // from here on the server may see (part of) it
  if (auto written = conn_->Write(out_, deadline); !written) {
    conn_.reset();
    if (written.error() == IoError::kTimeout) return std::unexpected(TimedOut(timeout));
    return std::unexpected(Failure(ErrorKind::kConnection,
                                   "connection to " + where + " closed before an answer", true));
  }
  auto answer = ReadAnswer(deadline, timeout);
  if (!answer || !parser_.keep_alive()) conn_.reset();
  return answer;
}

std::expected<HttpAnswer, TransportFailure> HttpTransport::ReadAnswer(SteadyTime deadline,
                                                                      milliseconds timeout) {
  parser_.Reset();
  ResponseParser::Result parsed = ResponseParser::Result::kNeedMore;
  while (parsed == ResponseParser::Result::kNeedMore) {
    auto n = conn_->Read(in_.get(), kReadBuffer, deadline);
    if (n) {
      parsed = parser_.Feed({in_.get(), *n});
    } else if (n.error() == IoError::kTimeout) {
      return std::unexpected(TimedOut(timeout));
    } else if (n.error() == IoError::kClosed) {
      parsed = parser_.FeedEnd();
      if (parsed == ResponseParser::Result::kDone) break;
      if (!parser_.started()) {
        return std::unexpected(
            Failure(ErrorKind::kConnection,
                    "connection to " + base_->scheme_host_port + " closed before an answer", true));
      }
      TransportFailure f =
          Failure(ErrorKind::kConnection, "connection lost while reading the answer", false);
      if (parser_.status() != 0) {
        f.error.status = parser_.status();
        f.error.message += " (HTTP " + std::to_string(parser_.status()) + ")";
      }
      return std::unexpected(std::move(f));
    } else {
      return std::unexpected(
          Failure(ErrorKind::kConnection,
                  "TLS error while reading the answer from " + base_->scheme_host_port,
                  !parser_.started()));
    }
  }
  if (parsed != ResponseParser::Result::kDone) {
    const bool too_large = parsed == ResponseParser::Result::kTooLarge;
    TransportFailure f = Failure(
        ErrorKind::kInvalidResponse,
        too_large ? parser_.error() : "malformed HTTP answer: " + Excerpt(parser_.error()), false);
    f.error.status = parser_.status();
    return std::unexpected(std::move(f));
  }
  HttpAnswer answer;
  answer.status = parser_.status();
  answer.body = std::move(parser_.body());
  if (parser_.retry_after()) {
    answer.retry_after = ParseRetryAfter(*parser_.retry_after(), std::chrono::system_clock::now());
  }
  return answer;
}

}  // namespace hdm::hotdata
