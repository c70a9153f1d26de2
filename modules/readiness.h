// Readiness callbacks at the end of the final stage: `readiness:` (ours), a
// cfn-signal document PUT to a CloudFormation WaitCondition URL, and
// cloud-init's `phone_home`, a form POST with the instance's identity.
#pragma once

#include "modules/module.h"

namespace amiboot {

void check_readiness(const Value& config, Diagnostics& out);
/// SUCCESS when no module failed this boot, FAILURE naming them otherwise.
PlanResult plan_readiness(const ModuleInput& input);

void check_phone_home(const Value& config, Diagnostics& out);
PlanResult plan_phone_home(const ModuleInput& input);

/// application/x-www-form-urlencoded escaping.
std::string form_escape(const std::string& value);

}  // namespace amiboot
