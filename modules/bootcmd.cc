#include "modules/bootcmd.h"

#include "modules/commands.h"

namespace amiboot {

void check_bootcmd(const Value& config, Diagnostics& out) {
  check_command_key(config, "bootcmd", out);
}

PlanResult plan_bootcmd(const ModuleInput& input) {
  return plan_command_key(input, "bootcmd");
}

}  // namespace amiboot
