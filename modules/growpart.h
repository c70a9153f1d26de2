// SPDX-License-Identifier: Apache-2.0
// growpart: cloud-init's `growpart` and `resize_rootfs` (cc_growpart,
// cc_resizefs) in one row, every boot at the start of the init stage: the
// partition under `/` (and any other listed mount point or device) grows to
// the end of its disk or up to the next partition, and the filesystem on it
// grows online. The plan decides what grows and by how much from the
// BlockDevices view (mountinfo, sysfs, the partition table, the superblock);
// the executor writes the table through libfdisk and tells the kernel
// (GrowPartition), then runs resize2fs, xfs_growfs or btrfs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "modules/module.h"

namespace amiboot {

struct GrowpartConfig {
  /// growpart.mode: auto and growpart both grow partitions (through
  /// libfdisk, whatever the mode names); off (or false, or FreeBSD's gpart)
  /// grows none.
  bool grow_partitions = true;
  /// Mount points or device paths whose partitions grow.
  std::vector<std::string> devices = {"/"};
  bool ignore_growroot_disabled = false;
  /// resize_rootfs: the filesystems of `/` and of the devices grow with
  /// their partitions (noblock is taken as true: online growth is quick).
  bool resize_filesystems = true;
};

/// `growpart` and `resize_rootfs` of one document; their defaults (grow
/// `/`) when absent.
GrowpartConfig decode_growpart(const Value& doc, Diagnostics& out);

/// What grows this boot; nothing (and no partition table read) when there
/// is less than 1 MiB to gain.
PlanResult plan_growpart(const GrowpartConfig& config, const Facts& facts);

/// Less than this to gain is nothing to do.
inline constexpr std::uint64_t kGrowMinimumBytes = 1ull << 20;

/// cloud-init's switch: growpart grows no partition while it exists.
inline constexpr const char* kGrowrootDisabledPath = "/etc/growroot-disabled";

}  // namespace amiboot
