// SPDX-License-Identifier: Apache-2.0
// The OS side of BlockDevices: device nodes under /dev, NVMe Identify through
// NVME_IOCTL_ADMIN_CMD, signatures through libblkid, /proc/self/mountinfo and
// /proc/swaps, sysfs (/sys/class/block), partition tables through libfdisk
// and filesystem superblocks. Reads only; formatting, partitioning and
// mounting are actions the executor carries out.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "modules/block_devices.h"

namespace amiboot {

struct MountInfoLine {
  MountedFs fs;  // target left empty
  std::string host_target;
};

/// /proc/self/mountinfo's text, split by hand (growpart reads it on every
/// boot). With `devno`, only the lines of that device.
std::vector<MountInfoLine> parse_mountinfo(std::string_view text, std::string_view devno = {});

class RealBlockDevices : public BlockDevices {
 public:
  /// `root`: the --root that mount points and free space are reported under;
  /// `dev_dir`: where device names ("/dev/sdf") are looked up; "" means no
  /// block device at all.
  explicit RealBlockDevices(const std::string& root = "/", std::string dev_dir = "/dev");

  std::optional<std::string> find(const std::string& dev_path) const override;
  std::optional<std::string> partition(const std::string& node, int number) const override;
  std::vector<std::string> nvme_namespaces() const override;
  Result<std::string> nvme_identify(const std::string& node) const override;
  Result<DeviceProbe> probe(const std::string& node) const override;
  std::optional<std::string> find_uuid(const std::string& uuid) const override;
  std::vector<MountedFs> mounts() const override;
  std::vector<std::string> active_swaps() const override;
  std::optional<std::uint64_t> memory_bytes() const override;
  std::optional<std::uint64_t> free_bytes(const std::string& path) const override;
  std::optional<MountedFs> filesystem_at(const std::string& path) const override;
  std::optional<SysBlock> sysfs_block(const std::string& name_or_devno) const override;
  std::vector<SysBlock> disk_partitions(const std::string& disk) const override;
  Result<PartitionTable> partition_table(const std::string& node) const override;
  std::optional<std::uint64_t> filesystem_bytes(const std::string& node,
                                                const std::string& type) const override;
  Clock::time_point now() const override;
  void sleep_for(std::chrono::milliseconds pause) const override;

 private:
  /// A host mount point as the instance sees it ("" when outside the root).
  std::string instance_target(const std::string& host_target) const;
  std::string m_root;  // canonical host path, "/" on an instance
  std::string m_dev_dir;
};

/// Where device names are looked up: "/dev" on an instance (root "/"). Under
/// any other --root (tests, image builds) the host's disks are none of the
/// image's business: "" (no devices), unless $AMIBOOT_TEST_DEV_DIR names a
/// folder of links such as sdf -> /dev/loop3 — how integration tests present
/// a loop device as /dev/sdf without touching the real /dev.
std::string block_device_dir(const std::string& root);

/// The size a filesystem's superblock gives (ext2/3/4: blocks count times
/// block size; xfs: data blocks times block size; btrfs: this device's
/// total bytes) from the device or image at `path`; nullopt for other types,
/// a wrong magic number or a read error.
std::optional<std::uint64_t> superblock_bytes(const std::string& path, const std::string& type);

}  // namespace amiboot
