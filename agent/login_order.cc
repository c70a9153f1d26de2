// SPDX-License-Identifier: Apache-2.0
#include "agent/login_order.h"

#include <vector>

#include "agent/core/strings.h"

namespace amiboot {

std::string login_drop_in_text() {
  return "# Written by amiboot-login-generator: this boot, logins (and sshd's host\n"
         "# key maker) wait for amiboot's init stage (users, keys, bootcmd, mounts,\n"
         "# firewall).\n"
         "[Unit]\n"
         "After=amiboot.service\n";
}

bool logins_wait_for_amiboot(std::optional<std::string_view> board_asset_tag,
                             std::optional<std::string_view> record,
                             std::optional<std::string_view> current_instance) {
  if (!board_asset_tag || !record || !current_instance) {
    return true;
  }
  std::string_view tag = trim(*board_asset_tag);
  // Only an EC2 instance id counts: other hypervisors put serial numbers or
  // "Not Specified" there.
  if (tag.size() < 3 || tag.substr(0, 2) != "i-") {
    return true;
  }
  std::string_view link = trim(*current_instance);
  constexpr std::string_view kPrefix = "instances/";
  if (link.substr(0, kPrefix.size()) != kPrefix) {
    return true;
  }
  return !(trim(*record) == tag && link.substr(kPrefix.size()) == tag);
}

bool next_boot_logins_may_skip_amiboot(const std::vector<ModuleOutcome>& init_modules,
                                       bool nft_ruleset_kept) {
  for (const auto& m : init_modules) {
    bool ran = m.result != "skipped";
    if (m.result == "failed") {
      return false;
    }
    if (ran && (m.name == "bootcmd" || m.name == "boothooks" || m.name == "mounts")) {
      return false;
    }
    if (ran && m.name == "firewall" && !nft_ruleset_kept) {
      return false;
    }
  }
  return true;
}

}  // namespace amiboot
