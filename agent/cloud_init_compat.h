// SPDX-License-Identifier: Apache-2.0
// The cloud-init compatibility layer, for tooling written against
// cloud-init (Packer, Terraform provisioners, CI scripts, unit drop-ins).
//
// - `cloud-init` is the amiboot binary under another name (the
//   amiboot-cloud-init-compat package links /usr/bin/cloud-init to it;
//   main.cc dispatches on argv[0]): status, query, schema, clean, analyze
//   and --version are mapped onto amiboot's; anything else says plainly
//   that amiboot does not do it.
// - With that package installed (its marker file kCloudInitCompatMarker,
//   checked through System, so under --root too), each stage also writes
//   cloud-init's files: /var/lib/cloud/data/{status,result}.json (linked from
//   /run/cloud-init/), /var/lib/cloud/instance -> instances/<id>/ with
//   boot-finished, /var/lib/cloud/data/instance-id, and command output is
//   appended to /var/log/cloud-init-output.log. The image's
//   /var/lib/cloud/scripts/per-* folders run from modules/scripts.cc.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/system.h"
#include "modules/scripts.h"

namespace amiboot {

/// The cloud-init version whose status semantics and file formats this
/// layer follows (exit code 2 for "degraded" since 23.4).
inline constexpr const char* kCloudInitCompatVersion = "24.4";

/// `cloud-init ARGS...` (argv[0] was "cloud-init"): the process exit code.
int cloud_init_main(const std::vector<std::string>& args);

// --- cloud-init status --------------------------------------------------

/// What `cloud-init status` reports, derived from amiboot's status document
/// (/run/amiboot/status.json).
struct CloudInitStatus {
  std::string running;          // "not started", "running", "done", "disabled"
  std::string condition;        // "healthy", "degraded", "error"
  std::string status;           // the `status:` line
  std::string extended_status;  // "done", "degraded done", "error - running", ...
  std::string boot_status_code;
  std::string detail;
  std::vector<std::string> errors;
  nlohmann::json recoverable_errors = nlohmann::json::object();  // {"WARNING": [...]}
  std::string last_update;                                       // RFC 2822, or ""
  nlohmann::json datasource;                                     // "ec2", "nocloud" or null
  int exit_code = 0;  // 0 healthy (or not finished), 1 error, 2 degraded

  bool finished() const { return running == "done" || running == "disabled"; }
};

/// Why amiboot is off, for boot_status_code: "marker-file" (/etc/amiboot/disabled),
/// "kernel-command-line" (amiboot=disabled) or "" (enabled).
std::string disabled_by(const System& system);

/// The mapping: amiboot "running" → running, "done" → done (degraded when
/// it warned), "error" → error (exit 1), "disabled" → disabled,
/// "not-on-ec2" → disabled as cloud-init's ds-identify would, no document →
/// not started (disabled when `disabled` says so).
CloudInitStatus cloud_init_status(const std::optional<nlohmann::json>& doc,
                                  const std::string& disabled);

/// cloud-init's tabular output (`status: done`; with long_form
/// extended_status, boot_status_code, last_update, detail, errors,
/// recoverable_errors, then amiboot's module list).
std::string format_status_tabular(const CloudInitStatus& status, bool long_form,
                                  const std::optional<nlohmann::json>& doc);
/// cloud-init's --format json dictionary (sorted keys), with `v1` stages
/// from the compat status.json when given.
nlohmann::json status_json(const CloudInitStatus& status, const std::optional<nlohmann::json>& doc,
                           const std::optional<nlohmann::json>& compat_status);
/// The same dictionary as YAML (`---` ... `...`, as cloud-init's safeyaml).
std::string to_yaml_document(const nlohmann::json& value);

// --- cloud-init's files -----------------------------------------------------

inline constexpr const char* kCloudDir = "/var/lib/cloud";
inline constexpr const char* kCloudRunDir = "/run/cloud-init";
inline constexpr const char* kCloudOutputLog = "/var/log/cloud-init-output.log";

bool cloud_init_compat_enabled(const System& system);

/// "DataSourceEc2", "DataSourceNoCloud [seed=DIR]" from amiboot's source
/// ("imds", "seed:DIR"); null when unknown.
nlohmann::json cloud_init_datasource(const nlohmann::json& amiboot_source);

/// cloud-init's status.json {"v1": {...}} after amiboot's `stage` ("init",
/// "final") started (finished = false) or finished at `uptime`. `previous`
/// is the file as the last stage left it (null for a fresh boot). amiboot's
/// init stage covers cloud-init's init and modules-config: both carry its
/// times; its errors are listed once, under init. Warnings are
/// recoverable_errors {"WARNING": [...]} of the stage that raised them.
nlohmann::json compat_status_v1(const nlohmann::json& previous, const std::string& stage,
                                const nlohmann::json& doc, double uptime, bool finished);
/// result.json: {"v1": {"datasource": ..., "errors": [every stage's]}}.
nlohmann::json compat_result(const nlohmann::json& status);
/// boot-finished: "UPTIME - RFC2822 - v. VERSION\n", as cc_final_message.
std::string boot_finished_text(double uptime, std::chrono::system_clock::time_point now);

/// Runner hooks (no-ops unless the compat package is installed; never in a
/// dry run). Started: output copying on, status.json with the stage's start
/// (init also drops the last boot's result.json). Finished, called before
/// amiboot's own status says done so that `cloud-init status --wait` never
/// returns before these files exist: status.json, the instance folder and
/// instance-id; after the last stage result.json and boot-finished.
void compat_stage_started(System& system, const std::string& stage);
void compat_stage_finished(System& system, const std::string& stage, const nlohmann::json& doc,
                           bool last);

}  // namespace amiboot
