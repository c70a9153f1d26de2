// SPDX-License-Identifier: Apache-2.0
#include "tests/support/test_util.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace amiboot::testing {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "amiboot-test-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  m_path = tmpl;
}

TempDir::~TempDir() {
  // A run under --root may mount inside it (a `mounts:` tmpfs): unmount
  // first, deepest first, so nothing is left mounted on the test machine and
  // remove_all never reaches through a mount into another filesystem.
  std::vector<std::string> mounts;
  std::ifstream info("/proc/self/mountinfo");
  for (std::string line; std::getline(info, line);) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point;
    fields >> id >> parent >> dev >> root >> point;
    if (point.rfind(m_path + "/", 0) == 0) {
      mounts.push_back(point);  // a path with a space would be octal-escaped: ours have none
    }
  }
  std::sort(mounts.begin(), mounts.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const auto& point : mounts) {
    umount2(point.c_str(), MNT_DETACH);
  }
  std::error_code ec;
  std::filesystem::remove_all(m_path, ec);
}

CommandResult run(const std::vector<std::string>& argv,
                  const std::map<std::string, std::string>& env, const std::string& input) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    for (const auto& [k, v] : env) {
      setenv(k.c_str(), v.c_str(), 1);
    }
    std::vector<char*> args;
    for (const auto& a : argv) {
      args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  // Write stdin first; inputs in tests are small enough for the pipe buffer
  // or are read promptly by the child.
  std::size_t off = 0;
  while (off < input.size()) {
    ssize_t n = write(in[1], input.data() + off, input.size() - off);
    if (n <= 0) {
      break;
    }
    off += static_cast<std::size_t>(n);
  }
  close(in[1]);
  CommandResult result;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) {
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP))) {
        ssize_t n = read(fds[i].fd, buf, sizeof buf);
        if (n <= 0) {
          close(fds[i].fd);
          fds[i].fd = -1;
          --open_fds;
        } else {
          (i == 0 ? result.out : result.err).append(buf, static_cast<std::size_t>(n));
        }
      }
    }
  }
  int status = 0;
  struct rusage usage {};
  wait4(pid, &status, 0, &usage);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.max_rss_kb = usage.ru_maxrss;
  result.cpu_seconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                       static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  return result;
}

pid_t start_agent(const std::string& root, const std::string& imds_url, const std::string& log) {
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    setenv("AMIBOOT_LOG", "stderr", 1);
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 1);
    dup2(fd, 2);
    execl(amiboot_binary().c_str(), "amiboot", "run", "--root", root.c_str(), "--imds",
          imds_url.c_str(), nullptr);
    _exit(127);
  }
  setpgid(pid, pid);
  return pid;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

bool exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(std::filesystem::symlink_status(path, ec));
}

#ifndef AMIBOOT_BINARY
#define AMIBOOT_BINARY "amiboot"
#endif
#ifndef AMIBOOT_SOURCE_DIR
#define AMIBOOT_SOURCE_DIR "."
#endif

std::string amiboot_binary() {
  const char* env = std::getenv("AMIBOOT_BINARY");
  return env != nullptr ? env : AMIBOOT_BINARY;
}

std::string source_dir() {
  return AMIBOOT_SOURCE_DIR;
}

DebianRootCopy copy_debian_root(const std::string& root) {
  auto base = run({source_dir() + "/tests/support/debian-root.sh"});
  if (base.exit_code == 77) {
    return {base.err, ""};
  }
  if (base.exit_code != 0) {
    return {"", "debian-root.sh failed: " + base.err};
  }
  std::string pristine = base.out.substr(0, base.out.find('\n'));
  auto copy = run({"cp", "-a", "--reflink=auto", pristine, root});
  if (copy.exit_code != 0) {
    return {"", "cp -a " + pristine + " " + root + ": " + copy.err};
  }
  return {};
}

std::string alias_bomb(int levels) {
  std::string text = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  std::string prev = "a";
  for (int level = 1; level < levels; ++level) {
    std::string name(1, static_cast<char>('a' + level));
    text += name + ": &" + name + " [";
    for (int k = 0; k < 9; ++k) {
      text += (k ? ", *" : "*") + prev;
    }
    text += "]\n";
    prev = name;
  }
  return text;
}

}  // namespace amiboot::testing
