// SPDX-License-Identifier: Apache-2.0
// rsyslog: rsyslog configuration files and remote logging (cloud-init's
// cc_rsyslog): `rsyslog: {configs, remotes, config_dir, config_filename,
// service_reload_command, install_rsyslog, check_exe, packages}`, and the
// deprecated list form (`rsyslog: [...]` for `configs`). Remotes are parsed
// and checked when the config is decoded and written as cloud-init writes
// them; a file name that would leave config_dir is refused.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/core/result.h"
#include "modules/module.h"

namespace amiboot {

/// One remote as cloud-init's `remotes` values write it:
/// `[filter] [@|@@]host[:port]`, an IPv6 address in brackets.
struct RsyslogRemote {
  std::string name;
  std::string filter = "*.*";
  bool tcp = false;  // @@; @ (or nothing) is UDP
  std::string address;
  int port = 0;  // 0: rsyslog's default (514)
  bool operator==(const RsyslogRemote&) const = default;

  /// cloud-init's SyslogRemotesLine.__str__: `*.* @@[fd00::1]:514 # name`.
  std::string line() const;
};

/// cloud-init's parse_remotes_line, with the host and the filter checked
/// as well. `name` is the remotes key (a trailing `# comment` names it
/// otherwise).
Result<RsyslogRemote> parse_rsyslog_remote(std::string_view text, const std::string& name);

struct RsyslogFile {
  std::string filename;  // relative to config_dir
  std::string content;   // ends with a newline
  bool operator==(const RsyslogFile&) const = default;
};

struct RsyslogConfig {
  std::string config_dir = "/etc/rsyslog.d";
  /// Each configs entry in order, the remotes block last; several entries
  /// for one file are appended to each other, as cloud-init appends them.
  std::vector<RsyslogFile> entries;
  std::vector<RsyslogRemote> remotes;
  /// Empty: `auto`, systemctl try-reload-or-restart rsyslog.
  std::vector<std::string> reload_command;
  bool install = false;
  std::string check_exe = "rsyslogd";
  std::vector<std::string> packages = {"rsyslog"};
  bool operator==(const RsyslogConfig&) const = default;
};

// Stored for the final stage's rsyslog_after_ca_certs row.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(RsyslogRemote, name, filter, tcp, address, port)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(RsyslogFile, filename, content)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(RsyslogConfig, config_dir, entries, remotes, reload_command,
                                   install, check_exe, packages)

std::optional<RsyslogConfig> decode_rsyslog(const Value& doc, Diagnostics& out);
PlanResult plan_rsyslog(const RsyslogConfig& config, const Facts& facts);

/// The final stage's second reload: cloud-init configures rsyslog after
/// ca_certs, amiboot before it (ca_certs left the login path), so an
/// rsyslog that amiboot configured reads the trust store again once
/// ca_certs has added to it. A TLS remote signed by that CA then connects
/// without waiting for the next restart.
PlanResult plan_rsyslog_after_ca_certs(const RsyslogConfig& config, const Facts& facts);

}  // namespace amiboot
