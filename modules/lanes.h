// SPDX-License-Identifier: Apache-2.0
// Init-stage rows whose actions may be applied on a thread of their own
// while the rows after them go on: work that touches OS state no row it
// runs alongside reads or writes. Data only; the runner (agent/runner.cc)
// starts a lane at its own row, so everything before that row (boothooks,
// bootcmd: the user's commands, which may prepare anything) has finished,
// and waits for it before the first row that is not in `alongside`, and in
// any case before the stage reports that it is done (READY=1).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "modules/module.h"

namespace amiboot {

/// A row that reads what its lane writes (mounts reads the fstab volumes
/// writes): when it is the lane's next row and will run, it is planned and
/// applied on the lane's thread once the lane's actions are, instead of
/// waiting for the lane on the main thread, and the rows after it are
/// checked against both (its reach joins the lane's footprint). Its record
/// comes right after the lane's, as it would in sequence.
struct LaneFollower {
  std::string_view module;
  /// What the row's plan, made once `lane_actions` are applied, may touch;
  /// known before that plan is made. `facts` shows the instance as it is
  /// before the lane's actions. A lane planned on its thread passes no
  /// actions: its own reach covers what they may add.
  PlanFootprint (*reach)(const std::vector<Action>& lane_actions, const Facts& facts) = nullptr;
};

/// What a row's plan may read, touch or mount over, known from its decoded
/// config (DecodedConfig's pointee) and the facts before the plan is made;
/// nullopt when the plan will look at nothing the lanes under way change
/// (nothing configured): it is made at its row at once.
using PlanReach = std::optional<PlanFootprint> (*)(const void* config, const Facts& facts);

struct ModuleLane {
  std::string_view module;
  /// The later rows that may run while this row's actions are applied:
  /// rows that do not touch what it touches, and run no user code. Any
  /// other row waits for it first.
  std::vector<std::string_view> alongside;
  /// Decided by the plans: the row becomes a lane only when its plan's
  /// footprint is known and clear of the agent's own files
  /// (lane_refusal), and a row in `alongside` runs beside it only when its
  /// own plan's footprint shares no path with it (lane_conflict); else that
  /// row waits for the lane, and is planned again once it is over.
  bool by_plan = false;
  /// By-plan lanes only: the next row, when it follows this one in its lane.
  std::optional<LaneFollower> follower;
  /// By-plan lanes only: the row is planned on the lane's thread, once the
  /// lanes named in `plans_after` are over, instead of at its row, so that
  /// the rows after it need not wait for what its plan waits for (the grown
  /// root disk, a device that is slow to appear). Until then its reach
  /// stands in for its footprint; a plan that goes beyond it is not applied.
  /// When the row is planned at its row instead (its reach meets a lane
  /// under way), the lanes in `plans_after` are over first, unless its
  /// reach is nullopt.
  PlanReach plan_reach = nullptr;
  std::vector<std::string_view> plans_after;
};

/// A PlanReach from a typed `Reach(const C&, const Facts&)` for the row
/// whose decoder is `Decode` (as module_row pairs a decoder and a plan); a
/// decoder's nullopt ("nothing to do") looks at nothing.
template <auto Decode, auto Reach>
std::optional<PlanFootprint> reach_of(const void* config, const Facts& facts) {
  using Config = std::invoke_result_t<decltype(Decode), const Value&, Diagnostics&>;
  const Config& typed = *static_cast<const Config*>(config);
  if constexpr (!std::is_void_v<typename OptionalOf<Config>::type>) {
    return typed ? Reach(*typed, facts) : std::nullopt;
  } else {
    return Reach(typed, facts);
  }
}

/// The init stage's lanes, in table order.
const std::vector<ModuleLane>& init_lanes();

/// True when one path is `other` or below it, or the other way round
/// ("/home" and "/home/admin/.ssh"; not "/home" and "/homes").
bool paths_overlap(std::string_view a, std::string_view b);

/// Why a row whose plan is `footprint` must be applied in sequence rather
/// than as a by-plan lane; "" when it may be a lane. A plan that does not
/// say where it acts, or that mounts over the agent's own state and status
/// folders (written between rows by the runner), stays in sequence.
std::string lane_refusal(const std::optional<PlanFootprint>& footprint);

/// Why the row `next`, planned as `next_footprint`, may not be applied while
/// the lane `lane` applies a plan with `lane_footprint`; "" when it may:
/// what the lane's actions touch or mount over and what the next row's plan
/// read, or its actions touch or mount over, share no path.
std::string lane_conflict(std::string_view lane, const PlanFootprint& lane_footprint,
                          std::string_view next,
                          const std::optional<PlanFootprint>& next_footprint);

/// The first path of `plan` that is not its reach's or below one of them
/// (read against read, and so on); "" when the plan stays within its reach.
std::string beyond_reach(const PlanFootprint& plan, const PlanFootprint& reach);

/// Adds `more`'s paths to `into`'s: what two plans applied one after the
/// other touch.
void add_footprint(PlanFootprint& into, const PlanFootprint& more);

/// The folders its `mount` commands mount over.
std::vector<std::string> mount_points(const std::vector<Action>& actions);

/// The lane of `module` in `lanes`; nullptr when it runs in sequence.
const ModuleLane* find_lane(const std::vector<ModuleLane>& lanes, std::string_view module);

}  // namespace amiboot
