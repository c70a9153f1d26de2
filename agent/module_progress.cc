// SPDX-License-Identifier: Apache-2.0
#include "agent/module_progress.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <functional>

namespace amiboot {

std::string action_fingerprint(const Action& action) {
  char text[17];
  std::snprintf(text, sizeof text, "%016zx",
                std::hash<std::string>{}(action_to_json(action).dump(
                    -1, ' ', false, nlohmann::json::error_handler_t::replace)));
  return text;
}

ModuleProgress::ModuleProgress(State& state, const ModuleSpec& module, std::string instance_id)
    : m_state(state), m_module(module), m_instance_id(std::move(instance_id)) {
  nlohmann::json earlier = m_state.load_progress(m_module, m_instance_id);
  if (!earlier.is_object()) {
    return;
  }
  for (const auto& d : earlier.value("done", nlohmann::json::array())) {
    if (d.is_string()) {
      m_earlier_done.push_back(d.get<std::string>());
    }
  }
  if (earlier.contains("running") && earlier["running"].is_string()) {
    m_earlier_running = earlier["running"].get<std::string>();
  }
}

namespace {

enum class Earlier { None, Done, Running };

/// What an earlier run left for the action with this fingerprint; the
/// fingerprint it matched is used up, so that each settles one action.
Earlier match_earlier(const std::string& fingerprint, std::vector<std::string>& done,
                      std::string& running) {
  if (auto it = std::find(done.begin(), done.end(), fingerprint); it != done.end()) {
    done.erase(it);
    return Earlier::Done;
  }
  if (!running.empty() && fingerprint == running) {
    running.clear();
    return Earlier::Running;
  }
  return Earlier::None;
}

}  // namespace

ExecProgress::Before ModuleProgress::before(std::size_t index, const Action& action) {
  std::string fingerprint = action_fingerprint(action);
  // after() needs it too: an action's JSON is made and hashed once.
  m_current = {index, fingerprint};
  const bool safe = redo_safe(action);
  switch (match_earlier(fingerprint, m_earlier_done, m_earlier_running)) {
    case Earlier::Done:
      m_done.push_back(fingerprint);
      return Before::AlreadyDone;
    case Earlier::Running:
      if (safe) {
        break;  // half done is finished by doing it again
      }
      // Counted as done from now on: a second death must not run it either.
      m_done.push_back(fingerprint);
      save(nullptr);
      return Before::Interrupted;
    case Earlier::None:
      break;
  }
  if (safe) {
    // Not recorded: a rerun after a death does it again, which is the
    // same. A completed action not yet written is, so that a death now
    // does not leave it as under way.
    if (m_unsaved) {
      save(nullptr);
    }
    return Before::Run;
  }
  save(fingerprint);
  return Before::Run;
}

std::vector<bool> ModuleProgress::settled(const std::vector<Action>& actions) const {
  std::vector<std::string> done = m_earlier_done;
  std::string running = m_earlier_running;
  std::vector<bool> out;
  out.reserve(actions.size());
  for (const auto& action : actions) {
    Earlier earlier = match_earlier(action_fingerprint(action), done, running);
    // As before() decides: a redo-safe action left under way is done again.
    out.push_back(earlier == Earlier::Done || (earlier == Earlier::Running && !redo_safe(action)));
  }
  return out;
}

void ModuleProgress::after(std::size_t index, const Action& action) {
  // Written with the next action's start (one rewrite where there were
  // two), or when the module's actions end (the destructor). A kill in
  // between, in the executor's own bookkeeping, leaves this action named
  // as under way: not run again either, only reported as interrupted.
  m_done.push_back(m_current && m_current->first == index ? m_current->second
                                                          : action_fingerprint(action));
  // A redo-safe action rides along with the next save, if there is one.
  m_unsaved = m_unsaved || !redo_safe(action);
}

ModuleProgress::~ModuleProgress() {
  if (!m_unsaved) {
    return;
  }
  try {
    save(nullptr);
  } catch (const std::exception&) {
    // Out of memory building the record: as a failed write (see save()).
  }
}

void ModuleProgress::save(const nlohmann::json& running) {
  // A failed write only weakens the guarantee for a later crash; the
  // action itself still runs.
  auto saved = m_state.save_progress(
      m_module, m_instance_id, {{"module", m_module.name}, {"done", m_done}, {"running", running}},
      !m_saved);
  m_saved = m_saved || saved.ok();
  m_unsaved = false;
}

}  // namespace amiboot
