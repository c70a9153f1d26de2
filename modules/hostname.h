// SPDX-License-Identifier: Apache-2.0
// hostname: the instance's name (cloud-init's set_hostname, update_hostname
// and update_etc_hosts): /etc/hostname, the running hostname (never under
// --root), and the /etc/hosts line when manage_etc_hosts asks for it.
#pragma once

#include <optional>
#include <string>

#include "modules/module.h"

namespace amiboot {

enum class ManageEtcHosts { No, Template, Localhost };

struct HostnameConfig {
  std::optional<std::string> hostname;
  std::optional<std::string> fqdn;
  std::optional<bool> prefer_fqdn;  // default: true on the Red Hat family, as cloud-init
  bool preserve = false;
  ManageEtcHosts manage_etc_hosts = ManageEtcHosts::No;
  bool create_hostname_file = true;
  bool operator==(const HostnameConfig&) const = default;
};

/// nullopt when a key is malformed (reported in `out`).
std::optional<HostnameConfig> decode_hostname(const Value& config, Diagnostics& out);

struct Names {
  std::string hostname;  // short
  std::string fqdn;
  bool operator==(const Names&) const = default;
};

/// cloud-init's util.get_hostname_fqdn: config first, then IMDS local-hostname
/// (its first label as the short name; an IP address becomes ip-a-b-c-d).
Names resolve_names(const HostnameConfig& cfg, const std::string& local_hostname);

/// /etc/hosts with our line for `names` at `address`: lines we wrote before
/// are replaced; in Template mode stale lines for `address` go too; every
/// other line stays. Without a file, cloud-init's template lines.
std::string render_etc_hosts(const std::optional<std::string>& existing, const Names& names,
                             const std::string& address, ManageEtcHosts mode);

PlanResult plan_hostname(const HostnameConfig& config, const Facts& facts);

}  // namespace amiboot
