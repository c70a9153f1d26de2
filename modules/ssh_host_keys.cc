#include "modules/ssh_host_keys.h"

#include <algorithm>
#include <set>

namespace amiboot {

namespace {

constexpr const char* kSshDir = "/etc/ssh";

bool is_host_key_file(const std::string& name) {
  // cloud-init removes /etc/ssh/ssh_host_*key*: private and public keys and
  // certificates for them.
  return name.rfind("ssh_host_", 0) == 0 && name.find("key") != std::string::npos;
}

}  // namespace

std::optional<SshHostKeysConfig> decode_ssh_host_keys(const Value& config, Diagnostics& out) {
  Decoder decoder(out);
  SshHostKeysConfig cfg;
  if (const Value* d = config.get("ssh_deletekeys"); d != nullptr && !d->is_null()) {
    cfg.delete_keys = decoder.boolean(*d, "ssh_deletekeys").value_or(true);
  }
  if (const Value* t = config.get("ssh_genkeytypes"); t != nullptr && !t->is_null()) {
    if (decoder.list(*t, "ssh_genkeytypes") != nullptr) {
      cfg.types.clear();
      for (std::size_t i = 0; i < t->items.size(); ++i) {
        const Value& item = t->items[i];
        std::string path = "ssh_genkeytypes[" + std::to_string(i) + "]";
        static const std::set<std::string> kTypes = {"ed25519", "ecdsa", "rsa", "dsa"};
        if (!item.is_scalar() || kTypes.count(item.scalar) == 0) {
          decoder.error(item, path,
                        "expected one of ed25519, ecdsa, rsa, dsa; got " +
                            (item.is_scalar() ? "'" + item.scalar + "'" : item.type_name()));
          continue;
        }
        if (std::find(cfg.types.begin(), cfg.types.end(), item.scalar) == cfg.types.end()) {
          cfg.types.push_back(item.scalar);
        }
      }
      if (t->items.empty() && cfg.delete_keys) {
        decoder.warning(*t, "ssh_genkeytypes",
                        "no key types: the image's host keys are removed and none generated, so "
                        "sshd will not start");
      }
    }
  }
  if (decoder.failed()) {
    return std::nullopt;
  }
  return cfg;
}

PlanResult plan_ssh_host_keys(const SshHostKeysConfig& cfg, const Facts& input) {
  PlanResult result;
  if (!input.system.path_exists(kSshDir)) {
    return result;  // no sshd in this image: nothing to key
  }
  if (!input.system.has_program("ssh-keygen")) {
    result.diagnostics.push_back(Diagnostic{Diagnostic::Severity::Warning,
                                            {},
                                            "ssh_genkeytypes",
                                            "ssh-keygen not found; host keys left as they are"});
    return result;
  }
  std::vector<std::string> existing;
  for (const auto& name : input.system.list(kSshDir)) {
    if (is_host_key_file(name)) {
      existing.push_back(name);
    }
  }
  // Public keys present once the module is done, in file name order as
  // cloud-init's fingerprint script lists them.
  std::set<std::string> pubs;
  if (cfg.delete_keys) {
    for (const auto& name : existing) {
      result.actions.push_back(
          RemoveFile{std::string(kSshDir) + "/" + name, "ssh_deletekeys: " + name});
    }
  } else {
    for (const auto& name : existing) {
      if (name.size() > 8 && name.compare(name.size() - 8, 8, "_key.pub") == 0) {
        pubs.insert(name);
      }
    }
  }
  int generated = 0;
  for (const auto& type : cfg.types) {
    std::string name = "ssh_host_" + type + "_key";
    bool present = std::find(existing.begin(), existing.end(), name) != existing.end();
    if (present && !cfg.delete_keys) {
      continue;  // ssh_deletekeys: false keeps the image's key of this type
    }
    RunCommand keygen{{"ssh-keygen", "-q", "-t", type, "-N", "", "-f"}, "ssh-keygen -t " + type};
    result.actions.push_back(keygen.target_path("/etc/ssh/" + name));
    pubs.insert(name + ".pub");
    ++generated;
  }
  if (!pubs.empty()) {
    result.actions.push_back(ConsoleMessage{"-----BEGIN SSH HOST KEY FINGERPRINTS-----"});
    for (const auto& pub : pubs) {
      RunCommand fp{{"ssh-keygen", "-l", "-f"}, "fingerprint of " + pub};
      fp.to_console = true;
      result.actions.push_back(fp.target_path("/etc/ssh/" + pub));
    }
    result.actions.push_back(ConsoleMessage{"-----END SSH HOST KEY FINGERPRINTS-----"});
    // The keys themselves too, as cloud-init prints them: tools read them
    // from the console output to fill known_hosts.
    result.actions.push_back(ConsoleMessage{"-----BEGIN SSH HOST KEY KEYS-----"});
    for (const auto& pub : pubs) {
      RunCommand cat{{"cat"}, "public key " + pub};
      cat.to_console = true;
      result.actions.push_back(cat.target_path("/etc/ssh/" + pub));
    }
    result.actions.push_back(ConsoleMessage{"-----END SSH HOST KEY KEYS-----"});
  }
  result.summary = std::to_string(generated) + " host key(s) generated";
  return result;
}

}  // namespace amiboot
