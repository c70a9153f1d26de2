// SPDX-License-Identifier: Apache-2.0
// growpart and resize_rootfs: decoding, and the plan that decides what grows.
#include "modules/growpart.h"

#include <algorithm>
#include <optional>
#include <set>

#include "agent/core/strings.h"
#include "modules/block_devices.h"
#include "modules/mounts.h"

namespace amiboot {

namespace {

void decode_growpart_key(const Value& g, GrowpartConfig& c, Decoder& d) {
  if (d.map(g, "growpart") == nullptr) {
    return;
  }
  d.unknown_keys(g, "growpart", {"mode", "devices", "ignore_growroot_disabled"});
  if (const Value* m = g.get("mode"); m != nullptr && !m->is_null()) {
    // YAML 1.1 (PyYAML, so cloud-init) reads an unquoted off as false.
    auto flag = m->as_bool();
    if (m->is_scalar() && (m->scalar == "auto" || m->scalar == "growpart")) {
      c.grow_partitions = true;
    } else if (m->is_scalar() && (m->scalar == "off" || flag == false)) {
      c.grow_partitions = false;
    } else if (m->is_scalar() && m->scalar == "gpart") {
      d.warning(*m, "growpart.mode",
                "gpart is FreeBSD's partition tool; on Linux cloud-init grows nothing with it, "
                "and neither does amiboot (use auto)");
      c.grow_partitions = false;
    } else {
      d.error(*m, "growpart.mode",
              "expected auto, growpart or off, got " +
                  (m->is_scalar() ? "'" + m->scalar + "'" : m->type_name()));
    }
  }
  if (const Value* list = g.get("devices"); list != nullptr && !list->is_null()) {
    if (d.list(*list, "growpart.devices") != nullptr) {
      c.devices.clear();
      for (std::size_t i = 0; i < list->items.size(); ++i) {
        std::string path = "growpart.devices[" + std::to_string(i) + "]";
        auto s = d.string(list->items[i], path);
        if (!s) {
          continue;
        }
        if (s->empty() || (*s)[0] != '/' || s->find("/../") != std::string::npos) {
          d.error(
              list->items[i], path,
              "expected a mount point such as / or a device such as /dev/xvdb1, got '" + *s + "'");
          continue;
        }
        c.devices.push_back(*s);
      }
    }
  }
  if (const Value* i = g.get("ignore_growroot_disabled"); i != nullptr && !i->is_null()) {
    c.ignore_growroot_disabled = d.boolean(*i, "growpart.ignore_growroot_disabled").value_or(false);
  }
}

struct Target {
  std::string spec;  // "/", "/data", "/dev/xvdb1"
  bool grow_partition = false;
  bool grow_filesystem = false;
};

class GrowPlanner {
 public:
  GrowPlanner(const Facts& facts) : m_facts(facts), m_blocks(*facts.blocks) {}

  void plan(const Target& t);
  PlanResult result() {
    std::string summary;
    for (const auto& s : m_summaries) {
      summary += (summary.empty() ? "" : "; ") + s;
    }
    m_result.summary = summary;
    return std::move(m_result);
  }

 private:
  struct Grown {
    std::uint64_t before = 0;  // bytes of the device the filesystem is on
    std::uint64_t after = 0;
  };
  std::optional<Grown> grow_partition(const Target& t, const SysBlock& part);
  void grow_filesystem(const Target& t, const MountedFs& fs, const SysBlock& dev,
                       std::optional<Grown> grown, std::string& summary);

  void warning(const std::string& path, std::string message) {
    m_result.diagnostics.push_back(
        Diagnostic{Diagnostic::Severity::Warning, {}, path, std::move(message)});
  }

  const Facts& m_facts;
  const BlockDevices& m_blocks;
  std::set<std::string> m_seen;  // devices already planned for
  std::vector<std::string> m_summaries;
  PlanResult m_result;
};

// The partition `part` grown to the end of its disk or up to the next
// partition: a GrowPartition, when there is at least 1 MiB to gain. The
// kernel's numbers (sysfs) decide first, so a boot with nothing to gain
// never opens the disk.
std::optional<GrowPlanner::Grown> GrowPlanner::grow_partition(const Target& t,
                                                              const SysBlock& part) {
  auto disk = m_blocks.sysfs_block(part.disk);
  if (!disk) {
    return std::nullopt;
  }
  std::uint64_t limit = disk->size;
  for (const auto& other : m_blocks.disk_partitions(part.disk)) {
    if (other.name != part.name && other.start > part.start) {
      limit = std::min(limit, other.start);
    }
  }
  // A GPT keeps its backup (33 sectors of 512 bytes) after the last
  // partition: the kernel sees that much more than a table would give.
  constexpr std::uint64_t kGptBackupBytes = 33 * 512;
  std::uint64_t end = part.start + part.size;
  if (limit < end + kGrowMinimumBytes + kGptBackupBytes) {
    return std::nullopt;
  }
  std::string disk_node = "/dev/" + disk->name;
  std::string what =
      part.name + " (partition " + std::to_string(part.partition) + " of " + disk_node + ")";
  if (disk->read_only) {
    warning("growpart", t.spec + ": " + disk_node + " is read-only; " + what + " not grown");
    return std::nullopt;
  }
  auto table = m_blocks.partition_table(disk_node);
  if (!table) {
    warning("growpart", t.spec + ": cannot read the partition table of " + disk_node + ": " +
                            table.error().message + "; " + what + " not grown");
    return std::nullopt;
  }
  if (table->type != "gpt" && table->type != "dos") {
    warning("growpart", t.spec + ": " + disk_node + " has a " + table->type +
                            " partition table; amiboot grows partitions in GPT and MBR tables");
    return std::nullopt;
  }
  const std::uint64_t ss = table->sector_size;
  auto entry =
      std::find_if(table->partitions.begin(), table->partitions.end(),
                   [&](const PartitionTable::Entry& e) { return e.number == part.partition; });
  if (entry == table->partitions.end() || entry->start * ss != part.start) {
    warning("growpart", t.spec + ": the partition table of " + disk_node +
                            " does not match what the kernel uses for " + part.name + "; " + what +
                            " not grown");
    return std::nullopt;
  }
  if (table->type == "dos" && (entry->container || entry->number > 4)) {
    warning("growpart", t.spec + ": " + what +
                            " is an extended or logical MBR partition; amiboot grows primary "
                            "partitions only");
    return std::nullopt;
  }
  std::uint64_t max_end = table->last_usable;
  for (const auto& other : table->partitions) {
    if (other.number != entry->number && other.start > entry->start) {
      max_end = std::min(max_end, other.start - 1);
    }
  }
  if (table->type == "dos") {
    max_end = std::min<std::uint64_t>(max_end, entry->start + 0xffffffffull - 1);  // 32-bit sizes
  }
  std::uint64_t new_size =
      max_end >= entry->start + entry->size ? max_end - entry->start + 1 : entry->size;
  std::uint64_t kernel_size = part.size / ss;
  if ((new_size - entry->size) * ss < kGrowMinimumBytes) {
    if (entry->size <= kernel_size) {
      return std::nullopt;
    }
    // Grown in the table before, and the kernel never told.
    new_size = entry->size;
  }
  m_result.actions.push_back(GrowPartition{.disk = disk_node,
                                           .number = entry->number,
                                           .table = table->type,
                                           .sector_size = ss,
                                           .start = entry->start,
                                           .old_size = entry->size,
                                           .new_size = new_size,
                                           .label = "growpart " + t.spec});
  return Grown{part.size, new_size * ss};
}

void GrowPlanner::grow_filesystem(const Target& t, const MountedFs& fs, const SysBlock& dev,
                                  std::optional<Grown> grown, std::string& summary) {
  if (fs.target.empty()) {
    return;  // mounted outside the --root: not the target's
  }
  std::string node = "/dev/" + dev.name;
  std::uint64_t device_bytes = grown ? grown->after : dev.size;
  if (!grown) {
    // A partition grown on an earlier boot whose filesystem did not follow,
    // or a filesystem made smaller than its device: cloud-init's resizefs
    // grows it whenever it runs.
    auto fs_bytes = m_blocks.filesystem_bytes(node, fs.fstype);
    if (!fs_bytes || device_bytes < *fs_bytes + kGrowMinimumBytes) {
      return;
    }
  }
  std::string on = fs.fstype + " on " + fs.target;
  RunCommand grow;
  if (fs.fstype == "ext2" || fs.fstype == "ext3" || fs.fstype == "ext4") {
    grow = RunCommand{{"resize2fs", node}, ""};
  } else if (fs.fstype == "xfs") {
    grow = RunCommand{{"xfs_growfs", "-d"}, ""};
    grow.target_path(fs.target);
  } else if (fs.fstype == "btrfs") {
    grow = RunCommand{{"btrfs", "filesystem", "resize", "max"}, ""};
    grow.target_path(fs.target);
  } else {
    warning("resize_rootfs", t.spec + ": cannot grow " + on +
                                 " (amiboot grows ext2, ext3, ext4, xfs and btrfs); it keeps its "
                                 "size");
    return;
  }
  if (!m_facts.system.has_program(grow.argv[0])) {
    warning("resize_rootfs",
            t.spec + ": " + grow.argv[0] + " is not installed; " + on + " keeps its size");
    return;
  }
  grow.needs_mounted_root = true;
  grow.label =
      grow.argv[0] + " " +
      (fs.fstype == "ext2" || fs.fstype == "ext3" || fs.fstype == "ext4" ? node : fs.target) +
      " (" + on + ", " + node + ": " + size_text(device_bytes) + ")";
  m_result.actions.push_back(grow);
  summary += std::string(summary.empty() ? t.spec + ": " : ", ") + fs.fstype +
             " grown online to fill " + size_text(device_bytes);
}

void GrowPlanner::plan(const Target& t) {
  std::optional<MountedFs> fs;
  std::optional<SysBlock> dev;
  bool listed_device = t.spec.rfind("/dev/", 0) == 0;
  if (listed_device) {
    auto node = m_blocks.find(t.spec);
    if (!node) {
      warning("growpart", t.spec + " does not exist; not grown");
      return;
    }
    dev = m_blocks.sysfs_block(node->substr(node->rfind('/') + 1));
    if (dev) {
      for (const auto& m : m_blocks.mounts()) {
        if (m.devno == dev->devno && !m.target.empty()) {
          fs = m;
          break;
        }
      }
    }
  } else {
    fs = m_blocks.filesystem_at(t.spec);
    if (fs) {
      dev = m_blocks.sysfs_block(fs->devno);
    }
  }
  if (!dev) {
    // An overlay, tmpfs or network root, or no view of the devices (a
    // --root): nothing that could grow.
    return;
  }
  if (!m_seen.insert(dev->name).second) {
    return;
  }
  // Device-mapper (LUKS, LVM) on a partition: the partition is below it.
  SysBlock part = *dev;
  bool mapped = !dev->slaves.empty();
  if (mapped) {
    if (dev->slaves.size() != 1) {
      if (t.grow_partition) {
        warning("growpart", t.spec + ": " + dev->name + " sits on " +
                                std::to_string(dev->slaves.size()) +
                                " devices; amiboot grows the partition under a device that "
                                "sits on one");
      }
      return;
    }
    auto lower = m_blocks.sysfs_block(dev->slaves.front());
    if (!lower) {
      return;
    }
    part = *lower;
  }
  std::string summary;
  std::optional<Grown> grown;
  if (t.grow_partition && part.partition > 0) {
    grown = grow_partition(t, part);
    if (grown) {
      summary = t.spec + ": " + part.name + " grown from " + size_text(grown->before) + " to " +
                size_text(grown->after);
    }
  }
  if (grown && mapped) {
    std::string type = dev->dm_uuid.substr(0, dev->dm_uuid.find('-'));
    std::string what = "/dev/mapper/" + dev->dm_name;
    if (type == "CRYPT" && m_facts.system.has_program("cryptsetup")) {
      RunCommand resize{
          {"cryptsetup", "resize", dev->dm_name},
          "cryptsetup resize " + dev->dm_name + " (" + what + " on " + part.name + ")"};
      resize.needs_mounted_root = true;  // the host's device mapper
      m_result.actions.push_back(resize);
      grown = Grown{dev->size, dev->size + (grown->after - grown->before)};
    } else if (type == "LVM" && m_facts.system.has_program("pvresize")) {
      RunCommand resize{{"pvresize", "/dev/" + part.name}, "pvresize /dev/" + part.name};
      resize.needs_mounted_root = true;  // the host's LVM
      m_result.actions.push_back(resize);
      warning("growpart", t.spec + ": the LVM physical volume /dev/" + part.name +
                              " grew; its logical volumes (" + what +
                              ") keep their size: extend them with lvextend");
      m_summaries.push_back(summary);
      return;
    } else {
      warning("growpart", t.spec + ": " + part.name + " grew, but " + what + " (" +
                              (type.empty() ? "device-mapper" : type) +
                              ") above it was not "
                              "resized; the filesystem keeps its size");
      m_summaries.push_back(summary);
      return;
    }
  }
  if (t.grow_filesystem && fs) {
    grow_filesystem(t, *fs, *dev, grown, summary);
  } else if (grown && fs && !t.grow_filesystem) {
    summary += ", the filesystem keeps its size (resize_rootfs: false)";
  }
  if (!summary.empty()) {
    m_summaries.push_back(summary);
  }
}

}  // namespace

GrowpartConfig decode_growpart(const Value& doc, Diagnostics& out) {
  Decoder d(out);
  GrowpartConfig c;
  if (const Value* g = doc.get("growpart"); g != nullptr && !g->is_null()) {
    decode_growpart_key(*g, c, d);
  }
  if (const Value* r = doc.get("resize_rootfs"); r != nullptr && !r->is_null()) {
    if (r->is_scalar() && r->scalar == "noblock") {
      c.resize_filesystems = true;
    } else {
      auto b = r->as_bool();
      if (!b) {
        d.error(*r, "resize_rootfs",
                "expected true, false or noblock, got " +
                    (r->is_scalar() ? "'" + r->scalar + "'" : r->type_name()));
      }
      c.resize_filesystems = b.value_or(true);
    }
  }
  return c;
}

PlanResult plan_growpart(const GrowpartConfig& config, const Facts& facts) {
  if (facts.blocks == nullptr) {
    return {};
  }
  bool disabled =
      !config.ignore_growroot_disabled && facts.system.path_exists(kGrowrootDisabledPath);
  bool partitions = config.grow_partitions && !disabled;
  std::vector<Target> targets;
  bool root_listed = false;
  for (const auto& spec : config.devices) {
    std::string s = without_trailing_slashes(spec);
    root_listed = root_listed || s == "/";
    targets.push_back({s, partitions, config.resize_filesystems});
  }
  // cloud-init's resizefs grows the root filesystem on its own, whatever
  // growpart does.
  if (!root_listed) {
    targets.push_back({"/", false, config.resize_filesystems});
  }
  GrowPlanner planner(facts);
  for (const auto& t : targets) {
    if (t.grow_partition || t.grow_filesystem) {
      planner.plan(t);
    }
  }
  PlanResult result = planner.result();
  if (disabled && config.grow_partitions && !result.actions.empty()) {
    result.summary += "; partitions not grown: " + std::string(kGrowrootDisabledPath) + " exists";
  }
  return result;
}

}  // namespace amiboot
