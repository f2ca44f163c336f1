#include "webhook/receiver.h"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

namespace hdm::webhook {
namespace {

Reply Text(int status, std::string text) {
  return Reply{.status = status, .content_type = "text/plain; charset=utf-8", .body = text + "\n"};
}

}  // namespace

Receiver::Receiver(ReceiverOptions options) : options_(std::move(options)) {}

void Receiver::Count(std::string_view result) const {
  if (options_.on_request) options_.on_request(result);
}

Reply Receiver::TooLarge(std::optional<uint64_t> size) const {
  Count("too_large");
  const std::string what =
      size ? "body of " + std::to_string(*size) + " bytes" : std::string("chunked body");
  spdlog::warn("alert webhook: refused a {} (more than {} bytes)", what, kMaxBodyBytes);
  return Text(413, what + ", more than the " + std::to_string(kMaxBodyBytes) + " bytes allowed");
}

Reply Receiver::Handle(std::string_view body) const {
  if (body.size() > kMaxBodyBytes) return TooLarge(body.size());
  auto payload = DecodePayload(body);
  if (!payload) {
    Count("bad_request");
    // The reason names the field; a JSON syntax error quotes at most 200 bytes of the body.
    spdlog::warn("alert webhook: refused a notification: {}", payload.error());
    return Text(400, "bad notification: " + payload.error());
  }
  auto summary = options_.sink(*payload);
  if (!summary) {
    Count("unavailable");
    return Text(503, "not ready: " + summary.error());
  }
  Count("ok");
  uint64_t firing = 0;
  for (const Alert& a : payload->alerts) firing += a.status == AlertStatus::kFiring ? 1 : 0;
  if (options_.on_alerts) {
    options_.on_alerts(StatusName(AlertStatus::kFiring), firing);
    options_.on_alerts(StatusName(AlertStatus::kResolved), payload->alerts.size() - firing);
  }
  if (payload->truncated > 0) {
    if (options_.on_truncated) options_.on_truncated(static_cast<uint64_t>(payload->truncated));
    spdlog::warn(
        "alert webhook: the notification to receiver \"{}\" left out {} alert(s) (max_alerts): "
        "those are not seen",
        payload->receiver, payload->truncated);
  }
  const nlohmann::json j = {{"status", "ok"},
                            {"alerts", payload->alerts.size()},
                            {"started", summary->started},
                            {"repeated", summary->repeated},
                            {"ended", summary->ended},
                            {"ignored", summary->ignored},
                            {"unmatched", summary->unmatched}};
  return Reply{.status = 200,
               .content_type = "application/json",
               .body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"};
}

}  // namespace hdm::webhook
