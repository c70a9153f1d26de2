// SPDX-License-Identifier: Apache-2.0
#include "agent/firewall_early.h"

#include "agent/state.h"
#include "modules/firewall.h"

namespace amiboot {

int apply_kept_firewall(System& system, const std::string& state_dir, std::ostream& out) {
  std::string kept = nft_kept_path(state_dir);
  // A stale marker (a run dir that outlived a boot) must never vouch for
  // rules this run did not put in force.
  (void)system.remove_all(kNftEarlyMarkerPath);
  if (!system.exists(kept)) {
    out << "amiboot firewall-early: no ruleset kept from an earlier boot\n";
    return 0;
  }
  auto text = system.read_file(kept, 1 << 20);
  if (!text) {
    out << "amiboot firewall-early: " << kept << ": " << text.error().message << "\n";
    return 1;
  }
  // The text on nft's standard input, not the file's path: the marker then
  // holds exactly the bytes nft read.
  CommandSpec spec;
  spec.argv = {"nft", "-f", "-"};
  spec.input = *text;
  spec.identifier = "amiboot";
  auto outcome = system.run(spec);
  if (!outcome) {
    out << "amiboot firewall-early: nft: " << outcome.error().message << "\n";
    return 1;
  }
  if (outcome->exit_code != 0) {
    out << "amiboot firewall-early: nft refused the kept ruleset (exit " << outcome->exit_code
        << "); the init stage applies the firewall once the user data is read\n";
    return 1;
  }
  if (auto st = system.write_file(kNftEarlyMarkerPath, *text, FileAttrs{0600, 0, 0, false}); !st) {
    // The rules are in force; without the marker the init stage applies
    // them again, which is only slower.
    out << "amiboot firewall-early: " << kNftEarlyMarkerPath << ": " << st.error().message << "\n";
  }
  out << "amiboot firewall-early: the last boot's firewall ruleset is in force before the "
         "network\n";
  return 0;
}

}  // namespace amiboot
