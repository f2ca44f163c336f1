#include "metrics/fleet_metrics.h"

#include <optional>
#include <vector>

#include "metrics/exposition.h"

namespace hdm::metrics {

namespace {

// One per-connection family: its description and how a connection's value is read (nullopt:
// the series is absent).
struct ConnectionFamily {
  FamilyDesc desc;
  std::optional<double> (*value)(const ConnectionState&);
};

std::optional<double> FromCount(const std::optional<int64_t>& v) {
  if (!v) return std::nullopt;
  return static_cast<double>(*v);
}

const ConnectionFamily kConnectionFamilies[] = {
    {{"hotdata_connection_healthy",
      "1 if the Hotdata API last reported the connection healthy, else 0; absent before the "
      "first answer.",
      "gauge"},
     [](const ConnectionState& c) -> std::optional<double> {
       if (!c.healthy) return std::nullopt;
       return *c.healthy ? 1.0 : 0.0;
     }},
    {{"hotdata_connection_latency_seconds",
      "Latency of the connection as the Hotdata API last reported it, in seconds.", "gauge"},
     [](const ConnectionState& c) { return c.latency_seconds; }},
    {{"hotdata_connection_check_success",
      "1 if the last health check got a valid answer from the Hotdata API, else 0.", "gauge"},
     [](const ConnectionState& c) -> std::optional<double> {
       if (!c.checked) return std::nullopt;
       return c.check_success ? 1.0 : 0.0;
     }},
    {{"hotdata_connection_check_duration_seconds",
      "Round trip of the last health check as the monitor saw it, retries included, in seconds.",
      "gauge"},
     [](const ConnectionState& c) -> std::optional<double> {
       if (!c.checked) return std::nullopt;
       return c.check_duration_seconds;
     }},
    {{"hotdata_connection_unhealthy_streak",
      "Unhealthy answers in a row; failed checks neither add nor reset.", "gauge"},
     [](const ConnectionState& c) -> std::optional<double> {
       return static_cast<double>(c.consecutive_failures);
     }},
    {{"hotdata_connection_last_check_timestamp_seconds",
      "Unix time when the last health check of the connection finished.", "gauge"},
     [](const ConnectionState& c) -> std::optional<double> {
       if (!c.checked) return std::nullopt;
       return UnixSeconds(c.last_check);
     }},
    {{"hotdata_connection_tables", "Tables of the connection, as get_connection last reported.",
      "gauge"},
     [](const ConnectionState& c) { return FromCount(c.table_count); }},
    {{"hotdata_connection_synced_tables",
      "Synced tables of the connection, as get_connection last reported.", "gauge"},
     [](const ConnectionState& c) { return FromCount(c.synced_table_count); }},
    {{"hotdata_connection_last_purge_timestamp_seconds",
      "Unix time of the last successful cache purge of the connection.", "gauge"},
     [](const ConnectionState& c) -> std::optional<double> {
       if (!c.last_purge) return std::nullopt;
       return UnixSeconds(*c.last_purge);
     }},
};

constexpr FamilyDesc kInfo{"hotdata_connection_info",
                           "Monitored Hotdata connection; always 1. Its source type is a label.",
                           "gauge"};

// `{connection_id="...",connection="..."` without the closing brace, so that the info family
// can add a label.
std::string OpenLabels(const ConnectionState& c) {
  std::string labels;
  labels.reserve(c.info.id.size() + c.info.name.size() + 32);
  labels += "{connection_id=\"";
  AppendLabelValue(labels, c.info.id);
  labels += "\",connection=\"";
  AppendLabelValue(labels, c.info.name);
  labels += '"';
  return labels;
}

void AppendConnectionMetrics(std::string& out, const std::vector<ConnectionState>& conns) {
  std::vector<std::string> labels;
  labels.reserve(conns.size());
  size_t label_bytes = 0;
  for (const ConnectionState& c : conns) {
    labels.push_back(OpenLabels(c));
    labels.back() += '}';
    label_bytes += labels.back().size() + c.info.source_type.size();
  }
  // Room for every series with a value of up to 24 characters, plus slack for the headers and
  // what follows: a large fleet renders without reallocating its output.
  size_t per_connection = kInfo.name.size() + 16;  // + ",source_type=\"\"" + " 1\n"
  for (const ConnectionFamily& family : kConnectionFamilies) {
    per_connection += family.desc.name.size() + 26;
  }
  constexpr size_t kFamilies = std::size(kConnectionFamilies) + 1;
  out.reserve(out.size() + kFamilies * label_bytes + conns.size() * per_connection + 16384);

  for (const ConnectionFamily& family : kConnectionFamilies) {
    FamilyWriter w(out, family.desc);
    for (size_t i = 0; i < conns.size(); ++i) {
      if (std::optional<double> v = family.value(conns[i])) w.Sample(labels[i], *v);
    }
  }
  FamilyWriter info(out, kInfo);
  std::string info_labels;
  for (size_t i = 0; i < conns.size(); ++i) {
    info_labels.assign(labels[i], 0, labels[i].size() - 1);
    info_labels += ",source_type=\"";
    AppendLabelValue(info_labels, conns[i].info.source_type);
    info_labels += "\"}";
    info.Sample(info_labels, 1.0);
  }
}

void AppendTableMetrics(std::string& out, const std::vector<TableState>& tables) {
  std::vector<std::string> labels;
  labels.reserve(tables.size());
  for (const TableState& t : tables) {
    std::string l = "{connection_id=\"";
    AppendLabelValue(l, t.connection_id);
    l += "\",connection=\"";
    AppendLabelValue(l, t.connection_name);
    l += "\",schema=\"";
    AppendLabelValue(l, t.schema);
    l += "\",table=\"";
    AppendLabelValue(l, t.table);
    l += "\"}";
    labels.push_back(std::move(l));
  }
  {
    FamilyWriter w(out,
                   {"hotdata_table_rows",
                    "Rows of a table of the tables: list, as its last profile reported.", "gauge"});
    for (size_t i = 0; i < tables.size(); ++i) {
      if (tables[i].row_count) w.Sample(labels[i], static_cast<double>(*tables[i].row_count));
    }
  }
  FamilyWriter w(out, {"hotdata_table_last_synced_timestamp_seconds",
                       "Unix time of the last sync of a table of the tables: list, as its last "
                       "profile reported; absent when never synced.",
                       "gauge"});
  for (size_t i = 0; i < tables.size(); ++i) {
    if (tables[i].synced_at) w.Sample(labels[i], UnixSeconds(*tables[i].synced_at));
  }
}

void AppendMonitorMetrics(std::string& out, const FleetSnapshot& s) {
  FamilyWriter(out, {"hotdata_monitor_connections", "Connections monitored now.", "gauge"})
      .Sample("", static_cast<uint64_t>(s.connections.size()));
  if (s.last_round_end) {
    FamilyWriter(out, {"hotdata_monitor_round_duration_seconds",
                       "Duration of the last completed health round, from its start to its last "
                       "answer, in seconds.",
                       "gauge"})
        .Sample("", s.last_round_duration_seconds);
    FamilyWriter(out, {"hotdata_monitor_last_round_timestamp_seconds",
                       "Unix time when the last health round completed.", "gauge"})
        .Sample("", UnixSeconds(*s.last_round_end));
  }
  FamilyWriter(out, {"hotdata_monitor_rounds_total", "Health rounds completed.", "counter"})
      .Sample("", s.rounds_completed);
  FamilyWriter(out, {"hotdata_monitor_rounds_overrun_total",
                     "Health rounds still running when the next one was due.", "counter"})
      .Sample("", s.rounds_overrun);
  FamilyWriter(out, {"hotdata_monitor_discoveries_total",
                     "Discoveries (list_connections) finished, successful or not.", "counter"})
      .Sample("", s.discoveries);
  FamilyWriter(out, {"hotdata_monitor_discovery_failures_total",
                     "Discoveries (list_connections) that failed.", "counter"})
      .Sample("", s.discoveries_failed);
  if (s.last_discovery) {
    FamilyWriter(out,
                 {"hotdata_monitor_last_discovery_timestamp_seconds",
                  "Unix time of the last successful discovery of the connection list.", "gauge"})
        .Sample("", UnixSeconds(*s.last_discovery));
  }
  FamilyWriter(
      out, {"hotdata_monitor_check_interval_seconds",
            "Configured interval between health rounds (scheduler.interval), in seconds.", "gauge"})
      .Sample("", s.check_interval_seconds);
  FamilyWriter(out, {"hotdata_monitor_discovery_interval_seconds",
                     "Configured interval between discoveries (scheduler.discovery_interval), in "
                     "seconds.",
                     "gauge"})
      .Sample("", s.discovery_interval_seconds);
  FamilyWriter(out, {"hotdata_monitor_shard_info",
                     "The shard of the connections this instance monitors (scheduler.shard): "
                     "shard is its index, shards the count; always 1.",
                     "gauge"})
      .Sample("{shard=\"" + std::to_string(s.shard_index) + "\",shards=\"" +
                  std::to_string(s.shard_count) + "\"}",
              1.0);
}

}  // namespace

void AppendFleetMetrics(std::string& out, const FleetSnapshot& snapshot) {
  AppendConnectionMetrics(out, snapshot.connections);
  AppendTableMetrics(out, snapshot.tables);
  AppendMonitorMetrics(out, snapshot);
}

}  // namespace hdm::metrics
