// SPDX-License-Identifier: Apache-2.0
// ssh_host_keys: the instance's SSH host keys (cc_ssh's host key half) and
// their console output (cc_keys_to_console): the image's keys are removed,
// then the keys given in ssh_keys are installed or new ones generated, and
// their fingerprints and public keys go to the console between
// cloud-init's markers, so whoever reads the console output can check the
// first connection. Decoding is in ssh_host_keys_config.h.
#pragma once

#include "modules/module.h"
#include "modules/ssh_host_keys_config.h"

namespace amiboot {

/// Nothing when the root has no /etc/ssh (no sshd); no keys generated or
/// derived when ssh-keygen is missing.
PlanResult plan_ssh_host_keys(const SshHostKeysConfig& config, const Facts& facts);

}  // namespace amiboot
