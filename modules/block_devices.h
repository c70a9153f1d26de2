// SPDX-License-Identifier: Apache-2.0
// BlockDevices: what the volumes and growpart modules may learn about the
// instance's block devices while they plan. Reading only — waiting for a
// device is reading too — so plans stay values; the real implementation is
// agent/block_devices.*, the tests use a scripted fake.
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

/// A block device as sysfs describes it (/sys/class/block/NAME).
struct SysBlock {
  std::string name;        // "nvme0n1p1", "xvda1", "dm-0", "loop3"
  std::string devno;       // "259:1"
  std::uint64_t size = 0;  // bytes
  /// Its number when it is a partition ("partition"), else 0.
  int partition = 0;
  std::uint64_t start = 0;  // bytes from the start of its disk (partitions)
  std::string disk;         // the disk a partition belongs to ("nvme0n1")
  /// What a device-mapper device sits on ("nvme0n1p2"), from slaves/.
  std::vector<std::string> slaves;
  std::string dm_name;  // "cryptroot" for /dev/mapper/cryptroot
  std::string dm_uuid;  // "CRYPT-LUKS2-...", "LVM-..."
  bool read_only = false;
  bool operator==(const SysBlock&) const = default;
};

/// A partition table as libfdisk reads it; sectors are the table's.
struct PartitionTable {
  std::string type;  // "gpt", "dos"
  std::uint64_t sector_size = 512;
  std::uint64_t sectors = 0;  // the whole disk
  std::uint64_t first_usable = 0;
  /// The last sector a partition may use, with GPT's backup header at the
  /// end of the disk, where libfdisk moves it when it writes the table (on
  /// a disk that was enlarged it is not there yet).
  std::uint64_t last_usable = 0;
  struct Entry {
    int number = 0;  // 1-based, as in nvme0n1p1
    std::uint64_t start = 0;
    std::uint64_t size = 0;
    bool container = false;  // an MBR extended partition
    bool operator==(const Entry&) const = default;
  };
  std::vector<Entry> partitions;
  bool operator==(const PartitionTable&) const = default;
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

  /// The filesystem holding an instance path ("/", "/data"): the mount
  /// whose mount point is its longest prefix. `devno` is the block device's
  /// (btrfs reports an anonymous one in mountinfo), `target` its mount point.
  /// nullopt when none is found, or when this view sees no devices (a
  /// --root without AMIBOOT_TEST_DEV_DIR).
  virtual std::optional<MountedFs> filesystem_at(const std::string& path) const = 0;
  /// sysfs' view of a device, by name ("nvme0n1p1") or number ("259:1");
  /// nullopt when there is none (an overlay or tmpfs root has no device).
  virtual std::optional<SysBlock> sysfs_block(const std::string& name_or_devno) const = 0;
  /// The partitions the kernel knows on `disk` (a name), in any order.
  virtual std::vector<SysBlock> disk_partitions(const std::string& disk) const = 0;
  /// The partition table on the disk at `node`, read with libfdisk.
  virtual Result<PartitionTable> partition_table(const std::string& node) const = 0;
  /// The size the filesystem of type `type` on `node` says it has in its
  /// superblock (ext2/3/4, xfs, btrfs); nullopt for other types or when it
  /// cannot be read.
  virtual std::optional<std::uint64_t> filesystem_bytes(const std::string& node,
                                                        const std::string& type) const = 0;

  /// The clock that waiting for late devices runs on; a fake advances it.
  virtual Clock::time_point now() const = 0;
  virtual void sleep_for(std::chrono::milliseconds pause) const = 0;
};

}  // namespace amiboot
