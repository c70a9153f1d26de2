// SPDX-License-Identifier: Apache-2.0
// Real loop devices for volume tests, cleaned up whatever happens: the guard
// unmounts everything on the device (lazily) and detaches it.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/test_util.h"

namespace amiboot::testing {

/// Why loop-device tests cannot run on this machine; empty when they can.
inline std::string loop_devices_unavailable() {
  if (geteuid() != 0) {
    return "needs root (losetup, mkfs, mount)";
  }
  for (const char* tool : {"losetup", "mkfs.ext4", "blkid", "mount"}) {
    if (run({"sh", "-c", std::string("command -v ") + tool}).exit_code != 0) {
      return std::string(tool) + " is not installed";
    }
  }
  if (!exists("/dev/loop-control")) {
    return "no /dev/loop-control (loop module missing or not visible in this container)";
  }
  return "";
}

/// Mount points in /proc/self/mountinfo, unescaped.
inline std::vector<std::pair<std::string, std::string>> mount_table() {
  std::vector<std::pair<std::string, std::string>> out;  // (source, target)
  std::ifstream in("/proc/self/mountinfo");
  auto unescape = [](const std::string& s) {
    std::string o;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\\' && i + 3 < s.size()) {
        o += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
        i += 3;
      } else {
        o += s[i];
      }
    }
    return o;
  };
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::vector<std::string> f;
    for (std::string w; fields >> w;) {
      f.push_back(w);
    }
    auto dash = std::find(f.begin(), f.end(), "-");
    if (f.size() > 4 && dash != f.end() && std::distance(dash, f.end()) >= 3) {
      out.emplace_back(unescape(*(dash + 2)), unescape(f[4]));
    }
  }
  return out;
}

/// Lazily unmounts every mount point at or below `dir`, deepest first.
inline void unmount_all_under(const std::string& dir) {
  std::vector<std::string> targets;
  for (const auto& [source, target] : mount_table()) {
    if (target == dir || target.rfind(dir + "/", 0) == 0) {
      targets.push_back(target);
    }
  }
  std::sort(targets.begin(), targets.end(), std::greater<>());
  for (const auto& t : targets) {
    run({"umount", "-l", t});
  }
}

class LoopDevice {
 public:
  /// Attaches `image`, creating it sparse with `bytes` when it does not exist.
  /// With `partitions`, the device may have partitions (losetup -P): on a
  /// kernel without partition-table parsers they are added with BLKPG.
  LoopDevice(const std::string& image, unsigned long long bytes, bool partitions = false) {
    if (!exists(image)) {
      auto t = run({"truncate", "-s", std::to_string(bytes), image});
      if (t.exit_code != 0) {
        m_error = "truncate: " + t.err;
        return;
      }
    }
    std::vector<std::string> argv = {"losetup", "-f", "--show"};
    if (partitions) {
      argv.push_back("-P");
    }
    argv.push_back(image);
    auto r = run(argv);
    if (r.exit_code != 0) {
      m_error = "losetup -f --show " + image + ": " + r.err;
      return;
    }
    m_path = r.out.substr(0, r.out.find('\n'));
  }
  ~LoopDevice() {
    if (m_path.empty()) {
      return;
    }
    for (const auto& [source, target] : mount_table()) {
      // The device itself or one of its partitions (loop3p1).
      if (source == m_path ||
          (source.rfind(m_path + "p", 0) == 0 &&
           source.find_first_not_of("0123456789", m_path.size() + 1) == std::string::npos)) {
        run({"umount", "-l", target});
      }
    }
    run({"losetup", "-d", m_path});
  }
  LoopDevice(const LoopDevice&) = delete;
  LoopDevice& operator=(const LoopDevice&) = delete;

  bool ok() const { return !m_path.empty(); }
  const std::string& path() const { return m_path; }
  const std::string& error() const { return m_error; }

 private:
  std::string m_path;
  std::string m_error;
};

}  // namespace amiboot::testing
