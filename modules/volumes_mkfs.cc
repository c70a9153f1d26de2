// SPDX-License-Identifier: Apache-2.0
// What a probe found, mkfs command lines, and plan-time filesystem UUIDs.
#include "modules/volumes_mkfs.h"

#include <cstdint>

namespace amiboot {

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

std::string mkfs_program(const std::string& fs) {
  return fs == "swap" ? "mkswap" : "mkfs." + fs;
}

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

}  // namespace amiboot
