#include "modules/runcmd.h"

#include "modules/commands.h"

namespace amiboot {

void check_runcmd(const Value& config, Diagnostics& out) {
  check_command_key(config, "runcmd", out);
}

PlanResult plan_runcmd(const ModuleInput& input) {
  return plan_command_key(input, "runcmd");
}

}  // namespace amiboot
