// SPDX-License-Identifier: Apache-2.0
// Applies a module's actions through System, in order. Every action is
// attempted; the outcome lists the ones that failed.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/journal.h"
#include "agent/system.h"
#include "modules/module.h"

namespace amiboot {

/// The runner's record, per action, of what completed (State's module
/// progress), so that a rerun after amiboot died (kill -9, the OOM killer, a
/// crash) runs no completed action again and names the one it interrupted.
class ExecProgress {
 public:
  enum class Before { Run, AlreadyDone, Interrupted };
  virtual ~ExecProgress() = default;
  /// Before action `index`: Run (recorded as under way first), AlreadyDone
  /// (an earlier run completed it) or Interrupted (an earlier run died while
  /// it was under way: it is not run again, so it runs at most once).
  virtual Before before(std::size_t index, const Action& action) = 0;
  /// Once action `index` is over, whatever its outcome.
  virtual void after(std::size_t index, const Action& action) = 0;
  /// For each action, whether before() will find it settled by an earlier
  /// run (AlreadyDone or Interrupted); asked before the first before(), so
  /// that the sources fetched ahead of the actions skip those too.
  virtual std::vector<bool> settled(const std::vector<Action>& actions) const = 0;
};

/// What the FetchFile sources of a shared budget (FetchBudget) fetched for
/// this instance, per budget setting and entry label: the init stage's
/// write_files and the final stage's write_files_deferred draw on one
/// amiboot.limits.write_files_bytes, whether the stages run in one process
/// or two, and a rerun after a kill still counts the entries it skips.
class FetchLedger {
 public:
  virtual ~FetchLedger() = default;
  /// Bytes recorded under `setting`, by entry label ("write_files[2]").
  virtual std::map<std::string, std::size_t> recorded(const std::string& setting) = 0;
  /// Replaces what is recorded under `setting`.
  virtual void record(const std::string& setting,
                      const std::map<std::string, std::size_t>& entries) = 0;
};

struct ExecContext {
  System& system;
  std::string instance_id;
  JournalFields fields;  // AMIBOOT_STAGE, AMIBOOT_MODULE, AMIBOOT_INSTANCE_ID
  /// HttpRequest and FetchFile retries: none starts later than this after
  /// the first try (Settings::http_retry_deadline).
  std::chrono::seconds http_retry_deadline{90};
  ExecProgress* progress = nullptr;  // none: every action runs
  FetchLedger* fetched = nullptr;    // none: a module's budget is its own
};

struct ExecOutcome {
  std::vector<std::string> errors;  // one line per failed action
  /// The packages asked for a reboot (package_reboot_if_required) and the
  /// package manager says one is needed; the runner reboots after the stage.
  bool reboot_required = false;
  /// power_state's change, for the runner to make once the final stage is
  /// over (change_power_state()).
  std::optional<ChangePowerState> power_change;
  bool ok() const { return errors.empty(); }
};

ExecOutcome execute(const std::vector<Action>& actions, ExecContext& context);

/// power_state's change, made by the runner after the final stage's status,
/// result and readiness signal are out: the condition (exit 0: go ahead,
/// else false and nothing changes), then the command, then its fallback if
/// the command failed. True once a power change is under way; an error when
/// neither command worked. Under --root: false, nothing run.
Result<bool> change_power_state(const ChangePowerState& change, ExecContext& context);

}  // namespace amiboot
