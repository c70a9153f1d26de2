// SPDX-License-Identifier: Apache-2.0
#include "agent/login_record.h"

#include "agent/login_order.h"
#include "agent/state.h"
#include "modules/firewall.h"

namespace amiboot {

Status record_login_order(System& system, const std::string& instance_id,
                          const nlohmann::json& init_modules) {
  std::vector<ModuleOutcome> outcomes;
  for (const auto& m : init_modules) {
    outcomes.push_back({m.value("name", ""), m.value("result", "")});
  }
  std::string state = kStateDir;
  std::string path = state + "/" + kFastLoginRecordName;
  bool kept = system.exists(nft_kept_path(state));
  if (!next_boot_logins_may_skip_amiboot(outcomes, kept)) {
    return system.exists(path) ? system.remove_all(path) : Status{};
  }
  return system.write_file_if_changed(path, instance_id + "\n", FileAttrs{0600, 0, 0, true});
}

}  // namespace amiboot
