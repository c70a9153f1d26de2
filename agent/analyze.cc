// SPDX-License-Identifier: Apache-2.0
#include "agent/analyze.h"

#include <algorithm>
#include <ctime>
#include <iomanip>
#include <map>
#include <sstream>

#include "agent/core/strings.h"

namespace amiboot {

namespace {

long long number(const nlohmann::json& j, const char* key, long long fallback = 0) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<long long>() : fallback;
}

std::string text(const nlohmann::json& j, const char* key, const std::string& fallback = "?") {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

// Runs recorded before started_ms existed have only "2026-11-29T07:48:23Z".
long long start_key(const nlohmann::json& run) {
  if (long long ms = number(run, "started_ms", -1); ms >= 0) {
    return ms;
  }
  std::tm tm{};
  std::istringstream in(text(run, "started", ""));
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%SZ");
  return in.fail() ? 0 : static_cast<long long>(timegm(&tm)) * 1000;
}

int stage_rank(const nlohmann::json& run) {
  std::string stage = text(run, "stage", "");
  return stage == "init" ? 0 : stage == "final" ? 1 : 2;
}

std::vector<nlohmann::json> ran_modules(const nlohmann::json& run) {
  std::vector<nlohmann::json> out;
  for (const auto& m : run.value("modules", nlohmann::json::array())) {
    // A record from disk may hold anything; a stray entry is not a module.
    if (m.is_object() && m.value("result", "") != "skipped") {
      out.push_back(m);
    }
  }
  return out;
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string ms_text(long long ms) {
  if (ms < 10000) {
    return std::to_string(ms) + " ms";
  }
  std::ostringstream out;
  out << std::fixed << std::setprecision(3) << static_cast<double>(ms) / 1000 << " s";
  return out.str();
}

}  // namespace

std::vector<nlohmann::json> in_boot_order(std::vector<nlohmann::json> runs) {
  std::stable_sort(runs.begin(), runs.end(), [](const auto& a, const auto& b) {
    long long ka = start_key(a);
    long long kb = start_key(b);
    // Within one second of the old records, init still comes first.
    if (ka / 1000 == kb / 1000 && number(a, "started_ms", -1) < 0) {
      return stage_rank(a) < stage_rank(b);
    }
    return ka != kb ? ka < kb : stage_rank(a) < stage_rank(b);
  });
  return runs;
}

std::vector<nlohmann::json> last_boot(const std::vector<nlohmann::json>& runs) {
  if (runs.empty()) {
    return {};
  }
  std::string boot = text(runs.back(), "boot_id", "");
  std::vector<nlohmann::json> out;
  if (!boot.empty()) {
    for (const auto& r : runs) {
      if (text(r, "boot_id", "") == boot) {
        out.push_back(r);
      }
    }
    return out;
  }
  auto first = runs.end() - 1;
  while (first != runs.begin() && stage_rank(*first) != 0) {
    --first;
  }
  return {first, runs.end()};
}

std::string analyze_show(const std::vector<nlohmann::json>& runs) {
  if (runs.empty()) {
    return "no recorded runs\n";
  }
  std::ostringstream out;
  for (const auto& r : runs) {
    out << text(r, "started") << "  " << text(r, "stage") << "  " << text(r, "instance_id") << "  "
        << text(r, "status") << "  " << number(r, "duration_ms") << " ms";
    if (r.contains("uptime_ms") && r["uptime_ms"].is_number()) {
      out << "  (" << ms_text(number(r, "uptime_ms")) << " after boot)";
    }
    out << "\n";
    for (const auto& m : ran_modules(r)) {
      out << "  +" << std::left << std::setw(7) << (std::to_string(number(m, "start_ms")) + " ms")
          << std::right << std::setw(8) << number(m, "duration_ms") << " ms  " << text(m, "name")
          << " (" << text(m, "result") << ")\n";
    }
  }
  return out.str();
}

std::string analyze_blame(const std::vector<nlohmann::json>& runs) {
  std::vector<nlohmann::json> modules;
  for (const auto& r : last_boot(runs)) {
    for (auto m : ran_modules(r)) {
      m["stage"] = text(r, "stage");
      modules.push_back(std::move(m));
    }
  }
  if (modules.empty()) {
    return "no recorded runs\n";
  }
  std::stable_sort(modules.begin(), modules.end(), [](const auto& a, const auto& b) {
    return number(a, "duration_ms") > number(b, "duration_ms");
  });
  std::ostringstream out;
  for (const auto& m : modules) {
    out << std::setw(8) << number(m, "duration_ms") << " ms  " << text(m, "name") << " ("
        << text(m, "stage") << ", " << text(m, "result") << ")\n";
  }
  return out.str();
}

std::vector<UnitSpan> parse_unit_spans(const std::string& show) {
  std::vector<UnitSpan> spans;
  auto finish = [&](std::map<std::string, std::string>& props) {
    auto usec = [&](const char* key) -> long long {
      auto it = props.find(key);
      return it == props.end() || !all_digits(it->second) ? 0 : std::stoll(it->second);
    };
    long long start = usec("InactiveExitTimestampMonotonic");
    long long end = usec("ExecMainExitTimestampMonotonic");
    if (end == 0) {
      end = usec("ActiveEnterTimestampMonotonic");
    }
    if (props.count("Id") != 0 && start > 0) {
      spans.push_back(UnitSpan{props["Id"], start / 1000, end >= start ? end / 1000 : 0});
    }
    props.clear();
  };
  std::map<std::string, std::string> props;
  for (const auto& line : split_lines(show)) {
    if (line.empty()) {
      finish(props);
      continue;
    }
    auto eq = line.find('=');
    if (eq != std::string::npos) {
      props[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  finish(props);
  return spans;
}

std::string analyze_plot(const std::vector<nlohmann::json>& runs,
                         const std::vector<UnitSpan>& units) {
  struct Bar {
    std::string label;
    long long start;
    long long end;
    const char* fill;
  };
  std::vector<Bar> bars;
  auto boot = last_boot(runs);
  // The axis: ms since the kernel started when every run recorded its
  // uptime, else since the first stage started.
  bool since_kernel = !boot.empty() && std::all_of(boot.begin(), boot.end(), [](const auto& r) {
    return r.contains("uptime_ms") && r["uptime_ms"].is_number();
  });
  long long first_wall = boot.empty() ? 0 : start_key(boot.front());
  if (since_kernel) {
    for (const auto& u : units) {
      bars.push_back({u.name, u.start_ms, u.end_ms > 0 ? u.end_ms : u.start_ms, "#8fb3d9"});
    }
  }
  for (const auto& r : boot) {
    long long stage_start = since_kernel ? number(r, "uptime_ms") : start_key(r) - first_wall;
    long long stage_end = stage_start + number(r, "duration_ms");
    bars.push_back({text(r, "stage") + " stage (" + text(r, "status") + ")", stage_start, stage_end,
                    "#f2c14e"});
    for (const auto& m : ran_modules(r)) {
      long long start = stage_start + number(m, "start_ms");
      bool failed = text(m, "result", "") == "failed";
      bars.push_back({text(m, "name"), start, start + number(m, "duration_ms"),
                      failed ? "#e05d5d" : "#6cbf84"});
    }
  }

  constexpr int kRow = 22;
  constexpr int kTop = 60;
  constexpr int kLeft = 20;
  constexpr int kChart = 760;   // the time axis, in pixels
  constexpr int kLabels = 320;  // room right of the chart for the last labels
  long long t0 = bars.empty() ? 0 : bars.front().start;
  long long t1 = t0 + 1;
  for (const auto& b : bars) {
    t0 = std::min(t0, b.start);
    t1 = std::max(t1, b.end);
  }
  double scale = static_cast<double>(kChart) / static_cast<double>(t1 - t0);
  auto x = [&](long long t) { return kLeft + static_cast<double>(t - t0) * scale; };
  int height = kTop + static_cast<int>(bars.size()) * kRow + 40;
  int width = kLeft + kChart + kLabels;

  std::ostringstream svg;
  svg << std::fixed << std::setprecision(1);
  svg << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" viewBox=\"0 0 " << width << " " << height
      << "\" font-family=\"DejaVu Sans, sans-serif\""
      << " font-size=\"13\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  std::string title = "amiboot: the last boot";
  if (!boot.empty()) {
    title +=
        ", instance " + text(boot.front(), "instance_id") + ", " + text(boot.front(), "started");
  }
  svg << "<text x=\"" << kLeft << "\" y=\"24\" font-size=\"16\" fill=\"#111111\">"
      << xml_escape(title) << "</text>\n";
  svg << "<text x=\"" << kLeft << "\" y=\"44\" fill=\"#444444\">"
      << (since_kernel ? "time since the kernel started" : "time since the first stage started")
      << "; systemd units blue, stages yellow, modules green (red: failed)</text>\n";
  // A tick each 1, 2 or 5 times a power of ten, about ten in all.
  long long span = t1 - t0;
  long long step = 1;
  for (long long decade = 1; span / step > 10; decade *= 10) {
    for (long long m : {1, 2, 5}) {
      step = m * decade;
      if (span / step <= 10) {
        break;
      }
    }
  }
  long long first_tick = (t0 + step - 1) / step * step;
  for (long long t = first_tick; t <= t1; t += step) {
    svg << "<line x1=\"" << x(t) << "\" y1=\"" << kTop - 6 << "\" x2=\"" << x(t) << "\" y2=\""
        << height - 30 << "\" stroke=\"#dddddd\"/>\n"
        << "<text x=\"" << x(t) << "\" y=\"" << height - 14 << "\" fill=\"#444444\""
        << " text-anchor=\"middle\">" << ms_text(t) << "</text>\n";
  }
  int row = 0;
  for (const auto& b : bars) {
    double y = kTop + row * kRow;
    double w = std::max(2.0, x(b.end) - x(b.start));
    svg << "<rect x=\"" << x(b.start) << "\" y=\"" << y << "\" width=\"" << w << "\" height=\""
        << kRow - 6 << "\" fill=\"" << b.fill << "\"/>\n"
        << "<text x=\"" << x(b.start) + w + 6 << "\" y=\"" << y + kRow - 10
        << "\" fill=\"#111111\">" << xml_escape(b.label) << " " << ms_text(b.end - b.start)
        << "</text>\n";
    ++row;
  }
  if (bars.empty()) {
    svg << "<text x=\"" << kLeft << "\" y=\"" << kTop + 16
        << "\" fill=\"#111111\">no recorded runs</text>\n";
  }
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace amiboot
