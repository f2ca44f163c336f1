// Receiver: POST /api/v1/alerts without the HTTP, a body in and an answer out. It decodes the
// notification (payload.h), hands its alerts to a sink (the policy service) and says what came of
// it; it counts every request and alert through the observer.
//
// Answers, for a sender that retries on 5xx only (Alertmanager, Grafana):
//   200  {"status":"ok","alerts":N,"started":..,"repeated":..,"ended":..,"ignored":..,
//        "unmatched":..}: taken (whatever the policies then decide)
//   400  one line, "bad notification: <why>": not a webhook notification; nothing is used
//   413  (TooLarge) the body is over kMaxBodyBytes; nothing of it is used
//   503  the sink cannot take alerts yet (no discovery): the sender tries again
// Thread-safe when the sink and the observer are.
#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "webhook/payload.h"

namespace hdm::webhook {

// Alertmanager's notifications of a few thousand alerts fit; bigger ones are refused (413).
inline constexpr size_t kMaxBodyBytes = 1024 * 1024;

// What the sink did with a notification's alerts (counts of alerts, by what became of them).
struct SinkSummary {
  int64_t started = 0;
  int64_t repeated = 0;
  int64_t ended = 0;
  int64_t ignored = 0;
  int64_t unmatched = 0;
};

struct Reply {
  int status = 200;
  std::string content_type;
  std::string body;
};

struct ReceiverOptions {
  // Takes the alerts; unexpected: cannot yet (503 with the reason).
  std::function<std::expected<SinkSummary, std::string>(const Payload&)> sink;
  // Counting (hotdata_webhook_*): `result` is ok, bad_request, too_large or unavailable; each
  // optional.
  std::function<void(std::string_view result)> on_request;
  std::function<void(std::string_view status, uint64_t count)> on_alerts;
  std::function<void(uint64_t count)> on_truncated;
};

class Receiver {
 public:
  explicit Receiver(ReceiverOptions options);

  Reply Handle(std::string_view body) const;
  // The answer to a body of `size` bytes over kMaxBodyBytes (given before it is read), or of a
  // chunked body (size nullopt) that went over it while it was read.
  Reply TooLarge(std::optional<uint64_t> size) const;

 private:
  void Count(std::string_view result) const;
  ReceiverOptions options_;
};

}  // namespace hdm::webhook
