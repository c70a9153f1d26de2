// SPDX-License-Identifier: Apache-2.0
#include "agent/report.h"

#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <sstream>

#include "agent/core/json_text.h"
#include "agent/journal.h"
#include "agent/libsystemd.h"
#include "agent/state.h"

namespace amiboot {

namespace {

// Rounded to whole milliseconds (seconds are never negative here); not
// std::llround, so that the binary needs no libm.
long long rounded_ms(double seconds) {
  return static_cast<long long>(seconds * 1000 + 0.5);
}

std::string now_rfc3339(const System& system) {
  std::time_t t = std::chrono::system_clock::to_time_t(system.now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string status_path() {
  return std::string(kRunDir) + "/status.json";
}

}  // namespace

Reporter::Reporter(System& system, bool dry_run) : m_system(system), m_dry_run(dry_run) {}

void Reporter::begin_stage(const std::string& stage) {
  m_stage = stage;
  m_stage_start = std::chrono::steady_clock::now();
  // A later stage goes on with the earlier one's document: the one this
  // process built (`run` does both; a dry run has no file), else the file.
  std::optional<nlohmann::json> existing;
  if (stage != "init") {
    existing = m_doc.is_object() ? std::optional(m_doc)
                                 : (m_dry_run ? std::nullopt : read_status(m_system));
  }
  if (existing && existing->is_object()) {
    m_doc = *existing;
  } else {
    m_doc = {{"version", 1},
             {"status", "running"},
             {"instance_id", nullptr},
             {"source", nullptr},
             {"stages", nlohmann::json::object()},
             {"errors", nlohmann::json::array()},
             {"warnings", nlohmann::json::array()}};
  }
  m_doc["status"] = "running";
  m_doc["stage"] = stage;
  if (auto self = process_start(m_system, "self"); self && !m_dry_run) {
    m_doc["process"] = {{"pid", getpid()}, {"start", *self}};
  }
  // Milliseconds for `analyze`: wall clock, and time since the kernel
  // started (its boot order, and its place on the boot's timeline).
  auto epoch_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(m_system.now().time_since_epoch())
          .count();
  m_doc["stages"][stage] = {{"status", "running"},
                            {"started", now_rfc3339(m_system)},
                            {"started_ms", epoch_ms},
                            {"uptime_ms", rounded_ms(m_system.uptime_seconds())},
                            {"finished", nullptr},
                            {"duration_ms", nullptr},
                            {"modules", nlohmann::json::array()}};
  if (m_doc.contains("instance_id") && m_doc["instance_id"].is_string()) {
    m_instance_id = m_doc["instance_id"];
  }
  journal_send(LOG_INFO, "amiboot", "amiboot " AMIBOOT_VERSION " " + stage + " stage starting",
               {{"MESSAGE_ID", kMessageIdStart}, {"AMIBOOT_STAGE", stage}});
  notify("STATUS=" + stage + " stage starting");
  write_status();
}

void Reporter::set_instance(const std::string& instance_id, const std::string& source) {
  m_instance_id = instance_id;
  m_doc["instance_id"] = instance_id;
  m_doc["source"] = source;
  write_status();
}

JournalFields Reporter::fields(const std::string& module) const {
  JournalFields f = {{"AMIBOOT_STAGE", m_stage}, {"AMIBOOT_INSTANCE_ID", m_instance_id}};
  if (!module.empty()) {
    f["AMIBOOT_MODULE"] = module;
  }
  return f;
}

void Reporter::module_started(const std::string& name, bool concurrent) {
  notify("STATUS=" + m_stage + ": running " + name);
  // So that `status` can say what was under way should this process die.
  auto& stage = m_doc["stages"][m_stage];
  if (concurrent) {
    stage["concurrent"].push_back(name);
  } else {
    stage["running"] = name;
  }
  write_status();
}

void Reporter::module_finished(const ModuleRecord& r) {
  // When it started, in ms after its stage started (analyze's timeline).
  auto now = std::chrono::steady_clock::now();
  long long since_stage =
      std::chrono::duration_cast<std::chrono::milliseconds>(now - m_stage_start).count();
  long long start_ms = std::max(0LL, since_stage - static_cast<long long>(r.duration_ms));
  if (r.started) {
    start_ms = std::max(
        0LL, static_cast<long long>(
                 std::chrono::duration_cast<std::chrono::milliseconds>(*r.started - m_stage_start)
                     .count()));
  }
  nlohmann::json j = {{"name", r.name},     {"stage", r.stage},     {"frequency", r.frequency},
                      {"result", r.result}, {"start_ms", start_ms}, {"duration_ms", r.duration_ms},
                      {"reason", r.reason}, {"errors", r.errors}};
  if (!r.summary.empty()) {
    j["summary"] = r.summary;
  }
  if (r.concurrent) {
    j["concurrent"] = true;
  }
  m_doc["stages"][m_stage]["modules"].push_back(j);
  if (r.result == "failed") {
    m_failed = true;
    for (const auto& e : r.errors) {
      m_doc["errors"].push_back(r.name + ": " + e);
    }
    if (r.errors.empty()) {
      m_doc["errors"].push_back(r.name + ": " + r.reason);
    }
  }
  auto f = fields(r.name);
  f["AMIBOOT_RESULT"] = r.result;
  f["AMIBOOT_DURATION_MS"] = std::to_string(r.duration_ms);
  f["MESSAGE_ID"] = r.result == "failed" ? kMessageIdModuleFailed : kMessageIdModuleDone;
  std::string message = "module " + r.name + ": " + r.result;
  if (!r.reason.empty()) {
    message += " (" + r.reason + ")";
  }
  message += " in " + std::to_string(r.duration_ms) + " ms";
  if (!r.errors.empty()) {
    message += ": " + r.errors.front();
    if (r.errors.size() > 1) {
      message += " (and " + std::to_string(r.errors.size() - 1) + " more)";
    }
  }
  journal_send(r.result == "failed" ? LOG_ERR : LOG_INFO, "amiboot", message, f);
  auto& stage = m_doc["stages"][m_stage];
  bool was_running = false;
  if (r.concurrent) {
    auto& under_way = stage["concurrent"];
    auto it = std::find(under_way.begin(), under_way.end(), r.name);
    if (it != under_way.end()) {
      under_way.erase(it);
      was_running = true;
    }
    if (under_way.empty()) {
      stage.erase("concurrent");
    }
  } else {
    was_running = stage.contains("running");
    stage.erase("running");
  }
  // A skipped module changes nothing worth a rewrite; end_stage writes it.
  if (r.result != "skipped" || was_running) {
    write_status();
  }
}

void Reporter::diagnostics(const Diagnostics& diagnostics) {
  for (const auto& d : diagnostics) {
    if (d.severity == Diagnostic::Severity::Error) {
      error(d.format());
    } else {
      warning(d.format());
    }
  }
}

void Reporter::error(const std::string& message) {
  m_failed = true;
  m_doc["errors"].push_back(message);
  journal_send(LOG_ERR, "amiboot", message, fields());
  write_status();
}

void Reporter::warning(const std::string& text) {
  // A formatted Diagnostic says "warning: " already; the list and the
  // journal's priority say it too.
  std::string message = text;
  if (auto at = message.find("warning: "); at != std::string::npos) {
    message.erase(at, 9);
  }
  for (const auto& w : m_doc["warnings"]) {
    if (w == message) {
      return;
    }
  }
  m_doc["warnings"].push_back(message);
  journal_send(LOG_WARNING, "amiboot", message, fields());
}

void Reporter::end_stage(const std::string& overall, bool ready, bool last) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  m_stage_start)
                .count();
  std::string status = overall;
  if (status == "done" && (m_failed || !m_doc["errors"].empty())) {
    status = "error";
  }
  auto& stage = m_doc["stages"][m_stage];
  stage["status"] = status;
  stage["finished"] = now_rfc3339(m_system);
  stage["duration_ms"] = ms;
  m_doc.erase("process");
  // Between init and final the instance is still being set up.
  bool more_to_come = !last && m_stage == "init" && (status == "done" || status == "error");
  m_doc["status"] = more_to_come ? "running" : status;
  std::string message =
      "amiboot " + m_stage + " stage finished: " + status + " in " + std::to_string(ms) + " ms";
  auto f = fields();
  f["MESSAGE_ID"] = kMessageIdFinished;
  f["AMIBOOT_RESULT"] = status;
  f["AMIBOOT_DURATION_MS"] = std::to_string(ms);
  journal_send(status == "done" ? LOG_INFO : LOG_ERR, "amiboot", message, f);
  write_status();
  if (!more_to_come && !m_dry_run) {
    nlohmann::json result = {{"v1",
                              {{"datasource", m_doc["source"]},
                               {"errors", m_doc["errors"]},
                               {"instance_id", m_doc["instance_id"]},
                               {"status", m_doc["status"]}}}};
    (void)m_system.write_file(std::string(kRunDir) + "/result.json", json_text(result, 2) + "\n",
                              FileAttrs{0644, 0, 0, false});
  }
  notify("STATUS=" + m_stage + " stage " + status);
  if (ready) {
    notify("READY=1");
  }
}

void Reporter::notify(const std::string& state) {
  // Without NOTIFY_SOCKET sd_notify does nothing: then libsystemd is not
  // even loaded (a run from a shell, a test).
  if (m_dry_run || std::getenv("NOTIFY_SOCKET") == nullptr) {
    return;
  }
  auto systemd = libsystemd();
  if (!systemd) {
    if (!m_notify_error_shown) {
      m_notify_error_shown = true;
      journal_send(LOG_ERR, "amiboot",
                   "cannot tell systemd the run's state: " + systemd.error().message);
    }
    return;
  }
  (*systemd)->notify(0, state.c_str());
}

void Reporter::write_status() {
  if (m_dry_run) {
    return;
  }
  // write_file makes a missing /run/amiboot itself, 0755.
  (void)m_system.write_file(status_path(), json_text(m_doc, 2) + "\n",
                            FileAttrs{0644, 0, 0, false});
}

namespace {

// A stage that says it is running while the process that runs it is gone
// was killed (SIGKILL, the OOM killer) or crashed: without this, status
// --wait and cloud-init status --wait would wait for it forever. The start
// time tells a reused pid from ours.
void mark_abandoned_stage(nlohmann::json& doc, const System& system) {
  const nlohmann::json* process = doc.contains("process") ? &doc["process"] : nullptr;
  std::string stage = doc.value("stage", "");
  if (doc.value("status", "") != "running" || process == nullptr || !process->is_object() ||
      !doc["stages"].contains(stage) || doc["stages"][stage].value("status", "") != "running") {
    return;
  }
  long long pid = process->value("pid", 0LL);
  auto start = process_start(system, std::to_string(pid));
  if (pid <= 0 || (start && *start == process->value("start", std::string()))) {
    return;
  }
  doc["status"] = "error";
  doc["stages"][stage]["status"] = "error";
  std::string module = doc["stages"][stage].value("running", "");
  // A lane's rows (modules/lanes.h) under way beside it.
  std::string beside;
  if (doc["stages"][stage].contains("concurrent") &&
      doc["stages"][stage]["concurrent"].is_array()) {
    for (const auto& name : doc["stages"][stage]["concurrent"]) {
      if (name.is_string()) {
        beside += (beside.empty() ? "" : ", ") + name.get<std::string>();
      }
    }
  }
  doc["errors"].push_back(
      "the " + stage + " stage stopped before it finished" +
      (module.empty() ? (beside.empty() ? std::string() : ", while " + beside + " ran")
                      : ", while module " + module + " was running" +
                            (beside.empty() ? std::string() : " (and beside it " + beside + ")")) +
      ": its process (pid " + std::to_string(pid) +
      ") is gone, killed or crashed; journalctl -u amiboot shows its last lines, and the next "
      "run finishes the modules it had not done");
  if (!module.empty()) {
    doc["died_in"] = {{"stage", stage}, {"module", module}};
  }
  doc.erase("process");
}

}  // namespace

std::optional<std::string> process_start(const System& system, const std::string& pid) {
  // /proc/PID/stat: field 22 (starttime) counts from after the ')' that ends
  // the command name, which may itself hold spaces and parentheses.
  auto stat = system.read_host_file("/proc/" + pid + "/stat");
  if (!stat) {
    return std::nullopt;
  }
  auto close = stat->rfind(')');
  if (close == std::string::npos) {
    return std::nullopt;
  }
  std::istringstream fields(stat->substr(close + 1));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) {
      return field;
    }
  }
  return std::nullopt;
}

std::optional<nlohmann::json> read_status(const System& system) {
  auto text = system.read_file(status_path());
  if (!text) {
    return std::nullopt;
  }
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return std::nullopt;
  }
  mark_abandoned_stage(j, system);
  return j;
}

int status_exit_code(const std::optional<nlohmann::json>& status) {
  if (!status || !status->contains("status")) {
    return kExitRunning;
  }
  std::string s = (*status)["status"].get<std::string>();
  if (s == "done") {
    return kExitDone;
  }
  if (s == "disabled" || s == "not-on-ec2") {
    return kExitDisabled;
  }
  if (s == "running") {
    return kExitRunning;
  }
  return kExitErrors;
}

}  // namespace amiboot
