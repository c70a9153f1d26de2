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

/// Armored or binary; only meaningful for a key that passed the check.
OpenPgpEncoding openpgp_encoding(std::string_view text);

}  // namespace amiboot
