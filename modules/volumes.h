// SPDX-License-Identifier: Apache-2.0
// volumes: cloud-init's `disk_setup`, `fs_setup`, `mounts`,
// `mount_default_fields`, `swap` and `device_aliases`, with device names
// resolved through the IMDS block device mapping and, on Nitro, NVMe Identify
// data.
//
// Two rows in the module table: `volumes` (per instance, this file)
// partitions and makes filesystems on blank devices, makes the swap file and
// the fstab entries, and mounts them; `mounts` (every boot, modules/mounts.h)
// looks again at what was left pending, waits for the devices of amiboot's
// fstab entries and mounts whatever systemd could not.
#pragma once

#include <cstdint>
#include <optional>

#include "modules/block_devices.h"
#include "modules/device_names.h"
#include "modules/disk_setup.h"
#include "modules/fstab.h"
#include "modules/module.h"
#include "modules/mounts.h"
#include "modules/nvme_identify.h"
#include "modules/volumes_config.h"
#include "modules/volumes_mkfs.h"

namespace amiboot {

/// cloud-init's suggested_swapsize: memory, capped by maxsize and by a
/// quarter (or 90 % with maxsize) of the free space.
std::uint64_t suggested_swap_size(std::uint64_t memory, std::optional<std::uint64_t> maxsize,
                                  std::optional<std::uint64_t> free_bytes);

/// Per instance: filesystems, swap file, fstab, mount now. `config` is
/// decode_volumes' result (nullopt: nothing to do); the settings
/// (amiboot.volumes) come from facts.image_config. A device that did not
/// appear within the one deadline is a warning: its entries are left
/// pending (pending_volumes_path), or, for a mounts entry naming a device
/// path, get their fstab line as cloud-init writes it.
PlanResult plan_volumes(const VolumesConfig& config, const Facts& facts);

/// What plan_volumes(config, facts) may read, touch or mount over, known
/// before it looks at a device: the init-stage lane plans it on its own
/// thread (modules/lanes.h), and the rows after it are checked against this.
/// nullopt when there is nothing to look at (no config, no default entry,
/// no fstab entry of amiboot's): the plan then reads only the fstab.
std::optional<PlanFootprint> volumes_reach(const VolumesConfig& config, const Facts& facts);

/// The entries an earlier boot left pending, looked at again (the mounts
/// row, every boot): waited for until `deadline`, formatted when blank,
/// given their fstab lines and mounted; amiboot's other fstab entries stay.
PlanResult plan_pending_volumes(const PendingVolumes& pending, const VolumesSettings& settings,
                                const Facts& facts, BlockDevices::Clock::time_point deadline);

/// instances/<id>/volumes-pending.json under the state folder.
std::string pending_volumes_path(const Facts& facts);

}  // namespace amiboot
