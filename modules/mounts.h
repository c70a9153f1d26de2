// SPDX-License-Identifier: Apache-2.0
// Mounting amiboot's fstab entries: the `mounts` row (every boot), which
// waits for the devices of amiboot's own /etc/fstab entries and mounts what
// systemd could not (a volume that attached late), and the mount and swapon
// actions the volumes row shares with it.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "modules/block_devices.h"
#include "modules/fstab.h"
#include "modules/module.h"

namespace amiboot {

inline constexpr const char* kFstabPath = "/etc/fstab";

/// Every boot: the volumes left pending by an earlier boot (formatted when
/// blank, fstab, mounted), then amiboot's fstab entries that are not
/// mounted, all waited for until one deadline (none on an instance's first
/// boot: the volumes row has just waited); a device still absent is a
/// warning. The settings (amiboot.volumes) come from facts.image_config.
PlanResult plan_mounts(const NoKeys& config, const Facts& facts);

/// What plan_mounts, made once `earlier` (the volumes row's actions) are
/// applied, may touch (modules/lanes.h): the fstab and the pending record
/// it reads and may write, the mount point of every amiboot entry in the
/// fstab `earlier` leaves, and, after an instance's first boot, of every
/// volume in the pending record it leaves (with /dev: those it may
/// partition and format).
PlanFootprint mounts_reach(const std::vector<Action>& earlier, const Facts& facts);

/// "/data/" -> "/data": mount points compare without trailing slashes.
std::string without_trailing_slashes(std::string path);

/// True when something is mounted at the instance path `target`.
bool is_mounted_at(const std::vector<MountedFs>& mounts, const std::string& target);

/// mkdir -p the mount point, then mount `source` there with the entry's
/// type and options; `name` is what the config called it, for the labels.
std::vector<Action> mount_actions(const std::string& source, const FstabEntry& entry,
                                  const std::string& name);

/// swapon `what` (a device node or a swap file); skipped under --root.
RunCommand swapon_action(const std::string& what, const std::string& name);

/// "30 s", for messages.
std::string seconds_text(std::chrono::seconds s);

}  // namespace amiboot
