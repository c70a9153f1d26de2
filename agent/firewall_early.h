// SPDX-License-Identifier: Apache-2.0
// `amiboot firewall-early` (amiboot-firewall.service): the nft ruleset the
// firewall module last applied, in force again before any network interface
// is up, so a rebooted instance is never reachable unfiltered and, when the
// init stage renders the same bytes, it need not call nft again.
#pragma once

#include <ostream>
#include <string>

#include "agent/system.h"

namespace amiboot {

/// Applies the kept ruleset (modules/firewall.h kNftKeptName in
/// `state_dir`) with one `nft -f` and, once nft took it, records the exact
/// bytes in kNftEarlyMarkerPath. No kept ruleset: nothing happens. A ruleset
/// nft refuses leaves whatever was in force (one transaction) and no marker.
/// Returns the exit code; what happened is written to `out`.
int apply_kept_firewall(System& system, const std::string& state_dir, std::ostream& out);

}  // namespace amiboot
