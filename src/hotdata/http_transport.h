// Internal to the HTTP client: one HTTP exchange at a time over one keep-alive connection, with
// httplib errors mapped to ApiError. Retries, statuses and decoding are the caller's.
//
// Send() serves one thread at a time; Cancel() may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <expected>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "hotdata/api.h"
#include "hotdata/http_client.h"
#include "hotdata/http_support.h"

namespace httplib {
class Client;
}

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
  ApiError error;              // kTimeout, kConnection, kInvalidResponse or kCancelled
  bool before_answer = false;  // no byte of an answer came: a retry cannot repeat an effect seen
};

class HttpTransport {
 public:
  explicit HttpTransport(const ClientOptions& options);
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  // Sends `request` and reads the answer, giving up after `timeout` (connect, each read and the
  // whole body). Reuses the open connection when the server kept it alive.
  std::expected<HttpAnswer, TransportFailure> Send(const HttpRequest& request,
                                                   std::chrono::milliseconds timeout);

  // Aborts a Send() in progress and makes every later one fail with kCancelled. Returns once
  // the Send() in progress (if any) has returned; that can take until its connect finishes.
  void Cancel();
  bool cancelled() const;
  // Waits `d`; returns true (early) when Cancel() is called.
  bool WaitCancelled(std::chrono::milliseconds d);

 private:
  std::expected<HttpAnswer, TransportFailure> Exchange(const HttpRequest& request,
                                                       std::chrono::milliseconds timeout);
  TransportFailure MapError(int httplib_error, std::chrono::steady_clock::duration elapsed,
                            std::chrono::milliseconds timeout) const;

  const ClientOptions options_;
  std::optional<BaseUrl> base_;
  std::string init_error_;  // why there is no client (a bad base_url)
  std::unique_ptr<httplib::Client> client_;

  // When the last exchange ended; only Send() (one thread at a time) uses it.
  std::chrono::steady_clock::time_point last_exchange_{};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  // Guarded by mu_.
  bool cancelled_ = false;
  bool in_flight_ = false;
};

}  // namespace hdm::hotdata
