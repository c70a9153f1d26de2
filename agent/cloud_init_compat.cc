// SPDX-License-Identifier: Apache-2.0
#include "agent/cloud_init_compat.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <yaml-cpp/yaml.h>

#include "agent/cli.h"
#include "agent/command_line.h"
#include "agent/core/json_text.h"
#include "agent/core/strings.h"
#include "agent/report.h"
#include "agent/runner.h"

namespace amiboot {

namespace {

constexpr const char* kNotProvided =
    ": not provided by amiboot's compatibility command; amiboot runs its stages from systemd "
    "(amiboot.service, amiboot-final.service)";

constexpr const char* kCloudInitUsage = R"(usage: cloud-init [--version] COMMAND [OPTIONS]

cloud-init's command for tooling, answered by amiboot (amiboot-cloud-init-compat):
  status [--wait] [--long] [--format tabular|json|yaml]
                 exit 0 done (or still running without --wait), 1 error,
                 2 degraded (done with warnings)
  query [KEY] [--format TEMPLATE]         amiboot query
  schema -c FILE [--annotate]              amiboot validate FILE
  clean [--logs] [--machine-id] [--seed] [--reboot]
                                           amiboot clean, and cloud-init's files
  analyze show|blame                       amiboot analyze
amiboot runs its stages from systemd (amiboot.service, amiboot-final.service);
`amiboot --help` lists its own commands.
)";

const nlohmann::json kNullStage = {{"errors", nlohmann::json::array()},
                                   {"recoverable_errors", nlohmann::json::object()},
                                   {"start", nullptr},
                                   {"finished", nullptr}};

std::string version_string() {
  return std::string(kCloudInitCompatVersion) + " (amiboot " AMIBOOT_VERSION ")";
}

std::string rfc2822(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

/// amiboot's "2024-01-02T03:04:05Z" as cloud-init's last_update.
std::string rfc3339_to_rfc2822(const std::string& text) {
  std::tm tm{};
  if (strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) == nullptr) {
    return "";
  }
  return rfc2822(timegm(&tm));
}

std::vector<std::string> strings_of(const nlohmann::json& doc, const char* key) {
  std::vector<std::string> out;
  if (doc.is_object() && doc.contains(key) && doc[key].is_array()) {
    for (const auto& v : doc[key]) {
      if (v.is_string()) {
        out.push_back(v.get<std::string>());
      }
    }
  }
  return out;
}

/// cloud-init files its logged warnings by level; amiboot's deprecation
/// warnings (apt_update, ...) go under DEPRECATED as cloud-init's do.
nlohmann::json group_warnings(const std::vector<std::string>& warnings) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& w : warnings) {
    std::string lower = lowercase(w);
    out[lower.find("deprecat") != std::string::npos ? "DEPRECATED" : "WARNING"].push_back(w);
  }
  return out;
}

std::vector<std::string> flatten_warnings(const nlohmann::json& grouped) {
  std::vector<std::string> out;
  if (grouped.is_object()) {
    for (const auto& [level, list] : grouped.items()) {
      for (const auto& w : list) {
        if (w.is_string()) {
          out.push_back(w.get<std::string>());
        }
      }
    }
  }
  return out;
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

std::optional<nlohmann::json> read_json(const System& system, const std::string& path) {
  auto text = system.read_file(path, 1 << 20);
  if (!text) {
    return std::nullopt;
  }
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return std::nullopt;
  }
  return j;
}

bool safe_name(const std::string& id) {
  return !id.empty() && id != "." && id != ".." && id.find('/') == std::string::npos;
}

// --- the command line -------------------------------------------------------

int not_provided(const std::string& what) {
  std::cerr << "cloud-init " << what << kNotProvided << "\n";
  return 1;
}

// Each command's options under cloud-init's names (its argparse parsers in
// cloudinit/cmd/), and amiboot's --root.
const OptionSpec kStatusOptions[] = {
    {"wait", 'w'}, {"long", 'l'}, {"format", 0, true}, {"root", 0, true}};

int compat_cmd_status(const ParsedOptions& args) {
  bool wait = args.has("wait");
  bool long_form = args.has("long");
  std::string format = args.value("format").value_or("tabular");
  std::string root = args.value("root").value_or("/");
  if (format != "tabular" && format != "json" && format != "yaml") {
    throw UsageError("--format must be json, tabular or yaml");
  }
  HostSystem system(root);
  auto doc = read_status(system);
  auto status = cloud_init_status(doc, disabled_by(system));
  bool dots = false;
  while (wait && !status.finished()) {
    if (format == "tabular") {
      std::cout << '.' << std::flush;
      dots = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    doc = read_status(system);
    status = cloud_init_status(doc, disabled_by(system));
  }
  if (dots) {
    std::cout << "\n";
  }
  if (format == "tabular") {
    std::cout << format_status_tabular(status, long_form, doc);
  } else {
    auto compat = read_json(system, std::string(kCloudDir) + "/data/status.json");
    auto j = status_json(status, doc, compat);
    std::cout << (format == "json" ? json_text(j, 2) + "\n" : to_yaml_document(j));
  }
  return status.exit_code;
}

const OptionSpec kQueryOptions[] = {{"all", 'a'},
                                    {"list-keys", 'l'},
                                    {"debug", 'd'},
                                    {"format", 'f', true},
                                    {"instance-data", 'i', true},
                                    {"user-data", 'u', true},
                                    {"vendor-data", 'v', true},
                                    {"root", 0, true}};

int compat_cmd_query(const ParsedOptions& args) {
  std::vector<std::string> out = {"query"};
  // --all is everything: amiboot query without a key.
  if (args.has("list-keys")) {
    return not_provided("query --list-keys");
  }
  for (const char* f : {"instance-data", "user-data", "vendor-data"}) {
    if (args.has(f)) {
      return not_provided(std::string("query --") + f);
    }
  }
  if (auto format = args.value("format")) {
    out.insert(out.end(), {"--format", *format});
  }
  if (auto root = args.value("root")) {
    out.insert(out.end(), {"--root", *root});
  }
  // "--": a key that starts with a dash stays a key.
  out.push_back("--");
  out.insert(out.end(), args.positionals.begin(), args.positionals.end());
  return cli_main(out);
}

/// cloud-init's --annotate: the file with "# E1" after each line that has
/// an error, then the list of errors.
void annotate(const std::string& content, const nlohmann::json& result) {
  std::map<int, std::vector<int>> by_line;
  std::vector<std::string> messages;
  for (const auto& e : result.value("errors", nlohmann::json::array())) {
    int line = e.value("line", 0);
    std::string path = e.value("path", "");
    std::string message = e.value("message", "");
    messages.push_back(path.empty() ? message : path + ": " + message);
    by_line[line].push_back(static_cast<int>(messages.size()));
  }
  std::istringstream in(content);
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    std::cout << line;
    if (auto it = by_line.find(n); it != by_line.end()) {
      std::cout << "\t\t#";
      for (std::size_t i = 0; i < it->second.size(); ++i) {
        std::cout << (i ? "," : "") << " E" << it->second[i];
      }
    }
    std::cout << "\n";
  }
  if (!messages.empty()) {
    std::cout << "\n# Errors: -------------\n";
    for (std::size_t i = 0; i < messages.size(); ++i) {
      std::cout << "# E" << i + 1 << ": " << messages[i] << "\n";
    }
  }
}

const OptionSpec kSchemaOptions[] = {
    {"config-file", 'c', true}, {"schema-type", 't', true}, {"system"}, {"annotate"}, {"docs"}};

int compat_cmd_schema(const ParsedOptions& args) {
  bool annotate_output = args.has("annotate");
  if (args.has("system")) {
    return not_provided("schema --system (amiboot query user_data | amiboot validate -)");
  }
  // cloud-init's --docs takes module names: they come as positionals here.
  if (args.has("docs")) {
    return not_provided("schema --docs");
  }
  // --schema-type: amiboot validates cloud-config and all parts alike.
  auto file = args.value("config-file");
  if (!args.positionals.empty()) {
    throw UsageError("unexpected argument '" + args.positionals.front() + "'");
  }
  if (!file) {
    throw UsageError("schema needs -c FILE");
  }
  if (!annotate_output) {
    return cli_main({"validate", *file});
  }
  // Same validation, as JSON, so that the errors can be put on their lines.
  std::ostringstream captured;
  auto* old = std::cout.rdbuf(captured.rdbuf());
  int rc;
  try {
    rc = cli_main({"validate", *file, "--json"});
  } catch (...) {
    std::cout.rdbuf(old);
    throw;
  }
  std::cout.rdbuf(old);
  auto result = nlohmann::json::parse(captured.str(), nullptr, false);
  HostSystem host;
  auto content = host.read_host_file(*file);
  if (result.is_discarded() || !content) {
    std::cout << captured.str();
    return rc == 0 ? 0 : 1;
  }
  annotate(*content, result);
  for (const auto& w : result.value("warnings", nlohmann::json::array())) {
    std::cerr << "warning: " << w.value("message", "") << "\n";
  }
  return rc == 0 ? 0 : 1;
}

const OptionSpec kCleanOptions[] = {{"logs", 'l'},   {"machine-id"},         {"seed", 's'},
                                    {"reboot", 'r'}, {"configs", 'c', true}, {"root", 0, true}};

int compat_cmd_clean(const ParsedOptions& args) {
  bool logs = args.has("logs");
  bool machine_id = args.has("machine-id");
  bool seed = args.has("seed");
  bool reboot = args.has("reboot");
  std::string root = args.value("root").value_or("/");
  // --configs: amiboot writes no network or sshd configuration of its own
  // to remove.
  std::vector<std::string> amiboot = {"clean", "--root", root};
  if (logs) {
    amiboot.push_back("--logs");
  }
  if (int rc = cli_main(amiboot); rc != 0) {
    return rc;
  }
  HostSystem system(root);
  // cloud-init's artifacts. Unlike cloud-init, scripts/ stays (as amiboot
  // clean keeps its own scripts folders): an image's per-boot scripts are
  // part of the image.
  std::vector<std::string> remove = {std::string(kCloudRunDir) + "/status.json",
                                     std::string(kCloudRunDir) + "/result.json"};
  if (auto names = system.list_dir(kCloudDir)) {
    for (const auto& name : *names) {
      if (name == "scripts" || (name == "seed" && !seed)) {
        continue;
      }
      remove.push_back(std::string(kCloudDir) + "/" + name);
    }
  }
  if (logs) {
    remove.push_back("/var/log/cloud-init.log");
    remove.push_back(kCloudOutputLog);
  }
  int rc = 0;
  for (const auto& path : remove) {
    if (auto st = system.remove_all(path); !st) {
      std::cerr << "cloud-init clean: " << st.error().message << "\n";
      rc = 1;
    }
  }
  if (machine_id) {
    // As cloud-init on systemd: the next boot makes a new machine id.
    if (auto st = system.write_file("/etc/machine-id", "uninitialized\n", FileAttrs{0444}); !st) {
      std::cerr << "cloud-init clean: " << st.error().message << "\n";
      rc = 1;
    }
  }
  if (rc == 0 && reboot) {
    if (system.under_root()) {
      std::cout << "not rebooting under --root\n";
      return 0;
    }
    CommandSpec spec;
    spec.argv = {"shutdown", "-r", "now"};
    spec.identifier = "cloud-init";
    auto outcome = system.run(spec);
    if (!outcome || outcome->exit_code != 0) {
      std::cerr << "cloud-init clean: could not reboot with shutdown -r now\n";
      return 1;
    }
  }
  return rc;
}

const OptionSpec kAnalyzeOptions[] = {
    {"infile", 'i', true}, {"outfile", 'o', true}, {"root", 0, true}};

int compat_cmd_analyze(const ParsedOptions& args) {
  std::vector<std::string> out = {"analyze"};
  if (auto root = args.value("root")) {
    out.insert(out.end(), {"--root", *root});
  }
  if (args.has("infile") || args.has("outfile")) {
    return not_provided("analyze --infile/--outfile");
  }
  const auto& rest = args.positionals;
  if (rest.empty()) {
    throw UsageError("analyze needs show or blame");
  }
  if (rest[0] != "show" && rest[0] != "blame") {
    return not_provided("analyze " + rest[0]);
  }
  out.push_back(rest[0]);
  return cli_main(out);
}

// --- YAML output --------------------------------------------------------------

void emit_yaml(YAML::Emitter& out, const nlohmann::json& j) {
  if ((j.is_object() || j.is_array()) && j.empty()) {
    out << YAML::Flow << (j.is_object() ? YAML::BeginMap : YAML::BeginSeq)
        << (j.is_object() ? YAML::EndMap : YAML::EndSeq);
  } else if (j.is_object()) {
    out << YAML::BeginMap;
    for (const auto& [k, v] : j.items()) {
      out << YAML::Key << k << YAML::Value;
      emit_yaml(out, v);
    }
    out << YAML::EndMap;
  } else if (j.is_array()) {
    out << YAML::BeginSeq;
    for (const auto& v : j) {
      emit_yaml(out, v);
    }
    out << YAML::EndSeq;
  } else if (j.is_string()) {
    out << j.get<std::string>();
  } else if (j.is_null()) {
    out << YAML::Null;
  } else {
    out << json_text(j);
  }
}

}  // namespace

// --- status ---------------------------------------------------------------------

std::string disabled_by(const System& system) {
  if (system.exists("/etc/amiboot/disabled")) {
    return "marker-file";
  }
  return is_disabled(system) ? "kernel-command-line" : "";
}

nlohmann::json cloud_init_datasource(const nlohmann::json& source) {
  if (!source.is_string()) {
    return nullptr;
  }
  std::string s = source.get<std::string>();
  if (s == "imds") {
    return "DataSourceEc2";
  }
  if (s.rfind("seed:", 0) == 0) {
    return "DataSourceNoCloud [seed=" + s.substr(5) + "]";
  }
  return s.empty() ? nlohmann::json(nullptr) : nlohmann::json("DataSource " + s);
}

CloudInitStatus cloud_init_status(const std::optional<nlohmann::json>& doc,
                                  const std::string& disabled) {
  CloudInitStatus s;
  std::string amiboot;
  if (doc && doc->contains("status") && (*doc)["status"].is_string()) {
    amiboot = (*doc)["status"].get<std::string>();
  }
  s.boot_status_code = disabled == "marker-file"           ? "disabled-by-marker-file"
                       : disabled == "kernel-command-line" ? "disabled-by-kernel-command-line"
                                                           : "enabled-by-generator";
  std::string boot_detail = disabled == "marker-file"
                                ? "amiboot is disabled by /etc/amiboot/disabled"
                            : disabled == "kernel-command-line"
                                ? "amiboot is disabled by kernel parameter amiboot=disabled"
                                : "amiboot is enabled (amiboot.service, amiboot-final.service)";
  if (!doc) {
    s.running = disabled.empty() ? "not started" : "disabled";
  } else if (amiboot == "disabled") {
    s.running = "disabled";
    if (disabled.empty()) {
      s.boot_status_code = "disabled-by-marker-file";
      boot_detail = "amiboot was disabled for this boot";
    }
  } else if (amiboot == "not-on-ec2") {
    // cloud-init's ds-identify turns cloud-init off where it finds no cloud.
    s.running = "disabled";
    s.boot_status_code = "disabled-by-generator";
    boot_detail = "amiboot found no EC2 instance metadata (not on EC2)";
  } else if (amiboot == "running" || amiboot.empty()) {
    s.running = "running";
  } else {
    s.running = "done";  // "done", "error"
  }
  s.datasource = doc ? nlohmann::json(nullptr) : nlohmann::json("");
  if (doc && s.running != "disabled") {
    s.errors = strings_of(*doc, "errors");
    if (amiboot == "error" && s.errors.empty()) {
      s.errors.push_back("amiboot: the run failed (journalctl -u amiboot -u amiboot-final)");
    }
    s.recoverable_errors = group_warnings(strings_of(*doc, "warnings"));
    auto ds = cloud_init_datasource(doc->value("source", nlohmann::json()));
    if (ds.is_string()) {
      std::string name = ds.get<std::string>();
      s.detail = name;
      name = lowercase(name.substr(0, name.find(' ')));
      if (name.rfind("datasource", 0) == 0) {
        name.erase(0, 10);
      }
      s.datasource = name;
    }
  }
  if (s.detail.empty()) {
    std::string stage = doc ? doc->value("stage", "") : "";
    s.detail = s.running == "running" && !stage.empty()
                   ? "Running in stage: " + std::string(stage == "final" ? "modules-final" : stage)
                   : boot_detail;
  }
  if (doc && doc->contains("stages") && (*doc)["stages"].is_object()) {
    std::string latest;
    for (const auto& [name, stage] : (*doc)["stages"].items()) {
      for (const char* key : {"started", "finished"}) {
        if (stage.contains(key) && stage[key].is_string()) {
          latest = std::max(latest, stage[key].get<std::string>());
        }
      }
    }
    if (!latest.empty()) {
      s.last_update = rfc3339_to_rfc2822(latest);
    }
  }
  s.condition = !s.errors.empty()               ? "error"
                : !s.recoverable_errors.empty() ? "degraded"
                                                : "healthy";
  // cloud-init's translate_status.
  if (s.condition == "error") {
    s.status = "error";
    s.extended_status = "error - " + s.running;
  } else if (s.condition == "degraded" && (s.running == "done" || s.running == "running")) {
    s.status = s.running;
    s.extended_status = "degraded " + s.running;
  } else {
    s.status = s.extended_status = s.running;
  }
  s.exit_code = s.condition == "error" ? 1 : s.condition == "degraded" ? 2 : 0;
  return s;
}

std::string format_status_tabular(const CloudInitStatus& s, bool long_form,
                                  const std::optional<nlohmann::json>& doc) {
  std::ostringstream out;
  out << "status: " << s.status << "\n";
  if (!long_form) {
    return out.str();
  }
  out << "extended_status: " << s.extended_status << "\n";
  out << "boot_status_code: " << s.boot_status_code << "\n";
  if (!s.last_update.empty()) {
    out << "last_update: " << s.last_update << "\n";
  }
  out << "detail: " << s.detail << "\n";
  out << "errors:";
  if (s.errors.empty()) {
    out << " []";
  }
  for (const auto& e : s.errors) {
    out << "\n\t- " << e;
  }
  out << "\nrecoverable_errors:";
  if (s.recoverable_errors.empty()) {
    out << " {}";
  }
  for (const auto& [level, list] : s.recoverable_errors.items()) {
    out << "\n" << level << ":";
    for (const auto& w : list) {
      std::string text = w.get<std::string>();
      std::replace(text.begin(), text.end(), '\n', ' ');
      out << "\n\t- " << text;
    }
  }
  out << "\n";
  // amiboot's own: what each module did.
  if (doc && doc->contains("stages") && (*doc)["stages"].is_object()) {
    out << "modules:";
    bool any = false;
    for (const char* stage : {"init", "final"}) {
      if (!(*doc)["stages"].contains(stage)) {
        continue;
      }
      for (const auto& m : (*doc)["stages"][stage].value("modules", nlohmann::json::array())) {
        any = true;
        out << "\n\t- " << stage << "/" << m.value("name", "?") << ": " << m.value("result", "?");
        std::string reason = m.value("reason", "");
        if (m.value("result", "") == "skipped") {
          out << (reason.empty() ? "" : " (" + reason + ")");
        } else {
          out << " (" << m.value("duration_ms", 0LL) << " ms)";
        }
      }
    }
    out << (any ? "\n" : " []\n");
  }
  return out.str();
}

nlohmann::json status_json(const CloudInitStatus& s, const std::optional<nlohmann::json>& doc,
                           const std::optional<nlohmann::json>& compat_status) {
  nlohmann::json j = {{"datasource", s.datasource},
                      {"boot_status_code", s.boot_status_code},
                      {"status", s.status},
                      {"extended_status", s.extended_status},
                      {"detail", s.detail},
                      {"errors", s.errors},
                      {"recoverable_errors", s.recoverable_errors},
                      {"last_update", s.last_update}};
  if (compat_status && compat_status->contains("v1") && (*compat_status)["v1"].is_object()) {
    for (const auto& [k, v] : (*compat_status)["v1"].items()) {
      if (k != "datasource") {
        j[k] = v;
      }
    }
  }
  nlohmann::json modules = nlohmann::json::array();
  if (doc && doc->contains("stages") && (*doc)["stages"].is_object()) {
    for (const auto& [stage, data] : (*doc)["stages"].items()) {
      for (const auto& m : data.value("modules", nlohmann::json::array())) {
        modules.push_back({{"stage", stage},
                           {"name", m.value("name", "")},
                           {"result", m.value("result", "")},
                           {"reason", m.value("reason", "")},
                           {"duration_ms", m.value("duration_ms", 0LL)}});
      }
    }
  }
  j["modules"] = modules;  // amiboot's own key
  return j;
}

std::string to_yaml_document(const nlohmann::json& value) {
  YAML::Emitter out;
  out.SetIndent(4);
  emit_yaml(out, value);
  return std::string("---\n") + out.c_str() + "\n...\n";
}

// --- cloud-init's files ---------------------------------------------------------

bool cloud_init_compat_enabled(const System& system) {
  return system.exists(kCloudInitCompatMarker);
}

nlohmann::json compat_status_v1(const nlohmann::json& previous, const std::string& stage,
                                const nlohmann::json& doc, double uptime, bool finished) {
  nlohmann::json status;
  if (previous.is_object() && previous.contains("v1") && previous["v1"].is_object()) {
    status = previous;
  } else {
    status = {{"v1",
               {{"datasource", nullptr},
                {"init", kNullStage},
                {"init-local", kNullStage},
                {"modules-config", kNullStage},
                {"modules-final", kNullStage},
                {"stage", nullptr}}}};
  }
  auto& v1 = status["v1"];
  const std::string key = stage == "init" ? "init" : "modules-final";
  if (!v1.contains(key) || !v1[key].is_object()) {
    v1[key] = kNullStage;
  }
  if (!finished) {
    v1["stage"] = key;
    v1[key]["start"] = uptime;
    v1[key]["finished"] = nullptr;
    return status;
  }
  v1["stage"] = nullptr;
  v1[key]["finished"] = uptime;
  if (v1[key]["start"].is_null()) {
    v1[key]["start"] = uptime;
  }
  auto ds = cloud_init_datasource(doc.is_object() ? doc.value("source", nlohmann::json())
                                                  : nlohmann::json());
  if (!ds.is_null()) {
    v1["datasource"] = ds;
  }
  // Errors and warnings an earlier stage of this boot listed stay with it.
  std::vector<std::string> earlier_errors, earlier_warnings;
  if (key != "init" && v1.contains("init") && v1["init"].is_object()) {
    earlier_errors = strings_of(v1["init"], "errors");
    earlier_warnings = flatten_warnings(v1["init"].value("recoverable_errors", nlohmann::json()));
  }
  std::vector<std::string> errors, warnings;
  for (const auto& e : strings_of(doc, "errors")) {
    if (!contains(earlier_errors, e)) {
      errors.push_back(e);
    }
  }
  for (const auto& w : strings_of(doc, "warnings")) {
    if (!contains(earlier_warnings, w)) {
      warnings.push_back(w);
    }
  }
  v1[key]["errors"] = errors;
  v1[key]["recoverable_errors"] = group_warnings(warnings);
  if (key == "init") {
    // amiboot's init stage is cloud-init's init and modules-config in one.
    v1["modules-config"] = kNullStage;
    v1["modules-config"]["start"] = v1["init"]["start"];
    v1["modules-config"]["finished"] = uptime;
  }
  return status;
}

nlohmann::json compat_result(const nlohmann::json& status) {
  nlohmann::json errors = nlohmann::json::array();
  nlohmann::json datasource = nullptr;
  if (status.contains("v1") && status["v1"].is_object()) {
    const auto& v1 = status["v1"];
    datasource = v1.value("datasource", nlohmann::json());
    for (const char* stage : {"init", "init-local", "modules-config", "modules-final"}) {
      if (v1.contains(stage) && v1[stage].is_object()) {
        for (const auto& e : strings_of(v1[stage], "errors")) {
          errors.push_back(e);
        }
      }
    }
  }
  return {{"v1", {{"datasource", datasource}, {"errors", errors}}}};
}

std::string boot_finished_text(double uptime, std::chrono::system_clock::time_point now) {
  char up[32];
  std::snprintf(up, sizeof up, "%.2f", uptime);
  return std::string(up) + " - " + rfc2822(std::chrono::system_clock::to_time_t(now)) + " - v. " +
         version_string() + "\n";
}

namespace {

const std::string kDataDir = std::string(kCloudDir) + "/data";
constexpr const char* kFromRunToData = "../../var/lib/cloud/data/";

void write_json_file(System& system, const std::string& name, const nlohmann::json& j) {
  (void)system.make_dirs(kDataDir, 0755);
  (void)system.write_file(kDataDir + "/" + name, json_text(j, 1) + "\n",
                          FileAttrs{0644, 0, 0, false});
  (void)system.make_dirs(kCloudRunDir, 0755);
  (void)system.symlink(kFromRunToData + name, std::string(kCloudRunDir) + "/" + name);
}

}  // namespace

void compat_stage_started(System& system, const std::string& stage) {
  if (!cloud_init_compat_enabled(system)) {
    return;
  }
  (void)system.copy_output_to(kCloudOutputLog);
  char up[32];
  std::snprintf(up, sizeof up, "%.2f", system.uptime_seconds());
  system.console("amiboot " AMIBOOT_VERSION " (cloud-init " + std::string(kCloudInitCompatVersion) +
                 " compatible) running '" + (stage == "init" ? "init" : "modules:final") + "' at " +
                 rfc2822(std::chrono::system_clock::to_time_t(system.now())) + ". Up " + up +
                 " seconds.");
  nlohmann::json previous;
  if (stage == "init") {
    // A new boot: the last one's result must not say this one is done.
    for (const std::string& dir : {kDataDir, std::string(kCloudRunDir)}) {
      (void)system.remove_all(dir + "/result.json");
    }
  } else if (auto j = read_json(system, kDataDir + "/status.json")) {
    previous = *j;
  }
  write_json_file(system, "status.json",
                  compat_status_v1(previous, stage, nullptr, system.uptime_seconds(), false));
}

void compat_stage_finished(System& system, const std::string& stage, const nlohmann::json& doc,
                           bool last) {
  if (!cloud_init_compat_enabled(system)) {
    return;
  }
  double uptime = system.uptime_seconds();
  nlohmann::json previous = read_json(system, kDataDir + "/status.json").value_or(nullptr);
  auto status = compat_status_v1(previous, stage, doc, uptime, true);
  std::string id = doc.is_object() && doc.contains("instance_id") && doc["instance_id"].is_string()
                       ? doc["instance_id"].get<std::string>()
                       : "";
  std::string instance_dir = std::string(kCloudDir) + "/instances/" + id;
  if (safe_name(id) && stage == "init") {
    (void)system.make_dirs(instance_dir, 0755);
    (void)system.symlink(instance_dir, std::string(kCloudDir) + "/instance");
    auto before = system.read_file(kDataDir + "/instance-id");
    std::string previous_id = before ? before->substr(0, before->find('\n')) : id;
    (void)system.make_dirs(kDataDir, 0755);
    (void)system.write_file(kDataDir + "/previous-instance-id", previous_id + "\n",
                            FileAttrs{0644, 0, 0, false});
    (void)system.write_file(kDataDir + "/instance-id", id + "\n", FileAttrs{0644, 0, 0, false});
  }
  write_json_file(system, "status.json", status);
  if (stage == "final" || last) {
    // boot-finished first: result.json is what says "done".
    if (safe_name(id) && stage == "final") {
      (void)system.make_dirs(instance_dir, 0755);
      (void)system.write_file(instance_dir + "/boot-finished",
                              boot_finished_text(uptime, system.now()),
                              FileAttrs{0644, 0, 0, false});
    }
    write_json_file(system, "result.json", compat_result(status));
  }
}

// --- the command ------------------------------------------------------------------

int cloud_init_main(const std::vector<std::string>& raw) {
  // cloud-init's global options; what follows the command is the command's.
  static const OptionSpec kGlobal[] = {
      {"version", 'v'}, {"debug", 'd'}, {"force"}, {"file", 'f', true}, {"all-stages"}};
  ParsedOptions global;
  try {
    global = parse_options(raw, kGlobal, kAnyPositionals, true);
  } catch (const UsageError& e) {
    std::cerr << "cloud-init: " << e.what() << "\n" << kCloudInitUsage;
    return 2;
  }
  if (global.help) {
    std::cout << kCloudInitUsage;
    return 0;
  }
  if (global.has("version")) {
    std::cout << "cloud-init " << version_string() << "\n";
    return 0;
  }
  if (global.has("file")) {
    return not_provided("--file (amiboot reads /etc/amiboot/amiboot.yaml.d/)");
  }
  if (global.has("all-stages")) {
    return not_provided("--all-stages");
  }
  if (global.positionals.empty()) {
    std::cerr << kCloudInitUsage;
    return 2;
  }
  const std::string& command = global.positionals.front();
  std::vector<std::string> rest(global.positionals.begin() + 1, global.positionals.end());
  if (command == "help") {
    std::cout << kCloudInitUsage;
    return 0;
  }
  struct Command {
    const char* name;
    std::span<const OptionSpec> options;
    std::size_t max_positionals;
    int (*handler)(const ParsedOptions&);
  };
  const Command commands[] = {
      {"status", kStatusOptions, 0, compat_cmd_status},
      {"query", kQueryOptions, 1, compat_cmd_query},
      {"schema", kSchemaOptions, kAnyPositionals, compat_cmd_schema},
      {"clean", kCleanOptions, 0, compat_cmd_clean},
      {"analyze", kAnalyzeOptions, 1, compat_cmd_analyze},
  };
  for (const auto& c : commands) {
    if (command != c.name) {
      continue;
    }
    try {
      auto parsed = parse_options(rest, c.options, c.max_positionals);
      if (parsed.help) {
        std::cout << kCloudInitUsage;
        return 0;
      }
      return c.handler(parsed);
    } catch (const UsageError& e) {
      std::cerr << "cloud-init " << command << ": " << e.what() << "\n" << kCloudInitUsage;
      return 2;
    }
  }
  return not_provided(command);
}

}  // namespace amiboot
