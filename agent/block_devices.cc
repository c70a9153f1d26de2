// SPDX-License-Identifier: Apache-2.0
#include "agent/block_devices.h"

#include <fcntl.h>
#include <linux/nvme_ioctl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <thread>

#include "agent/libblkid.h"
#include "agent/partitions.h"
#include "modules/nvme_identify.h"

namespace amiboot {

namespace fs = std::filesystem;

namespace {

// The loaded table; only probe() calls it, after loading it.
const Libblkid& blkid() {
  return **libblkid();
}

bool is_block_device(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISBLK(st.st_mode);
}

std::string canonical(const std::string& path) {
  std::error_code ec;
  auto c = fs::canonical(path, ec);
  return ec ? path : c.string();
}

std::string devno_text(dev_t dev) {
  return std::to_string(major(dev)) + ":" + std::to_string(minor(dev));
}

// mountinfo and /proc/swaps write space, tab, newline and backslash as \ooo.
std::string unescape_octal(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isdigit(static_cast<unsigned char>(s[i + 2])) &&
        std::isdigit(static_cast<unsigned char>(s[i + 3]))) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

// nvme3n1 -> {3, 1}; nullopt for controllers (nvme3) and partitions (nvme3n1p1).
std::optional<std::pair<int, int>> nvme_namespace_number(const std::string& name) {
  int ctrl = 0, ns = 0, used = 0;
  if (std::sscanf(name.c_str(), "nvme%dn%d%n", &ctrl, &ns, &used) != 2 ||
      static_cast<std::size_t>(used) != name.size()) {
    return std::nullopt;
  }
  return std::pair{ctrl, ns};
}

/// /proc/self/mountinfo, read in one go and split by hand: growpart reads
/// it on every boot. With `devno`, only the lines of that device.
std::vector<MountInfoLine> read_mountinfo(std::string_view devno = {}) {
  std::ifstream in("/proc/self/mountinfo", std::ios::binary);
  std::ostringstream all;
  all << in.rdbuf();
  return parse_mountinfo(all.str(), devno);
}

}  // namespace

std::vector<MountInfoLine> parse_mountinfo(std::string_view text, std::string_view devno) {
  std::vector<MountInfoLine> out;
  std::string_view rest(text);
  std::vector<std::string_view> f;
  while (!rest.empty()) {
    std::size_t eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
    f.clear();
    for (std::size_t at = 0; at < line.size();) {
      std::size_t end = line.find(' ', at);
      if (end == std::string_view::npos) {
        end = line.size();
      }
      if (end > at) {
        f.push_back(line.substr(at, end - at));
      }
      at = end + 1;
    }
    if (f.size() < 5 || (!devno.empty() && f[2] != devno)) {
      continue;
    }
    auto dash = std::find(f.begin() + 5, f.end(), std::string_view("-"));
    if (dash == f.end() || std::distance(dash, f.end()) < 3) {
      continue;
    }
    MountInfoLine m;
    m.fs.devno = std::string(f[2]);
    m.fs.fstype = std::string(*(dash + 1));
    m.fs.source = unescape_octal(std::string(*(dash + 2)));
    m.host_target = unescape_octal(std::string(f[4]));
    out.push_back(std::move(m));
  }
  return out;
}

namespace {

std::uint64_t le(const unsigned char* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) {
    v = (v << 8) | p[i];
  }
  return v;
}

std::uint64_t be(const unsigned char* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v = (v << 8) | p[i];
  }
  return v;
}

}  // namespace

std::optional<std::uint64_t> superblock_bytes(const std::string& path, const std::string& type) {
  off_t offset = 0;
  if (type == "ext2" || type == "ext3" || type == "ext4") {
    offset = 1024;
  } else if (type == "btrfs") {
    offset = 0x10000;
  } else if (type != "xfs") {
    return std::nullopt;
  }
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return std::nullopt;
  }
  unsigned char sb[1024];
  ssize_t got = pread(fd, sb, sizeof sb, offset);
  close(fd);
  if (got != static_cast<ssize_t>(sizeof sb)) {
    return std::nullopt;
  }
  if (type == "xfs") {
    if (std::memcmp(sb, "XFSB", 4) != 0) {
      return std::nullopt;
    }
    return be(sb + 4, 4) * be(sb + 8, 8);  // sb_blocksize, sb_dblocks
  }
  if (type == "btrfs") {
    if (std::memcmp(sb + 0x40, "_BHRfS_M", 8) != 0) {
      return std::nullopt;
    }
    return le(sb + 0xc9 + 8, 8);  // dev_item.total_bytes
  }
  if (le(sb + 0x38, 2) != 0xef53) {
    return std::nullopt;
  }
  std::uint64_t blocks = le(sb + 4, 4);
  if ((le(sb + 0x60, 4) & 0x80) != 0) {  // INCOMPAT_64BIT
    blocks |= le(sb + 0x150, 4) << 32;
  }
  std::uint64_t log = le(sb + 24, 4);
  if (log > 16) {
    return std::nullopt;
  }
  return blocks * (1024ull << log);
}

RealBlockDevices::RealBlockDevices(const std::string& root, std::string dev_dir)
    : m_root(root == "/" ? "/" : canonical(root)), m_dev_dir(std::move(dev_dir)) {
  while (m_dev_dir.size() > 1 && m_dev_dir.back() == '/') {
    m_dev_dir.pop_back();
  }
}

std::optional<std::string> RealBlockDevices::find(const std::string& dev_path) const {
  if (m_dev_dir.empty()) {
    return std::nullopt;
  }
  std::string path = dev_path;
  if (path.rfind("/dev/", 0) == 0) {
    path = m_dev_dir + path.substr(4);
  }
  if (!is_block_device(path)) {
    return std::nullopt;
  }
  return canonical(path);
}

std::optional<std::string> RealBlockDevices::partition(const std::string& node, int number) const {
  if (m_dev_dir.empty()) {
    return std::nullopt;
  }
  // sysfs knows which child is partition N, whatever the naming (sdf1, nvme1n1p1).
  std::string name = fs::path(canonical(node)).filename().string();
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/sys/class/block/" + name, ec)) {
    std::ifstream in(entry.path() / "partition");
    int n = 0;
    if (in >> n && n == number) {
      std::string part = "/dev/" + entry.path().filename().string();
      if (is_block_device(part)) {
        return part;
      }
    }
  }
  return std::nullopt;
}

std::vector<std::string> RealBlockDevices::nvme_namespaces() const {
  std::vector<std::pair<std::pair<int, int>, std::string>> found;
  if (m_dev_dir.empty()) {
    return {};
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(m_dev_dir, ec)) {
    std::string name = entry.path().filename().string();
    auto number = nvme_namespace_number(name);
    if (number && is_block_device(entry.path().string())) {
      found.push_back({*number, canonical(entry.path().string())});
    }
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& f : found) {
    out.push_back(std::move(f.second));
  }
  return out;
}

Result<std::string> RealBlockDevices::nvme_identify(const std::string& node) const {
  int fd = open(node.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    return error("cannot open " + node + ": " + std::strerror(errno));
  }
  std::string data(kNvmeIdentifySize, '\0');
  nvme_admin_cmd cmd{};
  cmd.opcode = 0x06;  // Identify
  cmd.addr = reinterpret_cast<std::uintptr_t>(data.data());
  cmd.data_len = static_cast<std::uint32_t>(data.size());
  cmd.cdw10 = 1;  // CNS 1: the controller
  int rc = ioctl(fd, NVME_IOCTL_ADMIN_CMD, &cmd);
  int err = errno;
  close(fd);
  if (rc < 0) {
    return error("NVMe identify on " + node + ": " + std::strerror(err));
  }
  if (rc > 0) {
    return error("NVMe identify on " + node + ": status " + std::to_string(rc));
  }
  return data;
}

Result<DeviceProbe> RealBlockDevices::probe(const std::string& node) const {
  struct stat st;
  if (stat(node.c_str(), &st) != 0) {
    return error(std::strerror(errno));
  }
  if (auto lib = libblkid(); !lib) {
    return lib.error();
  }
  blkid_probe pr = blkid().new_probe_from_filename(node.c_str());
  if (pr == nullptr) {
    return error(std::string("libblkid cannot open it: ") + std::strerror(errno));
  }
  // Every chain libblkid has: filesystems, swap, RAID, LVM and crypto
  // (superblocks), and partition tables. BADCSUM: a superblock with a bad
  // checksum still means someone's data is there.
  blkid().probe_enable_superblocks(pr, 1);
  blkid().probe_set_superblocks_flags(pr, BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID |
                                              BLKID_SUBLKS_TYPE | BLKID_SUBLKS_USAGE |
                                              BLKID_SUBLKS_BADCSUM);
  blkid().probe_enable_partitions(pr, 1);
  blkid().probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC);
  int rc = blkid().do_safeprobe(pr);
  DeviceProbe p;
  p.devno = devno_text(st.st_rdev);
  auto value = [&](const char* name) {
    const char* data = nullptr;
    if (blkid().probe_lookup_value(pr, name, &data, nullptr) == 0 && data != nullptr) {
      return std::string(data);
    }
    return std::string();
  };
  if (rc == -1) {
    blkid().free_probe(pr);
    return error("libblkid could not probe it");
  }
  if (rc == -2) {
    p.blank = false;
    p.ambivalent = true;
  } else if (rc == 0) {
    p.blank = false;
    p.type = value("TYPE");
    p.uuid = value("UUID");
    p.label = value("LABEL");
    p.usage = value("USAGE");
    p.pttype = value("PTTYPE");
  }
  blkid().free_probe(pr);
  return p;
}

std::optional<std::string> RealBlockDevices::find_uuid(const std::string& uuid) const {
  if (m_dev_dir.empty() || uuid.empty() || uuid.find('/') != std::string::npos) {
    return std::nullopt;
  }
  // udev's link when the image has udev; otherwise look at every device.
  if (auto node = find("/dev/disk/by-uuid/" + uuid)) {
    return node;
  }
  std::error_code ec;
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator("/sys/class/block", ec)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    std::ifstream size_in("/sys/class/block/" + name + "/size");
    unsigned long long sectors = 0;
    if (!(size_in >> sectors) || sectors == 0) {
      continue;  // empty loop devices, drives without media
    }
    std::string node = "/dev/" + name;
    if (!is_block_device(node)) {
      continue;
    }
    auto p = probe(node);
    if (p && p->uuid == uuid) {
      return node;
    }
  }
  return std::nullopt;
}

std::vector<MountedFs> RealBlockDevices::mounts() const {
  std::vector<MountedFs> out;
  for (auto& line : read_mountinfo()) {
    line.fs.target = instance_target(line.host_target);
    out.push_back(std::move(line.fs));
  }
  return out;
}

std::string RealBlockDevices::instance_target(const std::string& target) const {
  if (m_root == "/") {
    return target;
  }
  if (target == m_root) {
    return "/";
  }
  if (target.rfind(m_root + "/", 0) == 0) {
    return target.substr(m_root.size());
  }
  return "";
}

std::optional<MountedFs> RealBlockDevices::filesystem_at(const std::string& path) const {
  if (m_dev_dir.empty()) {
    return std::nullopt;
  }
  std::string host = canonical(m_root == "/" ? path : m_root + path);
  struct stat st;
  if (stat(host.c_str(), &st) != 0) {
    return std::nullopt;
  }
  std::string devno = devno_text(st.st_dev);
  // Bind mounts share a number: the mount point nearest the path wins.
  std::optional<MountInfoLine> best;
  for (auto& line : read_mountinfo(devno)) {
    const std::string& t = line.host_target;
    bool holds = t == "/" || host == t || host.rfind(t + "/", 0) == 0;
    if (line.fs.devno == devno && holds && (!best || t.size() > best->host_target.size())) {
      best = std::move(line);
    }
  }
  if (!best) {
    return std::nullopt;
  }
  MountedFs fs = std::move(best->fs);
  fs.target = instance_target(best->host_target);
  // btrfs (and overlay, tmpfs) report an anonymous device number; the
  // source names the block device, when there is one.
  struct stat src;
  if (major(st.st_dev) == 0 && stat(fs.source.c_str(), &src) == 0 && S_ISBLK(src.st_mode)) {
    fs.devno = devno_text(src.st_rdev);
  }
  return fs;
}

std::optional<SysBlock> RealBlockDevices::sysfs_block(const std::string& id) const {
  if (m_dev_dir.empty() || id.empty() || id.find('/') != std::string::npos || id[0] == '.') {
    return std::nullopt;
  }
  std::error_code ec;
  fs::path dir = id.find(':') != std::string::npos ? fs::path("/sys/dev/block") / id
                                                   : fs::path("/sys/class/block") / id;
  dir = fs::canonical(dir, ec);
  if (ec) {
    return std::nullopt;
  }
  auto read_line = [&](const std::string& file) {
    std::ifstream in(dir / file);
    std::string line;
    std::getline(in, line);
    return line;
  };
  auto read_number = [&](const std::string& file) -> std::uint64_t {
    std::string text = read_line(file);
    return text.empty() ? 0 : std::strtoull(text.c_str(), nullptr, 10);
  };
  SysBlock b;
  b.name = dir.filename().string();
  b.devno = read_line("dev");
  if (b.devno.empty()) {
    return std::nullopt;
  }
  b.size = read_number("size") * 512;  // sysfs counts 512-byte sectors, whatever the disk's
  if (fs::exists(dir / "partition", ec)) {
    b.partition = static_cast<int>(read_number("partition"));
    b.start = read_number("start") * 512;
    b.disk = dir.parent_path().filename().string();
  }
  for (const auto& entry : fs::directory_iterator(dir / "slaves", ec)) {
    b.slaves.push_back(entry.path().filename().string());
  }
  std::sort(b.slaves.begin(), b.slaves.end());
  b.dm_name = read_line("dm/name");
  b.dm_uuid = read_line("dm/uuid");
  b.read_only = read_number("ro") != 0;
  return b;
}

std::vector<SysBlock> RealBlockDevices::disk_partitions(const std::string& disk) const {
  std::vector<SysBlock> out;
  if (m_dev_dir.empty() || disk.empty() || disk.find('/') != std::string::npos) {
    return out;
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/sys/class/block/" + disk, ec)) {
    // Partitions are named after their disk (nvme0n1p1, sda1); the folder
    // holds many other entries.
    if (entry.path().filename().string().rfind(disk, 0) == 0 &&
        fs::exists(entry.path() / "partition", ec)) {
      if (auto b = sysfs_block(entry.path().filename().string())) {
        out.push_back(std::move(*b));
      }
    }
  }
  return out;
}

Result<PartitionTable> RealBlockDevices::partition_table(const std::string& node) const {
  if (m_dev_dir.empty()) {
    return error("no block devices are looked at under this --root");
  }
  return read_partition_table(node);
}

std::optional<std::uint64_t> RealBlockDevices::filesystem_bytes(const std::string& node,
                                                                const std::string& type) const {
  if (m_dev_dir.empty()) {
    return std::nullopt;
  }
  return superblock_bytes(node, type);
}

std::vector<std::string> RealBlockDevices::active_swaps() const {
  std::vector<std::string> out;
  std::ifstream in("/proc/swaps");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string path;
    if (fields >> path) {
      out.push_back(unescape_octal(path));
    }
  }
  return out;
}

std::optional<std::uint64_t> RealBlockDevices::memory_bytes() const {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::uint64_t kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit) {
    if (key == "MemTotal:") {
      return kb * 1024;
    }
  }
  return std::nullopt;
}

std::optional<std::uint64_t> RealBlockDevices::free_bytes(const std::string& path) const {
  std::string host = m_root == "/" ? path : m_root + path;
  // The swap file's folder may not exist yet: its nearest existing parent
  // is on the same filesystem.
  std::error_code ec;
  fs::path p(host);
  while (!p.empty() && !fs::exists(p, ec) && p != p.root_path()) {
    p = p.parent_path();
  }
  struct statvfs sv;
  if (statvfs(p.c_str(), &sv) != 0) {
    return std::nullopt;
  }
  return static_cast<std::uint64_t>(sv.f_bavail) * sv.f_frsize;
}

BlockDevices::Clock::time_point RealBlockDevices::now() const {
  return Clock::now();
}

void RealBlockDevices::sleep_for(std::chrono::milliseconds pause) const {
  std::this_thread::sleep_for(pause);
}

std::string block_device_dir(const std::string& root) {
  if (root == "/" || root.empty()) {
    return "/dev";
  }
  const char* test_dir = std::getenv("AMIBOOT_TEST_DEV_DIR");
  return test_dir != nullptr ? test_dir : "";
}

}  // namespace amiboot
