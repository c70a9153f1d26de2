// volumes: cloud-init's `mounts`, `mount_default_fields`, `fs_setup`, `swap`
// and `device_aliases`, with device names resolved through the IMDS block
// device mapping and, on Nitro, NVMe Identify data (DESIGN.md section 7).
//
// Two rows in the module table: `volumes` (per instance, this file) makes
// filesystems on blank devices, the swap file and the fstab entries, and
// mounts them; `mounts` (every boot, modules/mounts.h) waits for the devices
// of amiboot's fstab entries and mounts whatever systemd could not.
#pragma once

#include <cstdint>
#include <optional>

#include "modules/block_devices.h"
#include "modules/device_names.h"
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
/// (amiboot.volumes) come from facts.image_config.
PlanResult plan_volumes(const VolumesConfig& config, const Facts& facts);

}  // namespace amiboot
