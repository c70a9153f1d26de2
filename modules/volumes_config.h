// SPDX-License-Identifier: Apache-2.0
// The volumes module's configuration: cloud-init's `disk_setup`, `mounts`,
// `mount_default_fields`, `fs_setup`, `swap` and `device_aliases` decoded
// from one cloud-config document, and the image settings
// `amiboot: {volumes: {...}}` the plan reads from the image config.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/config.h"
#include "modules/disk_setup.h"
#include "modules/fstab.h"

namespace amiboot {

struct MountRequest {
  std::string spec;         // as written: "ebs1", "/dev/sdf", "ephemeral0.1", "server:/export"
  bool remove = false;      // `[spec]` or `[spec, null]`: no entry for spec, not even a default
  FstabEntry fields;        // file, type, options, freq, passno with the defaults applied
  bool is_default = false;  // cloud-init's built-in ephemeral0 -> /mnt and swap entries
  /// `fields.options` is amiboot's own default ("defaults"): the plan adds
  /// nofail and the image's device timeout, whatever kind of entry it is.
  bool default_options = false;
  Position pos;
  std::string path;  // "mounts[0]"
  bool operator==(const MountRequest&) const = default;
};

struct FsSetupRequest {
  std::string device;
  std::string filesystem;
  std::string label;
  std::string partition = "any";  // "any", "auto", "none" or a partition number
  bool overwrite = false;
  std::vector<std::string> extra_opts;
  Position pos;
  std::string path;  // "fs_setup[0]"
};

struct SwapRequest {
  std::string filename = "/swap.img";
  std::uint64_t size = 0;  // bytes; 0: no swap file
  bool auto_size = false;
  std::optional<std::uint64_t> maxsize;
  Position pos;
};

struct VolumesConfig {
  std::vector<DiskSetupRequest> disk_setup;
  std::vector<MountRequest> mounts;  // the user's entries; defaults are added by the plan
  /// Six, nullopt = none. The options field (3) holds "defaults" while it is
  /// amiboot's own default (see MountRequest::default_options).
  std::vector<std::optional<std::string>> default_fields;
  std::vector<FsSetupRequest> fs_setup;
  std::optional<SwapRequest> swap;
  std::map<std::string, std::string> aliases;  // device_aliases
};

/// What the volumes module could not do yet because a device had not
/// appeared: fs_setup entries, and mounts entries that need a name resolved
/// (ebs2, sdh on Nitro) or a filesystem made first. Kept in the instance's
/// state folder (pending_volumes_path) and looked at again on every boot by
/// the mounts row until each is done.
struct PendingVolumes {
  std::vector<DiskSetupRequest> disk_setup;
  std::vector<FsSetupRequest> fs_setup;
  std::vector<MountRequest> mounts;
  std::map<std::string, std::string> aliases;  // device_aliases, as they were
  bool empty() const { return disk_setup.empty() && fs_setup.empty() && mounts.empty(); }
};

std::string pending_volumes_json(const PendingVolumes& pending);
/// nullopt when the text is not what pending_volumes_json wrote.
std::optional<PendingVolumes> parse_pending_volumes(const std::string& text);

/// `amiboot: {volumes: {...}}` in the image config.
struct VolumesSettings {
  /// How long to wait for a device that is not there yet (one deadline for
  /// all of them); also fstab's x-systemd.device-timeout.
  std::chrono::seconds device_timeout{30};
  /// cloud-init's default `[ephemeral0, /mnt]` entry gets this filesystem
  /// when the disk is blank; empty ("none") leaves a blank disk alone.
  std::string ephemeral_filesystem = "ext4";
};

/// The volumes keys of one document. nullopt when there are errors (in
/// `out`); absent keys give an empty config. Independent of image settings.
std::optional<VolumesConfig> decode_volumes(const Value& doc, Diagnostics& out);
/// From the merged image config (Facts::image_config).
VolumesSettings decode_volumes_settings(const Value& image_config, Diagnostics& out);

/// "1.5G", "512M", "2048" -> bytes (cloud-init's human2bytes).
std::optional<std::uint64_t> parse_size(const std::string& text);

}  // namespace amiboot
