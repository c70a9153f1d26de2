// SPDX-License-Identifier: Apache-2.0
#include "modules/firewall.h"

#include <arpa/inet.h>

#include <algorithm>
#include <iterator>

namespace amiboot {

namespace {

constexpr const char* kNftTable = "inet amiboot";
constexpr const char* kChain = "AMIBOOT-INPUT";
constexpr int kSshPort = 22;
// nft keeps at most 128 bytes of comment; ours is "allow[12]: " + the user's.
constexpr std::size_t kMaxComment = 100;

std::string proto_name(FirewallProto proto) {
  switch (proto) {
    case FirewallProto::Tcp:
      return "tcp";
    case FirewallProto::Udp:
      return "udp";
    case FirewallProto::Icmp:
      return "icmp";
    case FirewallProto::Icmpv6:
      return "icmpv6";
    case FirewallProto::Any:
      break;
  }
  return "any";
}

std::optional<FirewallProto> parse_proto(const std::string& text) {
  for (auto p : {FirewallProto::Tcp, FirewallProto::Udp, FirewallProto::Icmp, FirewallProto::Icmpv6,
                 FirewallProto::Any}) {
    if (text == proto_name(p)) {
      return p;
    }
  }
  return std::nullopt;
}

std::optional<long long> parse_digits(const std::string& text) {
  if (text.empty() || text.size() > 9 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return std::stoll(text);
}

constexpr const char* kPortShape = "expected a port number (1-65535) or a range such as 8000-8100";

bool port_in_range(long long port, const Value& at, const std::string& path, Decoder& decoder) {
  if (port < 1 || port > 65535) {
    decoder.error(at, path, "port " + std::to_string(port) + " is out of range (1-65535)");
    return false;
  }
  return true;
}

bool decode_port(const Value& v, const std::string& path, Decoder& decoder, FirewallRule& rule) {
  if (!v.is_scalar()) {
    decoder.error(v, path, std::string(kPortShape) + ", got " + v.type_name());
    return false;
  }
  if (auto n = v.as_int()) {
    if (!port_in_range(*n, v, path, decoder)) {
      return false;
    }
    rule.port_first = rule.port_last = static_cast<int>(*n);
    return true;
  }
  // "8000-8100" (YAML reads it as a string), or a quoted "22".
  const std::string& text = v.scalar;
  std::size_t dash = text.find('-');
  auto first = parse_digits(text.substr(0, dash));
  auto last = dash == std::string::npos ? first : parse_digits(text.substr(dash + 1));
  if (!first || !last) {
    decoder.error(v, path, std::string(kPortShape) + ", got '" + text + "'");
    return false;
  }
  if (!port_in_range(*first, v, path, decoder) || !port_in_range(*last, v, path, decoder)) {
    return false;
  }
  if (*first > *last) {
    decoder.error(v, path,
                  "port range " + text + " is reversed; write " + std::to_string(*last) + "-" +
                      std::to_string(*first));
    return false;
  }
  rule.port_first = static_cast<int>(*first);
  rule.port_last = static_cast<int>(*last);
  return true;
}

/// A network: "10.0.0.0/8", "2600:1f18::/32", or one address ("10.0.0.5").
/// Host bits must be clear: "10.1.2.3/16" is more often a typo for /32 than
/// a way to write 10.1.0.0/16 (EC2 security groups refuse it too).
std::optional<Cidr> parse_cidr(const std::string& text, std::string& why) {
  std::size_t slash = text.find('/');
  std::string address = text.substr(0, slash);
  unsigned char bytes[16] = {};
  Cidr cidr;
  if (inet_pton(AF_INET, address.c_str(), bytes) == 1) {
    cidr.ipv6 = false;
  } else if (inet_pton(AF_INET6, address.c_str(), bytes) == 1) {
    cidr.ipv6 = true;
  } else {
    why = "'" + address + "' is not an IPv4 or IPv6 address";
    return std::nullopt;
  }
  int max = cidr.ipv6 ? 128 : 32;
  cidr.prefix = max;
  if (slash != std::string::npos) {
    auto prefix = parse_digits(text.substr(slash + 1));
    if (!prefix || *prefix > max) {
      why = "prefix length /" + text.substr(slash + 1) + " is out of range for " +
            (cidr.ipv6 ? "IPv6 (0-128)" : "IPv4 (0-32)");
      return std::nullopt;
    }
    cidr.prefix = static_cast<int>(*prefix);
  }
  unsigned char network[16] = {};
  bool host_bits = false;
  for (int i = 0; i < max / 8; ++i) {
    int keep = std::clamp(cidr.prefix - i * 8, 0, 8);
    auto mask = static_cast<unsigned char>(keep == 0 ? 0 : 0xff << (8 - keep));
    network[i] = bytes[i] & mask;
    host_bits = host_bits || network[i] != bytes[i];
  }
  int family = cidr.ipv6 ? AF_INET6 : AF_INET;
  char net_text[INET6_ADDRSTRLEN];
  char exact_text[INET6_ADDRSTRLEN];
  inet_ntop(family, network, net_text, sizeof net_text);
  inet_ntop(family, bytes, exact_text, sizeof exact_text);
  if (host_bits) {
    why = "host bits are set; write " + std::string(net_text) + "/" + std::to_string(cidr.prefix) +
          " for the network or " + exact_text + "/" + std::to_string(max) + " for one address";
    return std::nullopt;
  }
  cidr.address = net_text;
  return cidr;
}

bool decode_cidr(const Value& v, const std::string& path, FirewallProto proto, Decoder& decoder,
                 std::vector<Cidr>& out) {
  if (!v.is_scalar()) {
    decoder.error(v, path,
                  "expected a CIDR such as 10.0.0.0/8 or 2600:1f18::/32, got " + v.type_name());
    return false;
  }
  std::string why;
  auto cidr = parse_cidr(v.scalar, why);
  if (!cidr) {
    decoder.error(v, path, "'" + v.scalar + "' is not a valid CIDR: " + why);
    return false;
  }
  if (proto == FirewallProto::Icmp && cidr->ipv6) {
    decoder.error(v, path,
                  "proto icmp is IPv4 only, and " + v.scalar + " is IPv6 (use proto icmpv6)");
    return false;
  }
  if (proto == FirewallProto::Icmpv6 && !cidr->ipv6) {
    decoder.error(v, path,
                  "proto icmpv6 is IPv6 only, and " + v.scalar + " is IPv4 (use proto icmp)");
    return false;
  }
  out.push_back(*cidr);
  return true;
}

// The comment goes into a quoted nft and iptables-restore string, which
// have no escapes: refuse what would end the string or the line.
bool decode_comment(const Value& v, const std::string& path, Decoder& decoder,
                    std::string& comment) {
  auto text = decoder.string(v, path);
  if (!text) {
    return false;
  }
  bool bad_char = std::any_of(text->begin(), text->end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f || c == '"' || c == '\\';
  });
  if (bad_char) {
    decoder.error(v, path, "must not contain quotes, backslashes or control characters");
    return false;
  }
  if (text->size() > kMaxComment) {
    decoder.error(v, path, "is longer than " + std::to_string(kMaxComment) + " bytes");
    return false;
  }
  comment = *text;
  return true;
}

std::optional<FirewallRule> decode_rule(const Value& item, const std::string& label,
                                        const std::string& path, Decoder& decoder) {
  if (decoder.map(item, path) == nullptr) {
    return std::nullopt;
  }
  decoder.unknown_keys(item, path, {"port", "proto", "from", "comment"});
  const Value* port = item.get("port");
  const Value* proto = item.get("proto");
  const Value* from = item.get("from");
  const Value* comment = item.get("comment");
  if (port == nullptr && proto == nullptr && from == nullptr) {
    // It would match every packet: say so rather than guess.
    decoder.error(item, path, "a rule needs at least one of port, proto or from");
    return std::nullopt;
  }
  FirewallRule rule;
  rule.label = label;
  bool ok = true;
  if (port != nullptr) {
    ok = decode_port(*port, path + ".port", decoder, rule) && ok;
  }
  rule.proto = port != nullptr ? FirewallProto::Tcp : FirewallProto::Any;
  if (proto != nullptr) {
    if (auto text = decoder.string(*proto, path + ".proto")) {
      if (auto p = parse_proto(*text)) {
        rule.proto = *p;
      } else {
        decoder.error(*proto, path + ".proto",
                      "unknown proto '" + *text + "'; expected tcp, udp, icmp, icmpv6 or any");
        ok = false;
      }
    } else {
      ok = false;
    }
  }
  if (port != nullptr &&
      (rule.proto == FirewallProto::Icmp || rule.proto == FirewallProto::Icmpv6)) {
    decoder.error(
        *port, path + ".port",
        proto_name(rule.proto) + " has no ports; remove port, or use proto tcp, udp or any");
    ok = false;
  }
  if (from != nullptr) {
    if (from->is_sequence()) {
      if (from->items.empty()) {
        decoder.error(*from, path + ".from",
                      "expected at least one CIDR; leave out from to mean anywhere");
        ok = false;
      }
      for (std::size_t i = 0; i < from->items.size(); ++i) {
        ok = decode_cidr(from->items[i], path + ".from[" + std::to_string(i) + "]", rule.proto,
                         decoder, rule.from) &&
             ok;
      }
    } else {
      ok = decode_cidr(*from, path + ".from", rule.proto, decoder, rule.from) && ok;
    }
  }
  if (comment != nullptr) {
    ok = decode_comment(*comment, path + ".comment", decoder, rule.comment) && ok;
  }
  if (!ok) {
    return std::nullopt;
  }
  return rule;
}

void decode_rules(const Value& firewall, const std::string& key, Decoder& decoder,
                  std::vector<FirewallRule>& out) {
  const Value* list = firewall.get(key);
  if (list == nullptr || list->is_null()) {
    return;
  }
  if (decoder.list(*list, "firewall." + key) == nullptr) {
    return;
  }
  for (std::size_t i = 0; i < list->items.size(); ++i) {
    std::string label = key + "[" + std::to_string(i) + "]";
    if (auto rule = decode_rule(list->items[i], label, "firewall." + label, decoder)) {
      out.push_back(std::move(*rule));
    }
  }
}

bool covers_ssh(const FirewallRule& rule) {
  bool tcp = rule.proto == FirewallProto::Tcp || rule.proto == FirewallProto::Any;
  return tcp && (!rule.has_port() || (rule.port_first <= kSshPort && kSshPort <= rule.port_last));
}

std::string join_cidrs(const std::vector<Cidr>& cidrs, const std::string& separator) {
  std::string out;
  for (const auto& c : cidrs) {
    out += (out.empty() ? "" : separator) + c.text();
  }
  return out;
}

/// True when the implicit SSH rule is rendered: a deny that covers tcp 22
/// from anywhere makes it dead, and an accept policy makes it redundant.
bool ssh_rule_wanted(const FirewallConfig& config) {
  if (!config.keep_ssh_open || !config.default_drop) {
    return false;
  }
  return std::none_of(config.deny.begin(), config.deny.end(),
                      [](const FirewallRule& r) { return covers_ssh(r) && r.from.empty(); });
}

std::string rule_comment(const FirewallRule& rule) {
  return rule.comment.empty() ? rule.label : rule.label + ": " + rule.comment;
}

std::vector<Cidr> of_family(const std::vector<Cidr>& cidrs, bool ipv6) {
  std::vector<Cidr> out;
  std::copy_if(cidrs.begin(), cidrs.end(), std::back_inserter(out),
               [&](const Cidr& c) { return c.ipv6 == ipv6; });
  return out;
}

std::string port_text(const FirewallRule& rule, char range_separator) {
  std::string out = std::to_string(rule.port_first);
  if (rule.port_last != rule.port_first) {
    out += range_separator + std::to_string(rule.port_last);
  }
  return out;
}

// --- nftables ---------------------------------------------------------------

std::string nft_match(const FirewallRule& rule) {
  switch (rule.proto) {
    case FirewallProto::Tcp:
    case FirewallProto::Udp:
      return rule.has_port() ? proto_name(rule.proto) + " dport " + port_text(rule, '-')
                             : "meta l4proto " + proto_name(rule.proto);
    case FirewallProto::Any:
      return rule.has_port() ? "meta l4proto { tcp, udp } th dport " + port_text(rule, '-') : "";
    case FirewallProto::Icmp:
      return "ip protocol icmp";
    case FirewallProto::Icmpv6:
      return "meta l4proto ipv6-icmp";
  }
  return "";
}

void nft_rule_lines(const FirewallRule& rule, const std::string& verdict,
                    std::vector<std::string>& lines) {
  std::string match = nft_match(rule);
  std::string tail =
      (match.empty() ? "" : match + " ") + verdict + " comment \"" + rule_comment(rule) + "\"";
  if (rule.from.empty()) {
    lines.push_back(tail);
    return;
  }
  // One rule per family: an inet table matches IPv4 and IPv6 sources with
  // different expressions.
  for (bool ipv6 : {false, true}) {
    auto cidrs = of_family(rule.from, ipv6);
    if (cidrs.empty()) {
      continue;
    }
    std::string set = cidrs.size() == 1 ? cidrs[0].text() : "{ " + join_cidrs(cidrs, ", ") + " }";
    lines.push_back(std::string(ipv6 ? "ip6" : "ip") + " saddr " + set + " " + tail);
  }
}

// --- iptables-restore ---------------------------------------------------------

void iptables_rule_lines(const FirewallRule& rule, bool ipv6, const std::string& target,
                         std::vector<std::string>& lines) {
  if ((rule.proto == FirewallProto::Icmp && ipv6) ||
      (rule.proto == FirewallProto::Icmpv6 && !ipv6)) {
    return;
  }
  std::vector<std::string> sources;
  if (rule.from.empty()) {
    sources.push_back("");
  } else {
    for (const auto& c : of_family(rule.from, ipv6)) {
      sources.push_back("-s " + c.text() + " ");
    }
    if (sources.empty()) {
      return;  // every source is of the other family
    }
  }
  std::vector<std::string> protos;
  switch (rule.proto) {
    case FirewallProto::Tcp:
    case FirewallProto::Udp:
      protos.push_back(proto_name(rule.proto));
      break;
    case FirewallProto::Any:
      if (rule.has_port()) {
        protos = {"tcp", "udp"};
      } else {
        protos.push_back("");
      }
      break;
    case FirewallProto::Icmp:
      protos.push_back("icmp");
      break;
    case FirewallProto::Icmpv6:
      protos.push_back("ipv6-icmp");
      break;
  }
  std::string comment = "-m comment --comment \"" + rule_comment(rule) + "\" ";
  for (const auto& source : sources) {
    for (const auto& proto : protos) {
      std::string match;
      if (!proto.empty()) {
        match = "-p " + proto + " ";
        if (rule.has_port()) {
          match += "-m " + proto + " --dport " + port_text(rule, ':') + " ";
        }
      }
      lines.push_back(std::string("-A ") + kChain + " " + source + match + comment + "-j " +
                      target);
    }
  }
}

std::string indent(const std::vector<std::string>& lines, const std::string& prefix) {
  std::string out;
  for (const auto& l : lines) {
    out += prefix + l + "\n";
  }
  return out;
}

}  // namespace

std::string Cidr::text() const {
  return address + "/" + std::to_string(prefix);
}

std::optional<FirewallConfig> decode_firewall_row(const Value& config, Diagnostics& out) {
  const Value* fw = config.get("firewall");
  if (fw == nullptr || fw->is_null()) {
    FirewallConfig absent;
    absent.configured = false;
    return absent;
  }
  return decode_firewall(config, out);
}

std::optional<FirewallConfig> decode_firewall(const Value& config, Diagnostics& out) {
  const Value* fw = config.get("firewall");
  if (fw == nullptr || fw->is_null()) {
    return std::nullopt;
  }
  Decoder decoder(out);
  if (decoder.map(*fw, "firewall") == nullptr) {
    return std::nullopt;
  }
  decoder.unknown_keys(*fw, "firewall",
                       {"enabled", "default_inbound", "allow", "deny", "keep_ssh_open"});
  FirewallConfig result;
  result.pos = fw->pos;
  if (const Value* v = fw->get("enabled")) {
    result.enabled = decoder.boolean(*v, "firewall.enabled").value_or(true);
  }
  if (const Value* v = fw->get("default_inbound")) {
    if (auto text = decoder.string(*v, "firewall.default_inbound")) {
      if (*text == "drop" || *text == "accept") {
        result.default_drop = *text == "drop";
      } else {
        decoder.error(*v, "firewall.default_inbound",
                      "expected drop or accept, got '" + *text + "'");
      }
    }
  }
  decode_rules(*fw, "deny", decoder, result.deny);
  decode_rules(*fw, "allow", decoder, result.allow);
  const Value* keep = fw->get("keep_ssh_open");
  if (keep != nullptr) {
    result.keep_ssh_open = decoder.boolean(*keep, "firewall.keep_ssh_open").value_or(true);
  }
  if (decoder.failed()) {
    return std::nullopt;
  }
  // Locking oneself out is the classic firewall mistake: whoever closes SSH
  // hears about it, in `amiboot validate` before launch and in the status.
  if (result.enabled && result.default_drop && !result.keep_ssh_open) {
    decoder.warning(*keep, "firewall.keep_ssh_open",
                    "SSH (tcp port 22) is not kept open; only the allow rules decide who can log "
                    "in");
  }
  const Value* deny = fw->get("deny");
  for (std::size_t i = 0; result.enabled && i < result.deny.size(); ++i) {
    const FirewallRule& r = result.deny[i];
    if (covers_ssh(r)) {
      decoder.warning(deny->items[i], "firewall." + r.label,
                      "this rule closes SSH (tcp port 22)" +
                          (r.from.empty() ? std::string() : " from " + join_cidrs(r.from, ", ")) +
                          "; make sure you can still log in");
    }
  }
  return result;
}

RenderedRules render_nft(const FirewallConfig& config) {
  RenderedRules out;
  // Adding the table first makes the delete succeed whether or not it
  // existed; nft -f runs the whole file as one transaction, so the kernel
  // never has a moment without our rules (or with half of them).
  out.text = std::string("# Written by amiboot on every boot from the firewall: config.\n") +
             "table " + kNftTable + " {}\n" + "delete table " + kNftTable + "\n";
  if (!config.enabled) {
    return out;
  }
  std::vector<std::string> rules = {
      "iif \"lo\" accept",
      "ct state established,related accept",
      // IPv6 does not work without neighbour discovery (it is IPv6's ARP, and
      // router advertisements carry the default route), and conntrack does
      // not track it, so no "established" rule lets it in. Hop limit 255
      // proves the sender is on the link (RFC 4861); nothing routed can fake
      // it. These come before the deny rules: denying icmpv6 must not cut
      // the instance off its own network.
      "icmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, "
      "nd-neighbor-advert } ip6 hoplimit 255 accept comment \"IPv6 neighbour discovery\"",
      // DHCPv6 (how EC2 hands out IPv6 addresses) replies to a multicast
      // solicit, which conntrack cannot pair with the request.
      "ip6 daddr fe80::/64 udp sport 547 udp dport 546 accept comment \"DHCPv6 replies\"",
  };
  for (const auto& r : config.deny) {
    nft_rule_lines(r, "drop", rules);
  }
  if (ssh_rule_wanted(config)) {
    rules.push_back("tcp dport 22 accept comment \"keep_ssh_open\"");
  }
  for (const auto& r : config.allow) {
    nft_rule_lines(r, "accept", rules);
  }
  out.rules = static_cast<int>(rules.size());
  // No output chain: outbound stays untouched, so IMDS and package mirrors
  // stay reachable whatever the inbound rules say.
  out.text += std::string("table ") + kNftTable + " {\n" + "\tchain input {\n" +
              "\t\ttype filter hook input priority filter; policy " +
              (config.default_drop ? "drop" : "accept") + ";\n" + indent(rules, "\t\t") + "\t}\n" +
              "}\n";
  return out;
}

RenderedRules render_iptables(const FirewallConfig& config, bool ipv6, bool jump_exists) {
  RenderedRules out;
  out.text = std::string("# Written by amiboot on every boot from the firewall: config (") +
             (ipv6 ? "IPv6" : "IPv4") + ").\n*filter\n" +
             // Declaring our chain creates it, or (with --noflush) empties it:
             // every other chain and rule stays as it is.
             ":" + kChain + " - [0:0]\n";
  if (!config.enabled) {
    if (jump_exists) {
      out.text += std::string("-D INPUT -j ") + kChain + "\n";
    }
    out.text += std::string("-X ") + kChain + "\nCOMMIT\n";
    return out;
  }
  if (!jump_exists) {
    out.text += std::string("-I INPUT 1 -j ") + kChain + "\n";
  }
  // Accepted traffic RETURNs to INPUT rather than ACCEPTing there: like an
  // accept in our nft table, it lets the machine's other rules still have
  // their say, and only our drops are final.
  std::string chain = std::string("-A ") + kChain + " ";
  std::vector<std::string> rules = {
      chain + "-i lo -j RETURN",
      chain + "-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
  };
  if (ipv6) {
    // Neighbour discovery and DHCPv6 replies: see render_nft.
    for (int type : {133, 134, 135, 136}) {
      rules.push_back(chain + "-p ipv6-icmp -m icmp6 --icmpv6-type " + std::to_string(type) +
                      " -m hl --hl-eq 255 -m comment --comment \"IPv6 neighbour discovery\" -j "
                      "RETURN");
    }
    rules.push_back(chain +
                    "-d fe80::/64 -p udp -m udp --sport 547 --dport 546 -m comment --comment "
                    "\"DHCPv6 replies\" -j RETURN");
  }
  for (const auto& r : config.deny) {
    iptables_rule_lines(r, ipv6, "DROP", rules);
  }
  if (ssh_rule_wanted(config)) {
    rules.push_back(chain +
                    "-p tcp -m tcp --dport 22 -m comment --comment \"keep_ssh_open\" -j "
                    "RETURN");
  }
  for (const auto& r : config.allow) {
    iptables_rule_lines(r, ipv6, "RETURN", rules);
  }
  if (config.default_drop) {
    rules.push_back(chain + "-m comment --comment \"default_inbound: drop\" -j DROP");
  }
  out.rules = static_cast<int>(rules.size());
  out.text += indent(rules, "") + "COMMIT\n";
  return out;
}

namespace {

// Kernel rules belong to the machine amiboot runs on, not to a --root
// sandbox: an image build or the demo must not firewall the build host. The
// integration tests run inside a network namespace and opt in with the image
// setting `amiboot: {firewall: {apply_under_root: true}}`.
// The last argument is the rules file, a path on the target system.
RunCommand run_required(std::vector<std::string> argv, const std::string& rules,
                        std::string label) {
  RunCommand r{
      .argv = std::move(argv), .label = std::move(label), .needs_host = true, .required = true};
  return r.target_path(rules);
}

bool apply_under_root(const Value& config) {
  const Value* settings = config.get("amiboot");
  const Value* fw = settings != nullptr ? settings->get("firewall") : nullptr;
  const Value* flag = fw != nullptr ? fw->get("apply_under_root") : nullptr;
  return flag != nullptr && flag->as_bool().value_or(false);
}

std::string policy_text(const FirewallConfig& config) {
  return config.default_drop ? "drop" : "accept";
}

void plan_nft(const FirewallConfig& config, const Facts& facts, PlanResult& result) {
  RenderedRules rendered = render_nft(config);
  std::optional<std::string> early = facts.system.read_text(kNftEarlyMarkerPath);
  if (config.enabled && early && *early == rendered.text) {
    // amiboot-firewall.service put these very bytes in force before the
    // network came up: applying them again would change nothing and cost
    // the boot's first nftables call (about a second under TCG). The file
    // under /run is still written, for whoever reads what is in force.
    result.actions.push_back(
        WriteFile{kNftRulesetPath, rendered.text, 0600, "root", false, "firewall ruleset"});
    result.summary = std::to_string(rendered.rules) +
                     " rules active in nftables table inet amiboot, inbound default " +
                     policy_text(config) + " (in force since before the network was up)";
    return;
  }
  // Removed first: should the write fail, nft finds no file rather than an
  // older ruleset that nobody checked against this config.
  result.actions.push_back(RemoveFile{kNftRulesetPath, "firewall ruleset"});
  result.actions.push_back(
      WriteFile{kNftRulesetPath, rendered.text, 0600, "root", false, "firewall ruleset"});
  // Whatever the early unit applied is about to be replaced (or, should nft
  // refuse, may no longer be what the config asks for): a later run in this
  // boot must not take the marker for what is in force.
  if (early) {
    result.actions.push_back(RemoveFile{kNftEarlyMarkerPath, "early firewall marker"});
  }
  // No `nft -c` first: the file is one transaction, which the kernel takes
  // whole or not at all (a rejected rule leaves the old table, its delete
  // undone), so a check would only cost a process on every boot.
  result.actions.push_back(run_required({"nft", "-f"}, kNftRulesetPath, "firewall: nft -f"));
  // Kept only once nft took it (a failed required command skips the rest):
  // the next boot applies, before its network is up, a ruleset the kernel
  // accepted.
  if (config.enabled) {
    result.actions.push_back(WriteFile{nft_kept_path(facts.state_dir), rendered.text, 0600, "root",
                                       false, "firewall ruleset kept for the next boot"});
  } else {
    result.actions.push_back(
        RemoveFile{nft_kept_path(facts.state_dir), "firewall ruleset kept for the next boot"});
  }
  result.summary = config.enabled ? std::to_string(rendered.rules) +
                                        " rules active in nftables table inet amiboot, inbound "
                                        "default " +
                                        policy_text(config)
                                  : "disabled: nftables table inet amiboot removed";
}

// No `firewall:` key: nothing to do, unless an earlier boot kept a ruleset.
// Then the kept file goes, and so does the table amiboot-firewall.service
// loaded from it this boot (the user data stopped asking for it).
void plan_unconfigured(const Facts& facts, PlanResult& result) {
  bool early = facts.system.path_exists(kNftEarlyMarkerPath);
  bool kept = facts.system.path_exists(nft_kept_path(facts.state_dir));
  if (early && facts.system.has_program("nft")) {
    // As `firewall: {enabled: false}`: the table goes, and the kept file.
    FirewallConfig off;
    off.enabled = false;
    plan_nft(off, facts, result);
  } else if (early || kept) {
    result.actions.push_back(
        RemoveFile{nft_kept_path(facts.state_dir), "firewall ruleset kept for the next boot"});
  }
  if (early || kept) {
    result.summary = "no firewall: key: the ruleset kept from an earlier boot removed";
  }
}

void plan_iptables(const FirewallConfig& config, const SystemView& system, PlanResult& result) {
  struct Family {
    const char* program;
    const char* path;
    const char* marker;
    RenderedRules rendered;
  };
  Family families[2] = {
      {"iptables-restore", kIptablesRulesPath, kIptablesJumpMarker, {}},
      {"ip6tables-restore", kIp6tablesRulesPath, kIp6tablesJumpMarker, {}},
  };
  for (int i = 0; i < 2; ++i) {
    // A plan cannot ask the kernel whether INPUT already jumps to our chain,
    // and iptables-restore cannot add a rule only if it is missing. The
    // marker lives in /run, which starts empty on every boot just as the
    // kernel's rules do.
    families[i].rendered = render_iptables(config, i == 1, system.path_exists(families[i].marker));
    result.actions.push_back(RemoveFile{families[i].path, "firewall rules"});
  }
  for (auto& f : families) {
    result.actions.push_back(WriteFile{f.path, f.rendered.text, 0600, "root", false,
                                       std::string("firewall rules for ") + f.program});
  }
  // -w 10: wait for the xtables lock, but not forever; --noflush keeps every
  // other chain and rule; --test parses and checks the whole file first.
  for (auto& f : families) {
    result.actions.push_back(run_required({f.program, "-w", "10", "--noflush", "--test"}, f.path,
                                          std::string("firewall: ") + f.program + " --test"));
  }
  for (auto& f : families) {
    result.actions.push_back(run_required({f.program, "-w", "10", "--noflush"}, f.path,
                                          std::string("firewall: ") + f.program));
    if (config.enabled) {
      result.actions.push_back(WriteFile{
          f.marker, std::string("INPUT jumps to AMIBOOT-INPUT (") + f.program + ", this boot)\n",
          0600, "root", false, "firewall jump marker"});
    } else {
      result.actions.push_back(RemoveFile{f.marker, "firewall jump marker"});
    }
  }
  result.summary =
      config.enabled ? std::to_string(families[0].rendered.rules) + " IPv4 and " +
                           std::to_string(families[1].rendered.rules) +
                           " IPv6 rules active in iptables chain AMIBOOT-INPUT, inbound default " +
                           policy_text(config)
                     : "disabled: iptables chain AMIBOOT-INPUT removed";
}

}  // namespace

PlanResult plan_firewall(const FirewallConfig& config, const Facts& input) {
  PlanResult result;
  if (!config.configured) {
    plan_unconfigured(input, result);
  } else if (input.system.has_program("nft")) {
    plan_nft(config, input, result);
  } else if (input.system.has_program("iptables-restore") &&
             input.system.has_program("ip6tables-restore")) {
    plan_iptables(config, input.system, result);
  } else if (config.enabled) {
    result.diagnostics.push_back(Diagnostic{
        Diagnostic::Severity::Error, config.pos, "firewall",
        "neither nft nor iptables-restore and ip6tables-restore are installed; no rules applied"});
  }
  if (apply_under_root(input.image_config)) {
    for (auto& action : result.actions) {
      if (auto* run = std::get_if<RunCommand>(&action)) {
        run->needs_host = false;
      }
    }
  }
  return result;
}

}  // namespace amiboot
