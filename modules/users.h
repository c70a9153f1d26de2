// users: users and groups (cloud-init's cc_users_groups), SSH authorized keys
// for the default user and root (cc_ssh's key half) and ssh_pwauth. The
// default user comes from system_info.default_user (image config) over the
// distribution's defaults from /etc/os-release, and gets the IMDS keys.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "modules/module.h"
#include "modules/os_release.h"

namespace amiboot {

inline constexpr const char* kSudoersFile = "/etc/sudoers.d/90-amiboot-users";
inline constexpr const char* kSshdDropIn = "/etc/ssh/sshd_config.d/50-amiboot.conf";

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

struct UsersConfig {
  std::vector<UserSpec> users;  // the default user first, when there is one
  std::vector<GroupSpec> groups;
  std::vector<std::string> ssh_authorized_keys;  // top level: default user and root
  bool disable_root = true;
  std::string disable_root_opts = kDisableRootOpts;
  std::optional<bool> ssh_pwauth;  // nullopt: leave sshd alone ("unchanged")
  /// `users` asked for the default user (or was not set at all).
  bool wants_default = true;
};

/// The default user cloud-init's distro config gives this distribution
/// (Debian admin, Ubuntu ubuntu, Amazon Linux / RHEL / Fedora ec2-user);
/// nullopt for a distribution we do not know.
std::optional<UserSpec> distro_default_user(const OsRelease& os);

/// Decodes users, user, groups, ssh_authorized_keys, disable_root,
/// disable_root_opts, ssh_pwauth and system_info.default_user. `os` supplies
/// the default user's base when given (plan time); check time passes
/// nullopt and only checks shapes. nullopt when there are errors.
std::optional<UsersConfig> decode_users(const Value& config, const std::optional<OsRelease>& os,
                                        Diagnostics& out);

void check_users(const Value& config, Diagnostics& out);
PlanResult plan_users(const ModuleInput& input);

/// authorized_keys with `keys` merged in: lines for other keys stay, a line
/// for the same key is replaced (its options may differ), new keys are
/// appended. Each key is prefixed by `options` when not empty.
std::string merge_authorized_keys(const std::string& existing, const std::vector<std::string>& keys,
                                  const std::string& options);

}  // namespace amiboot
