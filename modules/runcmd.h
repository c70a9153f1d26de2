// runcmd: commands that run once per instance in the final stage (cc_runcmd).
#pragma once

#include "modules/module.h"

namespace amiboot {

void check_runcmd(const Value& config, Diagnostics& out);
PlanResult plan_runcmd(const ModuleInput& input);

}  // namespace amiboot
