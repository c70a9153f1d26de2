// volumes: cloud-init's `mounts`, `mount_default_fields`, `fs_setup`, `swap`
// and `device_aliases`, with device names resolved through the IMDS block
// device mapping and, on Nitro, NVMe Identify data (DESIGN.md section 7).
//
// Two rows in the module table: `volumes` (per instance) makes filesystems on
// blank devices, the swap file and the fstab entries, and mounts them;
// `mounts` (every boot) waits for the devices of amiboot's fstab entries and
// mounts whatever systemd could not (a volume that attached late).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "modules/block_devices.h"
#include "modules/fstab.h"
#include "modules/module.h"
#include "modules/nvme_identify.h"

namespace amiboot {

struct MountRequest {
  std::string spec;         // as written: "ebs1", "/dev/sdf", "ephemeral0.1", "server:/export"
  bool remove = false;      // `[spec]` or `[spec, null]`: no entry for spec, not even a default
  FstabEntry fields;        // file, type, options, freq, passno with the defaults applied
  bool is_default = false;  // cloud-init's built-in ephemeral0 -> /mnt and swap entries
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
  std::vector<MountRequest> mounts;  // the user's entries; defaults are added by the plan
  std::vector<std::optional<std::string>> default_fields;  // six, nullopt = none
  std::vector<FsSetupRequest> fs_setup;
  std::optional<SwapRequest> swap;
  std::map<std::string, std::string> aliases;  // device_aliases
};

/// `amiboot: {volumes: {...}}` in the image config.
struct VolumesSettings {
  /// How long to wait for a device that is not there yet (one deadline for
  /// all of them); also fstab's x-systemd.device-timeout.
  std::chrono::seconds device_timeout{30};
  /// cloud-init's default `[ephemeral0, /mnt]` entry gets this filesystem
  /// when the disk is blank; empty ("none") leaves a blank disk alone.
  std::string ephemeral_filesystem = "ext4";
};

/// nullopt when there are errors (in `out`). Absent keys give an empty config.
std::optional<VolumesConfig> decode_volumes(const Value& config, Diagnostics& out);
VolumesSettings decode_volumes_settings(const Value& config, Diagnostics& out);

/// Finds the node of a device named the cloud-init way.
class DeviceResolver {
 public:
  DeviceResolver(const Metadata& metadata, const std::map<std::string, std::string>& aliases,
                 const BlockDevices& blocks)
      : m_metadata(metadata), m_aliases(aliases), m_blocks(blocks) {}

  /// True for names this resolver turns into a device (ebs1, ephemeral0, sdf,
  /// xvdf1, /dev/...), false for what fstab takes as it is (LABEL=, UUID=,
  /// server:/export, tmpfs).
  bool is_device(const std::string& spec) const;

  /// The node (e.g. "/dev/nvme1n1") of `spec`, partition `partition` of it
  /// when non-zero. Polls until `deadline`; nullopt when it did not appear
  /// (`looked_for` then says where it looked). An error when the name cannot
  /// name a device at all (ebs3 when the mapping has no ebs3).
  Result<std::optional<std::string>> resolve(const std::string& spec, int partition,
                                             BlockDevices::Clock::time_point deadline,
                                             std::string* looked_for = nullptr);

 private:
  Result<std::optional<std::string>> resolve_once(const std::string& spec, int partition,
                                                  std::string& looked_for);
  std::optional<std::string> find_short_name(const std::string& name, std::string& looked_for);
  std::optional<std::string> find_instance_store(int index, std::string& looked_for);
  std::optional<NvmeIdentity> identify(const std::string& node);

  const Metadata& m_metadata;
  const std::map<std::string, std::string>& m_aliases;
  const BlockDevices& m_blocks;
  std::map<std::string, NvmeIdentity> m_identified;  // node -> non-blank identify data
};

/// A filesystem UUID derived from `seed`, so a plan says which UUID mkfs
/// will write (and fstab can name it) before anything runs.
std::string volume_uuid(const std::string& seed);

/// "1.5G", "512M", "2048" -> bytes (cloud-init's human2bytes).
std::optional<std::uint64_t> parse_size(const std::string& text);

/// cloud-init's suggested_swapsize: memory, capped by maxsize and by a
/// quarter (or 90 % with maxsize) of the free space.
std::uint64_t suggested_swap_size(std::uint64_t memory, std::optional<std::uint64_t> maxsize,
                                  std::optional<std::uint64_t> free_bytes);

void check_volumes(const Value& config, Diagnostics& out);
/// Per instance: filesystems, swap file, fstab, mount now.
PlanResult plan_volumes(const ModuleInput& input);
/// Every boot: wait for and mount amiboot's fstab entries that are not mounted.
PlanResult plan_mounts(const ModuleInput& input);

}  // namespace amiboot
