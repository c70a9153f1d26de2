// SPDX-License-Identifier: Apache-2.0
// Device names the cloud-init way, resolved to block device nodes: the
// block-device-mapping's meta names (ebsN, ephemeralN, swap, root),
// sdX/xvdX/vdX spellings, dotted partitions (ebs1.2), device_aliases, and on
// Nitro the NVMe Identify data that says which namespace a name is.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "agent/core/metadata.h"
#include "agent/core/result.h"
#include "modules/block_devices.h"
#include "modules/nvme_identify.h"

namespace amiboot {

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

  /// Partition `number` of the disk at `disk` will be `node` once the plan's
  /// partition table is written (disk_setup): found as if it were there.
  void plan_partition(const std::string& disk, int number, const std::string& node) {
    m_planned[{disk, number}] = node;
    m_settled.insert(disk);
  }
  /// The plan has looked at this disk's partition table and leaves it as it
  /// is: a partition it does not have is not waited for.
  void settle(const std::string& disk) { m_settled.insert(disk); }
  /// The last resolve() found the disk, settled, without the partition.
  bool settled_disk_without_partition() const {
    return !m_disk_without_partition.empty() && m_settled.count(m_disk_without_partition) > 0;
  }

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
  std::map<std::pair<std::string, int>, std::string> m_planned;
  std::set<std::string> m_settled;
  std::string m_disk_without_partition;  // the last resolve_once's, when that was the case
};

/// The kernel's name for partition `number` of the disk named `disk`:
/// nvme1n1p1 and loop3p1 (a name ending in a digit), sdf1, xvdf1.
std::string partition_device_name(const std::string& disk, int number);

/// One pause while polling for a device that is not there yet: the poll
/// interval, or until just past `deadline` when that comes first.
void pause_before_next_poll(const BlockDevices& blocks, BlockDevices::Clock::time_point deadline);

}  // namespace amiboot
