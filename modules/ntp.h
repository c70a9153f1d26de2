// SPDX-License-Identifier: Apache-2.0
// ntp: the instance's NTP client (cloud-init's cc_ntp): `ntp: {enabled,
// ntp_client, servers, pools, peers, allow, config: {confpath, check_exe,
// packages, service_name, template}}`. The client is chosen from the image
// (`auto`: the first of cloud-init's preferred clients the image has),
// installed through the package conversation when the image lacks it, its
// configuration written from cloud-init's template for the distribution,
// then the service restarted.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "modules/module.h"
#include "modules/os_release.h"

namespace amiboot {

/// `ntp.config`: overrides of the chosen client's defaults ("" and
/// has_packages false: the default).
struct NtpClientOverrides {
  std::string confpath;
  std::string check_exe;
  std::string service_name;
  std::string template_text;  // a `## template:jinja` template
  std::vector<std::string> packages;
  bool has_packages = false;
  bool operator==(const NtpClientOverrides&) const = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(NtpClientOverrides, confpath, check_exe, service_name,
                                   template_text, packages, has_packages)

struct NtpConfig {
  bool enabled = true;
  std::string client = "auto";
  std::vector<std::string> servers;
  std::vector<std::string> pools;
  std::vector<std::string> peers;
  std::vector<std::string> allow;
  NtpClientOverrides config;
  bool operator==(const NtpConfig&) const = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(NtpConfig, enabled, client, servers, pools, peers, allow, config)

std::optional<NtpConfig> decode_ntp(const Value& doc, Diagnostics& out);
PlanResult plan_ntp(const NtpConfig& config, const Facts& facts);

/// One client as a distribution has it: cloud-init's NTP_CLIENT_CONFIG with
/// its DISTRO_CLIENT_CONFIG overrides.
struct NtpClient {
  std::string name;  // "chrony"
  std::string check_exe;
  std::string confpath;
  std::vector<std::string> packages;
  std::string service_name;
  std::string template_name;  // ntp_template()'s name
  bool operator==(const NtpClient&) const = default;
};

/// The clients of the image's family (Debian, Ubuntu; Amazon Linux, RHEL,
/// Fedora; openSUSE, SLES) in cloud-init's order of preference; empty for
/// any other distribution.
std::vector<NtpClient> ntp_clients(const OsRelease& os);

/// cloud-init's default pools when the config names no server or pool:
/// {0-3}.{distro}.pool.ntp.org (SLES uses openSUSE's).
std::vector<std::string> default_ntp_pools(const OsRelease& os);

/// The Amazon Time Sync Service, on every EC2 instance's link-local address.
inline constexpr const char* kAmazonTimeSync = "169.254.169.123";

}  // namespace amiboot
