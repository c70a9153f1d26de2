// SPDX-License-Identifier: Apache-2.0
// Telling the world what happened: journal entries per module, sd_notify
// STATUS=/READY=1 for systemd, /run/amiboot/status.json (0644, no secrets)
// as a module starts applying its plan and when one that did (or failed)
// ends, and /run/amiboot/result.json when a run ends.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/core/config.h"
#include "agent/journal.h"
#include "agent/system.h"

namespace amiboot {

/// `amiboot status` exit codes (documented in the README).
enum StatusExit { kExitDone = 0, kExitErrors = 1, kExitRunning = 2, kExitDisabled = 3 };

struct ModuleRecord {
  std::string name;
  std::string stage;
  std::string frequency;
  std::string result;  // "ok", "failed", "skipped"
  std::string reason;  // why skipped / why failed
  long long duration_ms = 0;
  std::vector<std::string> errors;
  std::string summary;  // PlanResult::summary of a module that ran ok
  /// When the row started; empty: its duration before module_finished().
  std::optional<std::chrono::steady_clock::time_point> started;
  /// Applied in a lane (modules/lanes.h), alongside the rows after it.
  bool concurrent = false;
};

class Reporter {
 public:
  /// `dry_run` keeps everything in memory: no files, no notifications.
  Reporter(System& system, bool dry_run);

  /// Loads the status of this boot's earlier stage (the final stage adds to
  /// what init wrote).
  void begin_stage(const std::string& stage);
  void set_instance(const std::string& instance_id, const std::string& source);
  const std::string& instance_id() const { return m_instance_id; }
  JournalFields fields(const std::string& module = "") const;

  /// Called just before the module's first effect (a plan has none).
  /// `concurrent`: a lane's row, under way alongside the rows after it
  /// (the stage's "concurrent" list; "running" names the row in sequence).
  void module_started(const std::string& name, bool concurrent = false);
  void module_finished(const ModuleRecord& record);
  void diagnostics(const Diagnostics& diagnostics);
  void error(const std::string& message);
  void warning(const std::string& message);
  /// overall: "done", "error", "disabled", "not-on-ec2"; ready sends READY=1.
  /// After init the run goes on (status "running") unless `last` says the
  /// final stage cannot follow.
  void end_stage(const std::string& overall, bool ready, bool last = false);
  void notify(const std::string& state);  // sd_notify passthrough

  bool failed() const { return m_failed; }
  const nlohmann::json& document() const { return m_doc; }

 private:
  void write_status();
  std::string m_stage;
  std::string m_instance_id;
  nlohmann::json m_doc;
  std::chrono::steady_clock::time_point m_stage_start;
  System& m_system;
  bool m_dry_run;
  bool m_notify_error_shown = false;
  bool m_failed = false;
};

/// Reads /run/amiboot/status.json; nullopt when absent or unreadable. A
/// stage still "running" whose process is gone reads as an error.
std::optional<nlohmann::json> read_status(const System& system);

/// The start time (/proc/PID/stat's starttime) of a host process, "self"
/// for this one; nullopt when there is no such process.
std::optional<std::string> process_start(const System& system, const std::string& pid);

/// The exit code `amiboot status` gives for a status document.
int status_exit_code(const std::optional<nlohmann::json>& status);

}  // namespace amiboot
