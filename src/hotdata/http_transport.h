// Internal to the HTTP client: one HTTP/1.1 exchange at a time over one keep-alive connection
// (ClientConnection, ResponseParser), with failures mapped to ApiError. Retries, statuses and
// decoding are the caller's.
//
// Send() serves one thread at a time; Cancel() may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <expected>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>

#include "hotdata/api.h"
#include "hotdata/client_connection.h"
#include "hotdata/http_client.h"
#include "hotdata/http_support.h"
#include "hotdata/http_wire.h"
#include "hotdata/resolver.h"

namespace hdm::hotdata {

struct HttpRequest {
  std::string method;  // "GET", "POST", "DELETE"
  std::string path;    // already percent-encoded, without the base URL's prefix
  std::string body;    // JSON; empty: none
};

// An answer: a status line and a whole body (within max_body_bytes).
struct HttpAnswer {
  int status = 0;
  std::string body;
  std::optional<std::chrono::milliseconds> retry_after;  // a parsable Retry-After header
};

struct TransportFailure {
  // kTimeout, kConnection, kInvalidResponse or kCancelled; error.request_sent tells whether the
  // request had begun to go out.
  ApiError error;
  bool before_answer = false;  // no byte of an answer came: a retry cannot repeat an effect seen
};

class HttpTransport {
 public:
  explicit HttpTransport(const ClientOptions& options);
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  // Sends `request` and reads the answer, giving up after `timeout` for the whole exchange
  // (connect, TLS handshake, sending, the head and the body, however slowly they come). Reuses
  // the open connection when the server kept it alive.
  std::expected<HttpAnswer, TransportFailure> Send(const HttpRequest& request,
                                                   std::chrono::milliseconds timeout);

  // Aborts a Send() in progress and makes every later one fail with kCancelled. Returns once
  // the Send() in progress (if any) has returned, which is at once: a host name lookup that is
  // blocked is left to finish in the background (resolver.h).
  void Cancel();
  bool cancelled() const;
  // Waits `d`; returns true (early) when Cancel() is called.
  bool WaitCancelled(std::chrono::milliseconds d);

 private:
  std::expected<HttpAnswer, TransportFailure> Exchange(const HttpRequest& request,
                                                       std::chrono::milliseconds timeout);
  std::expected<HttpAnswer, TransportFailure> ReadAnswer(SteadyTime deadline,
                                                         std::chrono::milliseconds timeout);
  void FormatRequest(const HttpRequest& request);
  // Publishes the socket for Cancel() (-1: closed); false when cancelled already.
  bool PublishSocket(int fd);

  const ClientOptions options_;
  std::optional<BaseUrl> base_;
  std::string init_error_;        // why nothing can be sent (a bad base_url, CA file or header)
  std::shared_ptr<SSL_CTX> tls_;  // https only
  std::string fixed_headers_;     // Host, Authorization, ...: the same on every request
  std::shared_ptr<Resolver> resolver_;
  std::stop_source stop_;  // requested by Cancel(): ends a wait for the resolver

  // Only Send() (one thread at a time) uses these.
  std::unique_ptr<ClientConnection> conn_;
  std::chrono::steady_clock::time_point last_exchange_{};  // when the last exchange ended
  std::string out_;                                        // the request being sent
  std::unique_ptr<char[]> in_;                             // what was read last
  ResponseParser parser_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  // Guarded by mu_.
  bool cancelled_ = false;
  bool in_flight_ = false;
  bool request_written_ = false;  // the Send() in progress began to write its request
  int socket_ = -1;               // the open connection's, for Cancel() to shut down
};

}  // namespace hdm::hotdata
