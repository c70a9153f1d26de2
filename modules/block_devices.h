// BlockDevices: what the volumes module may learn about the instance's block
// devices while it plans. Reading only — waiting for a device is reading too —
// so plans stay values; the real implementation is agent/block_devices.*, the
// tests use a scripted fake.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/result.h"

namespace amiboot {

/// What libblkid finds on a device. `blank` is true only when no chain found
/// anything at all: no filesystem, partition table, RAID, LVM, swap, crypto.
struct DeviceProbe {
  bool blank = true;
  std::string type;   // "ext4", "xfs", "swap", "linux_raid_member", "LVM2_member"
  std::string usage;  // "filesystem", "raid", "crypto", "other" (swap is "other")
  std::string uuid;
  std::string label;
  std::string pttype;       // partition table: "dos", "gpt"; "" when none
  bool ambivalent = false;  // several signatures at once
  std::string devno;        // "259:1", to find it in mountinfo
  bool operator==(const DeviceProbe&) const = default;
};

/// One line of /proc/self/mountinfo.
struct MountedFs {
  std::string devno;   // "259:1"
  std::string source;  // "/dev/nvme1n1"
  /// The mount point as the instance sees it ("/data"); under --root, mounts
  /// outside the root have an empty target.
  std::string target;
  std::string fstype;
  bool operator==(const MountedFs&) const = default;
};

class BlockDevices {
 public:
  using Clock = std::chrono::steady_clock;

  virtual ~BlockDevices() = default;

  /// The block device at a device path such as "/dev/sdf" or
  /// "/dev/disk/by-label/data", symlinks followed, as its node path
  /// ("/dev/nvme1n1"); nullopt when absent or not a block device.
  virtual std::optional<std::string> find(const std::string& dev_path) const = 0;
  /// Partition `number` of the disk at `node` ("/dev/nvme1n1p1", "/dev/sdf1").
  virtual std::optional<std::string> partition(const std::string& node, int number) const = 0;
  /// NVMe namespaces ("/dev/nvme0n1", "/dev/nvme1n1", ...) as node paths, in
  /// controller order.
  virtual std::vector<std::string> nvme_namespaces() const = 0;
  /// The 4096 bytes of an NVMe Identify Controller command on `node`.
  virtual Result<std::string> nvme_identify(const std::string& node) const = 0;
  /// Every signature on `node` (libblkid superblocks and partitions).
  virtual Result<DeviceProbe> probe(const std::string& node) const = 0;
  /// The node of the device whose filesystem (or swap) has this UUID.
  virtual std::optional<std::string> find_uuid(const std::string& uuid) const = 0;
  virtual std::vector<MountedFs> mounts() const = 0;
  /// Paths of active swap areas as /proc/swaps lists them (host paths).
  virtual std::vector<std::string> active_swaps() const = 0;
  /// MemTotal in bytes; nullopt when unknown.
  virtual std::optional<std::uint64_t> memory_bytes() const = 0;
  /// Free bytes on the filesystem holding an instance path (or its nearest
  /// existing parent); nullopt when unknown.
  virtual std::optional<std::uint64_t> free_bytes(const std::string& path) const = 0;

  /// The clock that waiting for late devices runs on; a fake advances it.
  virtual Clock::time_point now() const = 0;
  virtual void sleep_for(std::chrono::milliseconds pause) const = 0;
};

}  // namespace amiboot
