// SPDX-License-Identifier: Apache-2.0
#include "modules/timezone.h"

#include <cctype>

#include "modules/os_release.h"

namespace amiboot {

namespace {

constexpr const char* kZoneinfo = "/usr/share/zoneinfo/";

// tzdata's names: letters, digits, '_', '-', '+', '.', components joined by
// '/' ("America/Argentina/Buenos_Aires", "Etc/GMT+5"). Nothing that could
// leave /usr/share/zoneinfo or break the one-line /etc/timezone.
std::string zone_problem(const std::string& zone) {
  if (zone.empty()) {
    return "expected a zone name like Europe/Berlin, got an empty string";
  }
  if (zone.front() == '/') {
    return "'" + zone + "' is a path; expected a zone name relative to /usr/share/zoneinfo";
  }
  std::size_t start = 0;
  while (start <= zone.size()) {
    std::size_t end = zone.find('/', start);
    end = end == std::string::npos ? zone.size() : end;
    std::string part = zone.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") {
      return "'" + zone + "' is not a zone name like Europe/Berlin (empty, '.' or '..' part)";
    }
    start = end + 1;
  }
  for (char c : zone) {
    auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '_' && c != '-' && c != '+' && c != '.' && c != '/') {
      return "'" + zone +
             "' is not a zone name like Europe/Berlin (letters, digits, '_', '-', "
             "'+' and '.' between '/')";
    }
  }
  return "";
}

}  // namespace

std::optional<TimezoneConfig> decode_timezone(const Value& doc, Diagnostics& out) {
  const Value* v = doc.get("timezone");
  if (v == nullptr || v->is_null()) {
    return std::nullopt;  // not configured: no plan
  }
  Decoder decoder(out);
  auto zone = decoder.string(*v, "timezone");
  if (!zone) {
    return std::nullopt;
  }
  if (auto problem = zone_problem(*zone); !problem.empty()) {
    decoder.error(*v, "timezone", problem);
    return std::nullopt;
  }
  return TimezoneConfig{*zone, v->pos};
}

PlanResult plan_timezone(const TimezoneConfig& config, const Facts& facts) {
  PlanResult result;
  std::string zonefile = kZoneinfo + config.zone;
  // A folder ("Europe") exists too, but is no zone; list() is empty for a file.
  if (!facts.system.path_exists(zonefile) || !facts.system.list(zonefile).empty()) {
    result.diagnostics.push_back(Diagnostic{Diagnostic::Severity::Error, config.pos, "timezone",
                                            "unknown time zone '" + config.zone +
                                                "': the image has no " + zonefile +
                                                " (is tzdata installed?)"});
    return result;
  }
  auto os = read_os_release(facts.system);
  if (os && os->is_debian_family()) {
    // Debian's own record of the zone (tzdata's debconf reads it back).
    if (facts.system.read_text("/etc/timezone") != config.zone + "\n") {
      result.actions.push_back(WriteFile{.path = "/etc/timezone",
                                         .content = config.zone + "\n",
                                         .label = "timezone: /etc/timezone"});
    }
  }
  // One rename replaces the old link, never following it into the old
  // zone's file, and /etc/localtime is never missing in between.
  result.actions.push_back(MakeSymlink{"/etc/localtime", "../usr/share/zoneinfo/" + config.zone,
                                       "timezone: /etc/localtime -> " + config.zone});
  result.summary = "time zone " + config.zone;
  return result;
}

}  // namespace amiboot
