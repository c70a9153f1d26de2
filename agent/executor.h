// Applies a module's actions through System, in order. Every action is
// attempted; the outcome lists the ones that failed.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "agent/journal.h"
#include "agent/system.h"
#include "modules/module.h"

namespace amiboot {

struct ExecContext {
  System& system;
  std::string instance_id;
  JournalFields fields;  // AMIBOOT_STAGE, AMIBOOT_MODULE, AMIBOOT_INSTANCE_ID
};

struct ExecOutcome {
  std::vector<std::string> errors;  // one line per failed action
  /// The packages asked for a reboot (package_reboot_if_required) and the
  /// package manager says one is needed; the runner reboots after the stage.
  bool reboot_required = false;
  bool ok() const { return errors.empty(); }
};

ExecOutcome execute(const std::vector<Action>& actions, ExecContext& context);

}  // namespace amiboot
