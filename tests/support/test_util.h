// SPDX-License-Identifier: Apache-2.0
// Small helpers shared by the tests: scratch folders and running programs.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace amiboot::testing {

/// A fresh scratch directory, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return m_path; }
  std::string operator/(const std::string& rel) const { return m_path + "/" + rel; }

 private:
  std::string m_path;
};

struct CommandResult {
  int exit_code = -1;      // -1 when killed by a signal
  std::string out;         // stdout
  std::string err;         // stderr
  long max_rss_kb = 0;     // the child's peak resident set (wait4's ru_maxrss)
  double cpu_seconds = 0;  // the child's user + system time
};

/// Runs argv (no shell) with extra environment entries, stdin from `input`.
CommandResult run(const std::vector<std::string>& argv,
                  const std::map<std::string, std::string>& env = {},
                  const std::string& input = "");

/// Starts `amiboot run --root ROOT --imds URL` in the background (its own
/// process group, stdout and stderr to `log`), for tests that kill it or
/// race it; the caller waits for it.
pid_t start_agent(const std::string& root, const std::string& imds_url, const std::string& log);

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& content);
bool exists(const std::string& path);

/// Path of the amiboot binary under test, and of the source tree.
/// "Billion laughs": `levels` anchors, each a list of nine aliases of the
/// one before (9 levels: a few hundred bytes that expand to 10^9 nodes).
std::string alias_bomb(int levels);

std::string amiboot_binary();
std::string source_dir();

/// A copy, at `root`, of the Debian minbase root tests/support/debian-root.sh
/// builds once and caches (the package tests run apt-get, dpkg and rpm's
/// scripts chrooted in it). `skip` is set when the host cannot make one
/// (debian-root.sh exits 77); `error` when making or copying it failed.
struct DebianRootCopy {
  std::string skip;
  std::string error;
};
DebianRootCopy copy_debian_root(const std::string& root);

}  // namespace amiboot::testing
