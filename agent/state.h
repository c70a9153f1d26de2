// SPDX-License-Identifier: Apache-2.0
// amiboot's memory across runs and boots, under /var/lib/amiboot (0700):
//   instances/<id>/{metadata.json,user-data,parts.json,sem/}  per instance
//   instances/<id>/fetched.json                                write_files' fetched bytes
//   instances/<id>/include-once/{index.json,<n>}              #include-once content
//   instance -> instances/<id>                                 the current one
//   once/<module>                                              once per image copy
//   boots/<started>-<stage>.json                               history for analyze
// and /run/amiboot/sem/<module> for per-boot semaphores (a reboot clears /run).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/core/metadata.h"
#include "agent/core/user_data.h"
#include "agent/system.h"
#include "modules/module.h"

namespace amiboot {

inline constexpr const char* kStateDir = "/var/lib/amiboot";
inline constexpr const char* kRunDir = "/run/amiboot";
/// In kRunDir, 0600: cloud-init's merged_cfg (the merged cloud-config).
inline constexpr const char* kMergedCfgFile = "merged-cfg.json";

class State {
 public:
  explicit State(System& system) : m_system(system) {}

  /// The instance id recorded by the last run, if any.
  std::optional<std::string> current_instance() const;
  std::string instance_dir(const std::string& instance_id) const;

  /// Saves what the source returned, the decoded parts and the final
  /// stage's typed configs as the init stage decoded them
  /// (final-config.json; nullopt removes a stale one, so the final stage
  /// decodes the parts instead), each 0600 (they hold user data) and
  /// durable; then points `instance` at this instance.
  Status save_instance(const SourceData& data, const std::vector<Part>& parts,
                       const std::optional<std::string>& final_configs);
  /// What save_instance() stored for the current instance (for the final stage).
  Result<std::pair<SourceData, std::vector<Part>>> load_current() const;
  std::optional<std::string> load_final_configs() const;

  /// An #include-once URL's content as fetched for this instance (cloud-init's
  /// instance urlcache): index.json maps each URL to a file number, and the
  /// content is in that file (0600; URLs hold presigned signatures, content
  /// may be anything). nullopt when this instance has not fetched it.
  std::optional<std::string> load_include_once(const std::string& instance_id,
                                               const std::string& url) const;
  Status save_include_once(const std::string& instance_id, const std::string& url,
                           const std::string& content);

  bool done(const ModuleSpec& module, const std::string& instance_id) const;
  Status mark_done(const ModuleSpec& module, const std::string& instance_id,
                   const std::string& result);

  /// A module under way's per-action record (its semaphore's path +
  /// ".progress", 0600): {"done": [fingerprints], "running": fingerprint,
  /// "label": ...}, rewritten as each action starts and after the last one
  /// (agent/module_progress.h) and removed by mark_done(). null when there is none: the last run
  /// finished the module or never started it.
  nlohmann::json load_progress(const ModuleSpec& module, const std::string& instance_id) const;
  /// `first`: the module's first save in this run, which makes the folder
  /// (the later ones find it).
  Status save_progress(const ModuleSpec& module, const std::string& instance_id,
                       const nlohmann::json& progress, bool first = true);

  /// What shared-budget sources fetched for this instance
  /// (instances/<id>/fetched.json, 0600): {setting: {label: bytes}}; an
  /// empty object when nothing was recorded.
  nlohmann::json load_fetched(const std::string& instance_id) const;
  Status save_fetched(const std::string& instance_id, const nlohmann::json& fetched);

  Status record_boot(const std::string& name, const nlohmann::json& record);
  std::vector<nlohmann::json> boots() const;

  /// `amiboot clean`: forget instances and semaphores (the image's own
  /// scripts/ folders stay); with logs also the boot history.
  Status clean(bool logs);

 private:
  std::string semaphore(const ModuleSpec& module, const std::string& instance_id) const;
  Status ensure_private_dirs(const std::string& instance_id);
  Status write_if_changed(const std::string& path, const std::string& content);

  System& m_system;
};

}  // namespace amiboot
