// Scripts: user-data scripts and boothooks (cloud-init's scripts_user and
// bootcmd-like boothooks), and the image's scripts/per-{boot,instance,once}
// folders (scripts_per_*). Scripts are written to the instance's state folder
// and run in name order; output goes to the journal.
#pragma once

#include "modules/module.h"

namespace amiboot {

PlanResult plan_boothooks(const NoKeys&, const Facts& facts);
PlanResult plan_scripts_user(const NoKeys&, const Facts& facts);
PlanResult plan_scripts_per_boot(const NoKeys&, const Facts& facts);
PlanResult plan_scripts_per_instance(const NoKeys&, const Facts& facts);
PlanResult plan_scripts_per_once(const NoKeys&, const Facts& facts);

}  // namespace amiboot
