// Every decoder of the API's answers gets every input: the daemon must survive any body on any
// endpoint (a proxy's page, a truncated answer, another endpoint's JSON). Properties:
//  - nothing throws (an escaping exception aborts the run);
//  - an error is a short message naming where it went wrong (it is logged per failed check);
//  - a decoded value re-encodes to JSON that decodes again to the same value;
//  - EncodeCreateConnection always produces JSON that parses, whatever bytes its strings hold.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz_support.h"
#include "hotdata/decode.h"

namespace {

using nlohmann::json;
namespace hd = hdm::hotdata;

// Long enough for the deepest field path and a number; far shorter than a hostile body.
constexpr size_t kMaxErrorLength = 512;

json OptString(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }

json Encode(const hd::ConnectionInfo& c) {
  return {{"id", c.id}, {"name", c.name}, {"source_type", c.source_type}};
}
json Encode(const std::vector<hd::ConnectionInfo>& list) {
  json out = json::array();
  for (const auto& c : list) out.push_back(Encode(c));
  return {{"connections", out}};
}
json Encode(const hd::ConnectionDetails& d) {
  return {{"id", d.id},
          {"name", d.name},
          {"source_type", d.source_type},
          {"table_count", d.table_count},
          {"synced_table_count", d.synced_table_count}};
}
json Encode(const hd::HealthResponse& h) {
  return {{"connection_id", h.connection_id},
          {"healthy", h.healthy},
          {"latency_ms", h.latency_ms},
          {"error", OptString(h.error)}};
}
json Encode(const hd::CreateConnectionResponse& r) {
  return {{"id", r.id},
          {"name", r.name},
          {"source_type", r.source_type},
          {"tables_discovered", r.tables_discovered},
          {"discovery_status", r.discovery_status},
          {"discovery_error", OptString(r.discovery_error)}};
}
json Encode(const hd::ApiErrorBody& e) {
  return {{"error", {{"code", e.code}, {"message", e.message}}}};
}
json Encode(const hd::ColumnStats& stats) {
  struct Visitor {
    json operator()(const hd::CategoricalProfile& p) const {
      json values = json::array();
      for (const auto& v : p.values)
        values.push_back({{"value", OptString(v.value)}, {"count", v.count}});
      return {{"type", "categorical"}, {"values", values}};
    }
    json operator()(const hd::TextProfile& p) const {
      return {{"type", "text"},
              {"min_length", p.min_length},
              {"max_length", p.max_length},
              {"avg_length", p.avg_length}};
    }
    json operator()(const hd::NumericProfile& p) const {
      return {{"type", "numeric"}, {"min", p.min}, {"max", p.max}, {"mean", p.mean}};
    }
    json operator()(const hd::TemporalProfile& p) const {
      return {{"type", "temporal"}, {"min", p.min}, {"max", p.max}};
    }
    json operator()(const hd::BooleanProfile& p) const {
      return {{"type", "boolean"}, {"true_count", p.true_count}, {"false_count", p.false_count}};
    }
    json operator()(const hd::UnknownProfile& p) const { return {{"type", p.type}}; }
  };
  return std::visit(Visitor{}, stats);
}
json Encode(const hd::TableProfile& t) {
  json columns = json::array();
  for (const auto& c : t.columns) {
    columns.push_back({{"name", c.name},
                       {"data_type", c.data_type},
                       {"cardinality", c.cardinality},
                       {"null_count", c.null_count},
                       {"null_percentage", c.null_percentage},
                       {"profile", c.profile ? Encode(*c.profile) : json(nullptr)}});
  }
  return {{"connection", t.connection},
          {"schema", t.schema},
          {"table", t.table},
          {"row_count", t.row_count},
          {"synced_at", OptString(t.synced_at)},
          {"columns", columns}};
}

// Decodes `body` with `decode`; on success checks that the value survives a round trip.
template <typename Decode>
void Check(const char* what, std::string_view body, Decode decode) {
  const auto first = decode(body);
  if (!first) {
    const std::string& error = first.error();
    FUZZ_CHECK(!error.empty(), what);
    FUZZ_CHECK(error.size() <= kMaxErrorLength, std::string(what) + ": " + error);
    return;
  }
  // Strict dump: a decoded string that is not valid UTF-8 would throw here, and should not
  // exist, since the parser validates UTF-8.
  const json encoded = Encode(*first);
  const std::string text = encoded.dump();
  const auto second = decode(text);
  FUZZ_CHECK(second.has_value(), std::string(what) + ": re-encoded value does not decode: " +
                                     (second ? "" : second.error()) + " in " + text);
  FUZZ_CHECK(Encode(*second) == encoded, std::string(what) + ": round trip changed " + text);
}

void CheckEncodeCreate(std::string_view raw) {
  // Arbitrary bytes (often not UTF-8) in every string of the request.
  hd::CreateConnectionRequest req;
  req.name = std::string(raw.substr(0, raw.size() / 2));
  req.source_type = std::string(raw.substr(raw.size() / 2));
  req.config = {{"host", req.name}, {std::string(raw), 1}};
  req.secret_name = req.source_type;
  const std::string body = hd::EncodeCreateConnection(req);
  FUZZ_CHECK(json::accept(body), "EncodeCreateConnection produced invalid JSON: " + body);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body = hdm::fuzz::AsText(data, size);
  Check("list_connections", body, hd::DecodeListConnections);
  Check("get_connection", body, hd::DecodeGetConnection);
  Check("health", body, hd::DecodeHealth);
  Check("create_connection", body, hd::DecodeCreateConnection);
  Check("table_profile", body, hd::DecodeTableProfile);
  Check("error_body", body, hd::DecodeErrorBody);
  if (const auto health = hd::DecodeHealth(body)) {
    FUZZ_CHECK(health->latency_ms >= 0, "negative latency_ms accepted");
  }
  if (size <= 4096) CheckEncodeCreate(body);
  return 0;
}
