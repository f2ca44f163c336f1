#include "hotdata/http_client.h"

#include <algorithm>
#include <functional>

#include "hotdata/decode.h"
#include "hotdata/http_transport.h"
#include "hotdata/text_util.h"

namespace hdm::hotdata {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Decodes a success body into the caller's result; returns the decode error, if any.
using AcceptFn = std::function<std::optional<std::string>(const std::string& body)>;

bool IsRetryableStatus(int status) {
  return status == 429 || status == 502 || status == 503 || status == 504;
}

// GETs answer 200, create 201, delete and purges 204; 200 is accepted from all of them.
bool IsSuccess(const std::string& method, int status) {
  if (status == 200) return true;
  if (method == "POST") return status == 201;
  if (method == "DELETE") return status == 204;
  return false;
}

ApiError ErrorOf(ErrorKind kind, std::string message) {
  ApiError e;
  e.kind = kind;
  e.message = std::move(message);
  return e;
}

class HttpHotdataApi final : public HotdataApi {
 public:
  explicit HttpHotdataApi(const ClientOptions& options) : options_(options), transport_(options) {}

  ApiResult<std::vector<ConnectionInfo>> ListConnections(const CallOptions& opts) override {
    return Call(Operation::kListConnections, {"GET", "/v1/connections", ""}, opts.deadline,
                DecodeListConnections);
  }
  ApiResult<ConnectionDetails> GetConnection(const std::string& id,
                                             const CallOptions& opts) override {
    return Call(Operation::kGetConnection, {"GET", ConnectionPath(id), ""}, opts.deadline,
                DecodeGetConnection);
  }
  ApiResult<HealthResponse> CheckHealth(const std::string& id, const CallOptions& opts) override {
    return Call(Operation::kCheckConnectionHealth, {"GET", ConnectionPath(id) + "/health", ""},
                opts.deadline, DecodeHealth);
  }
  ApiResult<CreateConnectionResponse> CreateConnection(
      const CreateConnectionRequest& req) override {
    return Call(Operation::kCreateConnection,
                {"POST", "/v1/connections", EncodeCreateConnection(req)}, NoDeadline(),
                DecodeCreateConnection);
  }
  ApiResult<Empty> DeleteConnection(const std::string& id) override {
    return CallEmpty(Operation::kDeleteConnection, {"DELETE", ConnectionPath(id), ""});
  }
  ApiResult<Empty> PurgeConnectionCache(const std::string& id) override {
    return CallEmpty(Operation::kPurgeConnectionCache,
                     {"DELETE", ConnectionPath(id) + "/cache", ""});
  }
  ApiResult<Empty> PurgeTableCache(const std::string& id, const std::string& schema,
                                   const std::string& table) override {
    return CallEmpty(Operation::kPurgeTableCache,
                     {"DELETE", TablePath(id, schema, table) + "/cache", ""});
  }
  ApiResult<TableProfile> GetTableProfile(const std::string& id, const std::string& schema,
                                          const std::string& table,
                                          const CallOptions& opts) override {
    return Call(Operation::kGetTableProfile, {"GET", TablePath(id, schema, table) + "/profile", ""},
                opts.deadline, DecodeTableProfile);
  }

  void Cancel() override { transport_.Cancel(); }

 private:
  static Clock::time_point NoDeadline() { return Clock::time_point::max(); }
  static std::string ConnectionPath(const std::string& id) {
    return "/v1/connections/" + EncodePathSegment(id);
  }
  static std::string TablePath(const std::string& id, const std::string& schema,
                               const std::string& table) {
    return ConnectionPath(id) + "/tables/" + EncodePathSegment(schema) + "/" +
           EncodePathSegment(table);
  }

  template <typename T>
  ApiResult<T> Call(Operation op, const HttpRequest& request, Clock::time_point deadline,
                    Decoded<T> (*decode)(std::string_view)) {
    std::optional<T> value;
    auto done = Run(op, request, deadline, [&](const std::string& body) {
      auto decoded = decode(body);
      if (!decoded) return std::optional<std::string>(std::move(decoded.error()));
      value = std::move(*decoded);
      return std::optional<std::string>();
    });
    if (!done) return std::unexpected(std::move(done.error()));
    return std::move(*value);
  }

  ApiResult<Empty> CallEmpty(Operation op, const HttpRequest& request) {
    auto done = Run(op, request, NoDeadline(),
                    [](const std::string&) { return std::optional<std::string>(); });
    if (!done) return std::unexpected(std::move(done.error()));
    return Empty{};
  }

  // RunAttempts, with anything thrown (an allocation failure, an observer) made an error.
  std::expected<void, ApiError> Run(Operation op, const HttpRequest& request,
                                    Clock::time_point deadline, const AcceptFn& accept) {
    try {
      return RunAttempts(op, request, deadline, accept);
    } catch (const std::exception& e) {
      return std::unexpected(ErrorOf(ErrorKind::kConnection, Excerpt(e.what())));
    } catch (...) {
      return std::unexpected(ErrorOf(ErrorKind::kConnection, "unexpected failure"));
    }
  }
  std::expected<void, ApiError> RunAttempts(Operation op, const HttpRequest& request,
                                            Clock::time_point deadline, const AcceptFn& accept);
  std::expected<void, ApiError> Judge(const HttpRequest& request, const HttpAnswer& answer,
                                      const AcceptFn& accept) const;

  const ClientOptions options_;
  HttpTransport transport_;
};

// Runs the attempts of one call. Retries only GETs, only for a failure before any answer or a
// 429/502/503/504, and never waits past `deadline`.
std::expected<void, ApiError> HttpHotdataApi::RunAttempts(Operation op, const HttpRequest& request,
                                                          Clock::time_point deadline,
                                                          const AcceptFn& accept) {
  const bool may_retry = request.method == "GET";
  const int max_attempts = may_retry ? std::max(1, options_.attempts) : 1;
  for (int attempt = 1;; ++attempt) {
    if (transport_.cancelled()) return std::unexpected(ErrorOf(ErrorKind::kCancelled, ""));
    const auto start = Clock::now();
    if (start >= deadline) {
      return std::unexpected(
          ErrorOf(ErrorKind::kTimeout, "before sending: the call's deadline had passed"));
    }
    const milliseconds budget =
        std::min(options_.timeout, std::chrono::ceil<milliseconds>(deadline - start));
    auto sent = transport_.Send(request, budget);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

    std::expected<void, ApiError> outcome;
    bool retryable = false;
    if (!sent) {
      outcome = std::unexpected(std::move(sent.error().error));
      retryable = sent.error().before_answer;
    } else {
      outcome = Judge(request, *sent, accept);
      retryable = !outcome && outcome.error().kind == ErrorKind::kHttpStatus &&
                  IsRetryableStatus(sent->status);
    }
    if (options_.observer != nullptr) {
      const std::string code =
          outcome ? std::to_string(sent->status) : outcome.error().MetricCode();
      options_.observer->OnRequest(op, code, seconds);
    }
    if (outcome || !may_retry || !retryable || attempt >= max_attempts) return outcome;

    milliseconds wait = BackoffDelay(attempt - 1, options_.backoff, options_.max_backoff);
    wait = std::max(wait, outcome.error().retry_after);  // Retry-After wins over max_backoff
    if (wait >= deadline - Clock::now()) return outcome;
    if (transport_.WaitCancelled(wait)) return std::unexpected(ErrorOf(ErrorKind::kCancelled, ""));
  }
}

// Turns an answer into success or an error: its status against the operation's success
// statuses, then the body through `accept`.
std::expected<void, ApiError> HttpHotdataApi::Judge(const HttpRequest& request,
                                                    const HttpAnswer& answer,
                                                    const AcceptFn& accept) const {
  const bool ok = IsSuccess(request.method, answer.status);

  ApiError e;
  e.status = answer.status;
  e.request_sent = true;
  if (ok) {
    auto problem = accept(answer.body);
    if (!problem) return {};
    e.kind = ErrorKind::kInvalidResponse;
    e.message = Redact(std::move(*problem), options_.token);
    return std::unexpected(std::move(e));
  }
  e.kind = ErrorKind::kHttpStatus;
  e.retry_after = answer.retry_after.value_or(milliseconds(0));
  if (auto body = DecodeErrorBody(answer.body)) {
    e.code = Redact(CleanUtf8(body->code, 100), options_.token);
    e.message = Redact(CleanUtf8(body->message), options_.token);
  } else {
    e.message = Redact(Excerpt(answer.body), options_.token);
  }
  return std::unexpected(std::move(e));
}

}  // namespace

std::unique_ptr<HotdataApi> MakeHttpClient(const ClientOptions& options) {
  return std::make_unique<HttpHotdataApi>(options);
}

}  // namespace hdm::hotdata
