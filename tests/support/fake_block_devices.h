// A scripted BlockDevices for volumes plan tests: device nodes, NVMe
// identify pages and probe results are whatever the test puts in, and the
// clock only moves when the plan sleeps, so waiting costs no real time.
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
  mutable std::vector<std::string> probed;  // nodes probed, in order
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
  Clock::time_point now() const override { return Clock::time_point{} + slept; }
  void sleep_for(std::chrono::milliseconds pause) const override { slept += pause; }

  /// A filesystem on `node` as libblkid would report it.
  void filesystem(const std::string& node, const std::string& type, const std::string& uuid,
                  const std::string& label = "") {
    probes[node] = DeviceProbe{
        false, type, type == "swap" ? "other" : "filesystem", uuid, label, "", false, ""};
  }
};

}  // namespace amiboot::testing
