// final_message: a line on the console and in the journal when the final
// stage is done (cc_final_message), with cloud-init's substitutions.
#pragma once

#include "modules/module.h"

namespace amiboot {

void check_final_message(const Value& config, Diagnostics& out);
PlanResult plan_final_message(const ModuleInput& input);

}  // namespace amiboot
