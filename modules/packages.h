// SPDX-License-Identifier: Apache-2.0
// packages: cloud-init's package keys (packages, package_update,
// package_upgrade, package_reboot_if_required, and their deprecated apt_*
// names, with a warning). The plan picks the package
// manager; PackageSession decides, from each command's exit status and
// output, what to run next, so the retry and fallback rules are pure and
// tested without a package manager.
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modules/module.h"
#include "modules/package_managers.h"

namespace amiboot {

struct PackagesConfig {
  std::vector<PackageSpec> packages;
  std::vector<PackageSpec> apt_packages;  // `- apt: [...]`: only on apt images
  /// `- snap: [...]`: each one's `snap install` arguments (name, then an
  /// option or channel), installed where the image has snapd.
  std::vector<std::vector<std::string>> snaps;
  bool update = false;
  bool upgrade = false;
  bool reboot_if_required = false;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PackagesConfig, packages, apt_packages, snaps, update, upgrade,
                                   reboot_if_required)

/// The image's `amiboot: {packages: {lock_timeout_seconds, attempts}}` into
/// `action`, for every module that runs the package manager.
void decode_package_settings(const Value& image_config, ManagePackages& action, Diagnostics& out);

std::optional<PackagesConfig> decode_packages(const Value& config, Diagnostics& out);
PlanResult plan_packages(const PackagesConfig& config, const Facts& facts);

/// One command the session wants run.
struct PackageCommand {
  PackageStep step = PackageStep::Install;
  std::vector<PackageSpec> packages;  // Install only
  std::vector<std::string> argv;
  int retry = 0;  // 0: first try; n: the n-th retry, after a backoff delay
};

/// The rules, as the issue and cloud-init's users expect them:
/// - update first when asked (or for an upgrade), then upgrade, then install
///   everything in one command;
/// - a lock held or a network failure: the same command again, up to
///   `attempts` tries;
/// - a package missing from the index: one update, then the install again;
/// - still missing: an error naming each missing package, and the others
///   installed without it;
/// - a maintainer script that fails: an error naming the packages dpkg left
///   unconfigured, no retry (dpkg configured the others);
/// - any other failure: each package alone, so one bad package does not keep
///   the others out.
class PackageSession {
 public:
  PackageSession(const PackageManager& manager, const ManagePackages& request);

  /// The command to run now; nullopt when the session is over.
  std::optional<PackageCommand> next() const;
  /// The outcome of the command next() returned.
  void record(int exit_code, std::string_view output);
  /// The retry next() returned will not run (its deadline): the step fails
  /// with `why` and the session moves on.
  void give_up(const std::string& why);

  /// Why the session did what it did, for the journal (taken once).
  std::vector<std::string> take_notes();
  const std::vector<std::string>& errors() const { return m_errors; }
  /// Something was installed or upgraded: a reboot may now be needed.
  bool changed() const { return m_changed; }

 private:
  struct Pending {
    PackageStep step;
    std::vector<PackageSpec> packages;
  };
  void finish_step();
  std::string what(const Pending& p) const;
  /// `printed` (from the manager's output) is this package.
  bool is(const PackageSpec& spec, const std::string& printed) const;
  void install_without_missing(const Pending& current, const PackageFailure& failure,
                               const std::string& status);
  void report_broken(const Pending& current, const PackageFailure& failure);
  void install_each(const Pending& current, const std::string& status);

  const PackageManager& m_manager;
  ManagePackages m_request;
  std::deque<Pending> m_queue;
  int m_retry = 0;
  std::string m_last_status;  // the transient failure being retried
  bool m_updated = false;
  bool m_changed = false;
  std::vector<std::string> m_notes;
  std::vector<std::string> m_errors;
};

}  // namespace amiboot
