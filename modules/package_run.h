// SPDX-License-Identifier: Apache-2.0
// Running a ManagePackages action: the PackageSession's conversation with
// the package manager (retries with backoff, the reboot check), over a
// narrow command runner the executor implements. Here, not in the executor,
// so the retry and reboot rules are module code tested with a fake runner.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "modules/actions.h"

namespace amiboot {

/// What a package conversation needs from the machine, and nothing else.
class PackageCommands {
 public:
  struct Outcome {
    int exit_code = 0;   // 127 when the command could not run
    std::string output;  // stdout and stderr (or why it could not run)
  };
  virtual ~PackageCommands() = default;
  /// Runs a package manager command, its output captured and sent to the
  /// journal under `identifier`. Under --root: with `root_options` after
  /// argv[0] ("{root}" replaced) when there are any (dnf --installroot,
  /// zypper --root), else in `chroot ROOT`.
  virtual Outcome run(const std::vector<std::string>& argv,
                      const std::map<std::string, std::string>& env, const std::string& identifier,
                      const std::vector<std::string>& root_options) = 0;
  /// An instance path exists (the reboot-required file).
  virtual bool exists(const std::string& path) = 0;
  /// The delay before retry number `retry` (1 for the first retry).
  virtual std::chrono::milliseconds backoff(int retry) = 0;
  virtual void sleep_for(std::chrono::milliseconds delay) = 0;
  /// The clock that bounds the retries (ManagePackages::retry_deadline_seconds).
  virtual std::chrono::system_clock::time_point now() = 0;
  /// One journal line (syslog priority).
  virtual void log(int priority, const std::string& line) = 0;
};

struct PackageOutcome {
  std::vector<std::string> errors;  // one line per failure (each missing package)
  /// package_reboot_if_required, something changed and the manager says so.
  bool reboot_required = false;
};

PackageOutcome run_packages(const ManagePackages& request, PackageCommands& commands);

}  // namespace amiboot
