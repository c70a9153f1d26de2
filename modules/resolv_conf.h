// SPDX-License-Identifier: Apache-2.0
// resolv_conf: /etc/resolv.conf from `resolv_conf` when `manage_resolv_conf`
// is true (cloud-init's cc_resolv_conf; its file's lines and order: nameserver
// lines, search, domain, sortlist, then options with the flags first and the
// key:value options sorted). Without manage_resolv_conf the section is only
// validated, and a warning says it is ignored.
//
// cloud-init runs this on its Red Hat and SUSE families only; amiboot does
// what the key says on every distribution. Where /etc/resolv.conf is a link
// (systemd-resolved's stub on Ubuntu and Amazon Linux 2023, resolvconf's), the
// link is replaced by a file, so the service cannot rewrite it; writing
// through the link, as cloud-init does, lasts only until the service next
// rewrites its file.
//
// Init stage, per instance (cloud-init: init stage, after the host name):
// whatever resolves names later in the boot uses these servers.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "modules/module.h"

namespace amiboot {

struct ResolvConfConfig {
  std::vector<std::string> nameservers;  // IP addresses
  std::vector<std::string> searchdomains;
  std::optional<std::string> domain;
  std::vector<std::string> sortlist;            // address[/netmask]
  std::vector<std::string> flags;               // options set true, in the order given
  std::map<std::string, std::string> settings;  // options with a value ("timeout" -> "1")
};

/// nullopt unless manage_resolv_conf is true and resolv_conf is given, or
/// when a key is malformed (reported in `out`).
std::optional<ResolvConfConfig> decode_resolv_conf(const Value& doc, Diagnostics& out);

/// The file's text.
std::string render_resolv_conf(const ResolvConfConfig& config);

PlanResult plan_resolv_conf(const ResolvConfConfig& config, const Facts& facts);

}  // namespace amiboot
