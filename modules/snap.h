// SPDX-License-Identifier: Apache-2.0
// snap: snapd assertions and snap commands (cloud-init's cc_snap). The
// assertions are written to one file in the instance's state folder and
// acknowledged with `snap ack`; the commands run in order, "snap" put in
// front of an argv that does not start with it. Everything here talks to the
// running snapd: nothing runs under --root, and an image without snapd gets
// a warning, not an error.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "modules/module.h"

namespace amiboot {

struct SnapConfig {
  std::vector<std::string> assertions;             // in the order given
  std::vector<std::vector<std::string>> commands;  // argvs; a string runs with sh -c
  std::vector<std::string> labels;                 // "snap.commands[0]", "snap.commands.01"
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SnapConfig, assertions, commands, labels)

/// nullopt when `snap` is absent or has errors (reported in `out`).
std::optional<SnapConfig> decode_snap(const Value& config, Diagnostics& out);
PlanResult plan_snap(const SnapConfig& config, const Facts& facts);

/// cloud-init's util.wait_for_snap_seeded(): snapd refuses changes until
/// the image's seed is loaded. Stops the module's later actions if it fails.
RunCommand snap_wait_for_seed(const std::string& label);

}  // namespace amiboot
