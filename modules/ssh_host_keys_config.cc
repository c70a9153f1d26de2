// SPDX-License-Identifier: Apache-2.0
#include "modules/ssh_host_keys_config.h"

#include <algorithm>
#include <array>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "agent/core/codecs.h"
#include "agent/core/strings.h"

namespace amiboot {

namespace {

constexpr std::array<const char*, 3> kKeyTypes = {"rsa", "ecdsa", "ed25519"};

/// A PEM-style block: -----BEGIN LABEL----- ... -----END LABEL-----.
struct KeyBlock {
  std::string label;       // "OPENSSH PRIVATE KEY", "RSA PRIVATE KEY", "PRIVATE KEY"
  std::string body;        // the base64 lines, PEM headers left out
  bool encrypted = false;  // a PEM "Proc-Type: 4,ENCRYPTED" header
};

std::optional<KeyBlock> parse_block(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::string_view t = trim(line);
    if (!t.empty()) {
      lines.emplace_back(t);
    }
  }
  if (lines.size() < 2) {
    return std::nullopt;
  }
  const std::string& first = lines.front();
  const std::string& last = lines.back();
  const std::string begin = "-----BEGIN ", end = "-----END ", dashes = "-----";
  if (!first.starts_with(begin) || !first.ends_with(dashes) ||
      first.size() <= begin.size() + dashes.size()) {
    return std::nullopt;
  }
  KeyBlock block;
  block.label = first.substr(begin.size(), first.size() - begin.size() - dashes.size());
  if (last != end + block.label + dashes) {
    return std::nullopt;
  }
  for (std::size_t i = 1; i + 1 < lines.size(); ++i) {
    if (lines[i].find(':') != std::string::npos) {
      block.encrypted = block.encrypted || (lines[i].starts_with("Proc-Type:") &&
                                            lines[i].find("ENCRYPTED") != std::string::npos);
      continue;  // a PEM header
    }
    block.body += lines[i];
  }
  return block;
}

/// Reads SSH wire-format fields (RFC 4251: uint32, string) from `data`.
class WireReader {
 public:
  explicit WireReader(std::string_view data) : m_data(data) {}
  std::optional<std::uint32_t> uint32() {
    if (m_data.size() < 4) {
      return std::nullopt;
    }
    std::uint32_t n = 0;
    for (int i = 0; i < 4; ++i) {
      n = (n << 8) | static_cast<unsigned char>(m_data[i]);
    }
    m_data.remove_prefix(4);
    return n;
  }
  std::optional<std::string_view> string() {
    auto n = uint32();
    if (!n || *n > m_data.size()) {
      return std::nullopt;
    }
    std::string_view out = m_data.substr(0, *n);
    m_data.remove_prefix(*n);
    return out;
  }

 private:
  std::string_view m_data;
};

/// What an OpenSSH private key (PROTOCOL.key) says before its private part:
/// its cipher and its public key blob.
struct OpenSshKey {
  std::string cipher;
  std::string public_blob;
  std::string key_type;
};

std::optional<OpenSshKey> parse_openssh(const std::string& der) {
  static const std::string kMagic("openssh-key-v1\0", 15);
  if (!der.starts_with(kMagic)) {
    return std::nullopt;
  }
  WireReader r(std::string_view(der).substr(kMagic.size()));
  auto cipher = r.string();
  auto kdf = r.string();
  auto kdf_options = r.string();
  auto keys = r.uint32();
  auto blob = r.string();
  if (!cipher || !kdf || !kdf_options || !keys || *keys < 1 || !blob) {
    return std::nullopt;
  }
  auto type = WireReader(*blob).string();
  if (!type) {
    return std::nullopt;
  }
  return OpenSshKey{std::string(*cipher), std::string(*blob), std::string(*type)};
}

bool has_oid(const std::string& der, std::initializer_list<unsigned char> oid) {
  std::string needle(oid.begin(), oid.end());
  return der.find(needle) != std::string::npos;
}

// The curve of an EC key in DER (SEC 1 or PKCS #8), by its named curve.
std::string ecdsa_type(const std::string& der) {
  if (has_oid(der, {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07})) {
    return "ecdsa-sha2-nistp256";
  }
  if (has_oid(der, {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22})) {
    return "ecdsa-sha2-nistp384";
  }
  if (has_oid(der, {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x23})) {
    return "ecdsa-sha2-nistp521";
  }
  return "";
}

std::string key_type_of(const KeyBlock& block) {
  auto der = base64_decode(block.body);
  if (block.label == "RSA PRIVATE KEY") {
    return "ssh-rsa";
  }
  if (block.label == "DSA PRIVATE KEY") {
    return "ssh-dss";
  }
  if (!der) {
    return "";
  }
  if (block.label == "OPENSSH PRIVATE KEY") {
    auto key = parse_openssh(*der);
    return key ? key->key_type : "";
  }
  if (block.label == "EC PRIVATE KEY") {
    return ecdsa_type(*der);
  }
  if (block.label == "PRIVATE KEY") {  // PKCS #8: by the algorithm's OID
    if (has_oid(*der, {0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01})) {
      return "ssh-rsa";
    }
    if (has_oid(*der, {0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01})) {
      return ecdsa_type(*der);
    }
    if (has_oid(*der, {0x06, 0x03, 0x2B, 0x65, 0x70})) {
      return "ssh-ed25519";
    }
    if (has_oid(*der, {0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x38, 0x04, 0x01})) {
      return "ssh-dss";
    }
  }
  return "";
}

std::string usual_key_type(const std::string& type) {
  return type == "rsa" ? "ssh-rsa" : type == "ecdsa" ? "ecdsa-sha2-nistp256" : "ssh-ed25519";
}

std::string first_word(const std::string& s) {
  std::string_view t = trim(s);
  return std::string(t.substr(0, t.find_first_of(" \t\r\n")));
}

std::string second_word(const std::string& s) {
  std::istringstream in(s);
  std::string a, b;
  in >> a >> b;
  return b;
}

/// Checks one ssh_keys.<type>_private; the key's SSH type, or nullopt
/// after an error.
std::optional<std::string> check_private(const Value& v, const std::string& path,
                                         const std::string& type, Decoder& d,
                                         std::string& public_blob) {
  auto block = parse_block(v.scalar);
  if (!block || !block->label.ends_with("PRIVATE KEY")) {
    d.error(v, path,
            "expected a private key block (-----BEGIN OPENSSH PRIVATE KEY----- ... -----END "
            "OPENSSH PRIVATE KEY-----, or a PEM one such as RSA PRIVATE KEY)");
    return std::nullopt;
  }
  if (block->label == "ENCRYPTED PRIVATE KEY" || block->encrypted) {
    d.error(v, path, "is encrypted with a passphrase; sshd cannot load such a host key");
    return std::nullopt;
  }
  auto der = base64_decode(block->body);
  if (!der) {
    d.warning(v, path, "the key's body is not base64: sshd will not be able to load it");
  } else if (block->label == "OPENSSH PRIVATE KEY") {
    auto key = parse_openssh(*der);
    if (!key) {
      d.error(v, path, "is not an OpenSSH private key (no openssh-key-v1 header)");
      return std::nullopt;
    }
    if (key->cipher != "none") {
      d.error(v, path, "is encrypted with a passphrase; sshd cannot load such a host key");
      return std::nullopt;
    }
    public_blob = base64_encode(key->public_blob);
  }
  std::string key_type = key_type_of(*block);
  std::string family = host_key_family(key_type);
  if (family.empty() && block->label == "EC PRIVATE KEY") {
    family = "ecdsa";
  }
  if (!family.empty() && family != type) {
    d.error(v, path,
            "holds " + (family == "ecdsa" || family == "ed25519" ? std::string("an ") : "a ") +
                family + " key" + (key_type.empty() ? "" : " (" + key_type + ")") + ", not " +
                (type == "rsa"     ? "an RSA"
                 : type == "ecdsa" ? "an ECDSA"
                                   : "an Ed25519") +
                " key");
    return std::nullopt;
  }
  return key_type;
}

void decode_given(const Value& keys, Decoder& d, SshHostKeysConfig& cfg) {
  std::vector<GivenHostKey> given;
  for (const char* type : kKeyTypes) {
    given.push_back(GivenHostKey{type, {}, {}, {}, ""});
  }
  std::vector<std::string> blobs(given.size());
  for (const auto& e : keys.entries) {
    std::string path = "ssh_keys." + e.key;
    auto underscore = e.key.rfind('_');
    std::string type = underscore == std::string::npos ? "" : e.key.substr(0, underscore);
    std::string part = underscore == std::string::npos ? "" : e.key.substr(underscore + 1);
    auto slot = std::find(kKeyTypes.begin(), kKeyTypes.end(), type);
    bool known_part = part == "private" || part == "public" || part == "certificate";
    if (slot == kKeyTypes.end() || !known_part) {
      Value at;
      at.pos = e.key_pos;
      d.warning(at, path,
                (type == "ecdsa-sk" || type == "ed25519-sk") && known_part
                    ? "security-key host keys are not supported (as in cloud-init); skipped"
                    : "not a host key entry (rsa, ecdsa or ed25519, then _private, _public or "
                      "_certificate); skipped");
      continue;
    }
    const Value& v = e.value;
    if (!v.is_scalar() || (v.plain && (v.as_bool() || v.looks_like_number()))) {
      d.error(v, path, "expected a string, got " + v.type_name());
      continue;
    }
    std::size_t i = static_cast<std::size_t>(slot - kKeyTypes.begin());
    GivenHostKey& key = given[i];
    if (part == "private") {
      if (auto key_type = check_private(v, path, type, d, blobs[i])) {
        key.private_key = v.scalar;
        if (key.key_type.empty()) {
          key.key_type = *key_type;
        }
      }
    } else if (part == "public") {
      key.public_key = v.scalar;
      std::string word = first_word(v.scalar);
      if (host_key_family(word) != type) {
        d.warning(v, path,
                  "does not start with an " + type + " key type such as " + usual_key_type(type) +
                      "; installed as written");
      } else {
        key.key_type = word;
      }
    } else {
      key.certificate = v.scalar;
      std::string word = first_word(v.scalar);
      const std::string suffix = "-cert-v01@openssh.com";
      if (!word.ends_with(suffix) ||
          host_key_family(word.substr(0, word.size() - suffix.size())) != type) {
        d.warning(v, path,
                  "does not start with an " + type + " certificate type such as " +
                      usual_key_type(type) + suffix + "; installed as written");
      }
    }
  }
  bool any_private = false;
  for (std::size_t i = 0; i < given.size(); ++i) {
    GivenHostKey& key = given[i];
    any_private = any_private || key.private_key;
    if (!key.private_key && (key.public_key || key.certificate)) {
      d.warning(keys, "ssh_keys." + key.type + "_private",
                "missing: sshd cannot use the " + key.type +
                    " public key or certificate without it; they are installed as written");
    }
    if (key.private_key && key.public_key && !blobs[i].empty() &&
        second_word(*key.public_key) != blobs[i]) {
      d.warning(keys, "ssh_keys." + key.type + "_public",
                "is not the public half of " + key.type + "_private; installed as written");
    }
    if (key.key_type.empty()) {
      key.key_type = usual_key_type(key.type);
    }
  }
  if (!any_private) {
    d.warning(keys, "ssh_keys",
              std::string("no private host key given, and none is generated when ssh_keys is "
                          "set (as in cloud-init)") +
                  (cfg.delete_keys ? ": with ssh_deletekeys, sshd will have no host key" : ""));
  }
  std::erase_if(given, [](const GivenHostKey& k) {
    return !k.private_key && !k.public_key && !k.certificate;
  });
  cfg.given = given;
}

std::optional<std::vector<std::string>> string_list(const Value& v, const std::string& path,
                                                    Decoder& d) {
  if (d.list(v, path) == nullptr) {
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (std::size_t i = 0; i < v.items.size(); ++i) {
    const Value& item = v.items[i];
    if (!item.is_scalar()) {
      d.error(item, path + "[" + std::to_string(i) + "]",
              "expected a string, got " + item.type_name());
      continue;
    }
    out.push_back(item.scalar);
  }
  return out;
}

// A console blacklist: key types as the .pub files start (cloud-init's
// write-ssh-key-fingerprints compares those), or the short names its docs
// use (rsa), which amiboot takes as every key of that type.
std::vector<std::string> console_blacklist(const Value& v, const std::string& path, Decoder& d) {
  auto names = string_list(v, path, d);
  if (!names) {
    return {};
  }
  for (std::size_t i = 0; i < names->size(); ++i) {
    const std::string& name = (*names)[i];
    static const std::set<std::string> kShort = {"rsa", "ecdsa", "ed25519", "dsa"};
    if (host_key_family(name).empty() && kShort.count(name) == 0) {
      d.warning(v.items[i], path + "[" + std::to_string(i) + "]",
                "'" + name +
                    "' is no SSH key type (ssh-rsa, ecdsa-sha2-nistp256, ssh-ed25519, or rsa, "
                    "ecdsa, ed25519), so it leaves nothing out");
    }
  }
  return *names;
}

}  // namespace

std::string host_key_family(const std::string& key_type) {
  if (key_type == "ssh-rsa") {
    return "rsa";
  }
  if (key_type == "ecdsa-sha2-nistp256" || key_type == "ecdsa-sha2-nistp384" ||
      key_type == "ecdsa-sha2-nistp521") {
    return "ecdsa";
  }
  if (key_type == "ssh-ed25519") {
    return "ed25519";
  }
  if (key_type == "ssh-dss") {
    return "dsa";
  }
  return "";
}

std::string private_key_type(const std::string& text) {
  auto block = parse_block(text);
  return block ? key_type_of(*block) : "";
}

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
      if (t->items.empty() && cfg.delete_keys && config.get("ssh_keys") == nullptr) {
        decoder.warning(*t, "ssh_genkeytypes",
                        "no key types: the image's host keys are removed and none generated, so "
                        "sshd will not start");
      }
    }
  }
  if (const Value* q = config.get("ssh_quiet_keygen"); q != nullptr && !q->is_null()) {
    cfg.quiet_keygen = decoder.boolean(*q, "ssh_quiet_keygen").value_or(false);
  }
  if (const Value* k = config.get("ssh_keys"); k != nullptr && !k->is_null()) {
    if (decoder.map(*k, "ssh_keys") != nullptr) {
      decode_given(*k, decoder, cfg);
      if (const Value* t = config.get("ssh_genkeytypes"); t != nullptr && !t->is_null()) {
        decoder.warning(*t, "ssh_genkeytypes",
                        "ignored: no keys are generated when ssh_keys is given (as in cloud-init)");
      }
    }
  }
  if (const Value* p = config.get("ssh_publish_hostkeys"); p != nullptr && !p->is_null()) {
    if (decoder.map(*p, "ssh_publish_hostkeys") != nullptr) {
      decoder.unknown_keys(*p, "ssh_publish_hostkeys", {"enabled", "blacklist"});
      bool enabled = true;
      if (const Value* e = p->get("enabled"); e != nullptr && !e->is_null()) {
        enabled = decoder.boolean(*e, "ssh_publish_hostkeys.enabled").value_or(true);
      }
      if (const Value* b = p->get("blacklist"); b != nullptr && !b->is_null()) {
        string_list(*b, "ssh_publish_hostkeys.blacklist", decoder);
      }
      if (enabled) {
        decoder.warning(*p, "ssh_publish_hostkeys",
                        "EC2 has nowhere to publish host keys to (cloud-init's EC2 source "
                        "publishes none either); ignored");
      }
    }
  }
  if (const Value* s = config.get("ssh"); s != nullptr && !s->is_null()) {
    if (decoder.map(*s, "ssh") != nullptr) {
      decoder.unknown_keys(*s, "ssh", {"emit_keys_to_console"});
      if (const Value* e = s->get("emit_keys_to_console"); e != nullptr && !e->is_null()) {
        cfg.emit_keys_to_console = decoder.boolean(*e, "ssh.emit_keys_to_console").value_or(true);
      }
    }
  }
  if (const Value* b = config.get("ssh_fp_console_blacklist"); b != nullptr && !b->is_null()) {
    cfg.fp_blacklist = console_blacklist(*b, "ssh_fp_console_blacklist", decoder);
  }
  if (const Value* b = config.get("ssh_key_console_blacklist"); b != nullptr && !b->is_null()) {
    cfg.key_blacklist = console_blacklist(*b, "ssh_key_console_blacklist", decoder);
  }
  // cc_ssh_authkey_fingerprints' switch: amiboot prints no authorized-key
  // fingerprints, so true is what it does anyway; only the shape is checked.
  if (const Value* n = config.get("no_ssh_fingerprints"); n != nullptr && !n->is_null()) {
    decoder.boolean(*n, "no_ssh_fingerprints");
  }
  if (decoder.failed()) {
    return std::nullopt;
  }
  return cfg;
}

void to_json(nlohmann::json& json, const SshHostKeysConfig& config) {
  json = {
      {"delete_keys", config.delete_keys},   {"types", config.types},
      {"quiet_keygen", config.quiet_keygen}, {"emit_keys_to_console", config.emit_keys_to_console},
      {"fp_blacklist", config.fp_blacklist}, {"key_blacklist", config.key_blacklist}};
  if (config.given) {
    nlohmann::json given = nlohmann::json::array();
    for (const auto& key : *config.given) {
      given.push_back({{"type", key.type}, {"key_type", key.key_type}});
    }
    json["given"] = std::move(given);
  }
}

void from_json(const nlohmann::json& json, SshHostKeysConfig& config) {
  config.delete_keys = json.at("delete_keys").get<bool>();
  config.types = json.at("types").get<std::vector<std::string>>();
  config.quiet_keygen = json.at("quiet_keygen").get<bool>();
  config.emit_keys_to_console = json.at("emit_keys_to_console").get<bool>();
  config.fp_blacklist = json.at("fp_blacklist").get<std::vector<std::string>>();
  config.key_blacklist = json.at("key_blacklist").get<std::vector<std::string>>();
  config.given.reset();
  if (auto it = json.find("given"); it != json.end()) {
    config.given.emplace();
    for (const auto& key : *it) {
      GivenHostKey given;
      given.type = key.at("type").get<std::string>();
      given.key_type = key.at("key_type").get<std::string>();
      config.given->push_back(std::move(given));
    }
  }
}

}  // namespace amiboot
