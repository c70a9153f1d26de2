// SPDX-License-Identifier: Apache-2.0
// ssh_host_keys: what its keys say. cloud-init's cc_ssh host key keys
// (ssh_deletekeys, ssh_genkeytypes, ssh_keys, ssh_quiet_keygen,
// ssh_publish_hostkeys) and the console keys of cc_keys_to_console (ssh,
// ssh_fp_console_blacklist, ssh_key_console_blacklist) and
// cc_ssh_authkey_fingerprints (no_ssh_fingerprints): this one row both
// makes the host keys and prints them. Messages never quote a private key.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "agent/core/config.h"

namespace amiboot {

/// The host key files of one type given in ssh_keys.
struct GivenHostKey {
  std::string type;  // "rsa", "ecdsa", "ed25519"
  std::optional<std::string> private_key, public_key, certificate;
  /// The SSH key type of the public half ("ecdsa-sha2-nistp384"): from the
  /// public key, else read from the private key, else the type's usual one.
  std::string key_type;
  bool operator==(const GivenHostKey&) const = default;
};

struct SshHostKeysConfig {
  bool delete_keys = true;                                       // ssh_deletekeys
  std::vector<std::string> types = {"ed25519", "ecdsa", "rsa"};  // ssh_genkeytypes
  bool quiet_keygen = false;                                     // ssh_quiet_keygen
  /// ssh_keys: installed instead of generated keys (none are generated when
  /// it is given, as in cloud-init). nullopt when not given.
  std::optional<std::vector<GivenHostKey>> given;
  bool emit_keys_to_console = true;        // ssh.emit_keys_to_console
  std::vector<std::string> fp_blacklist;   // ssh_fp_console_blacklist
  std::vector<std::string> key_blacklist;  // ssh_key_console_blacklist
  bool operator==(const SshHostKeysConfig&) const = default;
};

/// The short type of an SSH key type name: "rsa" for ssh-rsa, "ecdsa" for
/// ecdsa-sha2-nistp256/384/521, "ed25519", "dsa" for ssh-dss; "" otherwise.
std::string host_key_family(const std::string& key_type);

/// The SSH key type of a private key block ("ssh-ed25519"), read from an
/// OpenSSH key's public part or a PEM key's label and algorithm; "" when it
/// cannot be told (a PEM body that is not base64).
std::string private_key_type(const std::string& text);

/// For the final stage's row (ssh_host_keys_final), which plans from what
/// the init stage decoded. `given` is stored as its types alone: the final
/// row only needs to know that keys were given (it then generates none), so
/// no private key is written to the state.
void to_json(nlohmann::json& json, const SshHostKeysConfig& config);
void from_json(const nlohmann::json& json, SshHostKeysConfig& config);

/// nullopt when a key is malformed (reported in `out`).
std::optional<SshHostKeysConfig> decode_ssh_host_keys(const Value& config, Diagnostics& out);

}  // namespace amiboot
