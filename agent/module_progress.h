// SPDX-License-Identifier: Apache-2.0
// At most once for what completed: a module's actions recorded one by one
// in its progress file (State::save_progress), so that a rerun after amiboot
// died skips what completed and names, without running it again, the action
// that was under way.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/executor.h"
#include "agent/state.h"

namespace amiboot {

class ModuleProgress final : public ExecProgress {
 public:
  /// Reads what an earlier run of this module left (nothing after a run
  /// that finished it: mark_done() removes the record).
  ModuleProgress(State& state, const ModuleSpec& module, std::string instance_id);
  /// Records the last completed action (see after()).
  ~ModuleProgress() override;
  ModuleProgress(const ModuleProgress&) = delete;
  ModuleProgress& operator=(const ModuleProgress&) = delete;

  Before before(std::size_t index, const Action& action) override;
  void after(std::size_t index, const Action& action) override;
  std::vector<bool> settled(const std::vector<Action>& actions) const override;

 private:
  void save(const nlohmann::json& running);

  State& m_state;
  const ModuleSpec& m_module;
  std::string m_instance_id;
  /// Actions are matched by content (their JSON, label included), not by
  /// index: a plan that changed between the runs still skips exactly what
  /// completed. Each earlier fingerprint matches one action.
  std::vector<std::string> m_earlier_done;
  std::string m_earlier_running;
  /// The index and fingerprint of the action before() last saw.
  std::optional<std::pair<std::size_t, std::string>> m_current;
  nlohmann::json m_done = nlohmann::json::array();
  bool m_saved = false;    // the record's folder exists
  bool m_unsaved = false;  // m_done holds an action the record does not
};

/// What identifies an action across runs: a hash of its JSON form (which
/// never holds a secret; the hash would not show one anyway).
std::string action_fingerprint(const Action& action);

}  // namespace amiboot
