// SPDX-License-Identifier: Apache-2.0
// The executor's FetchLedger kept in the instance's state
// (State::load_fetched), so that a budget shared by several modules spans
// stages run in separate processes: write_files in the init stage,
// write_files_deferred in amiboot-final.service.
#pragma once

#include <map>
#include <optional>
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
  // The document as read once and then kept current by record(): the
  // process that records is the only writer of this instance's ledger.
  const nlohmann::json& document();

  State& m_state;
  std::string m_instance_id;
  std::optional<nlohmann::json> m_document;
};

}  // namespace amiboot
