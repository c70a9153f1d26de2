// SPDX-License-Identifier: Apache-2.0
// Scripts: user-data scripts and runcmd (cloud-init's scripts_user) and the image's
// scripts/per-{boot,instance,once} folders (scripts_per_*), into which each
// module first writes the user data's text/x-shellscript-per-<x> parts (as
// cloud-init writes them into /var/lib/cloud/scripts/per-<x>/). Scripts are
// written to the instance's state folder and run in name order; output goes
// to the journal. With the amiboot-cloud-init-compat package installed (its
// marker file), the scripts_per_* modules also run cloud-init's
// /var/lib/cloud/scripts/per-* folders, after amiboot's own, in name order.
#pragma once

#include <optional>
#include <string>

#include "modules/commands.h"
#include "modules/module.h"

namespace amiboot {

/// Shipped by the amiboot-cloud-init-compat package: its presence turns on
/// cloud-init's files and folders (agent/cloud_init_compat.h).
inline constexpr const char* kCloudInitCompatMarker = "/usr/lib/amiboot/cloud-init-compat";
inline constexpr const char* kCloudInitScriptsDir = "/var/lib/cloud/scripts";

/// Writes each user-data part of `type` to the instance's `folder` and runs
/// it; a part without an interpreter line runs with sh (boothooks, scripts).
PlanResult write_and_run(const Facts& facts, PartType type, const std::string& folder);

/// scripts_user's config: runcmd, which cloud-init writes as a script named
/// `runcmd` next to the user-data scripts, so that one pass in name order
/// runs them all ("00-prepare.sh", "runcmd", "setup.sh").
struct UserScriptsConfig {
  std::optional<CommandList> runcmd;
};
void to_json(nlohmann::json& json, const UserScriptsConfig& config);
void from_json(const nlohmann::json& json, UserScriptsConfig& config);

UserScriptsConfig decode_user_scripts(const Value& doc, Diagnostics& out);
PlanResult plan_scripts_user(const UserScriptsConfig& config, const Facts& facts);
PlanResult plan_scripts_per_boot(const NoKeys&, const Facts& facts);
PlanResult plan_scripts_per_instance(const NoKeys&, const Facts& facts);
PlanResult plan_scripts_per_once(const NoKeys&, const Facts& facts);

}  // namespace amiboot
