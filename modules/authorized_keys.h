// SPDX-License-Identifier: Apache-2.0
// users: ~/.ssh/authorized_keys as a merge, not a rewrite, because the
// file may hold keys the instance's owner added by hand that a new boot of
// the same image must not drop.
#pragma once

#include <string>
#include <vector>

namespace amiboot {

/// authorized_keys with `keys` merged in: lines for other keys stay, a line
/// for the same key is replaced (its options may differ), new keys are
/// appended. Each key is prefixed by `options` when not empty.
std::string merge_authorized_keys(const std::string& existing, const std::vector<std::string>& keys,
                                  const std::string& options);

}  // namespace amiboot
