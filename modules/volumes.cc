#include "modules/volumes.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace amiboot {

namespace {

using Clock = BlockDevices::Clock;

constexpr std::uint64_t kMiB = 1ull << 20;
constexpr std::uint64_t kGiB = 1ull << 30;
constexpr auto kPollInterval = std::chrono::milliseconds(100);
constexpr auto kSettle = std::chrono::milliseconds(1500);
const char* const kFstab = "/etc/fstab";

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Names the block device mapping uses: ami, root, swap, ephemeralN, ebsN.
bool is_meta_name(std::string_view name) {
  if (name == "ami" || name == "root" || name == "swap") {
    return true;
  }
  for (std::string_view prefix : {"ephemeral", "ebs"}) {
    if (name.substr(0, prefix.size()) == prefix && all_digits(name.substr(prefix.size()))) {
      return true;
    }
  }
  return false;
}

// sdf, xvdf, vdb, hda, each with optional partition digits (sda1).
struct ShortName {
  std::string prefix;  // "sd", "xvd", "vd", "hd"
  std::string disk;    // "f"
  std::string part;    // "1" or ""
};

std::optional<ShortName> parse_short_name(std::string_view name) {
  if (name.substr(0, 5) == "/dev/") {
    name.remove_prefix(5);
  }
  for (std::string_view prefix : {"xvd", "sd", "vd", "hd"}) {
    if (name.substr(0, prefix.size()) != prefix) {
      continue;
    }
    std::string_view rest = name.substr(prefix.size());
    std::size_t letters = 0;
    while (letters < rest.size() && rest[letters] >= 'a' && rest[letters] <= 'z') {
      ++letters;
    }
    std::string_view digits = rest.substr(letters);
    if (letters == 0 || (!digits.empty() && !all_digits(digits))) {
      return std::nullopt;
    }
    return ShortName{std::string(prefix), std::string(rest.substr(0, letters)),
                     std::string(digits)};
  }
  return std::nullopt;
}

// "ebs1.2" -> ("ebs1", 2), as cloud-init's expand_dotted_devname.
std::pair<std::string, int> split_dotted(const std::string& name) {
  std::size_t dot = name.rfind('.');
  if (name.empty() || name[0] == '/' || dot == std::string::npos ||
      !all_digits(std::string_view(name).substr(dot + 1)) || name.size() - dot > 4) {
    return {name, 0};
  }
  return {name.substr(0, dot), std::stoi(name.substr(dot + 1))};
}

std::string seconds_text(std::chrono::seconds s) {
  return std::to_string(s.count()) + " s";
}

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

std::string describe_probe(const DeviceProbe& p) {
  if (p.ambivalent) {
    return "several conflicting signatures";
  }
  std::string out;
  if (p.usage == "filesystem") {
    out = "a filesystem (" + p.type + (p.label.empty() ? "" : ", label '" + p.label + "'") + ")";
  } else if (p.type == "swap") {
    out = "a swap area";
  } else if (p.usage == "raid") {
    out = "a RAID or LVM member signature (" + p.type + ")";
  } else if (!p.type.empty()) {
    out = "a " + p.type + " signature";
  }
  if (!p.pttype.empty()) {
    out += (out.empty() ? "" : " and ") + std::string("a partition table (") + p.pttype + ")";
  }
  return out.empty() ? "an unknown signature" : out;
}

bool has_filesystem(const DeviceProbe& p) {
  return !p.ambivalent && !p.uuid.empty() && (p.usage == "filesystem" || p.type == "swap");
}

const std::vector<std::string_view> kFilesystems = {"ext2", "ext3", "ext4", "xfs", "btrfs", "swap"};

std::string mkfs_program(const std::string& fs) {
  return fs == "swap" ? "mkswap" : "mkfs." + fs;
}

// mkfs with the UUID chosen at plan time, so the fstab entry is known before
// the filesystem exists.
std::vector<std::string> mkfs_argv(const std::string& fs, const std::string& label,
                                   const std::string& uuid, bool force,
                                   const std::vector<std::string>& extra, const std::string& node) {
  std::vector<std::string> argv = {mkfs_program(fs)};
  if (!label.empty()) {
    argv.insert(argv.end(), {"-L", label});
  }
  bool ext = fs.rfind("ext", 0) == 0;
  if (force) {
    argv.push_back(ext ? "-F" : "-f");
  }
  // Only blank devices get here (or ones being overwritten): discarding every
  // block first can take minutes on a large instance-store disk.
  if (ext) {
    argv.insert(argv.end(), {"-E", "nodiscard"});
  } else if (fs == "xfs" || fs == "btrfs") {
    argv.push_back("-K");
  }
  if (fs == "xfs") {
    argv.insert(argv.end(), {"-m", "uuid=" + uuid});
  } else {
    argv.insert(argv.end(), {"-U", uuid});
  }
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(node);
  return argv;
}

std::string strip_slashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') {
    path.pop_back();
  }
  return path;
}

bool is_mounted(const std::vector<MountedFs>& mounts, const std::string& target) {
  std::string t = strip_slashes(target);
  return std::any_of(mounts.begin(), mounts.end(),
                     [&](const MountedFs& m) { return !m.target.empty() && m.target == t; });
}

std::vector<Action> mount_actions(const std::string& source, const FstabEntry& e,
                                  const std::string& name) {
  std::vector<Action> out;
  RunCommand mkdir{{"mkdir", "-p", "{root}" + e.file}, "mkdir " + e.file + " for " + name};
  mkdir.map_root = true;
  out.push_back(mkdir);
  std::vector<std::string> argv = {"mount"};
  if (!e.type.empty() && e.type != "auto") {
    argv.insert(argv.end(), {"-t", e.type});
  }
  argv.insert(argv.end(), {"-o", e.options, source, "{root}" + e.file});
  RunCommand mount{argv, "mount " + name + " (" + source + ") at " + e.file};
  mount.map_root = true;
  out.push_back(mount);
  return out;
}

RunCommand swapon_action(const std::string& what, const std::string& name) {
  RunCommand r{{"swapon", what}, "swapon " + name + " (" + what + ")"};
  // Never on the machine that runs a sandboxed test or an image build.
  r.skip_under_root = true;
  return r;
}

Diagnostic make_error(const Position& pos, const std::string& path, std::string message) {
  return Diagnostic{Diagnostic::Severity::Error, pos, path, std::move(message)};
}

Diagnostic make_warning(const Position& pos, const std::string& path, std::string message) {
  return Diagnostic{Diagnostic::Severity::Warning, pos, path, std::move(message)};
}

// --- decoding ------------------------------------------------------------------

// cloud-init's own examples write Python's None; YAML reads it as the
// string "None", which then landed in fstab. Here it means null.
std::optional<std::string> field_text(const Value& v, const std::string& path, Decoder& d) {
  if (v.is_null() || (v.is_scalar() && v.plain && v.scalar == "None")) {
    return std::nullopt;
  }
  return d.string(v, path);
}

void decode_mounts(const Value& config, VolumesConfig& out, Decoder& d) {
  const Value* list = config.get("mounts");
  if (list == nullptr || list->is_null() || d.list(*list, "mounts") == nullptr) {
    return;
  }
  for (std::size_t i = 0; i < list->items.size(); ++i) {
    const Value& item = list->items[i];
    std::string path = "mounts[" + std::to_string(i) + "]";
    if (!item.is_sequence()) {
      d.error(item, path,
              "expected a list such as [ephemeral0, /mnt, auto, defaults, \"0\", \"2\"], got " +
                  item.type_name());
      continue;
    }
    if (item.items.empty() || item.items.size() > 6) {
      d.error(item, path,
              "expected 1 to 6 fields (device, mount point, type, options, freq, passno), got " +
                  std::to_string(item.items.size()));
      continue;
    }
    std::vector<std::optional<std::string>> fields(6);
    bool ok = true;
    for (std::size_t f = 0; f < item.items.size(); ++f) {
      const Value& v = item.items[f];
      if (!v.is_null() && !v.is_scalar()) {
        d.error(v, path + "[" + std::to_string(f) + "]", "expected a string, got " + v.type_name());
        ok = false;
        continue;
      }
      fields[f] = field_text(v, path + "[" + std::to_string(f) + "]", d);
    }
    if (!ok) {
      continue;
    }
    if (!fields[0] || fields[0]->empty()) {
      d.error(item, path, "the first field must name a device");
      continue;
    }
    MountRequest r;
    r.spec = *fields[0];
    r.pos = item.pos;
    r.path = path;
    // cloud-init fills missing and null fields from mount_default_fields.
    auto pick = [&](std::size_t f) { return fields[f] ? fields[f] : out.default_fields[f]; };
    auto file = pick(1);
    if (!file) {
      r.remove = true;
    } else {
      if (*file != "none" && (file->empty() || (*file)[0] != '/')) {
        d.error(item.items.size() > 1 ? item.items[1] : item, path + "[1]",
                "expected an absolute mount point or none, got '" + *file + "'");
        continue;
      }
      r.fields.file = *file;
    }
    r.fields.type = pick(2).value_or("auto");
    r.fields.options = pick(3).value_or("defaults");
    r.fields.freq = pick(4).value_or("0");
    r.fields.passno = pick(5).value_or("2");
    out.mounts.push_back(std::move(r));
  }
}

void decode_default_fields(const Value& config, const VolumesSettings& settings, VolumesConfig& out,
                           Decoder& d) {
  out.default_fields = {std::nullopt, std::nullopt,
                        "auto",       device_options("defaults", settings.device_timeout),
                        "0",          "2"};
  const Value* list = config.get("mount_default_fields");
  if (list == nullptr || list->is_null() || d.list(*list, "mount_default_fields") == nullptr) {
    return;
  }
  if (list->items.size() > 6) {
    d.error(*list, "mount_default_fields",
            "expected at most 6 fields, got " + std::to_string(list->items.size()));
    return;
  }
  for (std::size_t f = 0; f < list->items.size(); ++f) {
    const Value& v = list->items[f];
    std::string path = "mount_default_fields[" + std::to_string(f) + "]";
    if (!v.is_null() && !v.is_scalar()) {
      d.error(v, path, "expected a string or null, got " + v.type_name());
      continue;
    }
    out.default_fields[f] = field_text(v, path, d);
  }
}

void decode_fs_setup(const Value& config, VolumesConfig& out, Decoder& d) {
  const Value* list = config.get("fs_setup");
  if (list == nullptr || list->is_null() || d.list(*list, "fs_setup") == nullptr) {
    return;
  }
  for (std::size_t i = 0; i < list->items.size(); ++i) {
    const Value& item = list->items[i];
    std::string path = "fs_setup[" + std::to_string(i) + "]";
    if (d.map(item, path) == nullptr) {
      continue;
    }
    d.unknown_keys(item, path,
                   {"label", "filesystem", "device", "partition", "overwrite", "replace_fs",
                    "extra_opts", "cmd"});
    FsSetupRequest r;
    r.pos = item.pos;
    r.path = path;
    if (const Value* c = item.get("cmd"); c != nullptr && !c->is_null()) {
      d.error(*c, path + ".cmd",
              "amiboot does not run fs_setup shell commands; use filesystem and extra_opts");
      continue;
    }
    if (const Value* v = item.get("replace_fs"); v != nullptr && !v->is_null()) {
      d.warning(*v, path + ".replace_fs", "not supported; ignored (see overwrite)");
    }
    const Value* dev = item.get("device");
    if (dev == nullptr || dev->is_null()) {
      d.error(item, path, "missing required key 'device'");
      continue;
    }
    if (auto s = d.string(*dev, path + ".device")) {
      r.device = *s;
    }
    const Value* fs = item.get("filesystem");
    if (fs == nullptr || fs->is_null()) {
      d.error(item, path, "missing required key 'filesystem'");
      continue;
    }
    if (auto s = d.string(*fs, path + ".filesystem")) {
      r.filesystem = *s;
      if (std::find(kFilesystems.begin(), kFilesystems.end(), *s) == kFilesystems.end()) {
        d.error(*fs, path + ".filesystem",
                "expected one of ext2, ext3, ext4, xfs, btrfs, swap; got '" + *s + "'");
      }
    }
    if (const Value* l = item.get("label"); l != nullptr && !l->is_null()) {
      if (auto s = d.string(*l, path + ".label")) {
        r.label = *s;
        std::size_t max = r.filesystem == "xfs" ? 12 : r.filesystem == "btrfs" ? 255 : 16;
        if (r.label.size() > max) {
          d.error(*l, path + ".label",
                  r.filesystem + " labels hold at most " + std::to_string(max) + " bytes, got " +
                      std::to_string(r.label.size()));
        }
      }
    }
    if (const Value* p = item.get("partition"); p != nullptr && !p->is_null()) {
      if (auto s = d.string(*p, path + ".partition")) {
        if (*s == "auto" || *s == "any" || *s == "none" ||
            (all_digits(*s) && s->size() < 4 && std::stoi(*s) > 0)) {
          r.partition = *s;
        } else {
          d.error(*p, path + ".partition",
                  "expected auto, any, none or a partition number, got '" + *s + "'");
        }
      }
    }
    if (const Value* o = item.get("overwrite"); o != nullptr && !o->is_null()) {
      r.overwrite = d.boolean(*o, path + ".overwrite").value_or(false);
    }
    if (const Value* e = item.get("extra_opts"); e != nullptr && !e->is_null()) {
      if (e->is_sequence()) {
        for (std::size_t k = 0; k < e->items.size(); ++k) {
          if (auto s = d.string(e->items[k], path + ".extra_opts[" + std::to_string(k) + "]")) {
            r.extra_opts.push_back(*s);
          }
        }
      } else if (auto s = d.string(*e, path + ".extra_opts")) {
        // A string is split on blanks; it never reaches a shell.
        std::size_t at = 0;
        while (at < s->size()) {
          std::size_t start = s->find_first_not_of(" \t", at);
          if (start == std::string::npos) {
            break;
          }
          std::size_t end = s->find_first_of(" \t", start);
          r.extra_opts.push_back(s->substr(start, end - start));
          at = end == std::string::npos ? s->size() : end;
        }
      }
      for (const auto& opt : r.extra_opts) {
        if (opt == "-U" || opt.find("uuid=") != std::string::npos) {
          d.error(*e, path + ".extra_opts",
                  "amiboot sets the filesystem UUID itself (its fstab entry names it); remove '" +
                      opt + "'");
          break;
        }
      }
    }
    out.fs_setup.push_back(std::move(r));
  }
}

std::optional<std::uint64_t> decode_size(const Value& v, const std::string& path, Decoder& d) {
  auto s = d.string(v, path);
  if (!s) {
    return std::nullopt;
  }
  auto bytes = parse_size(*s);
  if (!bytes) {
    d.error(v, path, "expected a size such as 2147483648, \"2G\" or \"512M\", got '" + *s + "'");
  }
  return bytes;
}

void decode_swap(const Value& config, VolumesConfig& out, Decoder& d) {
  const Value* swap = config.get("swap");
  if (swap == nullptr || swap->is_null() || d.map(*swap, "swap") == nullptr) {
    return;
  }
  d.unknown_keys(*swap, "swap", {"filename", "size", "maxsize"});
  SwapRequest r;
  r.pos = swap->pos;
  if (const Value* f = swap->get("filename"); f != nullptr && !f->is_null()) {
    if (auto s = d.string(*f, "swap.filename")) {
      if (s->empty() || (*s)[0] != '/' || s->find("/../") != std::string::npos ||
          s->back() == '/') {
        d.error(*f, "swap.filename", "expected an absolute file path, got '" + *s + "'");
      }
      r.filename = *s;
    }
  }
  if (const Value* s = swap->get("size"); s != nullptr && !s->is_null()) {
    if (s->is_scalar() && s->scalar == "auto") {
      r.auto_size = true;
    } else if (auto bytes = decode_size(*s, "swap.size", d)) {
      r.size = *bytes;
    }
  }
  if (const Value* m = swap->get("maxsize"); m != nullptr && !m->is_null()) {
    r.maxsize = decode_size(*m, "swap.maxsize", d);
  }
  out.swap = r;
}

void decode_aliases(const Value& config, VolumesConfig& out, Decoder& d) {
  const Value* map = config.get("device_aliases");
  if (map == nullptr || map->is_null() || d.map(*map, "device_aliases") == nullptr) {
    return;
  }
  for (const auto& e : map->entries) {
    if (auto s = d.string(e.value, "device_aliases." + e.key)) {
      out.aliases[e.key] = *s;
    }
  }
}

// --- planning --------------------------------------------------------------------

struct FsInfo {
  std::string type;
  std::string uuid;
};

class VolumesPlanner {
 public:
  VolumesPlanner(const ModuleInput& input, const VolumesConfig& config,
                 const VolumesSettings& settings)
      : m_in(input),
        m_config(config),
        m_settings(settings),
        m_blocks(*input.blocks),
        m_resolver(input.metadata, config.aliases, *input.blocks),
        m_deadline(m_blocks.now() + settings.device_timeout),
        m_mounts(m_blocks.mounts()),
        m_swaps(m_blocks.active_swaps()) {}

  PlanResult plan();

 private:
  std::optional<std::string> resolve(const std::string& spec, int partition, bool wait,
                                     const Position& pos, const std::string& path);
  std::optional<DeviceProbe> probe(const std::string& node, const Position& pos,
                                   const std::string& path);
  std::string in_use(const DeviceProbe& p, const std::string& node) const;
  void fs_setup(const FsSetupRequest& r);
  bool plan_mkfs(const std::string& node, const std::string& fs, const std::string& label,
                 bool force, const std::vector<std::string>& extra, const std::string& seed,
                 const std::string& what, const Position& pos, const std::string& path);
  void mount(const MountRequest& r);
  void keep_previous(const MountRequest& r);
  void swap_file(const SwapRequest& r);
  std::optional<int> foreign_conflict(const FstabEntry& e, const std::string& node) const;
  std::vector<MountRequest> requests() const;

  void error(const Position& pos, const std::string& path, std::string message) {
    m_result.diagnostics.push_back(make_error(pos, path, std::move(message)));
  }
  void warning(const Position& pos, const std::string& path, std::string message) {
    m_result.diagnostics.push_back(make_warning(pos, path, std::move(message)));
  }

  const ModuleInput& m_in;
  const VolumesConfig& m_config;
  const VolumesSettings& m_settings;
  const BlockDevices& m_blocks;
  DeviceResolver m_resolver;
  Clock::time_point m_deadline;
  std::vector<MountedFs> m_mounts;
  std::vector<std::string> m_swaps;
  ParsedFstab m_fstab;
  std::map<std::string, FsInfo> m_filesystems;  // node -> filesystem there or planned
  std::set<std::string> m_targets;              // mount points of our entries so far
  std::vector<Action> m_mkfs;
  std::vector<Action> m_swapfile;
  std::vector<Action> m_mount;
  std::vector<OwnedFstabEntry> m_owned;
  PlanResult m_result;
};

std::optional<std::string> VolumesPlanner::resolve(const std::string& spec, int partition,
                                                   bool wait, const Position& pos,
                                                   const std::string& path) {
  std::string looked_for;
  auto started = m_blocks.now();
  auto found = m_resolver.resolve(spec, partition, wait ? m_deadline : started, &looked_for);
  if (!found) {
    error(pos, path, found.error().message);
    return std::nullopt;
  }
  if (!*found && wait) {
    std::string what =
        partition > 0 ? "partition " + std::to_string(partition) + " of " + spec : spec;
    error(pos, path,
          what + " did not appear within " + seconds_text(m_settings.device_timeout) +
              " (looked for " + looked_for + ")");
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
  m_mkfs.push_back(mkfs);
  m_filesystems[node] = FsInfo{fs, uuid};
  return true;
}

void VolumesPlanner::fs_setup(const FsSetupRequest& r) {
  int partition = all_digits(r.partition) ? std::stoi(r.partition) : 0;
  auto node = resolve(r.device, partition, true, r.pos, r.path);
  if (!node) {
    return;
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
  auto p = probe(*node, r.pos, r.path);
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
    bool same_target = e.file != "none" && strip_slashes(f.file) == strip_slashes(e.file);
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
  // A device that is missing now but was seen on an earlier run keeps its
  // entry: the entry came from a real filesystem and nofail protects the boot.
  for (const auto& o : m_fstab.owned) {
    if (o.name == r.spec && o.entry.file == r.fields.file) {
      m_owned.push_back(o);
      m_targets.insert(strip_slashes(o.entry.file));
      return;
    }
  }
}

void VolumesPlanner::mount(const MountRequest& r) {
  FstabEntry entry = r.fields;
  std::string target = strip_slashes(entry.file);
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
    m_owned.push_back({r.spec, entry});
    m_targets.insert(target);
    if (entry.type != "swap" && entry.file != "none" && !is_mounted(m_mounts, entry.file)) {
      auto actions = mount_actions(r.spec, entry, r.spec);
      m_mount.insert(m_mount.end(), actions.begin(), actions.end());
    }
    return;
  }
  auto node = resolve(r.spec, 0, !r.is_default, r.pos, r.path);
  if (!node) {
    if (!r.is_default) {
      keep_previous(r);
    }
    return;
  }
  std::string what = r.spec + " (" + *node + ")";
  FsInfo info;
  if (auto planned = m_filesystems.find(*node); planned != m_filesystems.end()) {
    info = planned->second;
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
  m_owned.push_back({r.spec, entry});
  if (swap) {
    if (std::find(m_swaps.begin(), m_swaps.end(), *node) == m_swaps.end()) {
      m_mount.push_back(swapon_action(*node, r.spec));
    }
    return;
  }
  m_targets.insert(target);
  if (!is_mounted(m_mounts, entry.file)) {
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
    RunCommand allocate{{"fallocate", "-l", std::to_string(mib) + "M", "{root}" + r.filename},
                        "fallocate swap file " + r.filename};
    allocate.map_root = true;
    allocate.required = true;
    m_swapfile.push_back(allocate);
    RunCommand mkswap{{"mkswap", "{root}" + r.filename}, "mkswap " + r.filename};
    mkswap.map_root = true;
    mkswap.required = true;
    m_swapfile.push_back(mkswap);
  }
  if (auto line = foreign_conflict(entry, ""); line) {
    return;
  }
  m_owned.push_back({"swap file", entry});
  if (std::find(m_swaps.begin(), m_swaps.end(), r.filename) == m_swaps.end()) {
    m_swapfile.push_back(swapon_action(r.filename, "swap file"));
  }
}

// The user's entries, then cloud-init's defaults for names the mapping has
// and the user did not mention.
std::vector<MountRequest> VolumesPlanner::requests() const {
  std::vector<MountRequest> out = m_config.mounts;
  std::set<std::string> named;
  for (const auto& r : m_config.mounts) {
    named.insert(r.spec == "ephemeral" ? "ephemeral0" : r.spec);
  }
  const auto& mapping = m_in.metadata.block_device_mapping;
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
  std::string current = m_in.system.read_text(kFstab).value_or("");
  m_fstab = parse_fstab(current);
  for (const auto& r : m_config.fs_setup) {
    fs_setup(r);
  }
  for (const auto& r : requests()) {
    if (!r.remove) {
      mount(r);
    }
  }
  if (m_config.swap) {
    swap_file(*m_config.swap);
  }
  // Order matters: a failed mkfs (required) stops everything after it, so
  // fstab never names a UUID that does not exist; the swap file comes last,
  // its required steps stopping only what is left of it.
  auto& actions = m_result.actions;
  actions.insert(actions.end(), m_mkfs.begin(), m_mkfs.end());
  std::string merged = merge_fstab(current, m_owned);
  if (merged != current) {
    actions.push_back(WriteFile{kFstab, merged, 0644, "root", false, "fstab"});
  }
  actions.insert(actions.end(), m_mount.begin(), m_mount.end());
  actions.insert(actions.end(), m_swapfile.begin(), m_swapfile.end());
  return std::move(m_result);
}

}  // namespace

// --- public ------------------------------------------------------------------------

std::optional<std::uint64_t> parse_size(const std::string& text) {
  std::string s = text;
  while (!s.empty() && s.back() == ' ') {
    s.pop_back();
  }
  if (!s.empty() && (s.back() == 'B' || s.back() == 'b') && s.size() > 1 &&
      !(s[s.size() - 2] >= '0' && s[s.size() - 2] <= '9')) {
    s.pop_back();  // "2GB" as "2G"
  }
  double multiplier = 1;
  if (!s.empty()) {
    switch (s.back()) {
      case 'B':
      case 'b':
        s.pop_back();
        break;
      case 'K':
      case 'k':
        multiplier = 1ull << 10;
        s.pop_back();
        break;
      case 'M':
      case 'm':
        multiplier = 1ull << 20;
        s.pop_back();
        break;
      case 'G':
      case 'g':
        multiplier = 1ull << 30;
        s.pop_back();
        break;
      case 'T':
      case 't':
        multiplier = static_cast<double>(1ull << 40);
        s.pop_back();
        break;
      default:
        break;
    }
  }
  if (s.empty() || s.find_first_not_of("0123456789.") != std::string::npos ||
      std::count(s.begin(), s.end(), '.') > 1 || s == ".") {
    return std::nullopt;
  }
  double value = std::stod(s) * multiplier;
  if (value < 0 || value > 1e18) {
    return std::nullopt;
  }
  return static_cast<std::uint64_t>(value);
}

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
    min = static_cast<std::uint64_t>(std::llround(std::sqrt(static_cast<double>(memory) / kGiB))) *
          kGiB;
  }
  return std::min(min, max);
}

std::string volume_uuid(const std::string& seed) {
  // Two FNV-1a passes with different offsets: 128 bits that only need to be
  // distinct, not secret.
  auto fnv = [&](std::uint64_t h) {
    for (unsigned char c : seed) {
      h ^= c;
      h *= 0x100000001b3ull;
    }
    return h;
  };
  std::uint64_t hi = fnv(0xcbf29ce484222325ull);
  std::uint64_t lo = fnv(0x84222325cbf29ce4ull ^ hi);
  unsigned char b[16];
  for (int i = 0; i < 8; ++i) {
    b[i] = static_cast<unsigned char>(hi >> (56 - 8 * i));
    b[8 + i] = static_cast<unsigned char>(lo >> (56 - 8 * i));
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x80);  // RFC 9562 version 8: custom
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      out += '-';
    }
    out += hex[b[i] >> 4];
    out += hex[b[i] & 15];
  }
  return out;
}

bool DeviceResolver::is_device(const std::string& spec) const {
  std::string name = spec;
  if (auto alias = m_aliases.find(name); alias != m_aliases.end()) {
    name = alias->second;
  }
  name = split_dotted(name).first;
  return name == "ephemeral" || is_meta_name(name) || parse_short_name(name).has_value() ||
         name.rfind("/dev/", 0) == 0;
}

std::optional<NvmeIdentity> DeviceResolver::identify(const std::string& node) {
  if (auto it = m_identified.find(node); it != m_identified.end()) {
    return it->second;
  }
  auto data = m_blocks.nvme_identify(node);
  if (!data) {
    return std::nullopt;
  }
  auto id = parse_nvme_identify(*data);
  // A blank name right after attach fills in a moment later: ask again then.
  if (id &&
      (id->kind == NvmeKind::Other || !id->device_name.empty() || !id->virtual_name.empty())) {
    m_identified[node] = *id;
  }
  return id;
}

std::optional<std::string> DeviceResolver::find_short_name(const std::string& name,
                                                           std::string& looked_for) {
  auto sn = parse_short_name(name);
  std::string bare = name.rfind("/dev/", 0) == 0 ? name.substr(5) : name;
  if (!sn) {
    std::string path = "/dev/" + bare;
    looked_for = path;
    return m_blocks.find(path);
  }
  // As cloud-init does: the name as written, then the other spellings the
  // same slot has under Xen and KVM.
  std::vector<std::string> prefixes = {sn->prefix};
  for (const char* p : {"sd", "xvd", "vd"}) {
    if (sn->prefix != p) {
      prefixes.push_back(p);
    }
  }
  looked_for.clear();
  for (const auto& prefix : prefixes) {
    std::string path = "/dev/" + prefix + sn->disk + sn->part;
    looked_for += (looked_for.empty() ? "" : ", ") + path;
    if (auto node = m_blocks.find(path)) {
      return node;
    }
  }
  looked_for += " and NVMe volumes named " + bare;
  std::string full = canonical_device_name(bare);
  std::string disk = canonical_device_name(sn->prefix + sn->disk);
  for (const auto& node : m_blocks.nvme_namespaces()) {
    auto id = identify(node);
    if (!id || id->kind == NvmeKind::Other || id->device_name.empty()) {
      continue;
    }
    std::string named = canonical_device_name(id->device_name);
    if (named == full) {
      return node;
    }
    // "sdf1" when the volume was attached as "sdf": its first partition.
    if (!sn->part.empty() && named == disk) {
      if (auto part = m_blocks.partition(node, std::stoi(sn->part))) {
        return part;
      }
    }
  }
  return std::nullopt;
}

std::optional<std::string> DeviceResolver::find_instance_store(int index, std::string& looked_for) {
  looked_for = "NVMe instance store disks";
  std::vector<std::string> stores;
  for (const auto& node : m_blocks.nvme_namespaces()) {
    auto id = identify(node);
    if (!id || id->kind != NvmeKind::InstanceStore) {
      continue;
    }
    if (id->virtual_name == "ephemeral" + std::to_string(index)) {
      return node;
    }
    stores.push_back(node);
  }
  // Without a name in the identify data, ephemeralN is the Nth disk in
  // controller order, as AWS numbers them.
  if (index >= 0 && static_cast<std::size_t>(index) < stores.size()) {
    return stores[index];
  }
  return std::nullopt;
}

Result<std::optional<std::string>> DeviceResolver::resolve_once(const std::string& spec,
                                                                int partition,
                                                                std::string& looked_for) {
  std::string name = spec;
  if (auto alias = m_aliases.find(name); alias != m_aliases.end()) {
    name = alias->second;
  }
  auto [base, dotted] = split_dotted(name);
  if (partition == 0) {
    partition = dotted;
  }
  name = base == "ephemeral" ? "ephemeral0" : base;
  std::optional<std::string> node;
  if (is_meta_name(name)) {
    const auto& mapping = m_metadata.block_device_mapping;
    auto it = mapping.find(name);
    if (it != mapping.end()) {
      node = find_short_name(it->second, looked_for);
      looked_for += " (" + name + " is " + it->second + " in the block-device-mapping)";
    } else if (name.rfind("ephemeral", 0) == 0) {
      node = find_instance_store(std::stoi(name.substr(9)), looked_for);
      looked_for += " (the block-device-mapping has no " + name + ")";
    } else {
      return error(name + " is not in the instance's block-device-mapping (it lists " + [&] {
        std::string names;
        for (const auto& [k, v] : mapping) {
          names += (names.empty() ? "" : ", ") + k;
        }
        return names.empty() ? std::string("nothing") : names;
      }() + ")");
    }
  } else {
    node = find_short_name(name, looked_for);
  }
  if (node && partition > 0) {
    auto part = m_blocks.partition(*node, partition);
    if (!part) {
      looked_for = "partition " + std::to_string(partition) + " of " + *node;
    }
    return part;
  }
  return node;
}

Result<std::optional<std::string>> DeviceResolver::resolve(const std::string& spec, int partition,
                                                           BlockDevices::Clock::time_point deadline,
                                                           std::string* looked_for) {
  std::string where;
  for (;;) {
    auto found = resolve_once(spec, partition, where);
    if (!found || *found) {
      return found;
    }
    auto now = m_blocks.now();
    if (now >= deadline) {
      if (looked_for != nullptr) {
        *looked_for = where;
      }
      return std::optional<std::string>();
    }
    m_blocks.sleep_for(std::min<std::chrono::milliseconds>(
        kPollInterval, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) +
                           std::chrono::milliseconds(1)));
  }
}

std::optional<VolumesConfig> decode_volumes(const Value& config, Diagnostics& out) {
  Decoder d(out);
  VolumesConfig cfg;
  Diagnostics ignored;
  decode_default_fields(config, decode_volumes_settings(config, ignored), cfg, d);
  decode_mounts(config, cfg, d);
  decode_fs_setup(config, cfg, d);
  decode_swap(config, cfg, d);
  decode_aliases(config, cfg, d);
  if (d.failed()) {
    return std::nullopt;
  }
  return cfg;
}

VolumesSettings decode_volumes_settings(const Value& config, Diagnostics& out) {
  VolumesSettings s;
  const Value* root = config.get(kAmibootKey);
  const Value* v = root != nullptr && root->is_map() ? root->get("volumes") : nullptr;
  Decoder d(out);
  if (v == nullptr || v->is_null() || d.map(*v, "amiboot.volumes") == nullptr) {
    return s;
  }
  d.unknown_keys(*v, "amiboot.volumes", {"device_timeout_seconds", "ephemeral_filesystem"});
  if (const Value* t = v->get("device_timeout_seconds")) {
    if (auto n = d.integer(*t, "amiboot.volumes.device_timeout_seconds")) {
      if (*n < 0 || *n > 3600) {
        d.error(*t, "amiboot.volumes.device_timeout_seconds",
                "expected 0 to 3600 seconds, got " + std::to_string(*n));
      } else {
        s.device_timeout = std::chrono::seconds(*n);
      }
    }
  }
  if (const Value* f = v->get("ephemeral_filesystem")) {
    if (auto fs = d.string(*f, "amiboot.volumes.ephemeral_filesystem")) {
      if (*fs == "none") {
        s.ephemeral_filesystem.clear();
      } else if (*fs == "swap" ||
                 std::find(kFilesystems.begin(), kFilesystems.end(), *fs) == kFilesystems.end()) {
        d.error(*f, "amiboot.volumes.ephemeral_filesystem",
                "expected ext2, ext3, ext4, xfs, btrfs or none; got '" + *fs + "'");
      } else {
        s.ephemeral_filesystem = *fs;
      }
    }
  }
  return s;
}

void check_volumes(const Value& config, Diagnostics& out) {
  decode_volumes(config, out);
}

PlanResult plan_volumes(const ModuleInput& input) {
  PlanResult result;
  VolumesSettings settings = decode_volumes_settings(input.config, result.diagnostics);
  auto config = decode_volumes(input.config, result.diagnostics);
  if (!config || has_errors(result.diagnostics)) {
    return result;
  }
  const auto& mapping = input.metadata.block_device_mapping;
  bool defaults = mapping.count("ephemeral0") > 0 || mapping.count("swap") > 0;
  if (config->mounts.empty() && config->fs_setup.empty() && !config->swap && !defaults &&
      parse_fstab(input.system.read_text(kFstab).value_or("")).owned.empty()) {
    return result;  // the common boot: nothing to look at
  }
  if (input.blocks == nullptr) {
    result.diagnostics.push_back(make_error({}, "", "internal error: no view of block devices"));
    return result;
  }
  VolumesPlanner planner(input, *config, settings);
  PlanResult planned = planner.plan();
  planned.diagnostics.insert(planned.diagnostics.begin(), result.diagnostics.begin(),
                             result.diagnostics.end());
  return planned;
}

PlanResult plan_mounts(const ModuleInput& input) {
  PlanResult result;
  result.apply_with_errors = true;
  VolumesSettings settings = decode_volumes_settings(input.config, result.diagnostics);
  auto text = input.system.read_text(kFstab);
  if (!text) {
    return result;
  }
  ParsedFstab fstab = parse_fstab(*text);
  if (fstab.owned.empty()) {
    return result;
  }
  if (input.blocks == nullptr) {
    result.diagnostics.push_back(make_error({}, "", "internal error: no view of block devices"));
    return result;
  }
  const BlockDevices& blocks = *input.blocks;
  auto mounts = blocks.mounts();
  auto swaps = blocks.active_swaps();
  auto deadline = blocks.now() + settings.device_timeout;
  Position at{kFstab, 0, 0};
  for (const auto& o : fstab.owned) {
    const FstabEntry& e = o.entry;
    bool swap = e.type == "swap";
    if (!swap && (e.file.empty() || e.file[0] != '/' || is_mounted(mounts, e.file))) {
      continue;
    }
    std::string source = e.spec;
    if (e.spec.rfind("UUID=", 0) == 0) {
      // systemd mounted what was there at boot; this is for what came late.
      std::string uuid = e.spec.substr(5);
      std::optional<std::string> node;
      bool waited = false;
      for (;;) {
        node = blocks.find_uuid(uuid);
        auto now = blocks.now();
        if (node || now >= deadline) {
          break;
        }
        waited = true;
        blocks.sleep_for(std::min<std::chrono::milliseconds>(
            kPollInterval, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) +
                               std::chrono::milliseconds(1)));
      }
      if (node && waited) {
        // systemd's own unit for this line (nofail) acts as soon as the
        // device shows up too: give it a moment, and only do what it did not,
        // or the filesystem ends up mounted twice on the same folder.
        blocks.sleep_for(kSettle);
        auto now_swaps = blocks.active_swaps();
        if (swap ? std::find(now_swaps.begin(), now_swaps.end(), *node) != now_swaps.end()
                 : is_mounted(blocks.mounts(), e.file)) {
          continue;
        }
      }
      if (!node) {
        result.diagnostics.push_back(
            make_error(at, "",
                       o.name + ": no device with filesystem UUID " + uuid + " (for " +
                           (swap ? std::string("swap") : e.file) + ") appeared within " +
                           seconds_text(settings.device_timeout)));
        continue;
      }
      source = *node;
    }
    if (swap) {
      if (std::find(swaps.begin(), swaps.end(), source) == swaps.end()) {
        result.actions.push_back(swapon_action(source, o.name));
      }
      continue;
    }
    auto actions = mount_actions(source, e, o.name);
    result.actions.insert(result.actions.end(), actions.begin(), actions.end());
  }
  return result;
}

}  // namespace amiboot
