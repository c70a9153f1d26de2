// SPDX-License-Identifier: Apache-2.0
// Init-stage rows whose actions may be applied on a thread of their own
// while the rows after them go on: work that touches OS state no row it
// runs alongside reads or writes. Data only; the runner (agent/runner.cc)
// starts a lane at its own row, so everything before that row (boothooks,
// bootcmd: the user's commands, which may prepare anything) has finished,
// and waits for it before the first row that is not in `alongside`, and in
// any case before the stage reports that it is done (READY=1).
#pragma once

#include <string_view>
#include <vector>

namespace amiboot {

struct ModuleLane {
  std::string_view module;
  /// The later rows that may run while this row's actions are applied:
  /// rows that do not touch what it touches, and run no user code. Any
  /// other row waits for it first.
  std::vector<std::string_view> alongside;
};

/// The init stage's lanes, in table order.
const std::vector<ModuleLane>& init_lanes();

/// The lane of `module` in `lanes`; nullptr when it runs in sequence.
const ModuleLane* find_lane(const std::vector<ModuleLane>& lanes, std::string_view module);

}  // namespace amiboot
