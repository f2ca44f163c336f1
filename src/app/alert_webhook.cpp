#include "app/alert_webhook.h"

#include <arpa/inet.h>

#include <algorithm>

#include "http/server.h"

namespace hdm {

bool HasAlertPolicy(const Config& config) {
  return std::ranges::any_of(
      config.policies, [](const PolicyConfig& p) { return p.when.event == EventKind::kAlert; });
}

std::optional<std::string> AlertWebhookExposure(const Config& config, const std::string& listen) {
  if (!HasAlertPolicy(config)) return std::nullopt;
  if (config.server.HasBasicAuth()) return std::nullopt;
  // A client certificate that is required is an authentication too.
  if (config.server.tls &&
      (config.server.tls->client_auth == ClientAuthType::kRequireAndVerifyClientCert ||
       config.server.tls->client_auth == ClientAuthType::kRequireAnyClientCert)) {
    return std::nullopt;
  }
  auto address = ParseListenAddress(listen);
  if (!address) return std::nullopt;  // reported as an error elsewhere
  const std::string& host = address->host;
  in_addr v4{};
  in6_addr v6{};
  if (host == "localhost" ||
      (inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127) ||
      (inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6))) {
    return std::nullopt;
  }
  return "warning: a policy takes alerts (event: alert), basic auth is off and " + listen +
         " is not a loopback address: anyone who can reach it can POST /api/v1/alerts and ask "
         "for purges (within cooldowns and the budget). Set server.basic_auth (or basic_auth_users "
         "in --web.config.file), or listen on 127.0.0.1";
}

std::unique_ptr<webhook::Receiver> MakeAlertReceiver(policy::PolicyService& policy,
                                                     Metrics& metrics) {
  return std::make_unique<webhook::Receiver>(webhook::ReceiverOptions{
      .sink = [&policy](const webhook::Payload& payload)
          -> std::expected<webhook::SinkSummary, std::string> {
        auto report = policy.OnAlerts(payload.alerts);
        if (!report) return std::unexpected(report.error());
        return webhook::SinkSummary{.started = report->started,
                                    .repeated = report->repeated,
                                    .ended = report->ended,
                                    .ignored = static_cast<int64_t>(report->ignored.size()),
                                    .unmatched = report->unmatched};
      },
      .on_request = [&metrics](std::string_view result) { metrics.CountWebhookRequest(result); },
      .on_alerts = [&metrics](std::string_view status,
                              uint64_t count) { metrics.CountWebhookAlerts(status, count); },
      .on_truncated = [&metrics](uint64_t count) { metrics.CountWebhookTruncated(count); },
  });
}

}  // namespace hdm
