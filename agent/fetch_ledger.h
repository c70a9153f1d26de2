// SPDX-License-Identifier: Apache-2.0
// The executor's FetchLedger kept in the instance's state
// (State::load_fetched), so that a budget shared by several modules spans
// stages run in separate processes: write_files in the init stage,
// write_files_deferred in amiboot-final.service.
#pragma once

#include <map>
#include <string>

#include "agent/executor.h"
#include "agent/state.h"

namespace amiboot {

class InstanceFetchLedger final : public FetchLedger {
 public:
  InstanceFetchLedger(State& state, std::string instance_id)
      : m_state(state), m_instance_id(std::move(instance_id)) {}

  std::map<std::string, std::size_t> recorded(const std::string& setting) override;
  void record(const std::string& setting,
              const std::map<std::string, std::size_t>& entries) override;

 private:
  State& m_state;
  std::string m_instance_id;
};

}  // namespace amiboot
