// SPDX-License-Identifier: Apache-2.0
#include "modules/hostname.h"

#include <algorithm>
#include <cctype>
#include <sstream>
#include <vector>

#include "agent/core/strings.h"
#include "modules/os_release.h"

namespace amiboot {

namespace {

// Marks the /etc/hosts line that is ours, so a later run finds and updates it.
constexpr const char* kHostsMark = "# amiboot manage_etc_hosts";

// RFC 1123 labels: letters, digits, hyphens; dots between labels.
bool valid_hostname(const std::string& s) {
  if (s.empty() || s.size() > 253 || s.front() == '.' || s.back() == '.' || s.front() == '-') {
    return false;
  }
  std::size_t label = 0;
  for (char c : s) {
    if (c == '.') {
      if (label == 0) {
        return false;
      }
      label = 0;
      continue;
    }
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') {
      return false;
    }
    if (++label > 63) {
      return false;
    }
  }
  return true;
}

std::optional<std::string> decode_name(const Value* v, const std::string& key, Decoder& decoder) {
  if (v == nullptr || v->is_null()) {
    return std::nullopt;
  }
  auto s = decoder.string(*v, key);
  if (s && !valid_hostname(*s)) {
    decoder.error(*v, key,
                  "'" + *s +
                      "' is not a valid host name (letters, digits and '-', labels "
                      "separated by '.')");
    return std::nullopt;
  }
  return s;
}

bool is_ipv4(const std::string& s) {
  int dots = 0;
  for (char c : s) {
    if (c == '.') {
      ++dots;
    } else if (!std::isdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return dots == 3;
}

std::vector<std::string> words_of(const std::string& line) {
  std::istringstream in(line.substr(0, line.find('#')));
  std::vector<std::string> words;
  for (std::string w; in >> w;) {
    words.push_back(w);
  }
  return words;
}

}  // namespace

std::optional<HostnameConfig> decode_hostname(const Value& config, Diagnostics& out) {
  Decoder decoder(out);
  HostnameConfig cfg;
  cfg.hostname = decode_name(config.get("hostname"), "hostname", decoder);
  cfg.fqdn = decode_name(config.get("fqdn"), "fqdn", decoder);
  auto flag = [&](const char* key) -> std::optional<bool> {
    const Value* v = config.get(key);
    return v == nullptr || v->is_null() ? std::nullopt : decoder.boolean(*v, key);
  };
  cfg.prefer_fqdn = flag("prefer_fqdn_over_hostname");
  cfg.preserve = flag("preserve_hostname").value_or(false);
  cfg.create_hostname_file = flag("create_hostname_file").value_or(true);
  if (const Value* m = config.get("manage_etc_hosts"); m != nullptr && !m->is_null()) {
    if (auto b = m->as_bool()) {
      cfg.manage_etc_hosts = *b ? ManageEtcHosts::Template : ManageEtcHosts::No;
    } else if (m->is_scalar() && m->scalar == "template") {
      cfg.manage_etc_hosts = ManageEtcHosts::Template;  // deprecated spelling of true
    } else if (m->is_scalar() && m->scalar == "localhost") {
      cfg.manage_etc_hosts = ManageEtcHosts::Localhost;
    } else {
      decoder.error(*m, "manage_etc_hosts",
                    "expected true, false or 'localhost', got " +
                        (m->is_scalar() ? "'" + m->scalar + "'" : m->type_name()));
    }
  }
  if (decoder.failed()) {
    return std::nullopt;
  }
  return cfg;
}

Names resolve_names(const HostnameConfig& cfg, const std::string& local_hostname) {
  auto first_label = [](const std::string& s) { return s.substr(0, s.find('.')); };
  Names n;
  if (cfg.fqdn) {
    n.fqdn = *cfg.fqdn;
    n.hostname = cfg.hostname.value_or(first_label(*cfg.fqdn));
  } else if (cfg.hostname && cfg.hostname->find('.') != std::string::npos) {
    n.fqdn = *cfg.hostname;
    n.hostname = first_label(*cfg.hostname);
  } else {
    std::string local = local_hostname;
    while (!local.empty() && (local.back() == '\n' || local.back() == ' ')) {
      local.pop_back();
    }
    if (is_ipv4(local)) {
      // cloud-init's EC2 name for a bare address: ip-10-0-0-12.
      for (char& c : local) {
        c = c == '.' ? '-' : c;
      }
      local = "ip-" + local;
    }
    n.fqdn = local;
    n.hostname = cfg.hostname.value_or(first_label(local));
  }
  if (n.fqdn.empty()) {
    n.fqdn = n.hostname;
  }
  return n;
}

std::string render_etc_hosts(const std::optional<std::string>& existing, const Names& names,
                             const std::string& address, ManageEtcHosts mode) {
  std::string ours = address + " " + names.fqdn;
  if (names.hostname != names.fqdn && !names.hostname.empty()) {
    ours += " " + names.hostname;
  }
  ours += " " + std::string(kHostsMark);
  if (!existing) {
    // cloud-init's hosts template, our line in it.
    return "127.0.0.1 localhost\n" + ours +
           "\n\n# The following lines are desirable for IPv6 capable hosts\n"
           "::1 localhost ip6-localhost ip6-loopback\nff02::1 ip6-allnodes\n"
           "ff02::2 ip6-allrouters\n";
  }
  std::vector<std::string> lines = split_lines(*existing);
  std::vector<std::string> out;
  std::size_t insert_at = std::string::npos;
  std::size_t after_loopback = std::string::npos;
  bool already = false;
  for (const auto& line : lines) {
    auto words = words_of(line);
    bool mine = line.find(kHostsMark) != std::string::npos;
    bool same_address = !words.empty() && words[0] == address;
    // 127.0.1.1 only names this host (Debian); a stale line for it would
    // shadow ours. 127.0.0.1 also carries localhost: never drop it.
    bool stale = mode == ManageEtcHosts::Template && same_address && address == "127.0.1.1";
    if (mine || stale) {
      if (insert_at == std::string::npos) {
        insert_at = out.size();
      }
      continue;
    }
    if (mode == ManageEtcHosts::Localhost && same_address) {
      // cloud-init's 'localhost' mode keeps foreign entries; a line that
      // already names both is enough.
      bool has_fqdn = std::find(words.begin() + 1, words.end(), names.fqdn) != words.end();
      bool has_short = std::find(words.begin() + 1, words.end(), names.hostname) != words.end();
      already = already || (has_fqdn && has_short);
    }
    if (!words.empty() && words[0].rfind("127.", 0) == 0) {
      after_loopback = out.size() + 1;
    }
    out.push_back(line);
  }
  if (!already) {
    if (insert_at == std::string::npos) {
      insert_at = after_loopback != std::string::npos ? after_loopback : out.size();
    }
    out.insert(out.begin() + static_cast<long>(insert_at), ours);
  }
  return join_lines(out);
}

PlanResult plan_hostname(const HostnameConfig& cfg, const Facts& input) {
  PlanResult result;
  Names names = resolve_names(cfg, input.metadata.local_hostname);
  if (names.fqdn.empty() && names.hostname.empty()) {
    return result;  // neither the config nor IMDS names this instance
  }
  auto os = read_os_release(input.system);
  bool redhat = os && os->is_redhat_family();
  // cloud-init's RHEL family (Amazon Linux included) writes the fqdn.
  bool prefer_fqdn = cfg.prefer_fqdn.value_or(redhat);
  std::string name = prefer_fqdn && !names.fqdn.empty() ? names.fqdn : names.hostname;
  if (name.empty()) {
    name = names.fqdn;
  }
  if (!cfg.preserve) {
    auto current = input.system.read_text("/etc/hostname");
    bool may_create = cfg.create_hostname_file || current.has_value();
    if (may_create && current != name + "\n") {
      result.actions.push_back(WriteFile{"/etc/hostname", name + "\n", 0644, "root:root", false,
                                         "hostname: /etc/hostname"});
    }
    auto running = input.system.read_text("/proc/sys/kernel/hostname");
    if (running != name + "\n") {
      // sethostname(2), not a `hostname` process (issue 16: spawn less);
      // skipped under --root: a sandbox must never rename the machine it
      // runs on.
      result.actions.push_back(SetHostname{name, "hostname: set the running hostname"});
    }
  }
  if (cfg.manage_etc_hosts != ManageEtcHosts::No) {
    // cloud-init's Debian template names the host at 127.0.1.1; its Red Hat
    // one at 127.0.0.1.
    std::string address = redhat ? "127.0.0.1" : "127.0.1.1";
    auto existing = input.system.read_text("/etc/hosts");
    std::string hosts = render_etc_hosts(existing, names, address, cfg.manage_etc_hosts);
    if (existing != hosts) {
      result.actions.push_back(
          WriteFile{"/etc/hosts", hosts, 0644, "root:root", false, "manage_etc_hosts: /etc/hosts"});
    }
  }
  result.summary = cfg.preserve ? "preserve_hostname: kept" : "hostname " + name;
  return result;
}

}  // namespace amiboot
