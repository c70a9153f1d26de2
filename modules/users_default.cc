// SPDX-License-Identifier: Apache-2.0
#include "modules/users_default.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace amiboot {

namespace {

UserFields fields_of(const UserSpec& u) {
  UserFields f;
  auto opt = [](const std::string& s) {
    return s.empty() ? std::nullopt : std::optional<std::string>(s);
  };
  f.name = u.name;
  f.gecos = opt(u.gecos);
  f.shell = opt(u.shell);
  f.groups = u.groups;
  f.sudo = u.sudo;
  f.sudo_source = u.sudo_source;
  f.lock_passwd = u.lock_passwd;
  return f;
}

UserSpec spec_of(const std::string& name, const UserFields& f, const std::string& source) {
  UserSpec u;
  u.name = name;
  u.source = source;
  u.gecos = f.gecos.value_or("");
  u.primary_group = f.primary_group.value_or("");
  u.groups = f.groups.value_or(std::vector<std::string>{});
  u.shell = f.shell.value_or("");
  u.sudo = f.sudo.value_or(std::vector<std::string>{});
  u.sudo_source = f.sudo_source;
  u.lock_passwd = f.lock_passwd.value_or(true);
  u.passwd = f.passwd.value_or("");
  u.hashed_passwd = f.hashed_passwd.value_or("");
  u.plain_text_passwd = f.plain_text_passwd.value_or("");
  u.uid = f.uid;
  u.system = f.system.value_or(false);
  u.homedir = f.homedir.value_or("");
  u.no_create_home = f.no_create_home.value_or(false);
  u.ssh_authorized_keys = f.keys.value_or(std::vector<std::string>{});
  u.expiredate = f.expiredate.value_or("");
  return u;
}

}  // namespace

std::optional<UserSpec> distro_default_user(const OsRelease& os) {
  // cloud-init's config/cloud.cfg.tmpl, with the names AWS images use.
  UserSpec u;
  u.is_default = true;
  u.shell = "/bin/bash";
  u.lock_passwd = true;
  u.sudo = {"ALL=(ALL) NOPASSWD:ALL"};
  u.sudo_source = "default user (distribution defaults for /etc/os-release ID=" + os.id + ")";
  u.source = "default user (/etc/os-release)";
  if (os.id == "ubuntu") {
    u.name = "ubuntu";
    u.gecos = "Ubuntu";
    u.groups = {"adm", "cdrom", "dip", "lxd", "sudo"};
  } else if (os.is("debian")) {
    u.name = "admin";  // Debian's own AMIs name it admin
    u.gecos = "Debian";
    u.groups = {"adm",    "audio",  "cdrom",   "dialout", "dip",
                "floppy", "netdev", "plugdev", "sudo",    "video"};
  } else if (os.id == "amzn") {
    u.name = "ec2-user";
    u.gecos = "EC2 Default User";
    u.groups = {"wheel", "adm", "systemd-journal"};
  } else if (os.id == "fedora") {
    u.name = "ec2-user";
    u.gecos = "fedora Cloud User";
    u.groups = {"wheel", "adm", "systemd-journal"};
  } else if (os.is_redhat_family()) {
    u.name = "ec2-user";
    u.gecos = "Cloud User";
    u.groups = {"adm", "systemd-journal"};
  } else {
    return std::nullopt;
  }
  return u;
}

UsersConfig resolve_users(const UsersKeys& keys, const OsRelease& os, Diagnostics& out) {
  UsersConfig cfg = keys.settings;
  std::vector<UserEntry> entries = keys.entries;
  const std::string& default_source = keys.default_source;
  // The distribution's defaults under what the document set.
  std::optional<UserFields> base;
  if (auto d = distro_default_user(os)) {
    base = fields_of(*d);
  }
  if (keys.default_user) {
    base = base ? base : UserFields{};
    override_with(*base, *keys.default_user);
  }

  // The default user first. cloud-init lets the distribution's settings win
  // over a `default` entry's (first source wins in its mergemanydict); only
  // the groups are the union of all of them.
  std::optional<UserSpec> default_user;
  auto def = std::find_if(entries.begin(), entries.end(),
                          [](const UserEntry& e) { return e.name == "default"; });
  if (def != entries.end()) {
    if (!base || !base->name || base->name->empty()) {
      out.push_back(Diagnostic{Diagnostic::Severity::Warning, keys.pos, "users",
                               "no default user: /etc/os-release names no distribution amiboot "
                               "knows and the image config has no system_info.default_user"});
    } else {
      UserFields merged = *base;
      std::set<std::string> groups;
      auto take_groups = [&](const UserFields& f) {
        if (f.groups) {
          groups.insert(f.groups->begin(), f.groups->end());
        }
      };
      take_groups(*base);
      take_groups(def->fields);
      fill_missing(merged, def->fields);
      auto real = std::find_if(entries.begin(), entries.end(),
                               [&](const UserEntry& e) { return e.name == *base->name; });
      if (real != entries.end()) {
        take_groups(real->fields);
        fill_missing(merged, real->fields);
        entries.erase(real);
      }
      merged.groups = std::vector<std::string>(groups.begin(), groups.end());
      default_user = spec_of(*base->name, merged, default_source);
      default_user->is_default = true;
    }
  }
  if (default_user) {
    cfg.users.push_back(*default_user);
  }
  for (const auto& e : entries) {
    if (e.name != "default") {
      cfg.users.push_back(spec_of(e.name, e.fields, e.path));
    }
  }
  return cfg;
}

}  // namespace amiboot
