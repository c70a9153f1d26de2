// SPDX-License-Identifier: Apache-2.0
// Filesystems for the volumes module: what a probe found on a device, in
// words, whether it holds a filesystem amiboot can mount, and the mkfs
// command (with a UUID chosen at plan time) that makes one.
#pragma once

#include <string>
#include <vector>

#include "modules/block_devices.h"

namespace amiboot {

/// "a filesystem (ext4, label 'data')", "a partition table (gpt)", ...
std::string describe_probe(const DeviceProbe& probe);

/// A filesystem or swap area with a UUID, on its own (no partition table).
bool has_filesystem(const DeviceProbe& probe);

/// "mkfs.ext4", "mkswap" for "swap".
std::string mkfs_program(const std::string& filesystem);

/// mkfs with the UUID chosen at plan time, so the fstab entry is known before
/// the filesystem exists.
std::vector<std::string> mkfs_argv(const std::string& filesystem, const std::string& label,
                                   const std::string& uuid, bool force,
                                   const std::vector<std::string>& extra, const std::string& node);

/// A filesystem UUID derived from `seed`, so a plan says which UUID mkfs
/// will write (and fstab can name it) before anything runs.
std::string volume_uuid(const std::string& seed);

}  // namespace amiboot
