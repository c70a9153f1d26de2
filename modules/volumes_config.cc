// SPDX-License-Identifier: Apache-2.0
// Decoding of the volumes module's keys (mounts, mount_default_fields,
// fs_setup, swap, device_aliases), of its image settings (amiboot.volumes),
// and cloud-init's size notation.
#include "modules/volumes_config.h"

#include <algorithm>
#include <string_view>

#include <nlohmann/json.hpp>

#include "agent/core/json_text.h"
#include "agent/core/strings.h"
#include "modules/module.h"

namespace amiboot {

namespace {

const std::vector<std::string_view> kFilesystems = {"ext2", "ext3", "ext4", "xfs", "btrfs", "swap"};

// --- decoding ------------------------------------------------------------------

// cloud-init's own examples write Python's None; YAML reads it as the
// string "None", which then landed in fstab. Here it means null.
std::optional<std::string> field_text(const Value& v, const std::string& path, Decoder& d) {
  if (v.is_null() || (v.is_scalar() && v.plain && v.scalar == "None")) {
    return std::nullopt;
  }
  return d.string(v, path);
}

void decode_mounts(const Value& config, bool builtin_options, VolumesConfig& out, Decoder& d) {
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
    r.default_options = !fields[3] && builtin_options;
    r.fields.freq = pick(4).value_or("0");
    r.fields.passno = pick(5).value_or("2");
    out.mounts.push_back(std::move(r));
  }
}

// True when the options default stays amiboot's own.
bool decode_default_fields(const Value& config, VolumesConfig& out, Decoder& d) {
  // amiboot's options default is completed at plan time with nofail and the
  // image's device timeout (MountRequest::default_options).
  out.default_fields = {std::nullopt, std::nullopt, "auto", "defaults", "0", "2"};
  const Value* list = config.get("mount_default_fields");
  if (list == nullptr || list->is_null() || d.list(*list, "mount_default_fields") == nullptr) {
    return true;
  }
  if (list->items.size() > 6) {
    d.error(*list, "mount_default_fields",
            "expected at most 6 fields, got " + std::to_string(list->items.size()));
    return true;
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
  return list->items.size() <= 3;
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
              "refused: cloud-init runs it through a shell with the device and label filled in "
              "(shell=True), and amiboot runs commands as argvs only, never a shell string it "
              "built; use filesystem and extra_opts");
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

}  // namespace

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

std::optional<VolumesConfig> decode_volumes(const Value& doc, Diagnostics& out) {
  Decoder d(out);
  VolumesConfig cfg;
  bool builtin_options = decode_default_fields(doc, cfg, d);
  decode_mounts(doc, builtin_options, cfg, d);
  decode_disk_setup(doc, cfg.disk_setup, d);
  decode_fs_setup(doc, cfg, d);
  decode_swap(doc, cfg, d);
  decode_aliases(doc, cfg, d);
  if (d.failed()) {
    return std::nullopt;
  }
  return cfg;
}

namespace {

nlohmann::json position_json(const Position& p) {
  return {{"source", p.source}, {"line", p.line}, {"column", p.column}};
}

Position position_from(const nlohmann::json& j) {
  return Position{j.at("source").get<std::string>(), j.at("line").get<int>(),
                  j.at("column").get<int>()};
}

}  // namespace

std::string pending_volumes_json(const PendingVolumes& pending) {
  nlohmann::json disks = nlohmann::json::array();
  for (const auto& r : pending.disk_setup) {
    nlohmann::json layout = nlohmann::json::array();
    for (const auto& part : r.layout) {
      layout.push_back({part.percent, part.type});
    }
    disks.push_back({{"device", r.device},
                     {"table_type", r.table_type},
                     {"layout", layout},
                     {"overwrite", r.overwrite},
                     {"pos", position_json(r.pos)},
                     {"path", r.path}});
  }
  nlohmann::json fs = nlohmann::json::array();
  for (const auto& r : pending.fs_setup) {
    fs.push_back({{"device", r.device},
                  {"filesystem", r.filesystem},
                  {"label", r.label},
                  {"partition", r.partition},
                  {"overwrite", r.overwrite},
                  {"extra_opts", r.extra_opts},
                  {"pos", position_json(r.pos)},
                  {"path", r.path}});
  }
  nlohmann::json mounts = nlohmann::json::array();
  for (const auto& r : pending.mounts) {
    const FstabEntry& f = r.fields;
    mounts.push_back({{"spec", r.spec},
                      {"fields", {f.spec, f.file, f.type, f.options, f.freq, f.passno}},
                      {"default_options", r.default_options},
                      {"pos", position_json(r.pos)},
                      {"path", r.path}});
  }
  nlohmann::json doc = {{"version", 1},
                        {"disk_setup", disks},
                        {"fs_setup", fs},
                        {"mounts", mounts},
                        {"aliases", pending.aliases}};
  return json_text(doc, 2) + "\n";
}

std::optional<PendingVolumes> parse_pending_volumes(const std::string& text) {
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (!doc.is_object() || doc.value("version", 0) != 1) {
    return std::nullopt;
  }
  try {
    PendingVolumes p;
    for (const auto& j : doc.value("disk_setup", nlohmann::json::array())) {
      DiskSetupRequest r;
      r.device = j.at("device").get<std::string>();
      r.table_type = j.at("table_type").get<std::string>();
      for (const auto& part : j.at("layout")) {
        r.layout.push_back({part.at(0).get<int>(), part.at(1).get<std::string>()});
      }
      r.overwrite = j.at("overwrite").get<bool>();
      r.pos = position_from(j.at("pos"));
      r.path = j.at("path").get<std::string>();
      p.disk_setup.push_back(std::move(r));
    }
    for (const auto& j : doc.at("fs_setup")) {
      FsSetupRequest r;
      r.device = j.at("device").get<std::string>();
      r.filesystem = j.at("filesystem").get<std::string>();
      r.label = j.at("label").get<std::string>();
      r.partition = j.at("partition").get<std::string>();
      r.overwrite = j.at("overwrite").get<bool>();
      r.extra_opts = j.at("extra_opts").get<std::vector<std::string>>();
      r.pos = position_from(j.at("pos"));
      r.path = j.at("path").get<std::string>();
      p.fs_setup.push_back(std::move(r));
    }
    for (const auto& j : doc.at("mounts")) {
      MountRequest r;
      r.spec = j.at("spec").get<std::string>();
      auto f = j.at("fields").get<std::vector<std::string>>();
      if (f.size() != 6) {
        return std::nullopt;
      }
      r.fields = FstabEntry{f[0], f[1], f[2], f[3], f[4], f[5]};
      r.default_options = j.at("default_options").get<bool>();
      r.pos = position_from(j.at("pos"));
      r.path = j.at("path").get<std::string>();
      p.mounts.push_back(std::move(r));
    }
    p.aliases = doc.at("aliases").get<std::map<std::string, std::string>>();
    return p;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

VolumesSettings decode_volumes_settings(const Value& image_config, Diagnostics& out) {
  VolumesSettings s;
  const Value* root = image_config.get(kAmibootKey);
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

}  // namespace amiboot
