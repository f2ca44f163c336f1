#include "app/api_factory.h"

#include "hotdata/http_client.h"

namespace hdm {

std::unique_ptr<hotdata::HotdataApi> MakeApiClient(const ApiConfig& api, const std::string& token,
                                                   hotdata::RequestObserver* observer) {
  hotdata::ClientOptions o;
  o.base_url = api.base_url;
  o.token = token;
  o.workspace_id = api.workspace_id;
  o.timeout = api.timeout;
  o.attempts = api.retries.attempts;
  o.backoff = api.retries.backoff;
  o.max_backoff = api.retries.max_backoff;
  o.ca_file = api.tls.ca_file;
  o.insecure_skip_verify = api.tls.insecure_skip_verify;
  o.observer = observer;
  return hotdata::MakeHttpClient(o);
}

}  // namespace hdm
