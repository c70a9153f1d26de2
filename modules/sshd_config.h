// SPDX-License-Identifier: Apache-2.0
// sshd_config: where amiboot's sshd settings go, shared by set_passwords
// (PasswordAuthentication from ssh_pwauth) and ssh_host_keys
// (HostCertificate for ssh_keys' certificates). As cloud-init's ssh_util
// decides: a drop-in in /etc/ssh/sshd_config.d/ when sshd_config includes
// that folder (Debian 12, Ubuntu 22.04+, Amazon Linux 2023, RHEL 9), else
// sshd_config itself (Amazon Linux 2, RHEL 8), where a drop-in would be
// ignored.
#pragma once

#include <string>
#include <vector>

#include "modules/module.h"

namespace amiboot {

inline constexpr const char* kSshdConfig = "/etc/ssh/sshd_config";
/// set_passwords' drop-in (PasswordAuthentication).
inline constexpr const char* kSshdDropIn = "/etc/ssh/sshd_config.d/50-amiboot.conf";
/// ssh_host_keys' drop-in (HostCertificate).
inline constexpr const char* kSshdCertificatesDropIn =
    "/etc/ssh/sshd_config.d/50-amiboot-host-certificates.conf";

/// sshd reads /etc/ssh/sshd_config.d/*.conf: sshd_config has the Include
/// line, or there is no sshd_config but the folder exists (the config is in
/// /usr/etc/ssh, as on openSUSE).
bool sshd_reads_drop_ins(const SystemView& system);

/// `config` (an sshd_config) with `keyword` set to `value`: every line of
/// it before the first Match block rewritten, else one line added before
/// the first Match block (a line after it would apply to that block only).
/// Keywords compare case-insensitively, as sshd compares them.
std::string set_sshd_option(const std::string& config, const std::string& keyword,
                            const std::string& value);

/// `lines` ("HostCertificate /etc/ssh/...") that `config` does not have yet,
/// each as a line of its own, added before the first Match block.
std::string add_sshd_lines(const std::string& config, const std::vector<std::string>& lines);

}  // namespace amiboot
