// SPDX-License-Identifier: Apache-2.0
// A sandbox root that looks enough like a Debian 12 image for the real
// useradd --root, groupadd, gpasswd -Q, chpasswd and ssh-keygen to work in
// it: /etc/{passwd,group,shadow,gshadow,login.defs,default/useradd,skel},
// os-release, /etc/ssh with the image's host keys. Header-only: the test
// support library's file list belongs to CMakeLists.txt.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/test_util.h"

namespace amiboot::testing {

/// Why the user tools cannot run here, or "" when they can.
inline std::string user_tools_missing() {
  if (geteuid() != 0) {
    return "needs root: useradd --root chroots into the sandbox";
  }
  for (const char* tool :
       {"useradd", "usermod", "groupadd", "gpasswd", "chpasswd", "visudo", "ssh-keygen", "perl"}) {
    bool found = false;
    for (const char* dir :
         {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
      found = found || access((std::string(dir) + "/" + tool).c_str(), X_OK) == 0;
    }
    if (!found) {
      return std::string(tool) +
             " is not installed (tests/support/install-deps.sh installs passwd, sudo, "
             "openssh-client)";
    }
  }
  return "";
}

/// Debian's groups of a fresh install, less netdev (so the default user's
/// groups include one that must be created).
inline void make_debian_root(const std::string& root) {
  namespace fs = std::filesystem;
  const std::vector<std::pair<std::string, int>> groups = {
      {"root", 0},   {"daemon", 1},   {"adm", 4},    {"tty", 5},     {"dialout", 20},
      {"cdrom", 24}, {"floppy", 25},  {"sudo", 27},  {"audio", 29},  {"dip", 30},
      {"video", 44}, {"plugdev", 46}, {"staff", 50}, {"users", 100}, {"nogroup", 65534}};
  std::string group, gshadow;
  for (const auto& [name, gid] : groups) {
    group += name + ":x:" + std::to_string(gid) + ":\n";
    gshadow += name + ":*::\n";
  }
  write_file(root + "/etc/passwd",
             "root:x:0:0:root:/root:/bin/bash\n"
             "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
             "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
  write_file(root + "/etc/shadow",
             "root:*:19700:0:99999:7:::\ndaemon:*:19700:0:99999:7:::\n"
             "nobody:*:19700:0:99999:7:::\n");
  write_file(root + "/etc/group", group);
  write_file(root + "/etc/gshadow", gshadow);
  chmod((root + "/etc/shadow").c_str(), 0640);
  chmod((root + "/etc/gshadow").c_str(), 0640);
  // The settings useradd reads from the root it works in.
  write_file(root + "/etc/login.defs",
             "UID_MIN 1000\nUID_MAX 60000\nSYS_UID_MIN 100\nSYS_UID_MAX 999\n"
             "GID_MIN 1000\nGID_MAX 60000\nSYS_GID_MIN 100\nSYS_GID_MAX 999\n"
             "USERGROUPS_ENAB yes\nENCRYPT_METHOD SHA512\nHOME_MODE 0700\n"
             "PASS_MAX_DAYS 99999\nPASS_MIN_DAYS 0\nPASS_WARN_AGE 7\n");
  write_file(root + "/etc/default/useradd", "SHELL=/bin/sh\n");
  write_file(root + "/etc/skel/.profile", "# ~/.profile\n");
  write_file(root + "/etc/os-release",
             "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n");
  write_file(root + "/etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n");
  write_file(root + "/etc/sudoers", "@includedir /etc/sudoers.d\n");
  fs::create_directories(root + "/etc/sudoers.d");
  fs::create_directories(root + "/home");
  fs::create_directories(root + "/srv");
  fs::create_directories(root + "/root");
  chmod((root + "/root").c_str(), 0700);
}

/// /etc/ssh with sshd_config and the host keys an image was baked with.
inline void add_image_host_keys(const std::string& root) {
  std::filesystem::create_directories(root + "/etc/ssh/sshd_config.d");
  write_file(root + "/etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\n");
  for (const char* type : {"ed25519", "rsa"}) {
    std::string key = root + "/etc/ssh/ssh_host_" + type + "_key";
    run({"ssh-keygen", "-q", "-t", type, "-N", "", "-C", "image-builder", "-f", key});
  }
}

/// `ssh-keygen -l -f` of each host public key, by file name.
inline std::vector<std::string> host_key_fingerprints(const std::string& root) {
  std::vector<std::string> out;
  std::vector<std::string> pubs;
  for (const auto& e : std::filesystem::directory_iterator(root + "/etc/ssh")) {
    std::string name = e.path().filename().string();
    if (name.rfind("ssh_host_", 0) == 0 && name.size() > 4 &&
        name.compare(name.size() - 4, 4, ".pub") == 0) {
      pubs.push_back(e.path().string());
    }
  }
  std::sort(pubs.begin(), pubs.end());
  for (const auto& p : pubs) {
    std::string line = run({"ssh-keygen", "-l", "-f", p}).out;
    out.push_back(line.substr(0, line.find('\n')));
  }
  return out;
}

}  // namespace amiboot::testing
