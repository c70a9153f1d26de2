// bootcmd: commands that run early on every boot (cloud-init's cc_bootcmd).
#pragma once

#include "modules/module.h"

namespace amiboot {

void check_bootcmd(const Value& config, Diagnostics& out);
PlanResult plan_bootcmd(const ModuleInput& input);

}  // namespace amiboot
