// SPDX-License-Identifier: Apache-2.0
// power_state: shut down, reboot or halt once the final stage is over
// (cloud-init's cc_power_state_change). The plan builds the shutdown line;
// the runner makes the change after the final stage's status is written
// (ChangePowerState in modules/actions.h, Runner::change_power()).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "modules/module.h"

namespace amiboot {

struct PowerStateConfig {
  std::string mode;           // "poweroff", "reboot", "halt"
  std::string delay = "now";  // "now" or "+N" (minutes), as shutdown takes it
  std::string message;        // "" for none
  long long timeout_ms =
      30000;  // cloud-init's wait for itself to exit: nothing left to bound here (power_state.cc)
  bool condition = true;                    // used when condition_argv is empty
  std::vector<std::string> condition_argv;  // a command: the change only when it exits 0
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PowerStateConfig, mode, delay, message, timeout_ms, condition,
                                   condition_argv)

/// The unit the final stage runs in: the shutdown waits for it to finish.
inline constexpr char kFinalUnit[] = "amiboot-final.service";

/// nullopt when `power_state` is absent or has errors (reported in `out`).
std::optional<PowerStateConfig> decode_power_state(const Value& config, Diagnostics& out);
/// One ChangePowerState: `shutdown -P|-r|-H now|+N [message]`, through
/// systemd-run as a unit ordered after amiboot-final.service where the image
/// has systemd-run (shutdown itself as the fallback), else shutdown alone.
/// Nothing when the condition is false.
PlanResult plan_power_state(const PowerStateConfig& config, const Facts& facts);

}  // namespace amiboot
