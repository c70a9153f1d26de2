// SPDX-License-Identifier: Apache-2.0
// The `volumes` row (per instance): plans filesystems on blank devices, the
// swap file, amiboot's /etc/fstab entries and mounting them now.
#include "modules/volumes.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "agent/core/strings.h"
#include "modules/lanes.h"

namespace amiboot {

namespace {

using Clock = BlockDevices::Clock;

constexpr std::uint64_t kMiB = 1ull << 20;
constexpr std::uint64_t kGiB = 1ull << 30;

bool has_option(const std::string& options, std::string_view name) {
  std::size_t start = 0;
  while (start <= options.size()) {
    std::size_t comma = options.find(',', start);
    std::string_view opt = std::string_view(options).substr(
        start, (comma == std::string::npos ? options.size() : comma) - start);
    if (opt == name || (opt.size() > name.size() && opt.substr(0, name.size()) == name &&
                        opt[name.size()] == '=')) {
      return true;
    }
    if (comma == std::string::npos) {
      break;
    }
    start = comma + 1;
  }
  return false;
}

// Every entry for a device gets nofail (a missing volume must never stop the
// boot) and a device timeout (systemd waits 90 s by default).
std::string device_options(std::string options, std::chrono::seconds timeout) {
  if (options.empty()) {
    options = "defaults";
  }
  if (!has_option(options, "nofail")) {
    options += ",nofail";
  }
  if (!has_option(options, "x-systemd.device-timeout")) {
    options += ",x-systemd.device-timeout=" + std::to_string(timeout.count()) + "s";
  }
  return options;
}

Diagnostic make_error(const Position& pos, const std::string& path, std::string message) {
  return Diagnostic{Diagnostic::Severity::Error, pos, path, std::move(message)};
}

Diagnostic make_warning(const Position& pos, const std::string& path, std::string message) {
  return Diagnostic{Diagnostic::Severity::Warning, pos, path, std::move(message)};
}

std::string wait_summary(Clock::duration waited, std::chrono::seconds bound,
                         const std::vector<std::string>& absent, const PendingVolumes& pending) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(waited).count();
  if (absent.empty() && ms < 100) {
    return "";
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ms) / 1000);
  std::string out =
      std::string("waited ") + buf + " for devices (at most " + seconds_text(bound) + ")";
  if (!absent.empty()) {
    out += "; not attached: ";
    for (std::size_t i = 0; i < absent.size(); ++i) {
      out += (i > 0 ? ", " : "") + absent[i];
    }
  }
  if (!pending.empty()) {
    out += "; pending until they are: ";
    std::string names;
    for (const auto& r : pending.disk_setup) {
      names += (names.empty() ? "" : ", ") + r.path;
    }
    for (const auto& r : pending.fs_setup) {
      names += (names.empty() ? "" : ", ") + r.path;
    }
    for (const auto& r : pending.mounts) {
      names += (names.empty() ? "" : ", ") + r.path;
    }
    out += names;
  }
  return out;
}

struct FsInfo {
  std::string type;
  std::string uuid;
};

// The key a pending fs_setup entry leaves for the mounts entries of the
// same device: "ebs2", "ebs2.1" (fs_setup's partition: 1).
std::string device_key(const std::string& device, const std::string& partition) {
  return all_digits(partition) ? device + "." + partition : device;
}

class VolumesPlanner {
 public:
  /// `pending`: a later boot's look at the entries an earlier one left
  /// pending (`config` holds only those): no defaults, and amiboot's other
  /// fstab entries stay as they are.
  VolumesPlanner(const Facts& facts, const VolumesConfig& config, const VolumesSettings& settings,
                 Clock::time_point deadline, bool pending)
      : m_in(facts),
        m_config(config),
        m_settings(settings),
        m_blocks(*facts.blocks),
        m_resolver(facts.metadata, config.aliases, *facts.blocks),
        m_started(m_blocks.now()),
        m_deadline(deadline),
        m_pending_mode(pending),
        m_mounts(m_blocks.mounts()),
        m_swaps(m_blocks.active_swaps()) {
    m_pending.aliases = config.aliases;
  }

  PlanResult plan();
  /// Names of the entries still pending after this plan ("ebs2").
  const PendingVolumes& pending() const { return m_pending; }

 private:
  /// The node of `spec`, waiting until the deadline when `wait`. When it
  /// did not appear, `absent` (if given) says so, with where it looked.
  std::optional<std::string> resolve(const std::string& spec, int partition, bool wait,
                                     const Position& pos, const std::string& path,
                                     std::string* absent = nullptr);
  void late_mount(const MountRequest& r, const std::string& absent);
  void add_owned(OwnedFstabEntry entry);
  std::optional<DeviceProbe> probe(const std::string& node, const Position& pos,
                                   const std::string& path);
  std::string in_use(const DeviceProbe& p, const std::string& node) const;
  void disk_setup(const DiskSetupRequest& r);
  bool layout_matches(const std::string& node, const std::string& label,
                      const std::vector<PartitionSpec>& layout) const;
  std::string disk_in_use(const DeviceProbe& p, const std::string& node) const;
  void fs_setup(const FsSetupRequest& r);
  bool plan_mkfs(const std::string& node, const std::string& fs, const std::string& label,
                 bool force, const std::vector<std::string>& extra, const std::string& seed,
                 const std::string& what, const Position& pos, const std::string& path);
  void mount(const MountRequest& r);
  void keep_previous(const MountRequest& r);
  void swap_file(const SwapRequest& r);
  std::optional<int> foreign_conflict(const FstabEntry& e, const std::string& node) const;

  void error(const Position& pos, const std::string& path, std::string message) {
    m_result.diagnostics.push_back(make_error(pos, path, std::move(message)));
  }
  void warning(const Position& pos, const std::string& path, std::string message) {
    m_result.diagnostics.push_back(make_warning(pos, path, std::move(message)));
  }

  const Facts& m_in;
  const VolumesConfig& m_config;
  const VolumesSettings& m_settings;
  const BlockDevices& m_blocks;
  DeviceResolver m_resolver;
  Clock::time_point m_started;
  Clock::time_point m_deadline;
  bool m_pending_mode;
  std::vector<MountedFs> m_mounts;
  std::vector<std::string> m_swaps;
  ParsedFstab m_fstab;
  std::map<std::string, FsInfo> m_filesystems;  // node -> filesystem there or planned
  std::set<std::string> m_targets;              // mount points of our entries so far
  std::vector<Action> m_partition;
  /// disk node -> the nodes of the partitions this plan's table will have
  std::map<std::string, std::vector<std::string>> m_partitioned;
  std::set<std::string> m_fresh;  // those partition nodes: blank by construction
  std::vector<Action> m_mkfs;
  std::vector<Action> m_swapfile;
  std::vector<Action> m_mount;
  std::vector<OwnedFstabEntry> m_owned;
  PendingVolumes m_pending;
  std::set<std::string> m_pending_devices;  // device_key()s of pending fs_setup entries
  std::vector<std::string> m_absent;        // what did not appear, for the summary
  PlanResult m_result;
};

std::optional<std::string> VolumesPlanner::resolve(const std::string& spec, int partition,
                                                   bool wait, const Position& pos,
                                                   const std::string& path, std::string* absent) {
  std::string looked_for;
  auto started = m_blocks.now();
  auto found = m_resolver.resolve(spec, partition, wait ? m_deadline : started, &looked_for);
  if (!found) {
    error(pos, path, found.error().message);
    return std::nullopt;
  }
  if (!*found && m_resolver.settled_disk_without_partition()) {
    // disk_setup looked at this disk and left its table as it is.
    error(pos, path,
          spec + ": " + looked_for + " does not exist (disk_setup left the disk as it is)");
    return std::nullopt;
  }
  if (!*found && wait) {
    std::string what =
        partition > 0 ? "partition " + std::to_string(partition) + " of " + spec : spec;
    if (std::find(m_absent.begin(), m_absent.end(), what) == m_absent.end()) {
      m_absent.push_back(what);
    }
    std::string message = what + " did not appear within " +
                          seconds_text(m_settings.device_timeout) + " (looked for " + looked_for +
                          ")";
    if (absent != nullptr) {
      *absent = message;
    } else {
      warning(pos, path, message);
    }
  }
  return *found;
}

std::optional<DeviceProbe> VolumesPlanner::probe(const std::string& node, const Position& pos,
                                                 const std::string& path) {
  auto p = m_blocks.probe(node);
  if (!p) {
    error(pos, path, "cannot probe " + node + ": " + p.error().message);
    return std::nullopt;
  }
  return *p;
}

// Never format what the system is using, whatever `overwrite` says.
std::string VolumesPlanner::in_use(const DeviceProbe& p, const std::string& node) const {
  for (const auto& m : m_mounts) {
    if ((!p.devno.empty() && m.devno == p.devno) || m.source == node) {
      return "it is mounted" + (m.target.empty() ? std::string() : " at " + m.target);
    }
  }
  if (std::find(m_swaps.begin(), m_swaps.end(), node) != m_swaps.end()) {
    return "it is in use as swap";
  }
  return "";
}

bool VolumesPlanner::plan_mkfs(const std::string& node, const std::string& fs,
                               const std::string& label, bool force,
                               const std::vector<std::string>& extra, const std::string& seed,
                               const std::string& what, const Position& pos,
                               const std::string& path) {
  std::string program = mkfs_program(fs);
  if (!m_in.system.has_program(program)) {
    error(pos, path, "cannot create " + fs + " on " + what + ": " + program + " is not installed");
    return false;
  }
  std::string uuid = volume_uuid(m_in.metadata.instance_id + "\n" + seed);
  RunCommand mkfs{mkfs_argv(fs, label, uuid, force, extra, node), program + " on " + what};
  // A failed mkfs must not leave fstab naming a UUID that does not exist.
  mkfs.required = true;
  mkfs.needs_mounted_root = true;
  m_mkfs.push_back(mkfs);
  m_filesystems[node] = FsInfo{fs, uuid};
  return true;
}

bool VolumesPlanner::layout_matches(const std::string& node, const std::string& label,
                                    const std::vector<PartitionSpec>& layout) const {
  auto table = m_blocks.partition_table(node);
  if (!table || table->type != label || table->partitions.size() != layout.size()) {
    return false;
  }
  const std::uint64_t ss = table->sector_size;
  for (std::size_t i = 0; i < layout.size(); ++i) {
    const auto& have = table->partitions[i];
    if (have.number != static_cast<int>(i + 1) || have.start * ss != layout[i].start ||
        (layout[i].size != 0 && have.size * ss != layout[i].size)) {
      return false;
    }
  }
  return true;
}

// The disk, or any partition of it, mounted or used as swap.
std::string VolumesPlanner::disk_in_use(const DeviceProbe& p, const std::string& node) const {
  if (std::string busy = in_use(p, node); !busy.empty()) {
    return busy;
  }
  std::string name = node.substr(node.rfind('/') + 1);
  for (const auto& part : m_blocks.disk_partitions(name)) {
    DeviceProbe probe;
    probe.devno = part.devno;
    if (std::string busy = in_use(probe, "/dev/" + part.name); !busy.empty()) {
      return "its partition " + part.name + busy.substr(2);  // "it is mounted ..."
    }
  }
  return "";
}

void VolumesPlanner::disk_setup(const DiskSetupRequest& r) {
  if (r.layout.empty()) {
    return;  // layout: false, cloud-init's default
  }
  std::string absent;
  auto node = resolve(r.device, 0, true, r.pos, r.path, &absent);
  if (!node) {
    if (!absent.empty()) {
      m_pending.disk_setup.push_back(r);
      warning(r.pos, r.path, absent + "; left pending, looked at again on every boot");
    }
    return;
  }
  std::string what = r.device + " (" + *node + ")";
  std::string name = node->substr(node->rfind('/') + 1);
  auto sys = m_blocks.sysfs_block(name);
  if (!sys || sys->size == 0) {
    error(r.pos, r.path, "cannot read the size of " + what);
    return;
  }
  if (sys->partition > 0) {
    error(r.pos, r.path, what + " is a partition; disk_setup partitions whole disks");
    return;
  }
  auto layout = layout_partitions(r, sys->size);
  if (!layout) {
    error(r.pos, r.path, layout.error().message + " (" + what + ")");
    return;
  }
  auto p = probe(*node, r.pos, r.path);
  if (!p) {
    return;
  }
  std::string label = fdisk_label_name(r.table_type);
  if (!p->blank) {
    // Done before (a second run, a volume from a snapshot): as asked.
    if (p->pttype == label && layout_matches(*node, label, *layout)) {
      m_resolver.settle(*node);
      return;
    }
    if (!r.overwrite) {
      m_resolver.settle(*node);
      warning(r.pos, r.path,
              "left " + what + " as it is: it carries " + describe_probe(*p) +
                  "; overwrite: true destroys it");
      return;
    }
    if (std::string busy = disk_in_use(*p, *node); !busy.empty()) {
      error(r.pos, r.path, "refusing to partition " + what + ": " + busy);
      return;
    }
  }
  m_partition.push_back(MakePartitionTable{.disk = *node,
                                           .table = label,
                                           .partitions = *layout,
                                           .overwrite = !p->blank,
                                           .label = "disk_setup " + r.device});
  auto& nodes = m_partitioned[*node];
  for (std::size_t i = 0; i < layout->size(); ++i) {
    std::string part = "/dev/" + partition_device_name(name, static_cast<int>(i + 1));
    m_resolver.plan_partition(*node, static_cast<int>(i + 1), part);
    m_fresh.insert(part);
    nodes.push_back(part);
  }
}

void VolumesPlanner::fs_setup(const FsSetupRequest& r) {
  int partition = all_digits(r.partition) ? std::stoi(r.partition) : 0;
  std::string absent;
  auto node = resolve(r.device, partition, true, r.pos, r.path, &absent);
  if (!node) {
    if (!absent.empty()) {
      // A volume attached after the boot (Terraform's aws_volume_attachment,
      // a lifecycle hook): its filesystem is made on a later boot.
      m_pending.fs_setup.push_back(r);
      m_pending_devices.insert(device_key(r.device, r.partition));
      warning(r.pos, r.path, absent + "; left pending, looked at again on every boot");
    }
    return;
  }
  if (auto planned = m_partitioned.find(*node); planned != m_partitioned.end()) {
    // A disk this plan partitions: cloud-init's auto and any mean its first
    // partition; none would destroy the new table.
    if (r.partition == "none") {
      error(r.pos, r.path,
            "disk_setup partitions " + r.device +
                "; partition: none would make the filesystem "
                "on the whole disk, over its new partition table");
      return;
    }
    partition = 1;
    node = planned->second.front();
  }
  std::string what = (partition > 0 ? "partition " + std::to_string(partition) + " of " : "") +
                     r.device + " (" + *node + ")";
  if (auto planned = m_filesystems.find(*node); planned != m_filesystems.end()) {
    if (planned->second.type != r.filesystem) {
      error(r.pos, r.path,
            "an earlier fs_setup entry already creates " + planned->second.type + " on " + what);
    }
    return;
  }
  // A partition this plan makes is blank by construction (and not there yet).
  auto p = m_fresh.count(*node) > 0 ? std::optional<DeviceProbe>(DeviceProbe{})
                                    : probe(*node, r.pos, r.path);
  if (!p) {
    return;
  }
  // Already done (a second run, or a volume restored from a snapshot).
  bool label_matters = r.partition != "any" && !r.label.empty();
  if (has_filesystem(*p) && p->pttype.empty() && p->type == r.filesystem &&
      (!label_matters || p->label == r.label) && !r.overwrite) {
    m_filesystems[*node] = FsInfo{p->type, p->uuid};
    return;
  }
  if (!p->blank && !r.overwrite) {
    if (!p->pttype.empty() && r.partition != "none") {
      error(r.pos, r.path,
            "refusing to create " + r.filesystem + " on " + what + ": it carries " +
                describe_probe(*p) +
                "; amiboot does not create partitions (name one with partition: N), and "
                "overwrite: true destroys the whole disk");
    } else {
      error(r.pos, r.path,
            "refusing to create " + r.filesystem + " on " + what + ": it carries " +
                describe_probe(*p) + "; set overwrite: true to destroy it");
    }
    return;
  }
  if (std::string busy = in_use(*p, *node); !busy.empty()) {
    error(r.pos, r.path, "refusing to create " + r.filesystem + " on " + what + ": " + busy);
    return;
  }
  plan_mkfs(*node, r.filesystem, r.label, r.overwrite, r.extra_opts,
            r.path + "\n" + r.device + "\n" + r.partition + "\n" + r.filesystem, what, r.pos,
            r.path);
}

// An entry that already mounts the same place or device is the image's or
// the operator's: leave it be (cloud-init does the same).
std::optional<int> VolumesPlanner::foreign_conflict(const FstabEntry& e,
                                                    const std::string& node) const {
  for (const auto& line : m_fstab.foreign) {
    if (!line.entry) {
      continue;
    }
    const FstabEntry& f = *line.entry;
    bool same_target =
        e.file != "none" && without_trailing_slashes(f.file) == without_trailing_slashes(e.file);
    // "tmpfs" or "none" name no particular source; paths, UUID= and
    // server:/export do.
    bool names_a_source = e.spec.find_first_of("/=:") != std::string::npos;
    bool same_source = (names_a_source && f.spec == e.spec) || (!node.empty() && f.spec == node);
    if (same_target || same_source) {
      return line.number;
    }
  }
  return std::nullopt;
}

void VolumesPlanner::keep_previous(const MountRequest& r) {
  if (m_pending_mode) {
    return;  // every entry amiboot owns is kept already
  }
  // A device that is missing now but was seen on an earlier run keeps its
  // entry: the entry came from a real filesystem and nofail protects the boot.
  for (const auto& o : m_fstab.owned) {
    if (o.name == r.spec && o.entry.file == r.fields.file) {
      m_owned.push_back(o);
      m_targets.insert(without_trailing_slashes(o.entry.file));
      return;
    }
  }
}

// An entry replaces the one amiboot had for the same name and mount point.
void VolumesPlanner::add_owned(OwnedFstabEntry entry) {
  std::erase_if(m_owned, [&](const OwnedFstabEntry& o) {
    return o.name == entry.name &&
           without_trailing_slashes(o.entry.file) == without_trailing_slashes(entry.entry.file);
  });
  m_owned.push_back(std::move(entry));
}

// The device of a mounts entry did not appear in time. A device path gets
// its fstab line as cloud-init writes it (the name as written, nofail and a
// device timeout): systemd mounts it whenever it is attached. A name that
// needs resolving (ebs2, or sdh on Nitro, where only amiboot knows which
// NVMe namespace it is) or a filesystem made first stays pending.
void VolumesPlanner::late_mount(const MountRequest& r, const std::string& absent) {
  bool device_path = r.spec.rfind("/dev/", 0) == 0;
  if (device_path && m_pending_devices.count(r.spec) == 0) {
    FstabEntry entry = r.fields;
    entry.spec = r.spec;
    entry.options = device_options(entry.options, m_settings.device_timeout);
    bool swap = entry.type == "swap";
    if (swap) {
      entry.file = "none";
    }
    if (auto line = foreign_conflict(entry, r.spec); line) {
      warning(r.pos, r.path,
              absent + "; /etc/fstab line " + std::to_string(*line) + " already has " +
                  (swap ? r.spec : entry.file));
      return;
    }
    add_owned({r.spec, entry});
    if (!swap) {
      m_targets.insert(without_trailing_slashes(entry.file));
    }
    warning(r.pos, r.path,
            absent + "; its fstab line names " + r.spec +
                " (nofail), so it is mounted when it "
                "is attached");
    return;
  }
  m_pending.mounts.push_back(r);
  keep_previous(r);
  warning(r.pos, r.path, absent + "; left pending, looked at again on every boot");
}

void VolumesPlanner::mount(const MountRequest& r) {
  FstabEntry entry = r.fields;
  std::string target = without_trailing_slashes(entry.file);
  if (entry.file != "none" && m_targets.count(target) > 0) {
    error(r.pos, r.path, "another mounts entry already mounts " + entry.file);
    return;
  }
  if (!m_resolver.is_device(r.spec)) {
    // LABEL=, UUID=, server:/export, tmpfs: fstab takes them as written.
    entry.spec = r.spec;
    if (auto line = foreign_conflict(entry, ""); line) {
      warning(r.pos, r.path,
              "/etc/fstab line " + std::to_string(*line) + " already has " + entry.file +
                  "; leaving it to that entry");
      return;
    }
    add_owned({r.spec, entry});
    m_targets.insert(target);
    if (entry.type != "swap" && entry.file != "none" && !is_mounted_at(m_mounts, entry.file)) {
      auto actions = mount_actions(r.spec, entry, r.spec);
      m_mount.insert(m_mount.end(), actions.begin(), actions.end());
    }
    return;
  }
  std::string absent;
  auto node = resolve(r.spec, 0, !r.is_default, r.pos, r.path, &absent);
  if (!node) {
    if (!absent.empty()) {
      late_mount(r, absent);
    } else if (!r.is_default) {
      keep_previous(r);
    }
    return;
  }
  if (m_pending_devices.count(r.spec) > 0) {
    // Its fs_setup entry missed it by a moment: both wait for the next boot.
    late_mount(r, r.spec + " appeared after its fs_setup entry was looked at");
    return;
  }
  std::string what = r.spec + " (" + *node + ")";
  FsInfo info;
  if (auto planned = m_filesystems.find(*node); planned != m_filesystems.end()) {
    info = planned->second;
  } else if (m_fresh.count(*node) > 0) {
    error(r.pos, r.path,
          what +
              " is a partition disk_setup makes, with no filesystem; add an fs_setup entry "
              "for it (device: " +
              r.spec + ")");
    return;
  } else {
    auto p = probe(*node, r.pos, r.path);
    if (!p) {
      keep_previous(r);
      return;
    }
    if (has_filesystem(*p) && p->pttype.empty()) {
      info = FsInfo{p->type, p->uuid};
    } else if (r.is_default && p->blank && r.spec == "ephemeral0" &&
               !m_settings.ephemeral_filesystem.empty()) {
      // cloud-init's default mounts entry for the instance's first ephemeral
      // disk is only useful with a filesystem; a blank disk cannot hold data.
      if (!plan_mkfs(*node, m_settings.ephemeral_filesystem, "ephemeral0", false, {},
                     "mounts default ephemeral0", what, r.pos, r.path)) {
        return;
      }
      info = m_filesystems[*node];
    } else if (r.is_default) {
      return;
    } else if (p->blank) {
      error(r.pos, r.path,
            what + " has no filesystem to mount; add an fs_setup entry for it (device: " + r.spec +
                ")");
      return;
    } else {
      error(r.pos, r.path,
            what + " carries " + describe_probe(*p) + ", not a filesystem amiboot can mount" +
                (p->pttype.empty() ? "" : "; name a partition instead (" + r.spec + ".1)"));
      return;
    }
  }
  entry.spec = "UUID=" + info.uuid;
  bool swap = info.type == "swap" || entry.type == "swap";
  if (swap) {
    entry.file = "none";
    entry.type = "swap";
  }
  entry.options = device_options(entry.options, m_settings.device_timeout);
  if (auto line = foreign_conflict(entry, *node); line) {
    warning(r.pos, r.path,
            "/etc/fstab line " + std::to_string(*line) + " already has " +
                (swap ? *node : entry.file) + "; leaving it to that entry");
    return;
  }
  add_owned({r.spec, entry});
  if (swap) {
    if (std::find(m_swaps.begin(), m_swaps.end(), *node) == m_swaps.end()) {
      m_mount.push_back(swapon_action(*node, r.spec));
    }
    return;
  }
  m_targets.insert(target);
  if (!is_mounted_at(m_mounts, entry.file)) {
    auto actions = mount_actions(*node, entry, r.spec);
    m_mount.insert(m_mount.end(), actions.begin(), actions.end());
  }
}

void VolumesPlanner::swap_file(const SwapRequest& r) {
  if (r.size == 0 && !r.auto_size) {
    return;
  }
  // nofail: a swap file that could not be made must not fail the next boot.
  FstabEntry entry{r.filename, "none", "swap", "sw,nofail", "0", "0"};
  if (m_in.system.path_exists(r.filename)) {
    // cloud-init too keeps an existing file: it may be in use.
  } else {
    std::uint64_t size = r.size;
    if (r.auto_size) {
      auto memory = m_blocks.memory_bytes();
      if (!memory) {
        warning(r.pos, "swap", "cannot read the memory size; no swap file");
        return;
      }
      std::string dir = r.filename.substr(0, std::max<std::size_t>(r.filename.rfind('/'), 1));
      size = suggested_swap_size(*memory, r.maxsize, m_blocks.free_bytes(dir));
    }
    std::uint64_t mib = size / kMiB;
    if (mib == 0) {
      warning(r.pos, "swap", "the swap size comes to less than 1 MiB; no swap file");
      return;
    }
    // Created empty with mode 0600 first, so the swap space is never
    // readable by others, not even for a moment. Required: fallocate must
    // only ever act on the file this made (under --root, inside the root).
    WriteFile file{r.filename, "", 0600, "root", false, "swap file"};
    file.required = true;
    m_swapfile.push_back(file);
    RunCommand allocate{{"fallocate", "-l", std::to_string(mib) + "M"},
                        "fallocate swap file " + r.filename};
    allocate.required = true;
    m_swapfile.push_back(allocate.target_path(r.filename));
    RunCommand mkswap{{"mkswap"}, "mkswap " + r.filename};
    mkswap.required = true;
    m_swapfile.push_back(mkswap.target_path(r.filename));
  }
  if (auto line = foreign_conflict(entry, ""); line) {
    return;
  }
  m_owned.push_back({"swap file", entry});
  if (std::find(m_swaps.begin(), m_swaps.end(), r.filename) == m_swaps.end()) {
    m_swapfile.push_back(swapon_action(r.filename, "swap file"));
  }
}

// No config, no default entry from the mapping and no fstab entry of amiboot's.
bool nothing_to_look_at(const VolumesConfig& config, const Facts& facts) {
  const auto& mapping = facts.metadata.block_device_mapping;
  bool defaults = mapping.count("ephemeral0") > 0 || mapping.count("swap") > 0;
  return config.mounts.empty() && config.fs_setup.empty() && config.disk_setup.empty() &&
         !config.swap && !defaults &&
         parse_fstab(facts.system.read_text(kFstabPath).value_or("")).owned.empty();
}

// The user's entries (amiboot's default options completed), then cloud-init's defaults for names
// the mapping has and the user did not mention.
std::vector<MountRequest> mount_requests(const VolumesConfig& config,
                                         const VolumesSettings& settings, const Metadata& metadata,
                                         bool pending_mode) {
  std::vector<MountRequest> out = config.mounts;
  for (auto& r : out) {
    if (r.default_options) {
      r.fields.options = device_options(r.fields.options, settings.device_timeout);
    }
  }
  if (pending_mode) {
    return out;
  }
  std::set<std::string> named;
  for (const auto& r : config.mounts) {
    named.insert(r.spec == "ephemeral" ? "ephemeral0" : r.spec);
  }
  const auto& mapping = metadata.block_device_mapping;
  if (mapping.count("ephemeral0") > 0 && named.count("ephemeral0") == 0) {
    MountRequest r;
    r.spec = "ephemeral0";
    // cloud-init's fixed default, whatever mount_default_fields says.
    r.fields = FstabEntry{"", "/mnt", "auto", "defaults", "0", "2"};
    r.is_default = true;
    r.path = "mounts (default ephemeral0)";
    out.push_back(r);
  }
  if (mapping.count("swap") > 0 && named.count("swap") == 0) {
    MountRequest r;
    r.spec = "swap";
    r.fields = FstabEntry{"", "none", "swap", "sw", "0", "0"};
    r.is_default = true;
    r.path = "mounts (default swap)";
    out.push_back(r);
  }
  return out;
}

PlanResult VolumesPlanner::plan() {
  m_result.apply_with_errors = true;
  std::string current = m_in.system.read_text(kFstabPath).value_or("");
  m_fstab = parse_fstab(current);
  if (m_pending_mode) {
    std::set<std::string> pending_names;
    for (const auto& r : m_config.mounts) {
      pending_names.insert(r.spec);
    }
    m_owned = m_fstab.owned;
    for (const auto& o : m_owned) {
      if (pending_names.count(o.name) == 0 && o.entry.type != "swap") {
        m_targets.insert(without_trailing_slashes(o.entry.file));
      }
    }
  }
  for (const auto& r : m_config.disk_setup) {
    disk_setup(r);
  }
  for (const auto& r : m_config.fs_setup) {
    fs_setup(r);
  }
  for (const auto& r : mount_requests(m_config, m_settings, m_in.metadata, m_pending_mode)) {
    if (!r.remove) {
      mount(r);
    }
  }
  if (m_config.swap) {
    swap_file(*m_config.swap);
  }
  auto& actions = m_result.actions;
  // What is left for a later boot, first: a failed mkfs below stops the
  // rest of the actions, never the record of what is still to do.
  std::string pending_path = pending_volumes_path(m_in);
  if (!m_pending.empty()) {
    std::string json = pending_volumes_json(m_pending);
    if (m_in.system.read_text(pending_path) != json) {
      actions.push_back(WriteFile{pending_path, json, 0600, "root", false, "pending volumes"});
    }
  } else if (m_in.system.path_exists(pending_path)) {
    actions.push_back(RemoveFile{pending_path, "pending volumes"});
  }
  // Order matters: a failed mkfs (required) stops everything after it, so
  // fstab never names a UUID that does not exist; the swap file comes last,
  // its required steps stopping only what is left of it.
  actions.insert(actions.end(), m_partition.begin(), m_partition.end());
  actions.insert(actions.end(), m_mkfs.begin(), m_mkfs.end());
  std::string merged = merge_fstab(current, m_owned);
  if (merged != current) {
    actions.push_back(WriteFile{kFstabPath, merged, 0644, "root", false, "fstab"});
  }
  actions.insert(actions.end(), m_mount.begin(), m_mount.end());
  actions.insert(actions.end(), m_swapfile.begin(), m_swapfile.end());
  m_result.summary =
      wait_summary(m_blocks.now() - m_started, m_settings.device_timeout, m_absent, m_pending);
  // For the lanes (modules/lanes.h): the fstab and the pending record, the
  // mount points and the swap file; the devices it partitions and formats
  // are no other row's (their plans never name /dev).
  m_result.footprint =
      PlanFootprint{{kFstabPath, pending_path}, action_paths(actions), mount_points(actions)};
  return std::move(m_result);
}

}  // namespace

std::uint64_t suggested_swap_size(std::uint64_t memory, std::optional<std::uint64_t> maxsize,
                                  std::optional<std::uint64_t> free_bytes) {
  std::uint64_t max = memory * 2;
  if (free_bytes) {
    if (!maxsize) {
      max = std::min(*free_bytes / 4, memory * 2);
    } else {
      max = std::min<std::uint64_t>(*maxsize, static_cast<std::uint64_t>(*free_bytes * 0.9));
    }
  } else if (maxsize) {
    max = *maxsize;
  }
  std::uint64_t min;
  if (memory < 4 * kGiB) {
    min = memory;
  } else if (memory < 16 * kGiB) {
    min = 4 * kGiB;
  } else {
    // round(sqrt(GiB)) GiB, as cloud-init; counted up instead of std::sqrt
    // so that the binary needs no libm: n is the rounded root while
    // (n + 0.5)^2 <= GiB.
    const double gib = static_cast<double>(memory) / kGiB;
    std::uint64_t n = 4;
    while ((n + 0.5) * (n + 0.5) <= gib) {
      ++n;
    }
    min = n * kGiB;
  }
  return std::min(min, max);
}

std::string pending_volumes_path(const Facts& facts) {
  return facts.instance_dir() + "/volumes-pending.json";
}

PlanResult plan_pending_volumes(const PendingVolumes& pending, const VolumesSettings& settings,
                                const Facts& facts, BlockDevices::Clock::time_point deadline) {
  VolumesConfig config;
  config.disk_setup = pending.disk_setup;
  config.fs_setup = pending.fs_setup;
  config.mounts = pending.mounts;
  config.aliases = pending.aliases;
  VolumesPlanner planner(facts, config, settings, deadline, true);
  return planner.plan();
}

std::optional<PlanFootprint> volumes_reach(const VolumesConfig& config, const Facts& facts) {
  if (nothing_to_look_at(config, facts)) {
    return std::nullopt;
  }
  // The fstab, the pending record and amiboot's fstab entries as they are,
  // as for the mounts row; then what the config may add. The devices are no
  // other row's (no plan names /dev), so which ones appear does not matter.
  PlanFootprint reach = mounts_reach({}, facts);
  for (const auto& r : mount_requests(config, VolumesSettings{}, facts.metadata, false)) {
    const std::string& file = r.fields.file;
    if (!r.remove && r.fields.type != "swap" && !file.empty() && file[0] == '/') {
      reach.applied.push_back(file);
      reach.mounts.push_back(file);
    }
  }
  if (config.swap) {
    reach.applied.push_back(config.swap->filename);
  }
  return reach;
}

PlanResult plan_volumes(const VolumesConfig& config, const Facts& facts) {
  PlanResult result;
  result.footprint = PlanFootprint{{kFstabPath}, {}, {}};  // until the planner has looked
  VolumesSettings settings = decode_volumes_settings(facts.image_config, result.diagnostics);
  if (has_errors(result.diagnostics)) {
    return result;
  }
  if (nothing_to_look_at(config, facts)) {
    return result;  // the common boot
  }
  if (facts.blocks == nullptr) {
    result.diagnostics.push_back(make_error({}, "", "internal error: no view of block devices"));
    return result;
  }
  VolumesPlanner planner(facts, config, settings, facts.blocks->now() + settings.device_timeout,
                         false);
  PlanResult planned = planner.plan();
  planned.diagnostics.insert(planned.diagnostics.begin(), result.diagnostics.begin(),
                             result.diagnostics.end());
  return planned;
}

}  // namespace amiboot
