// HttpHotdataApi: HotdataApi over HTTP(S), on the project's own transport (http_transport.h).
//
// One instance holds one keep-alive connection and serves one thread at a time; Cancel() may
// be called from any thread. Retries follow the config: only GETs, only a transport failure
// before any answer or a 429/502/503/504 (Retry-After honoured, and it wins over max_backoff),
// and never past the call's deadline. Every attempt is reported to the RequestObserver.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "hotdata/api.h"

namespace hdm::hotdata {

class Resolver;

struct ClientOptions {
  std::string base_url;      // "https://app.hotdata.dev" or "http://127.0.0.1:PORT"
  std::string token;         // secret: never logged, never in an error message
  std::string workspace_id;  // empty: header not sent
  std::chrono::milliseconds timeout{15'000};  // per attempt
  int attempts = 3;                           // counts the first try
  std::chrono::milliseconds backoff{500};
  std::chrono::milliseconds max_backoff{10'000};
  std::string ca_file;  // empty: system CAs
  bool insecure_skip_verify = false;
  size_t max_body_bytes = 16 << 20;  // a larger answer is an invalid response
  std::string user_agent = "hotdata-monitor";
  // A kept-alive connection idle for longer than this is checked for a close by the server
  // before it is reused (one non-blocking peek); one used more recently is reused as it is.
  std::chrono::milliseconds stale_check_after{250};
  RequestObserver* observer = nullptr;  // not owned; may be null; must outlive the client
  // Looks up the base URL's host name within each request's deadline (resolver.h). Null: the
  // process's shared one (getaddrinfo, answers kept 30 s).
  std::shared_ptr<Resolver> resolver;
};

std::unique_ptr<HotdataApi> MakeHttpClient(const ClientOptions& options);

// Percent-encodes one path segment (RFC 3986 unreserved characters stay as they are).
std::string EncodePathSegment(std::string_view segment);

}  // namespace hdm::hotdata
