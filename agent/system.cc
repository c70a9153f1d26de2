// SPDX-License-Identifier: Apache-2.0
#include "agent/system.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include "agent/http.h"
#include "agent/journal.h"
#include "agent/partitions.h"

#include "agent/core/colon_file.h"
#include "agent/core/owner.h"
#include "agent/core/strings.h"

namespace amiboot {

namespace fs = std::filesystem;

namespace {

std::string errno_text(int err) {
  return std::strerror(err);
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) {
      end = path.size();
    }
    if (end > start) {
      parts.emplace_back(path.substr(start, end - start));
    }
    start = end + 1;
  }
  return parts;
}

std::string join(const std::string& root, const std::vector<std::string>& parts) {
  std::string out = root == "/" ? "" : root;
  std::size_t size = out.size();
  for (const auto& p : parts) {
    size += 1 + p.size();
  }
  // Every path the agent touches comes through here, several times a path.
  out.reserve(size);
  for (const auto& p : parts) {
    out.push_back('/');
    out.append(p);
  }
  return out.empty() ? "/" : out;
}

std::string parent_of(const std::string& path) {
  std::size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

Status write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return error(errno_text(errno));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

/// Who other than root could have put a symlink into `dir` (a home folder, a
/// user's .ssh, /tmp), "" when nobody could: amiboot runs as root and must not
/// let a user redirect its writes (the fs.protected_symlinks rule, for all
/// folders). `link` is the symlink's own lstat.
std::string untrusted_holder(const std::string& dir, const struct stat& link) {
  struct stat st {};
  if (lstat(dir.c_str(), &st) != 0) {
    return "";  // it was just walked through; the open that follows judges
  }
  // Root, or whoever runs amiboot (a sandbox of one's own), is trusted.
  auto trusted = [](uid_t uid) { return uid == 0 || uid == geteuid(); };
  if (!trusted(st.st_uid)) {
    return "user " + std::to_string(st.st_uid) + " (the folder's owner)";
  }
  if (!trusted(link.st_uid) && (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return "user " + std::to_string(link.st_uid) + " (the link's owner)";
  }
  return "";
}

/// A file descriptor closed when it goes out of scope.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(Fd&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd, o.fd);
    return *this;
  }
  ~Fd() {
    if (fd >= 0) {
      close(fd);
    }
  }
};

/// `path` below `root` ("a/b" for "/root/a/b"; "" for the root itself), or
/// nullopt when it is not under it.
std::optional<std::string> below(const std::string& root, const std::string& path) {
  if (root == "/") {
    return path.substr(path.find_first_not_of('/') == std::string::npos
                           ? path.size()
                           : path.find_first_not_of('/'));
  }
  if (path == root) {
    return std::string();
  }
  if (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
      path[root.size()] == '/') {
    return path.substr(root.size() + 1);
  }
  return std::nullopt;
}

/// openat2(2) of `rel` below `dir_fd` that refuses every symlink on the way
/// (RESOLVE_NO_SYMLINKS: what a walk with O_NOFOLLOW at each component
/// refuses) and any way out of `dir_fd` (RESOLVE_BENEATH), in one call
/// instead of one per component. -1 with errno set when it fails; ENOSYS
/// (a kernel before 5.6, or a seccomp filter that does not know it) means
/// the caller walks as before.
int open_beneath_no_symlinks(int dir_fd, const std::string& rel, std::uint64_t flags) {
  // Said once: on a kernel without it (Amazon Linux 2's 4.14) every path
  // would pay a failing call before its walk.
  static std::atomic<bool> unsupported{false};
  if (unsupported.load(std::memory_order_relaxed)) {
    errno = ENOSYS;
    return -1;
  }
  struct open_how how {};
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
  int fd = static_cast<int>(syscall(SYS_openat2, dir_fd, rel.c_str(), &how, sizeof how));
  if (fd < 0 && errno == ENOSYS) {
    unsupported.store(true, std::memory_order_relaxed);
  }
  return fd;
}

/// What open_plain() found on a path with no symlink in it.
struct PlainOpen {
  Fd fd{-1};
  int missing = 0;  // ENOENT or ENOTDIR: a component is absent or not a folder
};

/// resolve()'s fast path, which read_file() and exists() use for their own
/// open: one openat2 of `path` below the root's fd that refuses every
/// symlink. nullopt when it cannot judge the path (a symlink, '.' or '..',
/// no openat2, no root fd, not absolute): resolve()'s walk decides then.
/// ENOENT and ENOTDIR stop the kernel's walk at a component that is missing
/// or not a folder, every one before it checked: the walk would find no
/// symlink there either, so the path is as good as resolved, and missing.
std::optional<PlainOpen> open_plain(int root_fd, const std::vector<std::string>& parts,
                                    std::uint64_t flags) {
  if (root_fd < 0 || parts.empty() || std::any_of(parts.begin(), parts.end(), [](const auto& p) {
        return p == "." || p == "..";
      })) {
    return std::nullopt;
  }
  int fd = open_beneath_no_symlinks(root_fd, join("", parts).substr(1), flags);
  if (fd >= 0) {
    return PlainOpen{Fd(fd), 0};
  }
  if (errno == ENOENT || errno == ENOTDIR) {
    return PlainOpen{Fd(-1), errno};
  }
  return std::nullopt;
}

/// Opens the folder at host path `dir` (from resolve(): no symlinks left in
/// it) one component at a time with O_NOFOLLOW, so a folder that a user
/// swapped for a symlink after resolve() looked is refused, never followed.
/// Missing folders are created `mode` (exactly) when `create`. The walk
/// starts at `root_fd` (the root, opened once: it is the operator's, not a
/// user's) when `dir` is under `root`; a --root sandbox deep in /tmp would
/// otherwise pay an open and a close per component above it on every write.
Result<Fd> open_dir_nofollow(const std::string& dir, bool create, mode_t mode, int root_fd = -1,
                             const std::string& root = "/") {
  std::optional<std::string> rest = root_fd >= 0 ? below(root, dir) : std::nullopt;
  if (rest && !rest->empty()) {
    // The whole walk in one call when every folder exists and none is a
    // symlink (nearly always); otherwise the walk below makes what is
    // missing, or says which component it refuses.
    if (int fd = open_beneath_no_symlinks(root_fd, *rest, O_PATH | O_DIRECTORY); fd >= 0) {
      return Fd(fd);
    }
  }
  Fd current(rest ? fcntl(root_fd, F_DUPFD_CLOEXEC, 0)
                  : open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  std::string walked = rest && root != "/" ? root : "";
  for (const auto& part : split_path(rest ? *rest : dir)) {
    walked += "/" + part;
    int next = openat(current.fd, part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0 && errno == ENOENT && create) {
      if (mkdirat(current.fd, part.c_str(), mode) == 0) {
        // Exactly `mode`, whatever the umask: /run/amiboot must be 0755.
        fchmodat(current.fd, part.c_str(), mode, 0);
      } else if (errno != EEXIST) {
        return error("cannot create folder " + walked + ": " + errno_text(errno));
      }
      next = openat(current.fd, part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (next < 0) {
      return error("cannot open folder " + walked + ": " +
                   (errno == ELOOP || errno == ENOTDIR
                        ? std::string("it is not a folder (a symlink?), and is not followed")
                        : errno_text(errno)));
    }
    current = Fd(next);
  }
  return current;
}

}  // namespace

HostSystem::~HostSystem() {
  if (m_output_copy >= 0) {
    close(m_output_copy);
  }
  if (m_root_fd >= 0) {
    close(m_root_fd);
  }
}

HostSystem::HostSystem(std::string root) : m_root(std::move(root)) {
  // Absolute, because commands run in it (cwd, chroot) and see it in
  // AMIBOOT_ROOT from another working folder.
  if (!m_root.empty() && m_root[0] != '/') {
    m_root = std::filesystem::absolute(m_root).lexically_normal().string();
  }
  while (m_root.size() > 1 && m_root.back() == '/') {
    m_root.pop_back();
  }
  if (m_root.empty()) {
    m_root = "/";
  }
  // Opened once (a root made later is walked to from "/" as before).
  m_root_fd = open(m_root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
}

bool HostSystem::root_is_mount_point() const {
  if (!under_root()) {
    return true;
  }
#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000  // Linux 5.8; older glibc headers lack it
#endif
  struct statx sx {};
  if (statx(AT_FDCWD, m_root.c_str(), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) == 0 &&
      (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0) {
    return (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
  }
  // Older kernels: a mount point's device differs from its parent's (which
  // misses a bind mount of the same file system, so errs on refusing).
  struct stat self {
  }, parent{};
  return stat(m_root.c_str(), &self) == 0 && stat((m_root + "/..").c_str(), &parent) == 0 &&
         self.st_dev != parent.st_dev;
}

Result<std::string> HostSystem::resolve(const std::string& path, bool follow_last) const {
  if (path.empty() || path[0] != '/') {
    return error("'" + path + "' is not an absolute path");
  }
  struct Item {
    std::string name;
    bool from_link;
  };
  std::vector<std::string> parts = split_path(path);
  // Nearly every path has no symlink in it: one openat2 that refuses them
  // proves it, where the walk below looks at each component on its own
  // (the kernel walking the path again for each).
  if (open_plain(m_root_fd, parts, O_PATH | (follow_last ? 0 : O_NOFOLLOW))) {
    return join(m_root, parts);
  }
  std::deque<Item> queue;
  for (auto& p : parts) {
    queue.push_back({p, false});
  }
  std::vector<std::string> resolved;
  int hops = 0;
  while (!queue.empty()) {
    Item item = queue.front();
    queue.pop_front();
    if (item.name == ".") {
      continue;
    }
    if (item.name == "..") {
      if (!item.from_link) {
        return error("'" + path + "' contains '..'; refusing a path that can leave its folder");
      }
      if (resolved.empty()) {
        return error("'" + path + "' leads out of " + m_root + " through a symlink");
      }
      resolved.pop_back();
      continue;
    }
    resolved.push_back(item.name);
    if (queue.empty() && !follow_last) {
      continue;
    }
    std::string candidate = join(m_root, resolved);
    struct stat st;
    // From the root's fd: the kernel walks only the components below it.
    const int looked = m_root_fd >= 0 ? fstatat(m_root_fd, join("", resolved).c_str() + 1, &st,
                                                AT_SYMLINK_NOFOLLOW)
                                      : lstat(candidate.c_str(), &st);
    if (looked != 0 || !S_ISLNK(st.st_mode)) {
      continue;
    }
    if (++hops > 40) {
      return error("'" + path + "': too many levels of symlinks");
    }
    if (auto holder = untrusted_holder(parent_of(candidate), st); !holder.empty()) {
      return error("'" + path + "': refusing to follow the symlink " + candidate + ", which " +
                   holder + " could have planted there");
    }
    std::error_code ec;
    std::string target = fs::read_symlink(candidate, ec).string();
    if (ec) {
      return error("cannot read symlink " + candidate + ": " + ec.message());
    }
    resolved.pop_back();
    if (!target.empty() && target[0] == '/') {
      // An absolute link inside an image means the image's root, not ours.
      resolved.clear();
    }
    auto parts = split_path(target);
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
      queue.push_front({*it, true});
    }
  }
  return join(m_root, resolved);
}

Result<std::string> HostSystem::read_file(const std::string& path, std::size_t max_bytes) const {
  // The file opened by the call that proves its path plain, not resolved
  // first and opened again.
  auto plain =
      path.starts_with('/') ? open_plain(m_root_fd, split_path(path), O_RDONLY) : std::nullopt;
  if (plain && plain->missing != 0) {
    return error("cannot read " + path + ": " + errno_text(plain->missing));
  }
  int fd = plain ? std::exchange(plain->fd.fd, -1) : -1;
  if (!plain) {
    auto host = resolve(path);
    if (!host) {
      return host.error();
    }
    fd = open(host->c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return error("cannot read " + path + ": " + errno_text(errno));
    }
  }
  std::string data;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    data.append(buf, static_cast<std::size_t>(n));
    if (data.size() > max_bytes) {
      close(fd);
      return error(path + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  close(fd);
  return data;
}

bool HostSystem::exists(const std::string& path) const {
  if (auto plain = path.starts_with('/')
                       ? open_plain(m_root_fd, split_path(path), O_PATH | O_NOFOLLOW)
                       : std::nullopt) {
    return plain->missing == 0;
  }
  auto host = resolve(path, false);
  struct stat st;
  return host && lstat(host->c_str(), &st) == 0;
}

Status HostSystem::make_dirs(const std::string& path, mode_t mode) {
  auto host = resolve(path);
  if (!host) {
    return host.error();
  }
  if (auto dir = open_dir_nofollow(*host, true, mode, m_root_fd, m_root); !dir) {
    return dir.error();
  }
  return {};
}

FileLock::~FileLock() {
  if (m_fd >= 0) {
    close(m_fd);
  }
}

Result<FileLock> HostSystem::lock(const std::string& path, std::chrono::seconds wait,
                                  const std::function<void(const std::string& holder)>& waiting) {
  if (auto st = make_dirs(parent_of(path), 0755); !st) {
    return st.error();
  }
  auto host = resolve(path);
  if (!host) {
    return host.error();
  }
  Fd fd(open(host->c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.fd < 0) {
    return error("cannot open " + path + ": " + errno_text(errno));
  }
  auto holder = [&]() {
    char buf[32] = {};
    ssize_t n = pread(fd.fd, buf, sizeof buf - 1, 0);
    std::string pid = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
    pid.erase(std::remove(pid.begin(), pid.end(), '\n'), pid.end());
    return pid.empty() ? std::string("unknown") : pid;
  };
  auto deadline = std::chrono::steady_clock::now() + wait;
  bool told = false;
  while (flock(fd.fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      return error("cannot lock " + path + ": " + errno_text(errno));
    }
    if (wait.count() == 0) {
      return error("another amiboot run (pid " + holder() + ") holds " + path +
                   "; not running, and not waiting for it (a lock wait of 0 s)");
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return error("another amiboot run (pid " + holder() + ") still holds " + path + " after " +
                   std::to_string(wait.count()) + " s of waiting; not running");
    }
    if (!told) {
      waiting(holder());
      told = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(fd.fd, 0) == 0) {
    (void)!pwrite(fd.fd, pid.data(), pid.size(), 0);
  }
  return FileLock(std::exchange(fd.fd, -1));
}

Status HostSystem::remove_temp_files(const std::string& path) {
  auto host = resolve(path);
  if (!host) {
    return host.error();
  }
  std::string dir = parent_of(*host);
  std::string prefix = "." + host->substr(dir.size() == 1 ? 1 : dir.size() + 1) + ".amiboot-";
  auto folder = open_dir_nofollow(dir, false, 0755, m_root_fd, m_root);
  if (!folder) {
    return {};  // no folder, no leftovers
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) == 0) {
      unlinkat(folder->fd, name.c_str(), 0);
    }
  }
  return {};
}

Status HostSystem::make_owned_dir(const std::string& path, const FileAttrs& attrs) {
  auto host = resolve(path, false);
  if (!host) {
    return host.error();
  }
  auto parent = open_dir_nofollow(parent_of(*host), true, 0755, m_root_fd, m_root);
  if (!parent) {
    return parent.error();
  }
  std::string leaf = host->substr(host->rfind('/') + 1);
  if (mkdirat(parent->fd, leaf.c_str(), attrs.mode) != 0 && errno != EEXIST) {
    return error("cannot create folder " + path + ": " + errno_text(errno));
  }
  Fd dir(openat(parent->fd, leaf.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (dir.fd < 0) {
    return error("cannot open folder " + path + ": " +
                 (errno == ELOOP || errno == ENOTDIR ? "it is not a folder (a symlink?)"
                                                     : errno_text(errno)));
  }
  // chown first, as for files: a chown may clear the set-id bits.
  if ((attrs.uid || attrs.gid) && fchown(dir.fd, attrs.uid ? *attrs.uid : static_cast<uid_t>(-1),
                                         attrs.gid ? *attrs.gid : static_cast<gid_t>(-1)) != 0) {
    return error("cannot chown " + path + ": " + errno_text(errno));
  }
  if (fchmod(dir.fd, attrs.mode) != 0) {
    return error("cannot chmod " + path + ": " + errno_text(errno));
  }
  return {};
}

Status HostSystem::write_file(const std::string& path, std::string_view content,
                              const FileAttrs& attrs) {
  auto host = resolve(path);
  if (!host) {
    return host.error();
  }
  // Everything below happens relative to the folder opened here, so no
  // symlink swapped in since resolve() can redirect the file, its owner or
  // the rename (a user's ~/.ssh on a real instance).
  std::string dir = parent_of(*host);
  auto folder = open_dir_nofollow(dir, true, 0755, m_root_fd, m_root);
  if (!folder) {
    return folder.error();
  }
  std::string leaf = host->substr(dir.size() == 1 ? 1 : dir.size() + 1);
  std::string tmp_name;
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    // getrandom(2), not std::random_device: libstdc++'s runs cpuid first,
    // which a virtual machine traps (6 % of a first boot's CPU in a profile).
    std::uint32_t random = 0;
    if (getrandom(&random, sizeof random, GRND_NONBLOCK) != sizeof random) {
      random = static_cast<std::uint32_t>(getpid()) * 2654435761u + static_cast<unsigned>(attempt);
    }
    char suffix[16];
    std::snprintf(suffix, sizeof suffix, "%08x", random);
    tmp_name = "." + leaf + ".amiboot-" + suffix;
    fd = openat(folder->fd, tmp_name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                0600);
    if (fd < 0 && errno != EEXIST) {
      break;
    }
  }
  if (fd < 0) {
    return error("cannot create a temporary file in " + dir + ": " + errno_text(errno));
  }
  std::string tmp = (dir == "/" ? "" : dir) + "/" + tmp_name;
  auto fail = [&](const std::string& what) {
    int err = errno;
    close(fd);
    unlinkat(folder->fd, tmp_name.c_str(), 0);
    return error("cannot write " + path + ": " + what + ": " + errno_text(err));
  };
  if (auto st = write_all(fd, content); !st) {
    return fail("write");
  }
  // chown before chmod: the kernel clears setuid and setgid on a chown, so
  // '04755' must be set after it to stay.
  if ((attrs.uid || attrs.gid) && fchown(fd, attrs.uid ? *attrs.uid : static_cast<uid_t>(-1),
                                         attrs.gid ? *attrs.gid : static_cast<gid_t>(-1)) != 0) {
    return fail("chown");
  }
  if (fchmod(fd, attrs.mode) != 0) {
    return fail("chmod");
  }
  if (attrs.durable && fsync(fd) != 0) {
    return fail("fsync");
  }
  close(fd);
  if (attrs.check) {
    if (auto st = attrs.check(tmp); !st) {
      unlinkat(folder->fd, tmp_name.c_str(), 0);
      return st;
    }
  }
  if (renameat(folder->fd, tmp_name.c_str(), folder->fd, leaf.c_str()) != 0) {
    int err = errno;
    unlinkat(folder->fd, tmp_name.c_str(), 0);
    return error("cannot rename into " + path + ": " + errno_text(err));
  }
  if (!attrs.durable || !attrs.sync_folder) {
    return {};
  }
  // The rename is durable only once the folder itself is synced.
  Fd sync(openat(folder->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (sync.fd >= 0) {
    fsync(sync.fd);
  }
  return {};
}

Status HostSystem::remove_all(const std::string& path) {
  auto host = resolve(path, false);
  if (!host) {
    return host.error();
  }
  std::error_code ec;
  fs::remove_all(*host, ec);
  if (ec) {
    return error("cannot remove " + path + ": " + ec.message());
  }
  return {};
}

Status HostSystem::symlink(const std::string& target, const std::string& link) {
  auto host = resolve(link, false);
  if (!host) {
    return host.error();
  }
  std::string final_path = *host;
  std::string tmp = final_path + ".amiboot-new";
  unlink(tmp.c_str());
  if (::symlink(target.c_str(), tmp.c_str()) != 0 || rename(tmp.c_str(), final_path.c_str()) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return error("cannot point " + link + " at " + target + ": " + errno_text(err));
  }
  return {};
}

Status HostSystem::sync_folder(const std::string& path) {
  auto host = resolve(path);
  if (!host) {
    return host.error();
  }
  Fd folder(open(host->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (folder.fd < 0 || fsync(folder.fd) != 0) {
    return error("cannot sync the folder " + path + ": " + errno_text(errno));
  }
  return {};
}

Result<std::string> HostSystem::read_symlink(const std::string& path) const {
  auto host = resolve(path, false);
  if (!host) {
    return host.error();
  }
  std::error_code ec;
  auto target = fs::read_symlink(*host, ec);
  if (ec) {
    return error("cannot read link " + path + ": " + ec.message());
  }
  return target.string();
}

Result<std::vector<std::string>> HostSystem::list_dir(const std::string& path) const {
  auto host = resolve(path);
  if (!host) {
    return host.error();
  }
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(*host, ec)) {
    names.push_back(entry.path().filename().string());
  }
  if (ec) {
    return error("cannot list " + path + ": " + ec.message());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> HostSystem::executables_in(const std::string& dir) const {
  std::vector<std::string> out;
  auto host = resolve(dir);
  auto names = list_dir(dir);
  if (!host || !names) {
    return out;
  }
  for (const auto& name : *names) {
    struct stat st;
    std::string p = *host + "/" + name;
    if (stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(p.c_str(), X_OK) == 0) {
      out.push_back(name);
    }
  }
  return out;
}

std::optional<std::string> HostSystem::read_text(const std::string& path) const {
  auto text = read_file(path);
  return text ? std::optional<std::string>(std::move(*text)) : std::nullopt;
}

bool HostSystem::path_exists(const std::string& path) const {
  return exists(path);
}

std::vector<std::string> HostSystem::list(const std::string& dir) const {
  auto names = list_dir(dir);
  return names ? *names : std::vector<std::string>{};
}

bool HostSystem::has_program(const std::string& name) const {
  for (const char* dir :
       {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
    if (access((std::string(dir) + "/" + name).c_str(), X_OK) == 0) {
      return true;
    }
  }
  return false;
}

Status System::write_file_if_changed(const std::string& path, const std::string& content,
                                     const FileAttrs& attrs, bool* wrote) {
  if (auto existing = read_file(path, content.size() + 1); existing && *existing == content) {
    return {};
  }
  if (wrote != nullptr) {
    *wrote = true;
  }
  return write_file(path, content, attrs);
}

Result<std::pair<uid_t, gid_t>> System::lookup_owner(const std::string& owner) const {
  auto parts = split_owner(owner);
  if (!parts) {
    return error("expected user or user:group, got '" + owner + "'");
  }
  auto field_id = [](const std::vector<std::string>& entry, std::size_t at) {
    return parse_id(entry[at]);
  };
  std::optional<std::uint32_t> uid = parse_id(parts->user);
  std::optional<std::uint32_t> gid = uid;
  if (!all_digits(parts->user)) {
    auto passwd = read_file("/etc/passwd");
    auto entry = passwd ? colon_file_entry(*passwd, parts->user) : std::nullopt;
    if (!entry || entry->size() < 4) {
      return error("no user '" + parts->user + "' in " + root() + (under_root() ? "/" : "") +
                   "etc/passwd");
    }
    uid = field_id(*entry, 2);
    gid = field_id(*entry, 3);
  }
  if (!parts->group.empty()) {
    gid = parse_id(parts->group);
    if (!all_digits(parts->group)) {
      auto groups = read_file("/etc/group");
      auto entry = groups ? colon_file_entry(*groups, parts->group) : std::nullopt;
      if (!entry || entry->size() < 4) {
        return error("no group '" + parts->group + "' in " + root() + (under_root() ? "/" : "") +
                     "etc/group");
      }
      gid = field_id(*entry, 2);
    }
  }
  if (!uid || !gid) {
    return error("'" + owner + "': not a valid uid or gid (0 to 4294967294)");
  }
  return std::pair{static_cast<uid_t>(*uid), static_cast<gid_t>(*gid)};
}

Result<CommandOutcome> HostSystem::run(const CommandSpec& spec) {
  if (spec.argv.empty()) {
    return error("empty command");
  }
  std::map<std::string, std::string> env = {
      {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
      {"HOME", "/root"},
      {"LANG", "C.UTF-8"},
  };
  for (const auto& [k, v] : spec.env) {
    env[k] = v;
  }
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) {
    env_strings.push_back(k + "=" + v);
  }
  std::vector<char*> envp;
  for (auto& e : env_strings) {
    envp.push_back(e.data());
  }
  envp.push_back(nullptr);
  std::vector<std::string> args = spec.argv;
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);

  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) {
    return error("pipe: " + errno_text(errno));
  }
  int infd[2] = {-1, -1};
  if (!spec.input.empty() && pipe2(infd, O_CLOEXEC) != 0) {
    return error("pipe: " + errno_text(errno));
  }
  int outfd[2] = {-1, -1};  // stdout alone, for capture_stdout
  if (spec.capture_stdout && pipe2(outfd, O_CLOEXEC) != 0) {
    return error("pipe: " + errno_text(errno));
  }
  std::string path_var = env["PATH"];
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(pipefd[0]);
    close(pipefd[1]);
    return error("fork: " + errno_text(errno));
  }
  if (pid == 0) {
    // This child is the command's keeper: the command runs in a process
    // group of its own below it, and when amiboot dies (kill -9, the OOM
    // killer) the kernel tells the keeper, which kills that whole group, so
    // no command or child of one outlives the run that started it and a
    // rerun cannot meet it still running. Only system calls from here on.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) {
      _exit(137);  // amiboot died before the keeper could be told
    }
    int devnull = open("/dev/null", O_RDONLY);
    dup2(infd[0] >= 0 ? infd[0] : devnull, STDIN_FILENO);
    dup2(outfd[1] >= 0 ? outfd[1] : pipefd[1], STDOUT_FILENO);
    dup2(pipefd[1], STDERR_FILENO);
    if (chdir(m_root.c_str()) != 0) {
      _exit(126);
    }
    // Our own umask keeps state private; user commands get the usual one.
    umask(022);
    signal(SIGPIPE, SIG_DFL);
    // execvpe searches the caller's PATH, not envp's: make it ours.
    setenv("PATH", path_var.c_str(), 1);
    sigset_t keep, before;
    sigemptyset(&keep);
    sigaddset(&keep, SIGTERM);
    sigaddset(&keep, SIGCHLD);
    sigprocmask(SIG_BLOCK, &keep, &before);
    pid_t command = fork();
    if (command == 0) {
      sigprocmask(SIG_SETMASK, &before, nullptr);
      setpgid(0, 0);
      execvpe(argv[0], argv.data(), envp.data());
      std::string msg = std::string(argv[0]) + ": " + errno_text(errno) + "\n";
      (void)!write(STDERR_FILENO, msg.data(), msg.size());
      _exit(errno == ENOENT ? 127 : 126);
    }
    if (command < 0) {
      _exit(126);
    }
    setpgid(command, command);  // either side may get there first
    // The keeper holds no pipe end: the command's EOFs are its own. Nor
    // another thread's (the runner's lanes): a pipe made there between
    // that thread's pipe2 and its fork is open here too (O_CLOEXEC closes
    // it only at an exec), and a keeper holding another command's stdin
    // or output would keep that command waiting until this one exits.
    if (close_range(0, ~0U, 0) != 0) {
      for (int fd = 0; fd < 1024; ++fd) {
        close(fd);
      }
    }
    for (;;) {
      siginfo_t info;
      int sig = sigwaitinfo(&keep, &info);
      if (sig == SIGTERM) {
        kill(-command, SIGKILL);
        while (waitpid(command, nullptr, 0) < 0 && errno == EINTR) {
        }
        _exit(128 + SIGKILL);
      }
      int status = 0;
      if (sig == SIGCHLD && waitpid(command, &status, WNOHANG) == command) {
        // What the command's own exit would have told amiboot.
        _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
      }
    }
  }
  close(pipefd[1]);
  if (outfd[1] >= 0) {
    close(outfd[1]);
  }
  if (infd[0] >= 0) {
    close(infd[0]);
    // Inputs are small (a password hash, a ruleset): one write fits the pipe.
    (void)write_all(infd[1], spec.input);
    close(infd[1]);
  }
  // Forward output line by line, so each line is one journal entry carrying
  // the module's fields.
  std::string pending;
  std::string captured;
  constexpr std::size_t kCaptureMax = 256 << 10;
  char buf[8192];
  auto emit = [&](std::string_view line) {
    if (spec.capture_output) {
      captured.append(line).push_back('\n');
      // Trimmed in halves, not per line: a chatty upgrade must not move
      // the buffer for every line it prints.
      if (captured.size() > 2 * kCaptureMax) {
        captured.erase(0, captured.size() - kCaptureMax);
      }
    }
    journal_send(LOG_INFO, spec.identifier, line, spec.journal_fields);
    copy_line(line);
    if (spec.to_console) {
      std::string out = std::string(line) + "\n";
      (void)!write(STDOUT_FILENO, out.data(), out.size());
    }
  };
  // The output pipe and, with capture_stdout, stdout's own, until both close.
  std::string stdout_text;
  constexpr std::size_t kStdoutMax = 1 << 20;
  pollfd fds[2] = {{pipefd[0], POLLIN, 0}, {outfd[0], POLLIN, 0}};
  nfds_t open_fds = outfd[0] >= 0 ? 2 : 1;
  while (fds[0].fd >= 0 || (open_fds == 2 && fds[1].fd >= 0)) {
    if (poll(fds, open_fds, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    for (nfds_t i = 0; i < open_fds; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) {
        continue;
      }
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        continue;
      }
      if (i == 1) {
        stdout_text.append(buf, std::min(static_cast<std::size_t>(n),
                                         kStdoutMax - std::min(kStdoutMax, stdout_text.size())));
        continue;
      }
      pending.append(buf, static_cast<std::size_t>(n));
      std::size_t nl;
      while ((nl = pending.find('\n')) != std::string::npos) {
        emit(std::string_view(pending).substr(0, nl));
        pending.erase(0, nl + 1);
      }
    }
  }
  for (auto& fd : fds) {
    if (fd.fd >= 0) {
      close(fd.fd);
    }
  }
  if (!pending.empty()) {
    emit(pending);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  CommandOutcome outcome;
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (captured.size() > kCaptureMax) {
    captured.erase(0, captured.size() - kCaptureMax);
  }
  outcome.output = std::move(captured);
  outcome.stdout_text = std::move(stdout_text);
  return outcome;
}

Status HostSystem::http_send(const std::string& method, const std::string& url,
                             const std::string& body, const std::string& content_type) {
  return amiboot::http_send(method, url, body, content_type);
}

Result<std::string> HostSystem::http_get(const std::string& url,
                                         const std::map<std::string, std::string>& headers,
                                         std::size_t max_bytes) {
  return amiboot::http_get(url, headers, max_bytes);
}

void HostSystem::console(const std::string& text) {
  // stdout is the console under the unit's StandardOutput=journal+console.
  std::string line = text + "\n";
  (void)!write(STDOUT_FILENO, line.data(), line.size());
  copy_line(text);
}

bool HostSystem::console_only(const std::string& text) {
  // Not stdout: the unit sends that to the journal too, and copy_line to
  // the output log. cloud-init writes these to /dev/console alone.
  const char* device = under_root() ? "/dev/tty" : "/dev/console";
  int fd = open(device, O_WRONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  bool ok = static_cast<bool>(write_all(fd, text.ends_with('\n') ? text : text + "\n"));
  close(fd);
  return ok;
}

Status HostSystem::copy_output_to(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    if (auto st = make_dirs(path.substr(0, slash), 0755); !st) {
      return st;
    }
  }
  auto host = resolve(path);
  if (!host) {
    return host.error();
  }
  int fd = open(host->c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (fd < 0) {
    return error("open " + path + ": " + errno_text(errno));
  }
  // As cloud-init leaves its logs: 0640, readable by the adm group.
  if (geteuid() == 0) {
    auto owner = lookup_owner("root:adm");
    (void)!fchown(fd, 0, owner ? owner->second : 0);
  }
  (void)fchmod(fd, 0640);
  if (m_output_copy >= 0) {
    close(m_output_copy);
  }
  m_output_copy = fd;
  return {};
}

Result<std::string> HostSystem::grow_partition(const GrowPartition& r) {
  std::string what = "partition " + std::to_string(r.number) + " of " + r.disk;
  auto notes = grow_partition_in_table(r.disk, r.table, r.number, r.start, r.old_size, r.new_size);
  if (!notes) {
    return notes.error();
  }
  std::string line = "grew " + what + " (" + r.table + ") from " + std::to_string(r.old_size) +
                     " to " + std::to_string(r.new_size) + " sectors (" +
                     size_text(r.old_size * r.sector_size) + " to " +
                     size_text(r.new_size * r.sector_size) + ")";
  for (std::size_t at = 0; at < notes->size();) {
    std::size_t end = notes->find('\n', at);
    line += "; libfdisk: " + notes->substr(at, end == std::string::npos ? end : end - at);
    at = end == std::string::npos ? notes->size() : end + 1;
  }
  // An image file (tests) has no kernel partitions to tell.
  struct stat st;
  if (stat(r.disk.c_str(), &st) == 0 && S_ISBLK(st.st_mode)) {
    auto told = resize_kernel_partition(r.disk, r.number, r.start * r.sector_size,
                                        r.new_size * r.sector_size);
    if (!told) {
      return error("the partition table has " + what +
                   " grown, but the running kernel was not "
                   "told: " +
                   told.error().message);
    }
    line += "; the kernel uses the new size";
  }
  return line;
}

Result<std::string> HostSystem::make_partition_table(const MakePartitionTable& t) {
  auto notes = write_partition_table(t.disk, t.table, t.partitions);
  if (!notes) {
    return notes.error();
  }
  std::string line = "wrote a " + t.table + " partition table with " +
                     std::to_string(t.partitions.size()) + " partition(s) on " + t.disk;
  if (!notes->empty()) {
    line += "; libfdisk: " + *notes;
  }
  struct stat st;
  if (stat(t.disk.c_str(), &st) == 0 && S_ISBLK(st.st_mode)) {
    if (auto shown = show_partitions_to_kernel(t.disk); !shown) {
      return error("the partition table of " + t.disk +
                   " is written, but the running kernel "
                   "does not see its partitions: " +
                   shown.error().message);
    }
    line += "; the kernel sees them";
  }
  return line;
}

void HostSystem::copy_line(std::string_view line) {
  if (m_output_copy < 0) {
    return;
  }
  std::string out = std::string(line) + "\n";
  (void)write_all(m_output_copy, out);
}

Status HostSystem::set_hostname(const std::string& name) {
  if (sethostname(name.data(), name.size()) != 0) {
    return error("sethostname: " + errno_text(errno));
  }
  return {};
}

std::chrono::system_clock::time_point HostSystem::now() const {
  return std::chrono::system_clock::now();
}

void HostSystem::sleep_for(std::chrono::milliseconds delay) {
  std::this_thread::sleep_for(delay);
}

double HostSystem::uptime_seconds() const {
  // The clock /proc/uptime's first field reads (time namespaces included),
  // without an open, a read and a stream per call: each module's plan and
  // each status row ask for it.
  struct timespec ts {};
  if (clock_gettime(CLOCK_BOOTTIME, &ts) != 0) {
    return 0;
  }
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::string HostSystem::kernel_cmdline() const {
  return read_host_file(m_root == "/" ? "/proc/cmdline" : m_root + "/proc/cmdline").value_or("");
}

std::optional<std::string> HostSystem::read_host_file(const std::string& host_path) const {
  std::ifstream in(host_path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace amiboot
