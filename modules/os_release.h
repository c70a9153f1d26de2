// SPDX-License-Identifier: Apache-2.0
// /etc/os-release, read through the SystemView: which distribution the
// image is, for the defaults that differ by distribution (the default user,
// the /etc/hosts address, fqdn or short name in /etc/hostname, where CA
// certificates go, which NTP client and template).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modules/module.h"

namespace amiboot {

struct OsRelease {
  std::string id;                    // "debian", "ubuntu", "amzn", "rhel"
  std::vector<std::string> id_like;  // "rhel", "fedora"
  std::string version_id;
  std::string version_codename;  // "bookworm", "noble" (UBUNTU_CODENAME when absent)

  /// True when ID or one of ID_LIKE is `name`.
  bool is(std::string_view name) const;
  /// Amazon Linux, RHEL and its rebuilds, Fedora, CentOS: cloud-init's
  /// "redhat" family.
  bool is_redhat_family() const;
  bool is_debian_family() const;
  /// openSUSE and SLES (ID_LIKE "suse"; ID opensuse-leap, sles, ...).
  bool is_suse_family() const;
};

/// Parses os-release(5) text: KEY=value lines, values optionally quoted.
OsRelease parse_os_release(const std::string& text);

/// /etc/os-release, else /usr/lib/os-release; nullopt when neither exists.
std::optional<OsRelease> read_os_release(const SystemView& system);

}  // namespace amiboot
