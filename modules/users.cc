// SPDX-License-Identifier: Apache-2.0
#include "modules/users.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "agent/core/colon_file.h"
#include "agent/core/strings.h"
#include "modules/lanes.h"

namespace amiboot {

namespace {

std::string field(const ColonFile& file, const std::string& name, std::size_t index) {
  auto it = file.find(name);
  return it == file.end() || it->second.size() <= index ? "" : it->second[index];
}

std::vector<std::string> split_members(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string m; std::getline(in, m, ',');) {
    if (!m.empty()) {
      out.push_back(m);
    }
  }
  return out;
}

struct Planner {
  const Facts& facts;
  const UsersConfig& cfg;
  PlanResult& result;
  ColonFile passwd, group, shadow;
  std::set<std::string> users_after;                     // existing and created in this plan
  std::set<std::string> groups_after;                    // likewise
  std::map<std::string, std::set<std::string>> members;  // group -> members, as planned
  std::vector<std::string> created;

  // The shadow tools take the target root themselves (useradd --root,
  // gpasswd -Q); the executor adds it under --root.
  static RunCommand tool(std::vector<std::string> argv, std::string label,
                         std::string root_option = "--root") {
    RunCommand r{std::move(argv), std::move(label)};
    r.root_option = std::move(root_option);
    return r;
  }

  void ensure_group(const std::string& name, const std::string& why) {
    if (groups_after.count(name) > 0) {
      return;
    }
    result.actions.push_back(tool({"groupadd", name}, why + ": groupadd " + name));
    groups_after.insert(name);
  }

  void add_member(const std::string& user, const std::string& grp, const std::string& why) {
    if (members[grp].count(user) > 0) {
      return;
    }
    result.actions.push_back(
        tool({"gpasswd", "-a", user, grp}, why + ": add " + user + " to group " + grp, "-Q"));
    members[grp].insert(user);
  }

  void sudoers() {
    std::string content;
    std::vector<const UserSpec*> with_rules;
    for (const auto& u : cfg.users) {
      if (!u.sudo.empty()) {
        with_rules.push_back(&u);
      }
    }
    auto current = facts.system.read_text(kSudoersFile);
    if (with_rules.empty()) {
      if (current) {
        result.actions.push_back(RemoveFile{kSudoersFile, "sudo rules: none configured"});
      }
      return;
    }
    content =
        "# Sudo rules of the users amiboot created (cloud-init's users[].sudo).\n"
        "# Rewritten on each new instance.\n";
    std::string sources;
    std::map<int, std::string> line_sources;
    for (const UserSpec* u : with_rules) {
      content += "\n# User rules for " + u->name + "\n";
      for (const auto& rule : u->sudo) {
        line_sources[static_cast<int>(std::count(content.begin(), content.end(), '\n')) + 1] =
            u->sudo_source;
        content += u->name + " " + rule + "\n";
      }
      sources += (sources.empty() ? "" : ", ") + u->sudo_source;
    }
    if (current && *current == content) {
      return;
    }
    bool can_check = facts.system.has_program("visudo");
    if (!can_check) {
      result.diagnostics.push_back(
          Diagnostic{Diagnostic::Severity::Warning,
                     {},
                     "users",
                     "visudo not found: " + std::string(kSudoersFile) + " is installed unchecked"});
    }
    WriteFile w{kSudoersFile, content, 0440, "root:root", false, "sudo rules of " + sources};
    if (can_check) {
      // One visudo for the whole file, before anything else of this module
      // runs (required); a rejected line is traced back to its user's key.
      w.check_argv = {"visudo", "-cf", "{}"};
      w.check_line_sources = std::move(line_sources);
    }
    w.required = true;
    result.actions.push_back(w);
  }

  void top_level_groups() {
    for (const auto& g : cfg.groups) {
      ensure_group(g.name, "groups");
    }
  }

  void user(const UserSpec& u) {
    std::string why = u.is_default ? "default user " + u.name : u.source + " (" + u.name + ")";
    bool exists = passwd.count(u.name) > 0;
    bool password_set = false;
    if (!exists) {
      // cloud-init creates the groups a new user is to be in.
      for (const auto& g : u.groups) {
        ensure_group(g, why);
      }
      if (!u.primary_group.empty()) {
        ensure_group(u.primary_group, why);
      }
      std::vector<std::string> argv = {"useradd"};
      auto opt = [&](const char* flag, const std::string& value) {
        if (!value.empty()) {
          argv.push_back(flag);
          argv.push_back(value);
        }
      };
      opt("--comment", u.gecos);
      opt("--home-dir", u.homedir);
      opt("--gid", u.primary_group);
      opt("--uid", u.uid ? std::to_string(*u.uid) : "");
      std::string groups;
      for (const auto& g : u.groups) {
        groups += (groups.empty() ? "" : ",") + g;
        members[g].insert(u.name);
      }
      opt("--groups", groups);
      opt("--shell", u.shell);
      opt("--expiredate", u.expiredate);
      if (u.system) {
        argv.push_back("--system");
      }
      // cloud-init: no home for system users or when asked.
      argv.push_back(u.no_create_home || u.system ? "--no-create-home" : "--create-home");
      argv.push_back(u.name);
      result.actions.push_back(tool(argv, why + ": useradd"));
      users_after.insert(u.name);
      created.push_back(u.name);
      if (!u.passwd.empty()) {
        // `passwd` is a hash applied at creation; through stdin rather than
        // useradd --password, so it shows in no argv, log or dry run.
        RunCommand r = tool({"chpasswd", "--encrypted"}, why + ": set passwd (hash)");
        r.input = u.name + ":" + u.passwd + "\n";
        result.actions.push_back(r);
        password_set = true;
      }
    } else {
      // An existing user keeps its settings (as in cloud-init); only missing
      // supplementary groups are added, so listing them is never a no-op.
      for (const auto& g : u.groups) {
        ensure_group(g, why);
        add_member(u.name, g, why);
      }
    }
    std::string current = field(shadow, u.name, 1);
    if (!u.hashed_passwd.empty()) {
      bool same =
          current == u.hashed_passwd || (u.lock_passwd && current.size() > 1 &&
                                         current.substr(1) == u.hashed_passwd && current[0] == '!');
      if (!exists || !same) {
        RunCommand r = tool({"chpasswd", "--encrypted"}, why + ": set hashed_passwd");
        r.input = u.name + ":" + u.hashed_passwd + "\n";
        result.actions.push_back(r);
        password_set = true;
      }
    }
    if (!u.plain_text_passwd.empty()) {
      // Hashed by chpasswd through PAM on an instance. Under --root PAM is
      // not available inside the sandbox, so chpasswd hashes it itself.
      RunCommand r = tool({"chpasswd"}, why + ": set plain_text_passwd");
      r.root_extra_args = {"--crypt-method", "SHA512"};
      r.input = u.name + ":" + u.plain_text_passwd + "\n";
      result.actions.push_back(r);
      password_set = true;
    }
    // useradd leaves a new account's password locked ('!'); lock again only
    // when a password was just set or the account is not locked now.
    if (u.lock_passwd && (password_set || (exists && current.rfind('!', 0) != 0))) {
      result.actions.push_back(tool({"usermod", "--lock", u.name}, why + ": lock_passwd"));
    }
  }

  std::string home_of(const UserSpec* u, const std::string& name) {
    std::string home = field(passwd, name, 5);
    if (!home.empty()) {
      return home;
    }
    if (name == "root") {
      return "/root";
    }
    return u != nullptr && !u->homedir.empty() ? u->homedir : "/home/" + name;
  }

  void authorized_keys(const std::string& name, const std::string& home,
                       const std::vector<std::string>& keys, const std::string& options,
                       const std::string& who) {
    if (keys.empty()) {
      return;
    }
    std::string dir = (home == "/" ? "" : home) + "/.ssh";
    std::string file = dir + "/authorized_keys";
    auto existing = facts.system.read_text(file);
    std::string content = merge_authorized_keys(existing.value_or(""), keys, options);
    if (existing && *existing == content) {
      return;
    }
    std::string count = std::to_string(keys.size()) + (keys.size() == 1 ? " key" : " keys");
    result.actions.push_back(MakeDir{dir, 0700, name, who + ": ~" + name + "/.ssh"});
    result.actions.push_back(
        WriteFile{file, content, 0600, name, false, who + ": authorized_keys (" + count + ")"});
  }

  void keys() {
    const UserSpec* def = nullptr;
    for (const auto& u : cfg.users) {
      if (u.is_default) {
        def = &u;
      }
    }
    // cloud-init's cc_ssh: the IMDS keys (unless allow_public_ssh_keys is
    // false) and top-level ssh_authorized_keys go to the default user and to root.
    std::vector<std::string> shared;
    auto add_unique = [](std::vector<std::string>& to, const std::vector<std::string>& from) {
      for (auto k : from) {
        while (!k.empty() && (k.back() == '\n' || k.back() == '\r' || k.back() == ' ')) {
          k.pop_back();
        }
        if (!k.empty() && std::find(to.begin(), to.end(), k) == to.end()) {
          to.push_back(k);
        }
      }
    };
    if (cfg.allow_public_ssh_keys) {
      add_unique(shared, facts.metadata.public_keys);
    }
    add_unique(shared, cfg.ssh_authorized_keys);
    for (const auto& u : cfg.users) {
      std::vector<std::string> keys;
      if (u.is_default) {
        keys = shared;
      }
      add_unique(keys, u.ssh_authorized_keys);
      authorized_keys(u.name, home_of(&u, u.name), keys, "",
                      u.is_default ? "default user " + u.name : u.source + " (" + u.name + ")");
    }
    std::string options;
    if (cfg.disable_root) {
      options = cfg.disable_root_opts;
      auto replace = [&](const std::string& from, const std::string& to) {
        for (auto at = options.find(from); at != std::string::npos;
             at = options.find(from, at + to.size())) {
          options.replace(at, from.size(), to);
        }
      };
      replace("$USER", def != nullptr ? def->name : "NONE");
      replace("$DISABLE_USER", "root");
    }
    authorized_keys("root", home_of(nullptr, "root"), shared, options,
                    cfg.disable_root ? "disable_root" : "root (disable_root: false)");
  }

  void group_members() {
    for (const auto& g : cfg.groups) {
      for (const auto& m : g.members) {
        if (users_after.count(m) == 0) {
          result.diagnostics.push_back(
              Diagnostic{Diagnostic::Severity::Warning,
                         {},
                         "groups",
                         "cannot add '" + m + "' to group '" + g.name + "': no such user"});
          continue;
        }
        add_member(m, g.name, "groups");
      }
    }
  }
};

}  // namespace

namespace {

// For the lanes (modules/lanes.h): what the shadow tools read and write
// (the account files and their locks and backups, all in /etc; the
// defaults; the skeleton; mail spools and login records), every configured
// user's home folder and the folder new homes go in, and what the plan read.
PlanFootprint footprint(Planner& p, const Facts& facts) {
  PlanFootprint f;
  f.read = {"/etc/passwd",         "/etc/group", "/etc/shadow",         "/etc/os-release",
            "/usr/lib/os-release", kSudoersFile, "/etc/default/useradd"};
  f.applied = {"/etc/passwd",          "/etc/group",       "/etc/shadow",    "/etc/gshadow",
               "/etc/subuid",          "/etc/subgid",      "/etc/.pwd.lock", "/etc/passwd-",
               "/etc/group-",          "/etc/shadow-",     "/etc/gshadow-",  "/etc/login.defs",
               "/etc/default/useradd", "/etc/skel",        "/var/mail",      "/var/spool/mail",
               "/var/log/lastlog",     "/var/log/faillog", "/home",          "/root"};
  for (const char* lock :
       {"/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow", "/etc/subuid", "/etc/subgid"}) {
    f.applied.push_back(std::string(lock) + ".lock");
  }
  // useradd's HOME= (the folder new homes are made in when none is given).
  for (const auto& line :
       split_lines(facts.system.read_text("/etc/default/useradd").value_or(""))) {
    if (line.rfind("HOME=", 0) == 0 && line.size() > 5 && line[5] == '/') {
      f.applied.push_back(line.substr(5));
    }
  }
  for (const auto& u : p.cfg.users) {
    std::string home = p.home_of(&u, u.name);
    f.applied.push_back(home);
    f.read.push_back(home + "/.ssh");
  }
  auto paths = action_paths(p.result.actions);
  f.applied.insert(f.applied.end(), paths.begin(), paths.end());
  return f;
}

}  // namespace

PlanResult plan_users(const UsersKeys& config, const Facts& facts) {
  PlanResult result;
  result.footprint = PlanFootprint{{"/etc/passwd"}, {}, {}};
  if (!facts.system.path_exists("/etc/passwd")) {
    // Not an OS tree (a bare sandbox root): there is nothing to add users to.
    result.diagnostics.push_back(Diagnostic{Diagnostic::Severity::Warning,
                                            {},
                                            "users",
                                            "no /etc/passwd under the root; users not managed"});
    return result;
  }
  UsersConfig cfg = resolve_users(config, read_os_release(facts.system).value_or(OsRelease{}),
                                  result.diagnostics);
  Planner p{facts, cfg, result};
  p.passwd = parse_colon_file(facts.system.read_text("/etc/passwd").value_or(""));
  p.group = parse_colon_file(facts.system.read_text("/etc/group").value_or(""));
  p.shadow = parse_colon_file(facts.system.read_text("/etc/shadow").value_or(""));
  for (const auto& [name, fields] : p.passwd) {
    p.users_after.insert(name);
  }
  for (const auto& [name, fields] : p.group) {
    p.groups_after.insert(name);
    for (const auto& m : split_members(field(p.group, name, 3))) {
      p.members[name].insert(m);
    }
  }
  p.sudoers();
  p.top_level_groups();
  for (const auto& u : cfg.users) {
    p.user(u);
  }
  p.group_members();
  p.keys();
  std::string summary;
  for (const auto& u : cfg.users) {
    if (u.is_default) {
      summary = "default user " + u.name;
    }
  }
  if (!p.created.empty()) {
    std::string names;
    for (const auto& n : p.created) {
      names += (names.empty() ? "" : ", ") + n;
    }
    summary += (summary.empty() ? "" : "; ") + std::string("created ") + names;
  }
  result.summary = summary.empty() ? "no default user" : summary;
  result.footprint = footprint(p, facts);
  return result;
}

}  // namespace amiboot
