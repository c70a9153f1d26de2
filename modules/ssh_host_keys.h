// SPDX-License-Identifier: Apache-2.0
// ssh_host_keys: the instance's SSH host keys (cc_ssh's host key half) and
// their console output (cc_keys_to_console): the image's keys are removed,
// then the keys given in ssh_keys are installed or new ones generated, and
// their fingerprints and public keys go to the console between
// cloud-init's markers, so whoever reads the console output can check the
// first connection. Two rows: the init stage makes what sshd needs to start
// (logins wait for it), the final stage the rest, then prints them all.
// Decoding is in ssh_host_keys_config.h.
#pragma once

#include "modules/module.h"
#include "modules/ssh_host_keys_config.h"

namespace amiboot {

/// Written by the init row on a new instance of an image with
/// sshd-keygen@.service (Amazon Linux, RHEL, Fedora) before it touches a
/// key: the unit's drop-in (units/sshd-keygen-skipped.conf) is skipped
/// while it exists, so that unit neither races ssh_deletekeys nor makes the
/// types the final stage makes. In /run: this boot only.
inline constexpr const char* kSshdKeygenSkipMarker = "/run/amiboot/sshd-keygen-skipped";

/// The key types the init stage generates: ed25519 when it is listed (sshd
/// starts with it and every OpenSSH client since 6.5 takes it), else the
/// first listed type. The rest wait for the final stage.
std::vector<std::string> login_key_types(const std::vector<std::string>& types);

/// Init stage, before sshd starts: the image's keys removed (ssh_deletekeys),
/// the keys given in ssh_keys installed, or else only the login_key_types()
/// generated. Nothing when the root has no /etc/ssh (no sshd); no keys
/// generated or derived when ssh-keygen is missing.
PlanResult plan_ssh_host_keys(const SshHostKeysConfig& config, const Facts& facts);

/// Final stage (ssh_host_keys_final): every configured type still missing
/// generated (none when ssh_keys was given; a key already there, given,
/// kept or made by the init stage, is never made again), then sshd told to
/// read them (`systemctl try-reload-or-restart`, not under --root), then
/// the fingerprints and keys on the console.
PlanResult plan_ssh_host_keys_final(const SshHostKeysConfig& config, const Facts& facts);

}  // namespace amiboot
