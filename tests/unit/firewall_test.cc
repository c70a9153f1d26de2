// SPDX-License-Identifier: Apache-2.0
// The firewall module's decoder, its nft and iptables-restore renderings and
// its plan. Real packets are in tests/integration/firewall_test.cc.
#include <gtest/gtest.h>

#include "agent/core/config.h"
#include "modules/firewall.h"
#include "modules/module.h"
#include "tests/support/module_fixture.h"

namespace amiboot {
namespace {

struct Fixture : testing::ModuleFixture {
  explicit Fixture(const std::string& yaml) : ModuleFixture(yaml) {
    system.programs = {"nft", "iptables-restore", "ip6tables-restore"};
  }
  PlanResult plan() const { return ModuleFixture::plan("firewall"); }
};

std::vector<std::string> formatted(const Diagnostics& diagnostics) {
  std::vector<std::string> out;
  for (const auto& d : diagnostics) {
    out.push_back(d.format());
  }
  return out;
}

/// The one error a config gives, as `amiboot validate` prints it.
std::string only_error(const std::string& yaml) {
  Fixture f(yaml);
  auto plan = f.plan();
  EXPECT_TRUE(plan.actions.empty()) << yaml;
  auto lines = formatted(plan.diagnostics);
  EXPECT_EQ(lines.size(), 1u) << yaml;
  return lines.empty() ? "" : lines[0];
}

// The design's example plus a deny rule, a single address and udp.
constexpr const char* kConfig = R"(firewall:
  default_inbound: drop
  deny:
    - {port: 22, proto: tcp, from: 203.0.113.0/24, comment: not from the old office}
  allow:
    - {port: 443}
    - {port: 8000-8100, proto: any, from: [10.0.0.0/8, "2600:1f18::/32"]}
    - {proto: icmp}
    - {proto: udp, port: 53, from: 10.0.0.2}
)";

TEST(Firewall, DecodesRulesWithTheirDefaults) {
  Fixture f(kConfig);
  Diagnostics diags;
  auto config = decode_firewall(f.config, diags);
  ASSERT_TRUE(config.has_value()) << formatted(diags)[0];
  EXPECT_TRUE(config->enabled);
  EXPECT_TRUE(config->default_drop);
  EXPECT_TRUE(config->keep_ssh_open);
  ASSERT_EQ(config->allow.size(), 4u);
  // A port without a proto is tcp.
  EXPECT_EQ(config->allow[0], (FirewallRule{"allow[0]", 443, 443, FirewallProto::Tcp, {}, ""}));
  EXPECT_EQ(config->allow[1],
            (FirewallRule{"allow[1]",
                          8000,
                          8100,
                          FirewallProto::Any,
                          {Cidr{false, "10.0.0.0", 8}, Cidr{true, "2600:1f18::", 32}},
                          ""}));
  // A single address is a /32.
  EXPECT_EQ(config->allow[3].from, (std::vector<Cidr>{Cidr{false, "10.0.0.2", 32}}));
  ASSERT_EQ(config->deny.size(), 1u);
  EXPECT_EQ(config->deny[0].comment, "not from the old office");
}

TEST(Firewall, PortOutOfRangeNamesTheKeyAndItsLine) {
  EXPECT_EQ(only_error("firewall:\n  allow:\n    - port: 70000\n"),
            "user-data:3:13: firewall.allow[0].port: port 70000 is out of range (1-65535)");
  EXPECT_EQ(only_error("firewall:\n  deny:\n    - {port: 0-80}\n"),
            "user-data:3:14: firewall.deny[0].port: port 0 is out of range (1-65535)");
}

TEST(Firewall, CidrPrefixOutOfRangeNamesTheKeyAndItsLine) {
  EXPECT_EQ(only_error("firewall:\n  allow:\n    - port: 80\n      from: 10.0.0.0/33\n"),
            "user-data:4:13: firewall.allow[0].from: '10.0.0.0/33' is not a valid CIDR: prefix "
            "length /33 is out of range for IPv4 (0-32)");
  EXPECT_EQ(only_error("firewall:\n  allow:\n    - port: 80\n      from: [10.0.0.0/8, "
                       "'2600::/129']\n"),
            "user-data:4:26: firewall.allow[0].from[1]: '2600::/129' is not a valid CIDR: prefix "
            "length /129 is out of range for IPv6 (0-128)");
}

TEST(Firewall, UnknownProtoNamesTheKeyAndItsLine) {
  EXPECT_EQ(only_error("firewall:\n  allow:\n    - port: 80\n      proto: sctp\n"),
            "user-data:4:14: firewall.allow[0].proto: unknown proto 'sctp'; expected tcp, udp, "
            "icmp, icmpv6 or any");
}

TEST(Firewall, ReversedPortRangeNamesTheKeyAndItsLine) {
  EXPECT_EQ(only_error("firewall:\n  allow:\n    - port: 9000-8000\n"),
            "user-data:3:13: firewall.allow[0].port: port range 9000-8000 is reversed; write "
            "8000-9000");
}

TEST(Firewall, IcmpHasNoPorts) {
  EXPECT_EQ(only_error("firewall:\n  allow:\n    - {proto: icmp, port: 8}\n"),
            "user-data:3:27: firewall.allow[0].port: icmp has no ports; remove port, or use "
            "proto tcp, udp or any");
}

TEST(Firewall, OtherMistakesAreErrorsNamingTheKey) {
  struct Case {
    std::string rule;
    std::string error;
  };
  for (const auto& c : std::vector<Case>{
           {"{port: http}",
            "allow[0].port: expected a port number (1-65535) or a range such as 8000-8100, got "
            "'http'"},
           {"{port: [80]}",
            "allow[0].port: expected a port number (1-65535) or a range such as 8000-8100, got a "
            "list"},
           {"{from: 10.1.2.3/16}",
            "allow[0].from: '10.1.2.3/16' is not a valid CIDR: host bits are set; write "
            "10.1.0.0/16 for the network or 10.1.2.3/32 for one address"},
           {"{from: 10.0.0.256/8}",
            "allow[0].from: '10.0.0.256/8' is not a valid CIDR: '10.0.0.256' is not an IPv4 or "
            "IPv6 address"},
           {"{from: 10.0.0.0/-1}",
            "allow[0].from: '10.0.0.0/-1' is not a valid CIDR: prefix length /-1 is out of range "
            "for IPv4 (0-32)"},
           {"{from: []}",
            "allow[0].from: expected at least one CIDR; leave out from to mean anywhere"},
           {"{proto: icmp, from: 'fd00::/8'}",
            "allow[0].from: proto icmp is IPv4 only, and fd00::/8 is IPv6 (use proto icmpv6)"},
           {"{proto: icmpv6, from: 10.0.0.0/8}",
            "allow[0].from: proto icmpv6 is IPv6 only, and 10.0.0.0/8 is IPv4 (use proto icmp)"},
           {"{comment: lonely}", "allow[0]: a rule needs at least one of port, proto or from"},
           {"{port: 1, comment: 'say \"hi\"'}",
            "allow[0].comment: must not contain quotes, backslashes or control characters"},
       }) {
    std::string error = only_error("firewall:\n  allow:\n    - " + c.rule + "\n");
    EXPECT_NE(error.find("user-data:3:"), std::string::npos) << error;
    EXPECT_NE(error.find("firewall." + c.error), std::string::npos) << error;
  }
  EXPECT_EQ(only_error("firewall:\n  default_inbound: reject\n"),
            "user-data:2:20: firewall.default_inbound: expected drop or accept, got 'reject'");
  EXPECT_EQ(only_error("firewall: [80]\n"), "user-data:1:11: firewall: expected a map, got a list");
}

TEST(Firewall, OneBadRuleMeansNoRuleChange) {
  Fixture f("firewall:\n  allow:\n    - {port: 80}\n    - {port: 70000}\n");
  auto plan = f.plan();
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_TRUE(has_errors(plan.diagnostics));
}

constexpr const char* kRenderedNft =
    R"(# Written by amiboot on every boot from the firewall: config.
table inet amiboot {}
delete table inet amiboot
table inet amiboot {
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		ct state established,related accept
		icmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept comment "IPv6 neighbour discovery"
		ip6 daddr fe80::/64 udp sport 547 udp dport 546 accept comment "DHCPv6 replies"
		ip saddr 203.0.113.0/24 tcp dport 22 drop comment "deny[0]: not from the old office"
		tcp dport 22 accept comment "keep_ssh_open"
		tcp dport 443 accept comment "allow[0]"
		ip saddr 10.0.0.0/8 meta l4proto { tcp, udp } th dport 8000-8100 accept comment "allow[1]"
		ip6 saddr 2600:1f18::/32 meta l4proto { tcp, udp } th dport 8000-8100 accept comment "allow[1]"
		ip protocol icmp accept comment "allow[2]"
		ip saddr 10.0.0.2/32 udp dport 53 accept comment "allow[3]"
	}
}
)";

TEST(Firewall, RendersOneTableReplacedInOneTransaction) {
  Fixture f(kConfig);
  Diagnostics diags;
  auto config = decode_firewall(f.config, diags);
  ASSERT_TRUE(config.has_value());
  auto rendered = render_nft(*config);
  EXPECT_EQ(rendered.text, kRenderedNft);
  EXPECT_EQ(rendered.rules, 11);
}

// One nft run: `nft -f` is one transaction, so a ruleset the kernel rejects
// leaves the old table as it was, and an `nft -c` first would only be one
// more process on every boot's login path.
constexpr const char* kRemoveOurTable =
    R"(# Written by amiboot on every boot from the firewall: config.
table inet amiboot {}
delete table inet amiboot
)";

// The actions every applying plan shares.
WriteFile ruleset_file(const std::string& text) {
  return WriteFile{"/run/amiboot/firewall.nft", text, 0600, "root", false, "firewall ruleset"};
}
RunCommand apply_ruleset() {
  return RunCommand{.argv = {"nft", "-f", "/run/amiboot/firewall.nft"},
                    .label = "firewall: nft -f",
                    .target_paths = {2},
                    .needs_host = true,
                    .required = true};
}
WriteFile keep_ruleset() {
  return WriteFile{"/var/lib/amiboot/firewall.nft",          kRenderedNft, 0600, "root", false,
                   "firewall ruleset kept for the next boot"};
}

TEST(Firewall, PlanWritesTheRulesetThenAppliesItInOneTransaction) {
  Fixture f(kConfig);
  auto plan = f.plan();
  ASSERT_FALSE(has_errors(plan.diagnostics)) << formatted(plan.diagnostics)[0];
  std::vector<Action> expected = {
      RemoveFile{"/run/amiboot/firewall.nft", "firewall ruleset"},
      ruleset_file(kRenderedNft),
      apply_ruleset(),
      // Kept for amiboot-firewall.service on the next boot, after nft took it.
      keep_ruleset(),
  };
  EXPECT_EQ(plan.actions, expected);
  EXPECT_EQ(plan.summary, "11 rules active in nftables table inet amiboot, inbound default drop");
}

TEST(Firewall, TheRulesetTheEarlyUnitAppliedIsNotAppliedAgain) {
  Fixture f(kConfig);
  f.system.files[kNftEarlyMarkerPath] = kRenderedNft;
  auto plan = f.plan();
  ASSERT_FALSE(has_errors(plan.diagnostics)) << formatted(plan.diagnostics)[0];
  // No nft call and no rewrite of the kept file: only the /run copy.
  std::vector<Action> expected = {
      ruleset_file(kRenderedNft),
  };
  EXPECT_EQ(plan.actions, expected);
  EXPECT_EQ(plan.summary,
            "11 rules active in nftables table inet amiboot, inbound default drop (in force since "
            "before the network was up)");
}

TEST(Firewall, ARulesetOtherThanTheEarlyOneReplacesItAndDropsTheMarker) {
  Fixture f(kConfig);
  // One byte off is another ruleset: the last boot's config differed.
  f.system.files[kNftEarlyMarkerPath] = std::string(kRenderedNft) + "\n";
  auto plan = f.plan();
  std::vector<Action> expected = {
      RemoveFile{"/run/amiboot/firewall.nft", "firewall ruleset"},
      ruleset_file(kRenderedNft),
      RemoveFile{"/run/amiboot/firewall-early.nft", "early firewall marker"},
      apply_ruleset(),
      keep_ruleset(),
  };
  EXPECT_EQ(plan.actions, expected);
}

TEST(Firewall, WithoutAFirewallKeyNothingHappensUnlessARulesetWasKept) {
  Fixture none("bootcmd: [true]\n");
  auto plan = none.plan();
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_TRUE(plan.diagnostics.empty());

  // Kept by an earlier boot and applied early this boot: both go.
  Fixture dropped("bootcmd: [true]\n");
  dropped.system.files["/var/lib/amiboot/firewall.nft"] = kRenderedNft;
  dropped.system.files[kNftEarlyMarkerPath] = kRenderedNft;
  plan = dropped.plan();
  std::vector<Action> expected = {
      RemoveFile{"/run/amiboot/firewall.nft", "firewall ruleset"},
      ruleset_file(kRemoveOurTable),
      RemoveFile{"/run/amiboot/firewall-early.nft", "early firewall marker"},
      apply_ruleset(),
      RemoveFile{"/var/lib/amiboot/firewall.nft", "firewall ruleset kept for the next boot"},
  };
  EXPECT_EQ(plan.actions, expected);
  EXPECT_EQ(plan.summary, "no firewall: key: the ruleset kept from an earlier boot removed");

  // Kept but not applied (the early unit failed or was skipped): the file goes.
  Fixture kept_only("{}\n");
  kept_only.system.files["/var/lib/amiboot/firewall.nft"] = kRenderedNft;
  plan = kept_only.plan();
  expected = {
      RemoveFile{"/var/lib/amiboot/firewall.nft", "firewall ruleset kept for the next boot"}};
  EXPECT_EQ(plan.actions, expected);
}

TEST(Firewall, AConfigWithErrorsKeepsWhatIsInForceAndWhatWasKept) {
  Fixture f("firewall:\n  allow:\n    - {port: 70000}\n");
  f.system.files["/var/lib/amiboot/firewall.nft"] = kRenderedNft;
  f.system.files[kNftEarlyMarkerPath] = kRenderedNft;
  auto plan = f.plan();
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_TRUE(has_errors(plan.diagnostics));
}

TEST(Firewall, SshStaysOpenByDefaultWithoutAWarning) {
  Fixture f("firewall:\n  allow:\n    - {port: 80}\n");
  auto plan = f.plan();
  EXPECT_TRUE(plan.diagnostics.empty()) << formatted(plan.diagnostics)[0];
  const auto& script = std::get<WriteFile>(plan.actions.at(1)).content;
  EXPECT_NE(script.find("\t\ttcp dport 22 accept comment \"keep_ssh_open\"\n"), std::string::npos)
      << script;
}

TEST(Firewall, KeepSshOpenFalseClosesSshWithAWarning) {
  Fixture f("firewall:\n  allow:\n    - {port: 80}\n  keep_ssh_open: false\n");
  auto plan = f.plan();
  EXPECT_EQ(formatted(plan.diagnostics),
            std::vector<std::string>{
                "user-data:4:18: warning: firewall.keep_ssh_open: SSH (tcp port 22) is not kept "
                "open; only the allow rules decide who can log in"});
  const auto& script = std::get<WriteFile>(plan.actions.at(1)).content;
  EXPECT_EQ(script.find("dport 22"), std::string::npos) << script;
  EXPECT_EQ(plan.summary, "5 rules active in nftables table inet amiboot, inbound default drop");
}

TEST(Firewall, DenyCoveringPort22ClosesSshWithAWarning) {
  Fixture f("firewall:\n  deny:\n    - {port: 1-1024, proto: any}\n");
  auto plan = f.plan();
  EXPECT_EQ(formatted(plan.diagnostics),
            std::vector<std::string>{"user-data:3:7: warning: firewall.deny[0]: this rule closes "
                                     "SSH (tcp port 22); make sure you can still log in"});
  const auto& script = std::get<WriteFile>(plan.actions.at(1)).content;
  EXPECT_NE(script.find("meta l4proto { tcp, udp } th dport 1-1024 drop"), std::string::npos);
  // The keep-open rule would never be reached: it is left out.
  EXPECT_EQ(script.find("keep_ssh_open"), std::string::npos) << script;
  // A deny from some sources closes SSH for them only: the others keep it.
  Fixture partial("firewall:\n  deny:\n    - {port: 22, from: 198.51.100.0/24}\n");
  auto plan2 = partial.plan();
  EXPECT_EQ(formatted(plan2.diagnostics),
            std::vector<std::string>{
                "user-data:3:7: warning: firewall.deny[0]: this rule closes SSH (tcp port 22) from "
                "198.51.100.0/24; make sure you can still log in"});
  const auto& script2 = std::get<WriteFile>(plan2.actions.at(1)).content;
  EXPECT_LT(script2.find("ip saddr 198.51.100.0/24 tcp dport 22 drop"),
            script2.find("tcp dport 22 accept comment \"keep_ssh_open\""));
}

TEST(Firewall, AcceptPolicyNeedsNoSshRule) {
  Fixture f("firewall:\n  default_inbound: accept\n  deny:\n    - {port: 3306}\n");
  auto plan = f.plan();
  EXPECT_TRUE(plan.diagnostics.empty());
  const auto& script = std::get<WriteFile>(plan.actions.at(1)).content;
  EXPECT_NE(script.find("policy accept;"), std::string::npos);
  EXPECT_NE(script.find("\t\ttcp dport 3306 drop comment \"deny[0]\"\n"), std::string::npos);
  EXPECT_EQ(script.find("keep_ssh_open"), std::string::npos);
}

TEST(Firewall, DisabledRemovesOurTableAndNothingElse) {
  // Rules are still checked: a typo is an error even while disabled.
  EXPECT_EQ(only_error("firewall:\n  enabled: false\n  allow:\n    - {port: 70000}\n"),
            "user-data:4:14: firewall.allow[0].port: port 70000 is out of range (1-65535)");
  Fixture f("firewall:\n  enabled: false\n  keep_ssh_open: false\n  allow:\n    - {port: 80}\n");
  auto plan = f.plan();
  EXPECT_TRUE(plan.diagnostics.empty()) << formatted(plan.diagnostics)[0];
  std::vector<Action> expected = {
      RemoveFile{"/run/amiboot/firewall.nft", "firewall ruleset"},
      ruleset_file(kRemoveOurTable),
      apply_ruleset(),
      // Nothing to apply before the network on the next boot.
      RemoveFile{"/var/lib/amiboot/firewall.nft", "firewall ruleset kept for the next boot"},
  };
  EXPECT_EQ(plan.actions, expected);
  EXPECT_EQ(plan.summary, "disabled: nftables table inet amiboot removed");
}

constexpr const char* kRenderedIptables =
    R"(# Written by amiboot on every boot from the firewall: config (IPv4).
*filter
:AMIBOOT-INPUT - [0:0]
-I INPUT 1 -j AMIBOOT-INPUT
-A AMIBOOT-INPUT -i lo -j RETURN
-A AMIBOOT-INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN
-A AMIBOOT-INPUT -s 203.0.113.0/24 -p tcp -m tcp --dport 22 -m comment --comment "deny[0]: not from the old office" -j DROP
-A AMIBOOT-INPUT -p tcp -m tcp --dport 22 -m comment --comment "keep_ssh_open" -j RETURN
-A AMIBOOT-INPUT -p tcp -m tcp --dport 443 -m comment --comment "allow[0]" -j RETURN
-A AMIBOOT-INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 8000:8100 -m comment --comment "allow[1]" -j RETURN
-A AMIBOOT-INPUT -s 10.0.0.0/8 -p udp -m udp --dport 8000:8100 -m comment --comment "allow[1]" -j RETURN
-A AMIBOOT-INPUT -p icmp -m comment --comment "allow[2]" -j RETURN
-A AMIBOOT-INPUT -s 10.0.0.2/32 -p udp -m udp --dport 53 -m comment --comment "allow[3]" -j RETURN
-A AMIBOOT-INPUT -m comment --comment "default_inbound: drop" -j DROP
COMMIT
)";

// The IPv6 file as on a second apply in the same boot: the jump exists.
constexpr const char* kRenderedIp6tables =
    R"(# Written by amiboot on every boot from the firewall: config (IPv6).
*filter
:AMIBOOT-INPUT - [0:0]
-A AMIBOOT-INPUT -i lo -j RETURN
-A AMIBOOT-INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN
-A AMIBOOT-INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 133 -m hl --hl-eq 255 -m comment --comment "IPv6 neighbour discovery" -j RETURN
-A AMIBOOT-INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 134 -m hl --hl-eq 255 -m comment --comment "IPv6 neighbour discovery" -j RETURN
-A AMIBOOT-INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -m hl --hl-eq 255 -m comment --comment "IPv6 neighbour discovery" -j RETURN
-A AMIBOOT-INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 136 -m hl --hl-eq 255 -m comment --comment "IPv6 neighbour discovery" -j RETURN
-A AMIBOOT-INPUT -d fe80::/64 -p udp -m udp --sport 547 --dport 546 -m comment --comment "DHCPv6 replies" -j RETURN
-A AMIBOOT-INPUT -p tcp -m tcp --dport 22 -m comment --comment "keep_ssh_open" -j RETURN
-A AMIBOOT-INPUT -p tcp -m tcp --dport 443 -m comment --comment "allow[0]" -j RETURN
-A AMIBOOT-INPUT -s 2600:1f18::/32 -p tcp -m tcp --dport 8000:8100 -m comment --comment "allow[1]" -j RETURN
-A AMIBOOT-INPUT -s 2600:1f18::/32 -p udp -m udp --dport 8000:8100 -m comment --comment "allow[1]" -j RETURN
-A AMIBOOT-INPUT -m comment --comment "default_inbound: drop" -j DROP
COMMIT
)";

TEST(Firewall, WithoutNftIptablesRestoreAppliesTheSameRulesInOurOwnChain) {
  Fixture f(kConfig);
  f.system.programs = {"iptables-restore", "ip6tables-restore"};
  // Applied once already this boot for IPv6 only (say IPv4 failed then).
  f.system.files["/run/amiboot/firewall.ip6tables-jump"] = "";
  auto plan = f.plan();
  ASSERT_FALSE(has_errors(plan.diagnostics));
  // The rules file, last, is a path on the target system.
  auto run = [](std::vector<std::string> argv, std::string label) -> Action {
    std::size_t last = argv.size() - 1;
    return RunCommand{.argv = std::move(argv),
                      .label = std::move(label),
                      .target_paths = {last},
                      .needs_host = true,
                      .required = true};
  };
  std::vector<Action> expected = {
      RemoveFile{"/run/amiboot/firewall.iptables", "firewall rules"},
      RemoveFile{"/run/amiboot/firewall.ip6tables", "firewall rules"},
      WriteFile{"/run/amiboot/firewall.iptables", kRenderedIptables, 0600, "root", false,
                "firewall rules for iptables-restore"},
      WriteFile{"/run/amiboot/firewall.ip6tables", kRenderedIp6tables, 0600, "root", false,
                "firewall rules for ip6tables-restore"},
      run({"iptables-restore", "-w", "10", "--noflush", "--test", "/run/amiboot/firewall.iptables"},
          "firewall: iptables-restore --test"),
      run({"ip6tables-restore", "-w", "10", "--noflush", "--test",
           "/run/amiboot/firewall.ip6tables"},
          "firewall: ip6tables-restore --test"),
      run({"iptables-restore", "-w", "10", "--noflush", "/run/amiboot/firewall.iptables"},
          "firewall: iptables-restore"),
      WriteFile{"/run/amiboot/firewall.iptables-jump",
                "INPUT jumps to AMIBOOT-INPUT (iptables-restore, this boot)\n", 0600, "root", false,
                "firewall jump marker"},
      run({"ip6tables-restore", "-w", "10", "--noflush", "/run/amiboot/firewall.ip6tables"},
          "firewall: ip6tables-restore"),
      WriteFile{"/run/amiboot/firewall.ip6tables-jump",
                "INPUT jumps to AMIBOOT-INPUT (ip6tables-restore, this boot)\n", 0600, "root",
                false, "firewall jump marker"},
  };
  EXPECT_EQ(plan.actions, expected);
  EXPECT_EQ(plan.summary,
            "10 IPv4 and 12 IPv6 rules active in iptables chain AMIBOOT-INPUT, inbound default "
            "drop");
}

TEST(Firewall, IptablesDisabledRemovesOurChainAndItsJumpOnly) {
  FirewallConfig disabled;
  disabled.enabled = false;
  EXPECT_EQ(render_iptables(disabled, false, true).text,
            "# Written by amiboot on every boot from the firewall: config (IPv4).\n"
            "*filter\n"
            ":AMIBOOT-INPUT - [0:0]\n"
            "-D INPUT -j AMIBOOT-INPUT\n"
            "-X AMIBOOT-INPUT\n"
            "COMMIT\n");
  // No jump this boot: declaring the chain first makes deleting it safe
  // whether or not it exists.
  EXPECT_EQ(render_iptables(disabled, true, false).text,
            "# Written by amiboot on every boot from the firewall: config (IPv6).\n"
            "*filter\n"
            ":AMIBOOT-INPUT - [0:0]\n"
            "-X AMIBOOT-INPUT\n"
            "COMMIT\n");
  Fixture f("firewall: {enabled: false}\n");
  f.system.programs = {"iptables-restore", "ip6tables-restore"};
  f.system.files["/run/amiboot/firewall.iptables-jump"] = "";
  auto plan = f.plan();
  ASSERT_EQ(plan.actions.size(), 10u);
  EXPECT_EQ(plan.actions[7],
            Action(RemoveFile{"/run/amiboot/firewall.iptables-jump", "firewall jump marker"}));
  EXPECT_EQ(plan.summary, "disabled: iptables chain AMIBOOT-INPUT removed");
}

TEST(Firewall, WithoutNftOrIptablesNothingIsAppliedAndThatIsAnError) {
  Fixture f("firewall:\n  allow:\n    - {port: 80}\n");
  f.system.programs = {"iptables-restore"};
  auto plan = f.plan();
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_EQ(formatted(plan.diagnostics),
            std::vector<std::string>{"user-data:2:3: firewall: neither nft nor iptables-restore "
                                     "and ip6tables-restore are installed; no rules applied"});
  // Nothing to remove when disabled: not an error.
  Fixture off("firewall: {enabled: false}\n");
  off.system.programs.clear();
  auto plan2 = off.plan();
  EXPECT_TRUE(plan2.actions.empty());
  EXPECT_TRUE(plan2.diagnostics.empty());
}

TEST(Firewall, RunsEveryBootInInitBeforeWriteFiles) {
  const ModuleSpec* fw = find_module("firewall");
  ASSERT_NE(fw, nullptr);
  EXPECT_EQ(fw->stage, Stage::Init);
  EXPECT_EQ(fw->frequency, Frequency::PerBoot);
  EXPECT_EQ(fw->keys, std::vector<std::string_view>{"firewall"});
  const auto& table = module_table();
  auto index = [&](std::string_view name) {
    return std::find_if(table.begin(), table.end(),
                        [&](const ModuleSpec& m) { return m.name == name; }) -
           table.begin();
  };
  EXPECT_LT(index("firewall"), index("write_files"));
}

}  // namespace
}  // namespace amiboot
