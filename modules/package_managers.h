// SPDX-License-Identifier: Apache-2.0
// The package managers amiboot drives, as data: one row each for apt-get,
// dnf, yum and zypper, with the argv pieces, the version syntax, the output
// that means "try again" or "no such package", and how each one says a reboot
// is needed. Nothing here runs anything.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "modules/module.h"
#include "modules/os_release.h"

namespace amiboot {

struct PackageManager {
  std::string name;     // "apt"
  std::string program;  // "apt-get"
  /// os-release ID or ID_LIKE values it serves; the first row whose family
  /// matches and whose program the image has is chosen.
  std::vector<std::string> families;
  /// Under --root, the manager's own options for acting on a root ("{root}"
  /// stands for it), put after the program: the host's dnf and zypper
  /// install into the root's RPM database, running the scriptlets chrooted
  /// there, so the root needs no package manager of its own. Empty: the
  /// image's own manager runs in `chroot ROOT` (apt-get, whose dpkg has no
  /// such option that also covers apt's configuration).
  std::vector<std::string> root_options;
  /// Added to the environment; "{lock_timeout}" is replaced.
  std::vector<std::pair<std::string, std::string>> env;
  /// Between the program and the subcommand; "{lock_timeout}" is replaced.
  std::vector<std::string> options;
  std::vector<std::string> update;   // refresh the index
  std::vector<std::string> upgrade;  // upgrade what is installed
  std::vector<std::string> install;  // followed by the packages
  std::string version_separator;     // apt: name=version, dnf: name-version
  /// Exit codes besides 0 that mean the step worked (zypper's 100-102:
  /// "done, and here is something you should know").
  std::vector<int> success_exit_codes;
  /// Output of an update that exited 0 but fetched nothing (apt-get update
  /// only warns when the mirror is unreachable).
  std::vector<std::string> update_failed_patterns;
  /// Output lines that name a package that does not exist (in the version
  /// asked for): literal text with "{name}" for the package and "{any}" for
  /// anything else.
  std::vector<std::string> missing_patterns;
  std::vector<int> missing_exit_codes;
  /// Output that means the index is out of date (a 404 for a .deb).
  std::vector<std::string> stale_patterns;
  /// Output that means "try again later": a lock held, the network down.
  std::vector<std::string> transient_patterns;
  /// Output of a manager that gave up at once because another process holds
  /// its lock. dnf and yum have no bounded wait of their own (they wait
  /// forever, or with exit_on_lock, which their options set, not at all), so
  /// amiboot waits for them: it runs the same command again every second
  /// until lock_timeout_seconds have passed, as apt-get's
  /// DPkg::Lock::Timeout and zypper's ZYPP_LOCK_TIMEOUT wait inside the
  /// tool. Then the lock is a transient failure like theirs (also listed in
  /// transient_patterns). Empty: the manager waits itself.
  std::vector<std::string> lock_held_patterns;
  std::vector<int> transient_exit_codes;
  /// The line after which the manager lists the packages it left broken
  /// (a failing postinst), one indented name per line.
  std::string broken_list_header;
  /// Output lines naming a package whose install script failed, "{name}"
  /// for it (rpm prints name-version-release.arch). Checked whatever the
  /// exit status: dnf reports a failing %post and still exits 0.
  std::vector<std::string> broken_patterns;
  /// A reboot is needed when this file exists after the transaction...
  std::string reboot_file;
  /// ...or when this command exits with reboot_exit_code and, when
  /// reboot_pattern is set, says so (a missing dnf plugin also exits 1).
  std::vector<std::string> reboot_check;
  int reboot_exit_code = 0;
  std::string reboot_pattern;
};

const std::vector<PackageManager>& package_managers();
const PackageManager* find_package_manager(std::string_view name);

struct ManagerChoice {
  const PackageManager* manager = nullptr;  // nullptr: `why` says what is missing
  std::string why;
};

/// The package manager for this image, from /etc/os-release and the programs
/// the image has (Amazon Linux 2 has yum, 2023 has dnf).
ManagerChoice choose_package_manager(const OsRelease& os, const SystemView& system);

enum class PackageStep { Update, Upgrade, Install };

/// "nginx=1.24.0-1" for apt and zypper, "nginx-1.24.0" for dnf and yum.
std::string package_argument(const PackageManager& manager, const PackageSpec& spec);

/// The full argv of one step, the program first.
std::vector<std::string> package_argv(const PackageManager& manager, PackageStep step,
                                      const std::vector<PackageSpec>& packages,
                                      int lock_timeout_seconds);

/// The environment entries of the manager, placeholders replaced.
std::vector<std::pair<std::string, std::string>> package_env(const PackageManager& manager,
                                                             int lock_timeout_seconds);

/// A package the manager named in its output, with the line that named it.
struct NamedPackage {
  std::string name;  // as the manager printed it
  std::string line;
  bool operator==(const NamedPackage&) const = default;
};

struct PackageFailure {
  enum class Kind {
    None,       // the step worked
    Transient,  // lock held, network: the same command may work later
    Missing,    // a package (or version) is not in the index; `missing` names them when known
    Broken,     // installed but left unconfigured (a failing postinst); `broken` names them
    Other,
  };
  Kind kind = Kind::Other;
  std::vector<NamedPackage> missing;
  std::vector<std::string> broken;
  std::string reason;  // the manager's own error line, for our message
};

/// The line of `output` saying that another process holds the manager's
/// lock (lock_held_patterns), or "" when it does not say so.
std::string lock_held_line(const PackageManager& manager, int exit_code, std::string_view output);

/// What an exit status and output mean for one step.
PackageFailure classify_package_outcome(const PackageManager& manager, PackageStep step,
                                        int exit_code, std::string_view output);

/// The package names and versions amiboot passes on: a package manager
/// reads more than names in those places (apt: `pkg-` removes, `./x.deb`
/// installs a file; zypper: `~pkg` removes; dnf: URLs and `@group`).
bool valid_package_name(std::string_view name);
bool valid_package_version(std::string_view version);

}  // namespace amiboot
