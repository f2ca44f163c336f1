#include "hotdata/http_transport.h"

#include <httplib.h>

#include <sys/socket.h>

#include <cerrno>
#include <charconv>

#include "hotdata/text_util.h"

namespace hdm::hotdata {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kCancelPoll{5};

TransportFailure Failure(ErrorKind kind, std::string message, bool before_answer) {
  TransportFailure f;
  f.error.kind = kind;
  f.error.message = std::move(message);
  f.before_answer = before_answer;
  return f;
}

TransportFailure Cancelled() { return Failure(ErrorKind::kCancelled, "", false); }

std::optional<size_t> ParseSize(const std::string& s) {
  size_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// True when the kept-alive socket can carry no further request: the server closed it (end of
// file) or sent something unasked (a TLS close_notify, an HTTP 408) while it sat idle. httplib
// 0.11 only checks that the socket is writable before reusing it, so a connection the server
// timed out would fail the next request and count as a connection error.
bool IdleSocketIsStale(int sock) {
  char byte = 0;
  const ssize_t n = ::recv(sock, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n >= 0) return true;
  return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

}  // namespace

HttpTransport::HttpTransport(const ClientOptions& options) : options_(options) {
  auto base = ParseBaseUrl(options.base_url);
  if (!base) {
    init_error_ = base.error();
    return;
  }
  base_ = *base;
  try {
    client_ = std::make_unique<httplib::Client>(base_->scheme_host_port);
  } catch (const std::exception& e) {
    init_error_ = std::string("base_url: ") + e.what();
    return;
  }
  if (!client_->is_valid()) {
    init_error_ = "cannot set up the HTTP client for base_url";
    client_.reset();
    return;
  }
  client_->set_keep_alive(true);
  client_->set_url_encode(false);  // paths are percent-encoded by EncodePathSegment
  client_->set_follow_location(false);
  client_->set_tcp_nodelay(true);
  if (base_->scheme == "https") {
    // Without a ca_file httplib 0.11.4 calls SSL_CTX_set_default_verify_paths: the system CAs.
    if (!options.ca_file.empty()) client_->set_ca_cert_path(options.ca_file);
    client_->enable_server_certificate_verification(!options.insecure_skip_verify);
  }
}

HttpTransport::~HttpTransport() = default;

bool HttpTransport::cancelled() const {
  std::lock_guard lock(mu_);
  return cancelled_;
}

void HttpTransport::Cancel() {
  std::unique_lock lock(mu_);
  cancelled_ = true;
  cv_.notify_all();
  if (!client_) return;
  // httplib's stop() only aborts a request that has already taken the socket; one that is just
  // starting would slip past a single stop(), so repeat until Send() has returned.
  do {
    lock.unlock();
    client_->stop();
    lock.lock();
  } while (!cv_.wait_for(lock, kCancelPoll, [this] { return !in_flight_; }));
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
    if (!client_) return std::unexpected(Failure(ErrorKind::kConnection, init_error_, false));
    in_flight_ = true;
  }
  std::expected<HttpAnswer, TransportFailure> result;
  try {
    result = Exchange(request, timeout);
  } catch (const std::exception& e) {
    result = std::unexpected(
        Failure(ErrorKind::kConnection, Redact(Excerpt(e.what()), options_.token), false));
  } catch (...) {
    result = std::unexpected(Failure(ErrorKind::kConnection, "unexpected failure", false));
  }
  std::lock_guard lock(mu_);
  in_flight_ = false;
  cv_.notify_all();
  if (cancelled_) return std::unexpected(Cancelled());
  return result;
}

std::expected<HttpAnswer, TransportFailure> HttpTransport::Exchange(const HttpRequest& request,
                                                                    milliseconds timeout) {
  timeout = std::max(timeout, milliseconds(1));
  // A server closes idle connections after its keep-alive timeout, seconds at the least: a
  // socket used moments ago is not worth the extra system call.
  if (client_->is_socket_open() && Clock::now() - last_exchange_ >= options_.stale_check_after &&
      IdleSocketIsStale(client_->socket())) {
    client_->stop();  // closes it; send() below connects afresh
  }
  client_->set_connection_timeout(timeout);
  client_->set_read_timeout(timeout);
  client_->set_write_timeout(timeout);

  httplib::Request req;
  req.method = request.method;
  req.path = base_->path_prefix + request.path;
  if (!options_.token.empty()) req.set_header("Authorization", "Bearer " + options_.token);
  if (!options_.workspace_id.empty()) req.set_header("X-Workspace-Id", options_.workspace_id);
  req.set_header("Accept", "application/json");
  req.set_header("User-Agent", options_.user_agent);
  if (!request.body.empty()) {
    req.body = request.body;
    req.set_header("Content-Type", "application/json");
  }

  const auto start = Clock::now();
  const auto give_up_at = start + timeout;
  bool answered = false;
  bool too_large = false;
  bool too_slow = false;
  std::string body;
  req.response_handler = [&](const httplib::Response& res) {
    answered = true;
    auto length = ParseSize(res.get_header_value("Content-Length"));
    if (length && *length > options_.max_body_bytes) {
      too_large = true;
      return false;
    }
    return true;
  };
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    answered = true;
    if (body.size() + n > options_.max_body_bytes) {
      too_large = true;
      return false;
    }
    if (Clock::now() > give_up_at) {
      too_slow = true;
      return false;
    }
    body.append(data, n);
    return true;
  };

  httplib::Response res;
  httplib::Error error = httplib::Error::Success;
  const bool ok = client_->send(req, res, error);
  last_exchange_ = Clock::now();
  if (too_large) {
    return std::unexpected(
        Failure(ErrorKind::kInvalidResponse,
                "body larger than " + std::to_string(options_.max_body_bytes) + " bytes", false));
  }
  if (too_slow) {
    return std::unexpected(Failure(ErrorKind::kTimeout, "after " + FormatDuration(timeout), false));
  }
  if (!ok) {
    TransportFailure f = MapError(static_cast<int>(error), Clock::now() - start, timeout);
    if (answered && f.error.kind == ErrorKind::kConnection) {
      f.error.message =
          "connection lost while reading the answer (HTTP " + std::to_string(res.status) + ")";
    }
    f.before_answer = f.before_answer && !answered;
    if (answered) f.error.status = res.status;
    return std::unexpected(std::move(f));
  }
  HttpAnswer answer;
  answer.status = res.status;
  answer.body = std::move(body);
  if (res.has_header("Retry-After")) {
    answer.retry_after =
        ParseRetryAfter(res.get_header_value("Retry-After"), std::chrono::system_clock::now());
  }
  return answer;
}

TransportFailure HttpTransport::MapError(int httplib_error, Clock::duration elapsed,
                                         milliseconds timeout) const {
  const auto error = static_cast<httplib::Error>(httplib_error);
  // httplib reports a read or write that timed out as Read/Write: tell them apart by the time.
  const bool timed_out = elapsed >= timeout * 9 / 10;
  const std::string where = base_->scheme_host_port;
  switch (error) {
    case httplib::Error::ConnectionTimeout:
      return Failure(ErrorKind::kTimeout, "after " + FormatDuration(timeout) + " (connect)", false);
    case httplib::Error::Connection:
      if (timed_out) return Failure(ErrorKind::kTimeout, "after " + FormatDuration(timeout), false);
      return Failure(ErrorKind::kConnection, "cannot connect to " + where, true);
    case httplib::Error::Read:
    case httplib::Error::Write:
      if (timed_out) return Failure(ErrorKind::kTimeout, "after " + FormatDuration(timeout), false);
      return Failure(ErrorKind::kConnection, "connection to " + where + " closed before an answer",
                     true);
    case httplib::Error::SSLConnection:
      return Failure(ErrorKind::kConnection, "TLS handshake with " + where + " failed", false);
    case httplib::Error::SSLLoadingCerts:
      return Failure(ErrorKind::kConnection, "cannot load CA certificates", false);
    case httplib::Error::SSLServerVerification:
      return Failure(ErrorKind::kConnection, "TLS certificate of " + where + " failed verification",
                     false);
    default:
      return Failure(ErrorKind::kConnection, httplib::to_string(error) + " (" + where + ")", false);
  }
}

}  // namespace hdm::hotdata
