// SPDX-License-Identifier: Apache-2.0
// disk_setup: decoding, partition types and the layout in bytes.
#include "modules/disk_setup.h"

#include <algorithm>
#include <cctype>

#include "agent/core/strings.h"

namespace amiboot {

namespace {

constexpr std::uint64_t kMiB = 1ull << 20;

struct GptType {
  const char* code;  // sgdisk's
  const char* guid;
};

// sgdisk's codes for the types data volumes use, and their GUIDs.
constexpr GptType kGptTypes[] = {
    {"0700", "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"},  // Microsoft basic data
    {"8200", "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F"},  // Linux swap
    {"8300", "0FC63DAF-8483-4772-8E79-3D69D8477DE4"},  // Linux filesystem
    {"8302", "933AC7E1-2EB4-4F13-B844-0E14E2AEF915"},  // Linux /home
    {"8304", "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"},  // Linux x86-64 root
    {"8306", "3B8F8425-20E0-4F3B-907F-1A25A76F98E8"},  // Linux /srv
    {"8309", "CA7D7CCB-63ED-4C53-861C-1742536059CC"},  // Linux LUKS
    {"8E00", "E6D6D379-F507-44C2-A23C-238F2A3DF928"},  // Linux LVM
    {"EF00", "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"},  // EFI system
    {"EF02", "21686148-6449-6E6F-744E-656564454649"},  // BIOS boot
    {"FD00", "A19D880F-05FC-4D3B-A006-743F0F84911E"},  // Linux RAID
};

std::string upper(std::string s) {
  for (char& c : s) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return s;
}

bool all_hex(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return hex_value(c) >= 0; });
}

bool is_guid(const std::string& s) {
  if (s.size() != 36) {
    return false;
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : hex_value(s[i]) < 0) {
      return false;
    }
  }
  return true;
}

std::string scalar_text(const Value& v) {
  return v.is_scalar() ? v.scalar : v.type_name();
}

void decode_layout(const Value& v, const std::string& path, DiskSetupRequest& r, Decoder& d) {
  if (auto flag = v.as_bool()) {
    r.layout.clear();
    if (*flag) {
      r.layout.push_back({100, ""});
    }
    return;
  }
  if (v.is_scalar() && v.scalar == "remove") {
    d.warning(v, path,
              "layout: remove is not supported: amiboot never removes a partition table on its "
              "own; the disk is left as it is");
    return;
  }
  if (!v.is_sequence()) {
    d.error(v, path,
            "expected true, false or a list of percentages such as [50, [50, 82]], got " +
                v.type_name());
    return;
  }
  if (v.items.empty()) {
    d.error(v, path, "expected at least one partition");
    return;
  }
  int total = 0;
  for (std::size_t i = 0; i < v.items.size(); ++i) {
    const Value& item = v.items[i];
    std::string at = path + "[" + std::to_string(i) + "]";
    const Value* percent = &item;
    const Value* type = nullptr;
    if (item.is_sequence()) {
      if (item.items.size() != 2) {
        d.error(item, at,
                "expected [percentage, type], got " + std::to_string(item.items.size()) + " items");
        continue;
      }
      percent = &item.items[0];
      type = &item.items[1];
    }
    auto n = percent->as_int();
    if (!n || *n < 1 || *n > 100) {
      d.error(*percent, at, "expected a percentage from 1 to 100, got " + scalar_text(*percent));
      continue;
    }
    DiskSetupRequest::Part part{static_cast<int>(*n), ""};
    if (type != nullptr) {
      std::string why;
      auto t = type->is_scalar() ? partition_type(r.table_type, type->scalar, why) : std::nullopt;
      if (!t) {
        d.error(*type, at + "[1]", why.empty() ? "expected a partition type" : why);
        continue;
      }
      part.type = *t;
    }
    total += part.percent;
    r.layout.push_back(part);
  }
  if (total > 100) {
    d.error(v, path, "the percentages add up to " + std::to_string(total) + ", more than 100");
  }
  if (r.table_type == "mbr" && r.layout.size() > 4) {
    d.error(v, path,
            "an MBR table holds 4 primary partitions, not " + std::to_string(r.layout.size()) +
                " (use table_type: gpt)");
  }
}

}  // namespace

std::string fdisk_label_name(const std::string& table_type) {
  return table_type == "mbr" ? "dos" : table_type;
}

std::optional<std::string> partition_type(const std::string& table, const std::string& text,
                                          std::string& why) {
  std::string t = upper(text);
  if (table == "mbr") {
    if (all_hex(t) && t.size() <= 2) {
      return lowercase(std::string(t.size() == 1 ? "0" : "") + t);
    }
    why =
        "expected an MBR partition type in hex such as 83 (Linux) or 82 (swap), got '" + text + "'";
    return std::nullopt;
  }
  if (is_guid(t)) {
    return t;
  }
  std::string code = t;
  if (all_hex(t) && t.size() <= 2) {
    code = std::string(t.size() == 1 ? "0" : "") + t + "00";  // sgdisk: an MBR code
  }
  for (const auto& g : kGptTypes) {
    if (code == g.code) {
      return std::string(g.guid);
    }
  }
  why =
      "expected a GPT partition type GUID or one of the codes 8300 (Linux), 8200 (swap), 8E00 "
      "(LVM), FD00 (RAID), 8309 (LUKS), 0700, 8302, 8304, 8306, EF00, EF02 (or their MBR "
      "codes 83, 82, 8e, fd), got '" +
      text + "'";
  return std::nullopt;
}

void decode_disk_setup(const Value& doc, std::vector<DiskSetupRequest>& out, Decoder& d) {
  const Value* map = doc.get("disk_setup");
  if (map == nullptr || map->is_null() || d.map(*map, "disk_setup") == nullptr) {
    return;
  }
  for (const auto& e : map->entries) {
    std::string path = "disk_setup." + e.key;
    const Value& v = e.value;
    if (v.is_null()) {
      continue;
    }
    if (d.map(v, path) == nullptr) {
      continue;
    }
    d.unknown_keys(v, path, {"table_type", "layout", "overwrite"});
    DiskSetupRequest r;
    r.device = e.key;
    r.pos = v.pos;
    r.path = path;
    if (const Value* t = v.get("table_type"); t != nullptr && !t->is_null()) {
      if (t->is_scalar() && (t->scalar == "mbr" || t->scalar == "gpt")) {
        r.table_type = t->scalar;
      } else {
        d.error(*t, path + ".table_type", "expected mbr or gpt, got " + scalar_text(*t));
        continue;
      }
    }
    if (const Value* o = v.get("overwrite"); o != nullptr && !o->is_null()) {
      r.overwrite = d.boolean(*o, path + ".overwrite").value_or(false);
    }
    if (const Value* l = v.get("layout"); l != nullptr && !l->is_null()) {
      decode_layout(*l, path + ".layout", r, d);
    }
    std::string why;
    for (auto& part : r.layout) {
      if (part.type.empty()) {
        part.type = *partition_type(r.table_type, r.table_type == "mbr" ? "83" : "8300", why);
      }
    }
    out.push_back(std::move(r));
  }
}

Result<std::vector<PartitionSpec>> layout_partitions(const DiskSetupRequest& r,
                                                     std::uint64_t disk_bytes) {
  std::vector<PartitionSpec> out;
  std::uint64_t start = kMiB;
  // GPT keeps its backup at the end; the last partition ends before it.
  std::uint64_t end = disk_bytes - (r.table_type == "gpt" ? kMiB : 0);
  for (std::size_t i = 0; i < r.layout.size(); ++i) {
    const auto& part = r.layout[i];
    bool last = i + 1 == r.layout.size();
    std::uint64_t size = last ? 0 : disk_bytes * part.percent / 100 / kMiB * kMiB;
    std::uint64_t room = end > start ? end - start : 0;
    if ((!last && (size == 0 || size >= room)) || (last && room < kMiB)) {
      return error("a disk of " + size_text(disk_bytes) + " is too small for " +
                   std::to_string(r.layout.size()) + " partitions of at least 1 MiB");
    }
    out.push_back({start, size, part.type});
    start += size;
  }
  return out;
}

}  // namespace amiboot
