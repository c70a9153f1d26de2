// SPDX-License-Identifier: Apache-2.0
// set_passwords: what cloud-init's cc_set_passwords keys say (chpasswd,
// password, ssh_pwauth). Decoded by the users decoder (users_config.cc),
// because `password` is the default user's, whom only the users keys
// name; the set_passwords row shares that decoder and its config.
// Error and warning messages never quote a password or a hash.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/core/config.h"
#include "modules/users_fields.h"

namespace amiboot {

/// One password to set: chpasswd.users[i], a line of chpasswd.list, or the
/// top-level `password` (for the default user, named at plan time).
struct PasswordEntry {
  enum class Kind { Text, Hash, Random };
  std::string user;  // empty for the default user
  Kind kind = Kind::Hash;
  std::string password;  // clear text or a crypt(3) hash; empty for Random
  std::string source;    // "chpasswd.users[1]", "chpasswd.list[0]", "password"
  bool operator==(const PasswordEntry&) const = default;
};

struct PasswordsConfig {
  std::vector<PasswordEntry> entries;
  bool expire = true;              // chpasswd.expire
  std::optional<bool> ssh_pwauth;  // nullopt: sshd's PasswordAuthentication left alone
  bool operator==(const PasswordsConfig&) const = default;
};

/// A crypt(3) string chpasswd -e can store: $id$[params$]salt$hash with
/// an id of md5crypt (1), bcrypt (2a, 2b, 2x, 2y), sha256crypt (5),
/// sha512crypt (6), scrypt (7), yescrypt (y) or gost-yescrypt (gy).
bool is_crypt_hash(const std::string& s);

/// Decodes chpasswd, password and ssh_pwauth of one document into `out`,
/// reporting to `ud`.
void decode_passwords(const Value& doc, UserFieldDecoder& ud, PasswordsConfig& out);

}  // namespace amiboot
