// SPDX-License-Identifier: Apache-2.0
// What of a cloud-config may be shown to whoever reads a dry run: the
// merged config with the values that carry secrets replaced.
#pragma once

#include <nlohmann/json.hpp>

namespace amiboot {

inline constexpr const char* kRedacted = "<redacted>";

/// `config` (cloud-config as JSON) with the values of secret-bearing keys
/// replaced by kRedacted: passwords and hashes (`password`, `passwd`,
/// `hashed_passwd`, `plain_text_passwd`, `chpasswd.list`, `chpasswd.users[].password`),
/// private keys (any key naming `private`), file contents and fetch headers
/// (`content`, `headers`), URLs (pre-signed URLs carry a credential) and
/// seed `data`. `amiboot query merged_cfg` (root only) shows it unredacted.
nlohmann::json redact_secrets(const nlohmann::json& config);

}  // namespace amiboot
