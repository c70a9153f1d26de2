// SPDX-License-Identifier: Apache-2.0
// A scripted BlockDevices for volumes and growpart plan tests: device nodes,
// NVMe identify pages, probe results, sysfs, partition tables and
// superblock sizes are whatever the test puts in, and the clock only moves
// when the plan sleeps, so waiting costs no real time.
#pragma once

#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "modules/block_devices.h"
#include "modules/nvme_identify.h"

namespace amiboot::testing {

/// A 4096-byte Identify Controller page as a Nitro controller returns it.
inline std::string identify_page(std::uint16_t vendor_id, const std::string& serial,
                                 const std::string& model, const std::string& vendor_name) {
  std::string page(kNvmeIdentifySize, '\0');
  page[0] = static_cast<char>(vendor_id & 0xff);
  page[1] = static_cast<char>(vendor_id >> 8);
  auto put = [&](std::size_t at, std::size_t len, const std::string& text) {
    std::string field = text.substr(0, len);
    field.resize(len, ' ');
    page.replace(at, len, field);
  };
  put(4, 20, serial);
  put(24, 40, model);
  put(3072, 32, vendor_name);
  return page;
}

class FakeBlockDevices : public BlockDevices {
 public:
  /// Device path ("/dev/sdf", as looked up) -> node it resolves to.
  std::map<std::string, std::string> nodes;
  /// Device path -> (delay after the start, node): a device that attaches late.
  std::map<std::string, std::pair<std::chrono::milliseconds, std::string>> late;
  std::map<std::pair<std::string, int>, std::string> partitions;
  std::vector<std::string> namespaces;
  std::map<std::string, std::string> identify_pages;  // node -> page
  std::map<std::string, DeviceProbe> probes;          // node -> probe; absent = blank
  std::vector<MountedFs> mounted;
  /// Mounts that show up once the clock passes the delay (systemd's own).
  std::vector<std::pair<std::chrono::milliseconds, MountedFs>> late_mounted;
  std::vector<std::string> swaps;
  std::optional<std::uint64_t> memory;
  std::optional<std::uint64_t> free;
  /// sysfs by device name ("nvme0n1p1"); sysfs_block() also finds them by devno.
  std::map<std::string, SysBlock> sysfs;
  /// Mount point -> the filesystem mounted there, for filesystem_at().
  std::map<std::string, MountedFs> filesystems;
  std::map<std::string, PartitionTable> tables;      // disk node -> its table
  std::map<std::string, std::uint64_t> superblocks;  // node -> filesystem bytes
  mutable std::vector<std::string> probed;           // nodes probed, in order
  mutable std::vector<std::string> tables_read;      // partition_table() calls
  mutable std::chrono::milliseconds slept{0};

  std::optional<std::string> find(const std::string& dev_path) const override {
    if (auto it = nodes.find(dev_path); it != nodes.end()) {
      return it->second;
    }
    if (auto it = late.find(dev_path); it != late.end() && slept >= it->second.first) {
      return it->second.second;
    }
    return std::nullopt;
  }
  std::optional<std::string> partition(const std::string& node, int number) const override {
    auto it = partitions.find({node, number});
    return it == partitions.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
  std::vector<std::string> nvme_namespaces() const override { return namespaces; }
  Result<std::string> nvme_identify(const std::string& node) const override {
    auto it = identify_pages.find(node);
    if (it == identify_pages.end()) {
      return error("not an NVMe device");
    }
    return it->second;
  }
  Result<DeviceProbe> probe(const std::string& node) const override {
    probed.push_back(node);
    auto it = probes.find(node);
    return it == probes.end() ? DeviceProbe{} : it->second;
  }
  std::optional<std::string> find_uuid(const std::string& uuid) const override {
    for (const auto& [node, p] : probes) {
      if (p.uuid == uuid) {
        bool attached = false;
        for (const auto& [path, n] : nodes) {
          attached = attached || n == node;
        }
        for (const auto& [path, l] : late) {
          attached = attached || (l.second == node && slept >= l.first);
        }
        if (attached) {
          return node;
        }
      }
    }
    return std::nullopt;
  }
  std::vector<MountedFs> mounts() const override {
    std::vector<MountedFs> out = mounted;
    for (const auto& [at, m] : late_mounted) {
      if (slept >= at) {
        out.push_back(m);
      }
    }
    return out;
  }
  std::vector<std::string> active_swaps() const override { return swaps; }
  std::optional<std::uint64_t> memory_bytes() const override { return memory; }
  std::optional<std::uint64_t> free_bytes(const std::string&) const override { return free; }
  std::optional<MountedFs> filesystem_at(const std::string& path) const override {
    const MountedFs* best = nullptr;
    std::size_t best_length = 0;
    for (const auto& [target, fs] : filesystems) {
      bool holds = target == "/" || path == target || path.rfind(target + "/", 0) == 0;
      if (holds && (best == nullptr || target.size() > best_length)) {
        best = &fs;
        best_length = target.size();
      }
    }
    return best == nullptr ? std::nullopt : std::optional<MountedFs>(*best);
  }
  std::optional<SysBlock> sysfs_block(const std::string& id) const override {
    if (auto it = sysfs.find(id); it != sysfs.end()) {
      return it->second;
    }
    for (const auto& [name, b] : sysfs) {
      if (b.devno == id) {
        return b;
      }
    }
    return std::nullopt;
  }
  std::vector<SysBlock> disk_partitions(const std::string& disk) const override {
    std::vector<SysBlock> out;
    for (const auto& [name, b] : sysfs) {
      if (b.partition > 0 && b.disk == disk) {
        out.push_back(b);
      }
    }
    return out;
  }
  Result<PartitionTable> partition_table(const std::string& node) const override {
    tables_read.push_back(node);
    auto it = tables.find(node);
    if (it == tables.end()) {
      return error(node + " has no partition table libfdisk knows");
    }
    return it->second;
  }
  std::optional<std::uint64_t> filesystem_bytes(const std::string& node,
                                                const std::string&) const override {
    auto it = superblocks.find(node);
    return it == superblocks.end() ? std::nullopt : std::optional<std::uint64_t>(it->second);
  }
  Clock::time_point now() const override { return Clock::time_point{} + slept; }
  void sleep_for(std::chrono::milliseconds pause) const override { slept += pause; }

  /// A whole disk in sysfs.
  SysBlock& disk(const std::string& name, const std::string& devno, std::uint64_t bytes) {
    SysBlock& b = sysfs[name];
    b = SysBlock{};
    b.name = name;
    b.devno = devno;
    b.size = bytes;
    return b;
  }
  /// Partition `number` of `disk` in sysfs (bytes).
  SysBlock& partition_of(const std::string& disk, const std::string& name, const std::string& devno,
                         int number, std::uint64_t start, std::uint64_t bytes) {
    SysBlock& b = sysfs[name];
    b = SysBlock{};
    b.name = name;
    b.devno = devno;
    b.partition = number;
    b.start = start;
    b.size = bytes;
    b.disk = disk;
    return b;
  }

  /// A filesystem on `node` as libblkid would report it.
  void filesystem(const std::string& node, const std::string& type, const std::string& uuid,
                  const std::string& label = "") {
    probes[node] = DeviceProbe{
        false, type, type == "swap" ? "other" : "filesystem", uuid, label, "", false, ""};
  }
};

}  // namespace amiboot::testing
