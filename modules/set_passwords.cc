// SPDX-License-Identifier: Apache-2.0
#include "modules/set_passwords.h"

#include <algorithm>

#include "modules/lanes.h"
#include "modules/os_release.h"
#include "modules/sshd_config.h"
#include "modules/users_default.h"

namespace amiboot {

namespace {

Diagnostic warning(const std::string& path, const std::string& message) {
  return Diagnostic{Diagnostic::Severity::Warning, {}, path, message};
}

// The shadow tools take the target root themselves; the executor adds it
// under --root.
RunCommand tool(std::vector<std::string> argv, std::string label) {
  RunCommand r{std::move(argv), std::move(label)};
  r.root_option = "--root";
  return r;
}

// Clear text is hashed by chpasswd through PAM on an instance. Under --root
// PAM is not available inside the sandbox, so chpasswd hashes it itself.
RunCommand clear_text_chpasswd(std::string label) {
  RunCommand r = tool({"chpasswd"}, std::move(label));
  r.root_extra_args = {"--crypt-method", "SHA512"};
  return r;
}

// The default user's name, for `password`, as the users row resolves it;
// "" when there is none (`users` without `default`, an unknown distribution).
std::string default_user(const UsersKeys& keys, const Facts& facts) {
  Diagnostics reported_by_users;
  UsersConfig users =
      resolve_users(keys, read_os_release(facts.system).value_or(OsRelease{}), reported_by_users);
  for (const auto& u : users.users) {
    if (u.is_default) {
      return u.name;
    }
  }
  return "";
}

void pwauth(bool enable, const Facts& facts, PlanResult& result) {
  if (!facts.system.path_exists("/etc/ssh")) {
    result.diagnostics.push_back(
        warning("ssh_pwauth", "no /etc/ssh: sshd is not installed; ignored"));
    return;
  }
  std::string value = enable ? "yes" : "no";
  std::string label = "ssh_pwauth: PasswordAuthentication " + value;
  if (sshd_reads_drop_ins(facts.system)) {
    // sshd takes the first value it reads, and the Include line is at the
    // top of Debian's, Ubuntu's and Amazon Linux 2023's sshd_config.
    std::string content =
        "# From ssh_pwauth in the user data (amiboot).\nPasswordAuthentication " + value + "\n";
    if (facts.system.read_text(kSshdDropIn) != content) {
      result.actions.push_back(
          WriteFile{kSshdDropIn, content, 0644, "root:root", false, label + " (drop-in)"});
    }
    return;
  }
  auto current = facts.system.read_text(kSshdConfig);
  std::string updated = set_sshd_option(current.value_or(""), "PasswordAuthentication", value);
  if (current != updated) {
    // Amazon Linux 2's and RHEL 8's sshd_config is 0600 root.
    result.actions.push_back(
        WriteFile{kSshdConfig, updated, 0600, "root:root", false, label + " (sshd_config)"});
  }
}

}  // namespace

PlanResult plan_set_passwords(const UsersKeys& keys, const Facts& facts) {
  PlanResult result;
  const PasswordsConfig& cfg = keys.passwords;
  std::vector<PasswordEntry> entries;
  for (auto e : cfg.entries) {
    if (e.user.empty()) {
      e.user = default_user(keys, facts);
      if (e.user.empty()) {
        // cloud-init: "No default or defined user to change password for."
        result.diagnostics.push_back(
            warning(e.source, "there is no default user to set it for; ignored"));
        continue;
      }
    }
    entries.push_back(e);
  }
  if (!entries.empty() && !facts.system.path_exists("/etc/passwd")) {
    result.diagnostics.push_back(
        warning("chpasswd", "no /etc/passwd under the root; passwords not set"));
    entries.clear();
  }
  std::vector<std::string> random, expire;
  // One chpasswd for all clear-text passwords and one for all hashes, as
  // cloud-init runs them (a line each on stdin, so a password shows in no
  // argv, log or dry run; a later line for the same user wins, as before).
  RunCommand text = clear_text_chpasswd("");
  RunCommand hashed = tool({"chpasswd", "--encrypted"}, "");
  int set = 0, texts = 0, hashes = 0;
  for (const auto& e : entries) {
    if (e.kind == PasswordEntry::Kind::Random) {
      random.push_back(e.user);
    } else {
      RunCommand& r = e.kind == PasswordEntry::Kind::Hash ? hashed : text;
      (e.kind == PasswordEntry::Kind::Hash ? hashes : texts)++;
      r.label += (r.label.empty() ? "" : ", ") + e.source + " (" + e.user + ")";
      r.input += e.user + ":" + e.password + "\n";
      ++set;
    }
    if (std::find(expire.begin(), expire.end(), e.user) == expire.end()) {
      expire.push_back(e.user);
    }
  }
  if (texts > 0) {
    text.label += texts > 1 ? ": set passwords" : ": set password";
    result.actions.push_back(text);
  }
  if (hashes > 0) {
    hashed.label += hashes > 1 ? ": set passwords (hash)" : ": set password (hash)";
    result.actions.push_back(hashed);
  }
  if (!random.empty()) {
    result.actions.push_back(
        SetRandomPasswords{random, clear_text_chpasswd("chpasswd: random password")});
  }
  // cloud-init (22.3 on) expires hashed passwords too: each user must pick
  // a new password at the next login.
  if (cfg.expire) {
    for (const auto& user : expire) {
      result.actions.push_back(
          tool({"passwd", "--expire", user}, "chpasswd.expire (" + user + ")"));
    }
  }
  if (cfg.ssh_pwauth) {
    pwauth(*cfg.ssh_pwauth, facts, result);
  }
  std::string summary;
  if (!entries.empty()) {
    summary = std::to_string(set + static_cast<int>(random.size())) + " password(s) set";
    if (!random.empty()) {
      summary += " (" + std::to_string(random.size()) + " random, on the console)";
    }
    if (cfg.expire) {
      summary += ", expired";
    }
  }
  if (cfg.ssh_pwauth) {
    summary += std::string(summary.empty() ? "" : "; ") + "PasswordAuthentication " +
               (*cfg.ssh_pwauth ? "yes" : "no");
  }
  result.summary = summary;
  // For the lanes (modules/lanes.h): chpasswd's and passwd's account files
  // and locks, sshd's configuration when ssh_pwauth is set. /etc/ssh's own
  // existence is read too, which no row's actions change.
  PlanFootprint f;
  f.read = {"/etc/passwd", "/etc/shadow", "/etc/login.defs"};
  if (cfg.ssh_pwauth) {
    f.read.insert(f.read.end(), {kSshdConfig, "/etc/ssh/sshd_config.d"});
  }
  f.applied = {"/etc/passwd",      "/etc/shadow",  "/etc/.pwd.lock", "/etc/passwd.lock",
               "/etc/shadow.lock", "/etc/passwd-", "/etc/shadow-",   "/etc/login.defs"};
  auto paths = action_paths(result.actions);
  f.applied.insert(f.applied.end(), paths.begin(), paths.end());
  result.footprint = std::move(f);
  return result;
}

}  // namespace amiboot
