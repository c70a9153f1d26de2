// SPDX-License-Identifier: Apache-2.0
#include "modules/ssh_host_keys.h"

#include <algorithm>
#include <map>
#include <sstream>

#include "agent/core/strings.h"
#include "modules/lanes.h"
#include "modules/os_release.h"
#include "modules/sshd_config.h"

namespace amiboot {

namespace {

constexpr const char* kSshDir = "/etc/ssh";

bool is_host_key_file(const std::string& name) {
  // cloud-init removes /etc/ssh/ssh_host_*key*: private and public keys and
  // certificates for them.
  return name.rfind("ssh_host_", 0) == 0 && name.find("key") != std::string::npos;
}

bool is_host_public_key(const std::string& name) {
  return is_host_key_file(name) && name.ends_with("_key.pub");
}

std::string with_newline(std::string text) {
  if (!text.ends_with('\n')) {
    text += '\n';
  }
  return text;
}

// The key type a .pub file starts with, else the one its name suggests.
std::string pub_key_type(const std::string& name, const std::optional<std::string>& content) {
  if (content) {
    std::istringstream in(*content);
    std::string word;
    if (in >> word && !host_key_family(word).empty()) {
      return word;
    }
  }
  std::string type = name.substr(9, name.size() - 9 - 8);  // ssh_host_<type>_key.pub
  return type == "rsa"     ? "ssh-rsa"
         : type == "ecdsa" ? "ecdsa-sha2-nistp256"
         : type == "dsa"   ? "ssh-dss"
                           : "ssh-" + type;
}

// A blacklist names a key type as the .pub file starts, or its short name.
bool listed(const std::vector<std::string>& blacklist, const std::string& key_type) {
  return std::any_of(blacklist.begin(), blacklist.end(), [&](const std::string& entry) {
    return entry == key_type || entry == host_key_family(key_type);
  });
}

// The ssh_keys group's id on distributions whose sshd-keygen makes private
// host keys 0640 root:ssh_keys (RHEL 9, CentOS Stream 9, Fedora 37 and
// older); "" elsewhere. Numeric, so chown under --root does not look the
// name up in the host's group file.
std::string ssh_keys_gid(const Facts& facts) {
  auto os = read_os_release(facts.system);
  auto groups = facts.system.read_text("/etc/group");
  if (!os || !os->is_redhat_family() || !groups) {
    return "";
  }
  std::istringstream in(*groups);
  for (std::string line; std::getline(in, line);) {
    auto fields = split_colon_fields(line);
    if (fields.size() >= 3 && fields[0] == "ssh_keys" && all_digits(fields[2])) {
      return fields[2];
    }
  }
  return "";
}

// HostCertificate lines for the given certificates: a drop-in of our own
// when sshd reads drop-ins, else added to sshd_config (cloud-init's
// append_ssh_config).
void host_certificates(const std::vector<std::string>& lines, const Facts& facts,
                       PlanResult& result) {
  if (sshd_reads_drop_ins(facts.system)) {
    auto current = facts.system.read_text(kSshdCertificatesDropIn);
    if (lines.empty()) {
      if (current) {
        result.actions.push_back(
            RemoveFile{kSshdCertificatesDropIn, "ssh_keys: no host certificates"});
      }
      return;
    }
    std::string content = "# Host certificates from ssh_keys in the user data (amiboot).\n";
    for (const auto& line : lines) {
      content += line + "\n";
    }
    if (current != content) {
      result.actions.push_back(WriteFile{kSshdCertificatesDropIn, content, 0600, "root:root", false,
                                         "ssh_keys: HostCertificate (drop-in)"});
    }
    return;
  }
  if (lines.empty()) {
    return;
  }
  auto current = facts.system.read_text(kSshdConfig);
  std::string updated = add_sshd_lines(current.value_or(""), lines);
  if (current != updated) {
    result.actions.push_back(WriteFile{kSshdConfig, updated, 0600, "root:root", false,
                                       "ssh_keys: HostCertificate (sshd_config)"});
  }
}

/// Installs ssh_keys; the .pub files it makes, with their key types.
int install_given(const SshHostKeysConfig& cfg, bool keygen, const Facts& facts, PlanResult& result,
                  std::map<std::string, std::string>& pubs) {
  std::vector<std::string> certificates;
  int installed = 0;
  for (const auto& key : *cfg.given) {
    std::string base = std::string(kSshDir) + "/ssh_host_" + key.type + "_key";
    std::string name = "ssh_host_" + key.type + "_key.pub";
    std::string label = "ssh_keys." + key.type;
    if (key.private_key) {
      // cloud-init writes them 0600 (no ssh_keys group, unlike generated keys).
      result.actions.push_back(WriteFile{base, with_newline(*key.private_key), 0600, "root:root",
                                         false, label + "_private"});
      ++installed;
    }
    if (key.public_key) {
      result.actions.push_back(WriteFile{base + ".pub", with_newline(*key.public_key), 0644,
                                         "root:root", false, label + "_public"});
      pubs[name] = key.key_type;
    } else if (key.private_key && keygen) {
      RunCommand derive{{"ssh-keygen", "-y", "-f"},
                        label + "_public from " + key.type + "_private (ssh-keygen -y)"};
      derive.target_path(base);
      derive.output_path = base + ".pub";
      result.actions.push_back(derive);
      pubs[name] = key.key_type;
    } else if (key.private_key) {
      result.diagnostics.push_back(
          Diagnostic{Diagnostic::Severity::Warning,
                     {},
                     label + "_public",
                     "ssh-keygen not found: the public key is not derived from " + key.type +
                         "_private; give it in ssh_keys"});
    }
    if (key.certificate) {
      result.actions.push_back(WriteFile{base + "-cert.pub", with_newline(*key.certificate), 0644,
                                         "root:root", false, label + "_certificate"});
      certificates.push_back("HostCertificate " + base + "-cert.pub");
    }
  }
  host_certificates(certificates, facts, result);
  return installed;
}

// Generates each of `types` whose private key is not in `existing` (or,
// with `replace`, is there but about to be removed): a key present once the
// plan runs is never made again.
int generate(const SshHostKeysConfig& cfg, const std::vector<std::string>& types,
             const std::vector<std::string>& existing, bool replace, const Facts& facts,
             PlanResult& result, std::map<std::string, std::string>& pubs) {
  std::string gid = ssh_keys_gid(facts);
  int generated = 0;
  for (const auto& type : types) {
    std::string name = "ssh_host_" + type + "_key";
    bool present = std::find(existing.begin(), existing.end(), name) != existing.end();
    if (present && !replace) {
      continue;  // kept (ssh_deletekeys: false) or made by the init stage
    }
    std::string path = std::string(kSshDir) + "/" + name;
    // cloud-init shows ssh-keygen's own words on the console unless
    // ssh_quiet_keygen.
    RunCommand keygen{{"ssh-keygen"}, "ssh-keygen -t " + type};
    if (cfg.quiet_keygen) {
      keygen.argv.push_back("-q");
    }
    keygen.argv.insert(keygen.argv.end(), {"-t", type, "-N", "", "-f"});
    keygen.to_console = !cfg.quiet_keygen;
    result.actions.push_back(keygen.target_path(path));
    if (!gid.empty()) {
      // cloud-init's set_redhat_keyfile_perms, as sshd-keygen leaves them.
      RunCommand chown{{"chown", "0:" + gid}, "ssh_keys group of " + name};
      result.actions.push_back(chown.target_path(path));
      RunCommand chmod{{"chmod", "0640"}, "mode 0640 of " + name};
      result.actions.push_back(chmod.target_path(path));
    }
    pubs[name + ".pub"] = pub_key_type(name + ".pub", std::nullopt);
    ++generated;
  }
  return generated;
}

bool has_unit_file(const SystemView& system, const std::string& unit) {
  for (const char* dir :
       {"/etc/systemd/system/", "/usr/lib/systemd/system/", "/lib/systemd/system/"}) {
    if (system.path_exists(dir + unit)) {
      return true;
    }
  }
  return false;
}

// The unit that runs sshd: ssh.service on Debian and Ubuntu (where
// sshd.service is an alias that exists only once the unit is enabled),
// sshd.service on Amazon Linux, RHEL and SUSE; "" when neither unit file is
// there (sshd started some other way, or per connection from a socket,
// where each connection reads the keys anyway).
std::string sshd_unit(const SystemView& system) {
  for (const char* unit : {"ssh.service", "sshd.service"}) {
    if (has_unit_file(system, unit)) {
      return unit;
    }
  }
  return "";
}

// Amazon Linux, RHEL and Fedora make missing host keys in sshd-keygen@.service
// before sshd starts, all types, RSA among them. On an instance whose keys
// amiboot makes that unit would make the deferred types on the login path,
// or race the init stage's ssh_deletekeys. cloud-init's drop-in skips it
// whenever cloud-init runs; amiboot's (units/sshd-keygen-skipped.conf) skips
// it when this marker says the init stage took the keys in hand this boot.
void skip_sshd_keygen(const Facts& facts, PlanResult& result) {
  if (!has_unit_file(facts.system, "sshd-keygen@.service")) {
    return;
  }
  result.actions.insert(result.actions.begin(),
                        WriteFile{.path = kSshdKeygenSkipMarker,
                                  .content = "amiboot's ssh_host_keys makes this boot's host "
                                             "keys: sshd-keygen@.service is skipped\n",
                                  .label = "sshd-keygen@.service: skipped this boot"});
}

std::vector<std::string> existing_host_key_files(const SystemView& system) {
  std::vector<std::string> existing;
  for (const auto& name : system.list(kSshDir)) {
    if (is_host_key_file(name)) {
      existing.push_back(name);
    }
  }
  return existing;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    out += (out.empty() ? "" : ", ") + item;
  }
  return out;
}

// cloud-init's write-ssh-key-fingerprints: the fingerprints, then the keys,
// each block only when a key is left in it after the blacklists.
void console(const SshHostKeysConfig& cfg, bool keygen,
             const std::map<std::string, std::string>& pubs, PlanResult& result) {
  if (!cfg.emit_keys_to_console) {
    return;
  }
  std::vector<std::string> fingerprints, keys;
  for (const auto& [pub, key_type] : pubs) {
    if (keygen && !listed(cfg.fp_blacklist, key_type)) {
      fingerprints.push_back(pub);
    }
    if (!listed(cfg.key_blacklist, key_type)) {
      keys.push_back(pub);
    }
  }
  if (!fingerprints.empty()) {
    result.actions.push_back(ConsoleMessage{"-----BEGIN SSH HOST KEY FINGERPRINTS-----"});
    for (const auto& pub : fingerprints) {
      RunCommand fp{{"ssh-keygen", "-l", "-f"}, "fingerprint of " + pub};
      fp.to_console = true;
      result.actions.push_back(fp.target_path(std::string(kSshDir) + "/" + pub));
    }
    result.actions.push_back(ConsoleMessage{"-----END SSH HOST KEY FINGERPRINTS-----"});
  }
  if (!keys.empty()) {
    // The keys themselves too, as cloud-init prints them: tools read them
    // from the console output to fill known_hosts.
    result.actions.push_back(ConsoleMessage{"-----BEGIN SSH HOST KEY KEYS-----"});
    for (const auto& pub : keys) {
      RunCommand cat{{"cat"}, "public key " + pub};
      cat.to_console = true;
      result.actions.push_back(cat.target_path(std::string(kSshDir) + "/" + pub));
    }
    result.actions.push_back(ConsoleMessage{"-----END SSH HOST KEY KEYS-----"});
  }
}

}  // namespace

std::vector<std::string> login_key_types(const std::vector<std::string>& types) {
  if (std::find(types.begin(), types.end(), "ed25519") != types.end()) {
    return {"ed25519"};
  }
  if (types.empty()) {
    return {};
  }
  return {types.front()};
}

namespace {

PlanResult plan_login_keys(const SshHostKeysConfig& cfg, const Facts& input) {
  PlanResult result;
  if (!input.system.path_exists(kSshDir)) {
    return result;  // no sshd in this image: nothing to key
  }
  bool keygen = input.system.has_program("ssh-keygen");
  if (!keygen && !cfg.given) {
    result.diagnostics.push_back(Diagnostic{Diagnostic::Severity::Warning,
                                            {},
                                            "ssh_genkeytypes",
                                            "ssh-keygen not found; host keys left as they are"});
    return result;
  }
  std::vector<std::string> existing = existing_host_key_files(input.system);
  if (cfg.delete_keys) {
    for (const auto& name : existing) {
      result.actions.push_back(
          RemoveFile{std::string(kSshDir) + "/" + name, "ssh_deletekeys: " + name});
    }
  }
  // The console blocks are the final row's: it prints every key once all
  // exist, where cloud-init's keys_to_console prints them (its final stage).
  std::map<std::string, std::string> pubs;
  if (cfg.given) {
    int installed = install_given(cfg, keygen, input, result, pubs);
    result.summary = std::to_string(installed) + " host key(s) from ssh_keys";
    if (!result.actions.empty()) {
      skip_sshd_keygen(input, result);  // cloud-init makes no other type either
    }
    return result;
  }
  // Only the key sshd needs to start: logins wait for this stage, and RSA
  // 3072 alone takes seconds on a slow vCPU. The other types follow in the
  // final stage (ssh_host_keys_final), which then reloads sshd.
  std::vector<std::string> now = login_key_types(cfg.types);
  int generated = generate(cfg, now, existing, cfg.delete_keys, input, result, pubs);
  if (cfg.delete_keys) {
    host_certificates({}, input, result);  // the image's certificates are gone
  }
  result.summary = std::to_string(generated) + " host key(s) generated";
  std::vector<std::string> later;
  bool final_makes_keys = false;
  for (const auto& type : cfg.types) {
    if (std::find(now.begin(), now.end(), type) == now.end()) {
      later.push_back(type);
      std::string name = "ssh_host_" + type + "_key";
      final_makes_keys = final_makes_keys || cfg.delete_keys ||
                         std::find(existing.begin(), existing.end(), name) == existing.end();
    }
  }
  if (!later.empty()) {
    result.summary += "; " + joined(later) + " in the final stage";
  }
  if (!result.actions.empty() || final_makes_keys) {
    skip_sshd_keygen(input, result);
  }
  return result;
}

}  // namespace

PlanResult plan_ssh_host_keys(const SshHostKeysConfig& cfg, const Facts& input) {
  PlanResult result = plan_login_keys(cfg, input);
  // For the lanes (modules/lanes.h): the key files its actions name, with
  // the .pub ssh-keygen writes beside each, and sshd_config or its
  // certificates drop-in when it writes them; the plan read /etc/ssh and
  // /etc/group (the ssh_keys group's id, which chown gets as a number).
  PlanFootprint footprint{{kSshDir, "/etc/group"}, action_paths(result.actions), {}};
  for (std::size_t i = 0, n = footprint.applied.size(); i < n; ++i) {
    footprint.applied.push_back(footprint.applied[i] + ".pub");
  }
  result.footprint = std::move(footprint);
  return result;
}

PlanResult plan_ssh_host_keys_final(const SshHostKeysConfig& cfg, const Facts& input) {
  PlanResult result;
  if (!input.system.path_exists(kSshDir)) {
    return result;
  }
  bool keygen = input.system.has_program("ssh-keygen");
  if (!keygen && !cfg.given) {
    return result;  // the init row said so
  }
  // What the init stage left: its keys, given or kept, are never made again.
  std::vector<std::string> existing = existing_host_key_files(input.system);
  std::map<std::string, std::string> pubs;
  for (const auto& name : existing) {
    if (is_host_public_key(name)) {
      pubs[name] = pub_key_type(name, input.system.read_text(std::string(kSshDir) + "/" + name));
    }
  }
  int generated = 0;
  if (!cfg.given) {  // cloud-init generates none when ssh_keys is given
    generated = generate(cfg, cfg.types, existing, false, input, result, pubs);
  }
  std::string unit = sshd_unit(input.system);
  if (generated > 0 && !unit.empty()) {
    // sshd reads its host keys when it starts and again on SIGHUP (both
    // units' reload); a stopped sshd is not started, and one still starting
    // gets the reload once it is up (systemd queues it after the start).
    RunCommand reload{{"systemctl", "try-reload-or-restart", unit},
                      "sshd: reload for the new host keys"};
    reload.needs_host = true;
    result.actions.push_back(reload);
  }
  result.summary = generated > 0 ? std::to_string(generated) + " host key(s) generated"
                                 : "no host keys left to generate";
  console(cfg, keygen, pubs, result);
  return result;
}

}  // namespace amiboot
