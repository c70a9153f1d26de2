// ssh_host_keys: fresh SSH host keys for each instance (cc_ssh's host key
// half): the image's keys are removed and new ones generated, and their
// fingerprints go to the console between cloud-init's markers, so whoever
// reads the console output can check the first connection.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "modules/module.h"

namespace amiboot {

struct SshHostKeysConfig {
  bool delete_keys = true;                                       // ssh_deletekeys
  std::vector<std::string> types = {"ed25519", "ecdsa", "rsa"};  // ssh_genkeytypes
  bool operator==(const SshHostKeysConfig&) const = default;
};

/// nullopt when a key is malformed (reported in `out`).
std::optional<SshHostKeysConfig> decode_ssh_host_keys(const Value& config, Diagnostics& out);

/// Nothing when the root has no /etc/ssh (no sshd) or ssh-keygen is missing.
PlanResult plan_ssh_host_keys(const SshHostKeysConfig& config, const Facts& facts);

}  // namespace amiboot
