// SPDX-License-Identifier: Apache-2.0
// users: what the users module's keys say, in two steps. decode_users reads
// one cloud-config document and keeps the default user's layers unresolved,
// because which default user a distribution has is a fact about the
// instance (/etc/os-release) that validation must not depend on;
// resolve_users (users_default.h) adds that fact at plan time.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/core/config.h"
#include "modules/set_passwords_config.h"
#include "modules/users_fields.h"

namespace amiboot {

/// cloud-init's disable_root_opts default; $USER is the default user ("NONE"
/// without one), $DISABLE_USER is root.
inline constexpr const char* kDisableRootOpts =
    "no-port-forwarding,no-agent-forwarding,no-X11-forwarding,"
    "command=\"echo 'Please login as the user \\\"$USER\\\" rather than the user "
    "\\\"$DISABLE_USER\\\".';echo;sleep 10;exit 142\"";

/// One user, every source merged. Empty strings mean "not given".
struct UserSpec {
  std::string name;
  std::string source;  // "users[1]", "default user (system_info.default_user)"
  bool is_default = false;
  std::string gecos;
  std::string primary_group;
  std::vector<std::string> groups;
  std::string shell;
  std::vector<std::string> sudo;  // rules, "ALL=(ALL) NOPASSWD:ALL"
  std::string sudo_source;        // "users[1].sudo (user-data:9:11)"
  bool lock_passwd = true;
  std::string passwd;  // a crypt(3) hash, applied only when the user is created
  std::string hashed_passwd;
  std::string plain_text_passwd;
  std::optional<long long> uid;
  bool system = false;
  std::string homedir;
  bool no_create_home = false;
  std::vector<std::string> ssh_authorized_keys;
  std::string expiredate;  // YYYY-MM-DD
  bool operator==(const UserSpec&) const = default;
};

struct GroupSpec {
  std::string name;
  std::vector<std::string> members;
  bool operator==(const GroupSpec&) const = default;
};

/// The resolved config the planner works from.
struct UsersConfig {
  std::vector<UserSpec> users;  // the default user first, when there is one
  std::vector<GroupSpec> groups;
  std::vector<std::string> ssh_authorized_keys;  // top level: default user and root
  /// cloud-init's cc_ssh: false keeps the IMDS public keys from the default
  /// user and root (ssh_authorized_keys still go in).
  bool allow_public_ssh_keys = true;
  bool disable_root = true;
  std::string disable_root_opts = kDisableRootOpts;
  /// `users` asked for the default user (or was not set at all).
  bool wants_default = true;
};

/// One entry of `users` in document order; name "default" is the default user.
struct UserEntry {
  std::string name;
  UserFields fields;
  std::string path;
};

/// The keys of one document, the default user not yet resolved.
struct UsersKeys {
  /// system_info.default_user with `user:` over it; nullopt when neither
  /// is given. The distribution's defaults fill its gaps at plan time.
  std::optional<UserFields> default_user;
  std::string default_source = "default user (/etc/os-release)";
  std::vector<UserEntry> entries;
  /// Everything but `users`, which resolve_users fills.
  UsersConfig settings;
  /// Where the document is, for the "no default user" warning.
  Position pos;
  /// chpasswd, password and ssh_pwauth, for the set_passwords row, which
  /// shares this decoder: `password` is the default user's.
  PasswordsConfig passwords;
};

/// Decodes users, user, groups, ssh_authorized_keys, allow_public_ssh_keys,
/// disable_root, disable_root_opts and system_info.default_user of one
/// document, and set_passwords' chpasswd, password and ssh_pwauth. nullopt
/// when there are errors.
std::optional<UsersKeys> decode_users(const Value& doc, Diagnostics& out);

}  // namespace amiboot
