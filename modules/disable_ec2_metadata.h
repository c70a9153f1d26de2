// SPDX-License-Identifier: Apache-2.0
// disable_ec2_metadata: after amiboot is done with it, nothing on the
// instance reaches the metadata service (cloud-init's cc_disable_ec2_metadata).
// A route, like cloud-init's: it does not survive a reboot, so the row runs
// every boot, after the final stage has all it needs from IMDS (the init
// stage cached it).
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "modules/module.h"

namespace amiboot {

struct DisableEc2MetadataConfig {
  bool disable = false;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(DisableEc2MetadataConfig, disable)

std::optional<DisableEc2MetadataConfig> decode_disable_ec2_metadata(const Value& config,
                                                                    Diagnostics& out);
PlanResult plan_disable_ec2_metadata(const DisableEc2MetadataConfig& config, const Facts& facts);

}  // namespace amiboot
