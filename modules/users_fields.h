// SPDX-License-Identifier: Apache-2.0
// users: one user map as written (users[i], user, system_info.default_user),
// kept field by field with "unset" distinct from "empty", because the
// default user is layered from several sources and the first that sets a
// field wins. The shape checks here are shared by every place a user or a
// group name may be written.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/core/config.h"

namespace amiboot {

// Fields of one user map as written: unset = not given, so sources can be
// layered. An explicit null is "given, empty" (cloud-init's None).
struct UserFields {
  std::optional<std::string> name, gecos, primary_group, shell, homedir, expiredate, passwd,
      hashed_passwd, plain_text_passwd;
  std::optional<std::vector<std::string>> groups, sudo, keys;
  std::optional<bool> lock_passwd, system, no_create_home;
  std::optional<long long> uid;
  std::string sudo_source;  // where `sudo` was written, for errors
};

/// `into` keeps what it has; `from` fills the gaps (cloud-init's
/// mergemanydict: the first source wins).
void fill_missing(UserFields& into, const UserFields& from);

/// `from` wins: a later config file over an earlier one.
void override_with(UserFields& into, const UserFields& from);

/// useradd's rule (shadow-utils): letters, digits, '_', '-', '.', a '$' only
/// at the end; not starting with '-', not all digits, not "." or "..".
bool valid_account_name(const std::string& s);

/// "a, b" as its trimmed, non-empty items.
std::vector<std::string> split_commas(const std::string& s);

/// Decodes the values of user and group keys, reporting to one Decoder.
class UserFieldDecoder {
 public:
  explicit UserFieldDecoder(Diagnostics& out) : m_d(out) {}

  bool failed() const { return m_d.failed(); }
  Decoder& decoder() { return m_d; }

  // A value written as a string: YAML numbers and booleans are not names,
  // paths or passwords (PyYAML would even turn 0123 into 83).
  std::optional<std::string> text(const Value& v, const std::string& path,
                                  const std::string& expected = "a string");
  std::optional<std::string> one_line(const Value& v, const std::string& path,
                                      const std::string& expected);
  std::optional<std::string> account_name(const Value& v, const std::string& path,
                                          const std::string& what);
  std::optional<std::string> absolute_path(const Value& v, const std::string& path);
  // "a, b", [a, b], or cloud-init's deprecated {a: null, b: null}.
  std::optional<std::vector<std::string>> group_names(const Value& v, const std::string& path);
  // A rule, a list of rules, or false / null for none. Each rule is one
  // line: a newline would let a rule for one user grant another.
  std::optional<std::vector<std::string>> sudo_rules(const Value& v, const std::string& path);
  std::optional<std::vector<std::string>> keys(const Value& v, const std::string& path);
  std::optional<std::string> password(const Value& v, const std::string& path, bool hashed);
  std::optional<long long> uid(const Value& v, const std::string& path);
  UserFields user_map(const Value& map, const std::string& path);

 private:
  Decoder m_d;
};

}  // namespace amiboot
