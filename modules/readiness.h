// SPDX-License-Identifier: Apache-2.0
// readiness (ours): at the end of the final stage, a cfn-signal document PUT
// to a CloudFormation WaitCondition URL.
#pragma once

#include <optional>
#include <string>

#include "modules/module.h"

namespace amiboot {

struct ReadinessConfig {
  std::string url;
  std::string unique_id;  // default: the instance id
  std::string data;
  int attempts = 5;
  int retry_delay_ms = 2000;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ReadinessConfig, url, unique_id, data, attempts, retry_delay_ms)

/// nullopt when `readiness` is absent or has errors (reported in `out`).
std::optional<ReadinessConfig> decode_readiness(const Value& config, Diagnostics& out);
/// SUCCESS when no module failed this boot, FAILURE naming them otherwise.
PlanResult plan_readiness(const ReadinessConfig& config, const Facts& facts);

}  // namespace amiboot
