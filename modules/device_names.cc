// SPDX-License-Identifier: Apache-2.0
// Resolution of cloud-init device names to block device nodes: meta names
// through the block-device-mapping, sdX/xvdX/vdX spellings, and NVMe
// Identify data on Nitro.
#include "modules/device_names.h"

#include <algorithm>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/core/strings.h"

namespace amiboot {

namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(100);

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

}  // namespace

std::string partition_device_name(const std::string& disk, int number) {
  bool digit = !disk.empty() && disk.back() >= '0' && disk.back() <= '9';
  return disk + (digit ? "p" : "") + std::to_string(number);
}

void pause_before_next_poll(const BlockDevices& blocks, BlockDevices::Clock::time_point deadline) {
  auto now = blocks.now();
  blocks.sleep_for(std::min<std::chrono::milliseconds>(
      kPollInterval, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) +
                         std::chrono::milliseconds(1)));
}

bool DeviceResolver::is_device(const std::string& spec) const {
  std::string name = spec;
  if (auto alias = m_aliases.find(name); alias != m_aliases.end()) {
    name = alias->second;
  }
  name = split_dotted(name).first;
  if (auto alias = m_aliases.find(name); alias != m_aliases.end()) {
    name = alias->second;
  }
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
  // cloud-init applies device_aliases to the name before the dot too
  // (my_alias.1).
  if (auto alias = m_aliases.find(base); dotted > 0 && alias != m_aliases.end()) {
    base = alias->second;
  }
  name = base == "ephemeral" ? "ephemeral0" : base;
  m_disk_without_partition.clear();
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
    if (auto planned = m_planned.find({*node, partition}); planned != m_planned.end()) {
      return std::optional<std::string>(planned->second);
    }
    auto part = m_blocks.partition(*node, partition);
    if (!part) {
      looked_for = "partition " + std::to_string(partition) + " of " + *node;
      m_disk_without_partition = *node;
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
    if (m_blocks.now() >= deadline || m_settled.count(m_disk_without_partition) > 0) {
      if (looked_for != nullptr) {
        *looked_for = where;
      }
      return std::optional<std::string>();
    }
    pause_before_next_poll(m_blocks, deadline);
  }
}

}  // namespace amiboot
