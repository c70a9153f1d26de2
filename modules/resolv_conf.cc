// SPDX-License-Identifier: Apache-2.0
#include "modules/resolv_conf.h"

#include <arpa/inet.h>

#include <cctype>

namespace amiboot {

namespace {

constexpr const char* kResolvConf = "/etc/resolv.conf";
// glibc's MAXNS: later nameserver lines are ignored.
constexpr std::size_t kResolverMaxNameservers = 3;

bool is_ipv4(const std::string& s) {
  in_addr a{};
  return inet_pton(AF_INET, s.c_str(), &a) == 1;
}

// An IPv6 address may carry a zone ("fe80::1%eth0"), which glibc reads.
bool is_ip(const std::string& s) {
  in6_addr a6{};
  std::string base = s.substr(0, s.find('%'));
  return is_ipv4(s) || inet_pton(AF_INET6, base.c_str(), &a6) == 1;
}

bool is_domain(const std::string& s) {
  if (s.empty() || s.size() > 253) {
    return false;
  }
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') {
      return false;
    }
  }
  return true;
}

// sortlist entries: an IPv4 address, optionally /netmask (glibc reads the
// mask with inet_aton, so "255" is a mask too).
bool is_sortlist_entry(const std::string& s) {
  auto slash = s.find('/');
  if (!is_ipv4(s.substr(0, slash))) {
    return false;
  }
  if (slash == std::string::npos) {
    return true;
  }
  std::string mask = s.substr(slash + 1);
  if (mask.empty()) {
    return false;
  }
  for (char c : mask) {
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.') {
      return false;
    }
  }
  return true;
}

bool is_option_word(const std::string& s, bool allow_dots) {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '-' && c != '_' && !(allow_dots && c == '.')) {
      return false;
    }
  }
  return true;
}

/// A list of scalars, each checked by `ok`; errors name the item.
std::vector<std::string> decode_words(const Value* v, const std::string& path, Decoder& decoder,
                                      bool (*ok)(const std::string&), const std::string& what) {
  std::vector<std::string> out;
  if (v == nullptr || v->is_null() || decoder.list(*v, path) == nullptr) {
    return out;
  }
  for (std::size_t i = 0; i < v->items.size(); ++i) {
    std::string item_path = path + "[" + std::to_string(i) + "]";
    auto s = decoder.string(v->items[i], item_path);
    if (s && !ok(*s)) {
      decoder.error(v->items[i], item_path, "'" + *s + "' is not " + what);
    } else if (s) {
      out.push_back(*s);
    }
  }
  return out;
}

}  // namespace

std::optional<ResolvConfConfig> decode_resolv_conf(const Value& doc, Diagnostics& out) {
  Decoder decoder(out);
  const Value* manage_v = doc.get("manage_resolv_conf");
  const Value* v = doc.get("resolv_conf");
  bool manage = false;
  if (manage_v != nullptr && !manage_v->is_null()) {
    manage = decoder.boolean(*manage_v, "manage_resolv_conf").value_or(false);
  }
  bool given = v != nullptr && !v->is_null();
  ResolvConfConfig config;
  // Checked also when it is not applied: `amiboot validate` finds the mistake
  // before someone turns manage_resolv_conf on.
  if (given && decoder.map(*v, "resolv_conf") != nullptr) {
    decoder.unknown_keys(*v, "resolv_conf",
                         {"nameservers", "searchdomains", "domain", "sortlist", "options"});
    config.nameservers = decode_words(v->get("nameservers"), "resolv_conf.nameservers", decoder,
                                      is_ip, "an IP address");
    config.searchdomains = decode_words(v->get("searchdomains"), "resolv_conf.searchdomains",
                                        decoder, is_domain, "a domain name");
    config.sortlist = decode_words(v->get("sortlist"), "resolv_conf.sortlist", decoder,
                                   is_sortlist_entry, "an IPv4 address[/netmask]");
    if (const Value* d = v->get("domain"); d != nullptr && !d->is_null()) {
      auto s = decoder.string(*d, "resolv_conf.domain");
      if (s && !is_domain(*s)) {
        decoder.error(*d, "resolv_conf.domain", "'" + *s + "' is not a domain name");
      } else {
        config.domain = s;
      }
    }
    if (const Value* o = v->get("options"); o != nullptr && !o->is_null()) {
      if (decoder.map(*o, "resolv_conf.options") != nullptr) {
        for (const auto& e : o->entries) {
          std::string path = "resolv_conf.options." + e.key;
          if (!is_option_word(e.key, false)) {
            Value at;
            at.pos = e.key_pos;
            decoder.error(at, path, "'" + e.key + "' is not a resolver option name");
            continue;
          }
          if (auto flag = e.value.as_bool()) {
            if (*flag) {
              config.flags.push_back(e.key);  // a unary option ("rotate")
            }
            continue;
          }
          auto value = e.value.is_scalar() ? decoder.string(e.value, path) : std::nullopt;
          if (!value || !is_option_word(*value, true)) {
            decoder.error(
                e.value, path,
                "expected true, false or a value such as 2, got " +
                    (e.value.is_scalar() ? "'" + e.value.scalar + "'" : e.value.type_name()));
            continue;
          }
          config.settings[e.key] = *value;
        }
      }
    }
  }
  if (decoder.failed()) {
    return std::nullopt;
  }
  if (!manage) {
    if (given) {
      decoder.warning(*v, "resolv_conf",
                      "ignored: manage_resolv_conf is not true, so /etc/resolv.conf is left alone");
    }
    return std::nullopt;
  }
  if (!given) {
    decoder.warning(*manage_v, "manage_resolv_conf",
                    "true, but there is no resolv_conf section; /etc/resolv.conf is left alone");
    return std::nullopt;
  }
  if (config.nameservers.size() > kResolverMaxNameservers) {
    decoder.warning(*v->get("nameservers"), "resolv_conf.nameservers",
                    "the resolver uses only the first 3 of " +
                        std::to_string(config.nameservers.size()) + " nameservers");
  }
  if (config.domain && !config.searchdomains.empty()) {
    decoder.warning(*v->get("domain"), "resolv_conf.domain",
                    "domain and searchdomains both set: the resolver uses only the last of the "
                    "two lines, domain (cloud-init's order)");
  }
  return config;
}

std::string render_resolv_conf(const ResolvConfConfig& config) {
  auto line = [](const std::string& keyword, const std::vector<std::string>& words) {
    std::string out = keyword;
    for (const auto& w : words) {
      out += " " + w;
    }
    return out + "\n";
  };
  std::string out =
      "# Written by amiboot: manage_resolv_conf is true, from the resolv_conf section of the\n"
      "# user data. Rewritten on each new instance.\n";
  for (const auto& ns : config.nameservers) {
    out += "nameserver " + ns + "\n";
  }
  if (!config.searchdomains.empty()) {
    out += line("search", config.searchdomains);
  }
  if (config.domain) {
    out += "domain " + *config.domain + "\n";
  }
  if (!config.sortlist.empty()) {
    out += line("sortlist", config.sortlist);
  }
  std::vector<std::string> options = config.flags;
  for (const auto& [key, value] : config.settings) {
    options.push_back(key + ":" + value);
  }
  if (!options.empty()) {
    out += line("options", options);
  }
  return out;
}

PlanResult plan_resolv_conf(const ResolvConfConfig& config, const Facts& facts) {
  PlanResult result;
  std::string content = render_resolv_conf(config);
  result.summary = std::to_string(config.nameservers.size()) + " nameserver" +
                   (config.nameservers.size() == 1 ? "" : "s") + " in " + kResolvConf;
  auto existing = facts.system.read_text(kResolvConf);
  if (existing == content) {
    return result;
  }
  if (existing && existing->find("systemd-resolved") != std::string::npos) {
    result.diagnostics.push_back(Diagnostic{
        Diagnostic::Severity::Warning,
        {},
        "resolv_conf",
        "/etc/resolv.conf was systemd-resolved's; it is now a file of its own, and programs ask "
        "the listed nameservers directly"});
  }
  // The link itself goes (a removal does not follow it), so the file below
  // replaces it instead of being written through it into /run.
  result.actions.push_back(RemoveFile{kResolvConf, "resolv_conf: old /etc/resolv.conf"});
  result.actions.push_back(
      WriteFile{.path = kResolvConf, .content = content, .label = "resolv_conf: /etc/resolv.conf"});
  return result;
}

}  // namespace amiboot
