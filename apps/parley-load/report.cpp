// SPDX-License-Identifier: AGPL-3.0-or-later
#include "report.h"

#include <cinttypes>
#include <cstdio>
#include <sstream>

namespace parley::load {
namespace {

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string number(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}

std::int64_t delta(std::uint64_t before, std::uint64_t after) {
  return static_cast<std::int64_t>(after) - static_cast<std::int64_t>(before);
}

double ms(std::uint64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

}  // namespace

std::string format_text(const ScenarioReport& r) {
  std::ostringstream out;
  out << target_name(r.target) << " " << scenario_name(r.scenario) << ": " << r.connections
      << " connections ready in " << number(r.setup_seconds) << " s\n";
  if (r.scenario != Scenario::kIdle) {
    out << "  sent " << r.sent << ", delivered " << r.delivered << " in " << number(r.seconds)
        << " s = " << number(r.delivered_per_second()) << " messages/s; duplicates " << r.duplicates
        << ", errors " << r.errors << "\n";
    const auto& h = r.latency;
    out << "  latency ms: p50 " << number(ms(h.percentile(50))) << "  p90 "
        << number(ms(h.percentile(90))) << "  p99 " << number(ms(h.percentile(99))) << "  p99.9 "
        << number(ms(h.percentile(99.9))) << "  max " << number(ms(h.max())) << "  (" << h.count()
        << " samples)\n";
  } else {
    out << "  held " << number(r.seconds) << " s; errors " << r.errors << "\n";
  }
  if (r.has_server) {
    out << "  server: RSS " << r.server_after.rss_bytes / 1024 << " KiB (change "
        << delta(r.server_before.rss_bytes, r.server_after.rss_bytes) / 1024 << " KiB), CPU "
        << number(ticks_to_seconds(r.server_after.cpu_ticks - r.server_before.cpu_ticks))
        << " s, open files " << r.server_after.open_files << "\n";
  }
  out << "  client CPU "
      << number(ticks_to_seconds(r.client_after.cpu_ticks - r.client_before.cpu_ticks))
      << " s; kernel slab change " << delta(r.slab_before, r.slab_after) / 1024 << " KiB\n";
  for (const auto& [name, value] : r.extra) out << "  " << name << ": " << number(value) << "\n";
  for (const auto& note : r.notes) out << "  note: " << note << "\n";
  return out.str();
}

std::string format_json(const ScenarioReport& r) {
  std::ostringstream out;
  const auto& h = r.latency;
  out << "{\"target\":" << json_string(target_name(r.target))
      << ",\"scenario\":" << json_string(scenario_name(r.scenario))
      << ",\"connections\":" << r.connections << ",\"sent\":" << r.sent
      << ",\"delivered\":" << r.delivered << ",\"duplicates\":" << r.duplicates
      << ",\"errors\":" << r.errors << ",\"seconds\":" << number(r.seconds)
      << ",\"setup_seconds\":" << number(r.setup_seconds)
      << ",\"delivered_per_second\":" << number(r.delivered_per_second())
      << ",\"latency_ns\":{\"count\":" << h.count() << ",\"min\":" << h.min()
      << ",\"p50\":" << h.percentile(50) << ",\"p90\":" << h.percentile(90)
      << ",\"p99\":" << h.percentile(99) << ",\"p999\":" << h.percentile(99.9)
      << ",\"max\":" << h.max() << ",\"mean\":" << number(h.mean()) << "}";
  if (r.has_server) {
    out << ",\"server\":{\"rss_before\":" << r.server_before.rss_bytes
        << ",\"rss_after\":" << r.server_after.rss_bytes << ",\"cpu_seconds\":"
        << number(ticks_to_seconds(r.server_after.cpu_ticks - r.server_before.cpu_ticks))
        << ",\"open_files\":" << r.server_after.open_files
        << ",\"threads\":" << r.server_after.threads << "}";
  }
  out << ",\"client_cpu_seconds\":"
      << number(ticks_to_seconds(r.client_after.cpu_ticks - r.client_before.cpu_ticks))
      << ",\"slab_before\":" << r.slab_before << ",\"slab_after\":" << r.slab_after;
  out << ",\"extra\":{";
  bool first = true;
  for (const auto& [name, value] : r.extra) {
    out << (first ? "" : ",") << json_string(name) << ":" << number(value);
    first = false;
  }
  out << "},\"notes\":[";
  first = true;
  for (const auto& note : r.notes) {
    out << (first ? "" : ",") << json_string(note);
    first = false;
  }
  out << "]}";
  return out.str();
}

}  // namespace parley::load
