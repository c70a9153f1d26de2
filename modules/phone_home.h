// SPDX-License-Identifier: Apache-2.0
// phone_home: cloud-init's form POST of the instance's identity when the
// final stage is done.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "modules/module.h"

namespace amiboot {

struct PhoneHomeConfig {
  std::string url;
  std::vector<std::string> post;
  int tries = 10;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PhoneHomeConfig, url, post, tries)

/// nullopt when `phone_home` is absent or has errors (reported in `out`).
std::optional<PhoneHomeConfig> decode_phone_home(const Value& config, Diagnostics& out);
PlanResult plan_phone_home(const PhoneHomeConfig& config, const Facts& facts);

/// application/x-www-form-urlencoded escaping.
std::string form_escape(const std::string& value);

}  // namespace amiboot
