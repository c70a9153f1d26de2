// SPDX-License-Identifier: Apache-2.0
// OpenPGP public keys as user data gives them to the repository modules
// (apt `key`, yum and zypper `gpgkey` text): checked before anything is
// written, so a pasted private key, a certificate or a truncated block is
// an error at validation, never a keyring apt cannot read.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace amiboot {

enum class OpenPgpEncoding { Armored, Binary };

/// What is wrong with `text` as one or more OpenPGP public keys: the
/// ASCII armour (`-----BEGIN PGP PUBLIC KEY BLOCK-----`, optional armour
/// headers, a blank line, base64, an optional `=` checksum, the END line)
/// or binary packets, the first of which must be a public-key packet (tag
/// 6). nullopt when it is one; the message never quotes the key.
std::optional<std::string> openpgp_public_key_problem(std::string_view text);

/// What is wrong with `data` (a keyserver's answer) as the key `keyid`
/// asked for (8, 16 or 40 hexadecimal digits, any case): every public key
/// in it must be that key, its version 4 fingerprint (or the fingerprint of
/// one of its subkeys) equal to a 40-digit id or ending in a 16- or 8-digit
/// one, as gpg --recv-keys keeps only the keys asked for. nullopt when it
/// is; the message names the fingerprints found, never key material.
std::optional<std::string> openpgp_keyid_problem(std::string_view data, std::string_view keyid);

/// Armored or binary; only meaningful for a key that passed the check.
OpenPgpEncoding openpgp_encoding(std::string_view text);

}  // namespace amiboot
