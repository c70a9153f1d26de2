// SPDX-License-Identifier: Apache-2.0
// firewall (ours; cloud-init has none): a short declarative `firewall:`
// section made true on every boot as one nftables table, `inet amiboot`,
// replaced in one checked transaction. iptables-restore and
// ip6tables-restore, in our own chain AMIBOOT-INPUT, when nft is absent.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "modules/module.h"

namespace amiboot {

enum class FirewallProto { Tcp, Udp, Icmp, Icmpv6, Any };

/// One source network; `address` is in canonical text form (inet_ntop).
struct Cidr {
  bool ipv6 = false;
  std::string address;
  int prefix = 0;
  /// "10.0.0.0/8", "2600:1f18::/32"
  std::string text() const;
  bool operator==(const Cidr&) const = default;
};

struct FirewallRule {
  std::string label;  // "allow[1]", "deny[0]": in the rule's comment, to find it again
  /// Both 0 when the rule names no port.
  int port_first = 0;
  int port_last = 0;
  /// tcp when only a port is given, any when neither is.
  FirewallProto proto = FirewallProto::Any;
  std::vector<Cidr> from;  // empty: from anywhere
  std::string comment;
  bool has_port() const { return port_first != 0; }
  bool operator==(const FirewallRule&) const = default;
};

struct FirewallConfig {
  bool enabled = true;
  bool default_drop = true;  // default_inbound: drop (the default) or accept
  std::vector<FirewallRule> deny;
  std::vector<FirewallRule> allow;
  bool keep_ssh_open = true;
  /// false: no `firewall:` key. The plan then only takes away a ruleset an
  /// earlier boot kept (and amiboot-firewall.service applied this boot).
  bool configured = true;
  Position pos;  // of the `firewall` key, for errors found while planning
  bool operator==(const FirewallConfig&) const = default;
};

/// nullopt when `firewall` is absent or has errors (reported in `out`, with
/// the key path and its line). Closing SSH is a warning in `out`.
std::optional<FirewallConfig> decode_firewall(const Value& config, Diagnostics& out);
/// The module row's decoder: as decode_firewall, but an absent key gives a
/// config with `configured` false, so a ruleset kept from an earlier boot
/// is not left in force once the user data stops asking for it.
std::optional<FirewallConfig> decode_firewall_row(const Value& config, Diagnostics& out);

/// The instance paths of what the module writes (under /run: rules do not
/// outlive the boot, and neither should these).
inline constexpr const char* kNftRulesetPath = "/run/amiboot/firewall.nft";
inline constexpr const char* kIptablesRulesPath = "/run/amiboot/firewall.iptables";
inline constexpr const char* kIp6tablesRulesPath = "/run/amiboot/firewall.ip6tables";
/// Written after a family's rules were applied with iptables-restore: the
/// jump from INPUT to AMIBOOT-INPUT exists and must not be added again.
inline constexpr const char* kIptablesJumpMarker = "/run/amiboot/firewall.iptables-jump";
inline constexpr const char* kIp6tablesJumpMarker = "/run/amiboot/firewall.ip6tables-jump";
/// The nft ruleset the module last applied, in amiboot's state folder
/// (Facts::state_dir, 0700; the file 0600): `amiboot firewall-early`
/// (amiboot-firewall.service) applies it on the next boot before any
/// network interface is up. Removed when the firewall is disabled or gone.
inline constexpr const char* kNftKeptName = "firewall.nft";
inline std::string nft_kept_path(const std::string& state_dir) {
  return state_dir + "/" + kNftKeptName;
}
/// Written by `amiboot firewall-early` once nft took the kept ruleset: the
/// exact text in force since before the network came up. The module skips
/// its own nft call when it would apply the same bytes, and removes the
/// marker whenever it applies something else.
inline constexpr const char* kNftEarlyMarkerPath = "/run/amiboot/firewall-early.nft";

struct RenderedRules {
  std::string text;  // an nft -f script, or an iptables-restore file
  int rules = 0;     // rules in our chain once applied
};

/// The nft script that replaces table inet amiboot (or, when disabled,
/// removes it) in one transaction.
RenderedRules render_nft(const FirewallConfig& config);
/// The iptables-restore (ipv6: ip6tables-restore) input for one family.
/// `jump_exists`: INPUT already jumps to AMIBOOT-INPUT (an earlier apply in
/// this boot), so the jump is not added again, or, when disabled, is removed.
RenderedRules render_iptables(const FirewallConfig& config, bool ipv6, bool jump_exists);

PlanResult plan_firewall(const FirewallConfig& config, const Facts& facts);

}  // namespace amiboot
