// SPDX-License-Identifier: Apache-2.0
#include "agent/fetch_ledger.h"

namespace amiboot {

const nlohmann::json& InstanceFetchLedger::document() {
  if (!m_document) {
    m_document = m_state.load_fetched(m_instance_id);
  }
  return *m_document;
}

std::map<std::string, std::size_t> InstanceFetchLedger::recorded(const std::string& setting) {
  std::map<std::string, std::size_t> entries;
  const nlohmann::json& all = document();
  auto it = all.find(setting);
  if (it == all.end() || !it->is_object()) {
    return entries;
  }
  for (const auto& [label, bytes] : it->items()) {
    if (bytes.is_number_unsigned()) {
      entries[label] = bytes.get<std::size_t>();
    }
  }
  return entries;
}

void InstanceFetchLedger::record(const std::string& setting,
                                 const std::map<std::string, std::size_t>& entries) {
  nlohmann::json all = document();
  all[setting] = entries;
  // A record that could not be written only lets the next stage's budget
  // start lower; the files themselves are fine.
  (void)m_state.save_fetched(m_instance_id, all);
  m_document = std::move(all);
}

}  // namespace amiboot
