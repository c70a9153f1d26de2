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
  /// Added to the environment; "{lock_timeout}" is replaced.
  std::vector<std::pair<std::string, std::string>> env;
  /// Between the program and the subcommand; "{lock_timeout}" is replaced.
  std::vector<std::string> options;
  std::vector<std::string> update;   // refresh the index
  std::vector<std::string> upgrade;  // upgrade what is installed
  std::vector<std::string> install;  // followed by the packages
  std::string version_separator;     // apt: name=version, dnf: name-version
  /// Regular expressions over the output whose group 1 is a package that
  /// does not exist (in the version asked for).
  std::vector<std::string> missing_patterns;
  std::vector<int> missing_exit_codes;
  /// Output that means the index is out of date (a 404 for a .deb).
  std::vector<std::string> stale_patterns;
  /// Output that means "try again later": a lock held, the network down.
  std::vector<std::string> transient_patterns;
  std::vector<int> transient_exit_codes;
  /// A reboot is needed when this file exists after the transaction...
  std::string reboot_file;
  /// ...or when this command exits with reboot_exit_code.
  std::vector<std::string> reboot_check;
  int reboot_exit_code = 0;
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

struct PackageFailure {
  enum class Kind {
    Transient,  // lock held, network: the same command may work later
    Missing,    // a package (or version) is not in the index; `missing` names them when known
    Other,
  };
  Kind kind = Kind::Other;
  std::vector<std::string> missing;  // as the manager printed them
  std::string reason;                // the manager's own error line, for our message
};

PackageFailure classify_package_failure(const PackageManager& manager, int exit_code,
                                        std::string_view output);

}  // namespace amiboot
