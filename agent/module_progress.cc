// SPDX-License-Identifier: Apache-2.0
#include "agent/module_progress.h"

#include <algorithm>
#include <cstdio>
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

ExecProgress::Before ModuleProgress::before(std::size_t, const Action& action) {
  std::string fingerprint = action_fingerprint(action);
  auto earlier = std::find(m_earlier_done.begin(), m_earlier_done.end(), fingerprint);
  if (earlier != m_earlier_done.end()) {
    m_earlier_done.erase(earlier);
    m_done.push_back(fingerprint);
    return Before::AlreadyDone;
  }
  if (!m_earlier_running.empty() && fingerprint == m_earlier_running) {
    m_earlier_running.clear();
    // Counted as done from now on: a second death must not run it either.
    m_done.push_back(fingerprint);
    save(nullptr);
    return Before::Interrupted;
  }
  save(fingerprint);
  return Before::Run;
}

void ModuleProgress::after(std::size_t, const Action& action) {
  m_done.push_back(action_fingerprint(action));
  save(nullptr);
}

void ModuleProgress::save(const nlohmann::json& running) {
  // A failed write only weakens the guarantee for a later crash; the
  // action itself still runs.
  (void)m_state.save_progress(m_module, m_instance_id,
                              {{"module", m_module.name}, {"done", m_done}, {"running", running}});
}

}  // namespace amiboot
