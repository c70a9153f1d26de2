#include "modules/users.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <sstream>

namespace amiboot {

namespace {

// ---------------------------------------------------------------- decoding

// Fields of one user map as written: unset = not given, so sources can be
// layered. An explicit null is "given, empty" (cloud-init's None).
struct Fields {
  std::optional<std::string> name, gecos, primary_group, shell, homedir, expiredate, passwd,
      hashed_passwd, plain_text_passwd;
  std::optional<std::vector<std::string>> groups, sudo, keys;
  std::optional<bool> lock_passwd, system, no_create_home;
  std::optional<long long> uid;
  std::string sudo_source;  // where `sudo` was written, for errors
};

// `into` keeps what it has; `from` fills the gaps (cloud-init's mergemanydict:
// the first source wins).
void fill_missing(Fields& into, const Fields& from) {
  auto fill = [](auto& a, const auto& b) {
    if (!a && b) {
      a = b;
    }
  };
  fill(into.name, from.name);
  fill(into.gecos, from.gecos);
  fill(into.primary_group, from.primary_group);
  fill(into.shell, from.shell);
  fill(into.homedir, from.homedir);
  fill(into.expiredate, from.expiredate);
  fill(into.passwd, from.passwd);
  fill(into.hashed_passwd, from.hashed_passwd);
  fill(into.plain_text_passwd, from.plain_text_passwd);
  fill(into.groups, from.groups);
  if (!into.sudo && from.sudo) {
    into.sudo = from.sudo;
    into.sudo_source = from.sudo_source;
  }
  fill(into.keys, from.keys);
  fill(into.lock_passwd, from.lock_passwd);
  fill(into.system, from.system);
  fill(into.no_create_home, from.no_create_home);
  fill(into.uid, from.uid);
}

// `from` wins: a later config file over an earlier one.
void override_with(Fields& into, const Fields& from) {
  Fields merged = from;
  fill_missing(merged, into);
  into = merged;
}

std::string where(const Position& pos) {
  if (pos.source.empty()) {
    return "";
  }
  return pos.source + (pos.line > 0
                           ? ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column)
                           : std::string());
}

std::string trim(const std::string& s) {
  std::size_t b = s.find_first_not_of(" \t");
  std::size_t e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string item; std::getline(in, item, ',');) {
    item = trim(item);
    if (!item.empty()) {
      out.push_back(item);
    }
  }
  return out;
}

// useradd's rule (shadow-utils): letters, digits, '_', '-', '.', a '$' only
// at the end; not starting with '-', not all digits, not "." or "..".
bool valid_account_name(const std::string& s) {
  if (s.empty() || s.size() > 32 || s[0] == '-' || s == "." || s == "..") {
    return false;
  }
  bool digits_only = true;
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    bool ok =
        std::isalnum(c) || c == '_' || c == '-' || c == '.' || (c == '$' && i + 1 == s.size());
    if (!ok) {
      return false;
    }
    digits_only = digits_only && std::isdigit(c);
  }
  return !digits_only;
}

bool looks_like_crypt_hash(const std::string& s) {
  if (s.empty() || s[0] == '$' || s[0] == '!' || s[0] == '*') {
    return true;
  }
  // Traditional DES crypt: 13 characters of ./0-9A-Za-z.
  return s.size() == 13 && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '/';
         });
}

bool valid_date(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') {
    return false;
  }
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  int month = std::stoi(s.substr(5, 2));
  int day = std::stoi(s.substr(8, 2));
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

class UsersDecoder {
 public:
  explicit UsersDecoder(Diagnostics& out) : m_d(out) {}

  bool failed() const { return m_d.failed(); }
  Decoder& decoder() { return m_d; }

  // A value written as a string: YAML numbers and booleans are not names,
  // paths or passwords (PyYAML would even turn 0123 into 83).
  std::optional<std::string> text(const Value& v, const std::string& path,
                                  const std::string& expected = "a string") {
    if (v.is_scalar() && !(v.plain && (v.as_bool() || v.looks_like_number()))) {
      return v.scalar;
    }
    m_d.error(v, path, "expected " + expected + ", got " + v.type_name());
    return std::nullopt;
  }

  std::optional<std::string> one_line(const Value& v, const std::string& path,
                                      const std::string& expected) {
    auto s = text(v, path, expected);
    if (s && s->find_first_of("\n\r") != std::string::npos) {
      m_d.error(v, path, "must be a single line");
      return std::nullopt;
    }
    return s;
  }

  std::optional<std::string> account_name(const Value& v, const std::string& path,
                                          const std::string& what) {
    auto s = text(v, path, "a " + what + " name");
    if (s && !valid_account_name(*s)) {
      m_d.error(v, path,
                "'" + *s + "' is not a valid " + what +
                    " name (letters, digits, '_', '-', '.'; not starting with '-')");
      return std::nullopt;
    }
    return s;
  }

  std::optional<std::string> absolute_path(const Value& v, const std::string& path) {
    auto s = one_line(v, path, "an absolute path");
    if (s && (s->empty() || (*s)[0] != '/')) {
      m_d.error(v, path, "expected an absolute path, got '" + *s + "'");
      return std::nullopt;
    }
    return s;
  }

  // "a, b", [a, b], or cloud-init's deprecated {a: null, b: null}.
  std::optional<std::vector<std::string>> group_names(const Value& v, const std::string& path) {
    std::vector<std::string> names;
    const std::string expected = "a comma-separated string or a list of group names";
    auto add = [&](const Value& at, const std::string& name, const std::string& p) {
      if (!valid_account_name(name)) {
        m_d.error(at, p, "'" + name + "' is not a valid group name");
        return;
      }
      if (std::find(names.begin(), names.end(), name) == names.end()) {
        names.push_back(name);
      }
    };
    if (v.is_null()) {
      return names;
    }
    if (v.is_scalar()) {
      auto s = text(v, path, expected);
      if (!s) {
        return std::nullopt;
      }
      for (const auto& n : split_commas(*s)) {
        add(v, n, path);
      }
    } else if (v.is_sequence()) {
      for (std::size_t i = 0; i < v.items.size(); ++i) {
        std::string p = path + "[" + std::to_string(i) + "]";
        if (auto s = text(v.items[i], p, "a group name")) {
          add(v.items[i], trim(*s), p);
        }
      }
    } else if (v.is_map()) {
      for (const auto& e : v.entries) {
        add(v, e.key, path + "." + e.key);
      }
    } else {
      m_d.error(v, path, "expected " + expected + ", got " + v.type_name());
      return std::nullopt;
    }
    return names;
  }

  // A rule, a list of rules, or false / null for none. Each rule is one
  // line: a newline would let a rule for one user grant another.
  std::optional<std::vector<std::string>> sudo_rules(const Value& v, const std::string& path) {
    std::vector<std::string> rules;
    const std::string expected = "a sudo rule, a list of rules, or false";
    if (v.is_null() || (v.as_bool() && !*v.as_bool())) {
      return rules;
    }
    auto add = [&](const Value& item, const std::string& p) {
      if (item.is_null()) {
        return;
      }
      if (auto s = one_line(item, p, "a sudo rule such as 'ALL=(ALL) NOPASSWD:ALL'")) {
        if (trim(*s).empty()) {
          m_d.error(item, p, "a sudo rule cannot be empty");
        } else {
          rules.push_back(trim(*s));
        }
      }
    };
    if (v.is_scalar() && !v.as_bool()) {
      add(v, path);
    } else if (v.is_sequence()) {
      for (std::size_t i = 0; i < v.items.size(); ++i) {
        add(v.items[i], path + "[" + std::to_string(i) + "]");
      }
    } else {
      m_d.error(v, path, "expected " + expected + ", got " + v.type_name());
      return std::nullopt;
    }
    return rules;
  }

  std::optional<std::vector<std::string>> keys(const Value& v, const std::string& path) {
    std::vector<std::string> out;
    if (v.is_null()) {
      return out;
    }
    if (v.is_scalar()) {
      if (auto s = one_line(v, path, "an SSH public key or a list of keys")) {
        out.push_back(trim(*s));
      }
      return out;
    }
    if (!v.is_sequence()) {
      m_d.error(v, path, "expected a list of SSH public keys, got " + v.type_name());
      return std::nullopt;
    }
    for (std::size_t i = 0; i < v.items.size(); ++i) {
      std::string p = path + "[" + std::to_string(i) + "]";
      if (auto s = one_line(v.items[i], p, "an SSH public key")) {
        if (trim(*s).empty()) {
          m_d.error(v.items[i], p, "an SSH public key cannot be empty");
        } else {
          out.push_back(trim(*s));
        }
      }
    }
    return out;
  }

  std::optional<std::string> password(const Value& v, const std::string& path, bool hashed) {
    if (v.is_null()) {
      return std::string();
    }
    auto s = one_line(v, path, hashed ? "a password hash" : "a string (quote a numeric password)");
    if (!s) {
      return std::nullopt;
    }
    if (hashed && s->find(':') != std::string::npos) {
      m_d.error(v, path, "a password hash cannot contain ':'");
      return std::nullopt;
    }
    if (hashed && !looks_like_crypt_hash(*s)) {
      m_d.warning(v, path,
                  "does not look like a crypt(3) hash such as $6$...; it is stored as written, so "
                  "it will not work as a password (plain_text_passwd takes clear text)");
    }
    return s;
  }

  Fields user_map(const Value& map, const std::string& path) {
    Fields f;
    for (const auto& e : map.entries) {
      std::string key = e.key;
      std::replace(key.begin(), key.end(), '-', '_');  // cloud-init accepts lock-passwd
      std::string p = path + "." + e.key;
      const Value& v = e.value;
      auto null_or = [&](auto decode) -> std::optional<std::string> {
        return v.is_null() ? std::optional<std::string>(std::string()) : decode();
      };
      if (key == "name") {
        f.name = account_name(v, p, "user");
      } else if (key == "gecos") {
        f.gecos = null_or([&] { return one_line(v, p, "a string"); });
      } else if (key == "primary_group") {
        f.primary_group = null_or([&] { return account_name(v, p, "group"); });
      } else if (key == "groups") {
        f.groups = group_names(v, p);
      } else if (key == "shell") {
        f.shell = null_or([&] { return absolute_path(v, p); });
      } else if (key == "homedir") {
        f.homedir = null_or([&] { return absolute_path(v, p); });
      } else if (key == "sudo") {
        f.sudo = sudo_rules(v, p);
        std::string at = where(v.pos);
        f.sudo_source = p + (at.empty() ? "" : " (" + at + ")");
      } else if (key == "lock_passwd" || key == "system" || key == "no_create_home") {
        if (v.is_null()) {
          continue;
        }
        auto b = m_d.boolean(v, p);
        (key == "system" ? f.system : key == "lock_passwd" ? f.lock_passwd : f.no_create_home) = b;
      } else if (key == "passwd") {
        f.passwd = password(v, p, true);
      } else if (key == "hashed_passwd") {
        f.hashed_passwd = password(v, p, true);
      } else if (key == "plain_text_passwd") {
        f.plain_text_passwd = password(v, p, false);
      } else if (key == "uid") {
        f.uid = uid(v, p);
      } else if (key == "ssh_authorized_keys") {
        f.keys = keys(v, p);
      } else if (key == "expiredate") {
        f.expiredate = null_or([&]() -> std::optional<std::string> {
          if (!v.is_scalar() || !valid_date(v.scalar)) {
            m_d.error(v, p,
                      "expected a date as YYYY-MM-DD, got " +
                          (v.is_scalar() ? "'" + v.scalar + "'" : v.type_name()));
            return std::nullopt;
          }
          return v.scalar;
        });
      } else {
        static const std::set<std::string> kCloudInitOnly = {
            "doas",     "inactive",      "selinux_user", "ssh_import_id", "ssh_redirect_user",
            "snapuser", "no_user_group", "no_log_init",  "create_groups", "default"};
        Value at;
        at.pos = e.key_pos;
        m_d.warning(at, p,
                    kCloudInitOnly.count(key) > 0 ? "cloud-init user key amiboot does not support; "
                                                    "ignored"
                                                  : "unknown key; ignored");
      }
    }
    return f;
  }

  std::optional<long long> uid(const Value& v, const std::string& path) {
    if (v.is_null()) {
      return std::nullopt;
    }
    std::optional<long long> n = v.as_int();
    if (!n && v.is_scalar() && !v.scalar.empty() &&
        std::all_of(v.scalar.begin(), v.scalar.end(),
                    [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      n = std::stoll(v.scalar.substr(0, 12));  // cloud-init still takes "1500"
    }
    if (!n || *n < 0 || *n > 4294967294LL) {
      m_d.error(v, path,
                "expected a user id between 0 and 4294967294, got " +
                    (v.is_scalar() ? "'" + v.scalar + "'" : v.type_name()));
      return std::nullopt;
    }
    return n;
  }

 private:
  Decoder m_d;
};

// One entry of `users` in document order; name "default" is the default user.
struct Entry {
  std::string name;
  Fields fields;
  std::string path;
};

void add_entry(std::vector<Entry>& entries, Entry entry) {
  for (auto& e : entries) {
    if (e.name == entry.name) {
      // cloud-init merges repeated names, the first mention winning.
      fill_missing(e.fields, entry.fields);
      return;
    }
  }
  entries.push_back(std::move(entry));
}

void add_names(std::vector<Entry>& entries, const std::vector<std::string>& names,
               const std::string& path, const Value& at, UsersDecoder& ud) {
  for (const auto& n : names) {
    if (n != "default" && !valid_account_name(n)) {
      ud.decoder().error(at, path, "'" + n + "' is not a valid user name");
      continue;
    }
    add_entry(entries, Entry{n, {}, path});
  }
}

std::vector<Entry> decode_users_value(const Value& v, UsersDecoder& ud) {
  std::vector<Entry> entries;
  if (v.is_null()) {
    return entries;
  }
  if (v.is_scalar()) {
    // Deprecated in cloud-init, still accepted: "default, bob".
    if (auto s = ud.text(v, "users", "a list of users")) {
      add_names(entries, split_commas(*s), "users", v, ud);
    }
    return entries;
  }
  if (v.is_map()) {
    // Deprecated dict form: {bob: true, alice: {gecos: ...}}.
    for (const auto& e : v.entries) {
      std::string p = "users." + e.key;
      if (e.value.is_map()) {
        Fields f = ud.user_map(e.value, p);
        add_entry(entries, Entry{e.key, f, p});
      } else if (auto b = e.value.as_bool()) {
        if (*b) {
          add_names(entries, {e.key}, p, e.value, ud);
        }
      } else {
        ud.decoder().error(e.value, p, "expected true, false or a map, got " + e.value.type_name());
      }
    }
    return entries;
  }
  if (!v.is_sequence()) {
    ud.decoder().error(v, "users", "expected a list of users, got " + v.type_name());
    return entries;
  }
  for (std::size_t i = 0; i < v.items.size(); ++i) {
    const Value& item = v.items[i];
    std::string p = "users[" + std::to_string(i) + "]";
    if (item.is_map()) {
      Fields f = ud.user_map(item, p);
      // A map without a name configures the default user (cloud-init).
      std::string name = f.name.value_or("default");
      if (item.get("name") != nullptr && !f.name) {
        continue;  // the name itself was bad; already reported
      }
      add_entry(entries, Entry{name, f, p});
    } else if (item.is_scalar()) {
      if (auto s = ud.text(item, p, "a user name or a map")) {
        add_names(entries, split_commas(*s), p, item, ud);
      }
    } else if (item.is_sequence()) {
      for (std::size_t j = 0; j < item.items.size(); ++j) {
        std::string pj = p + "[" + std::to_string(j) + "]";
        if (auto s = ud.text(item.items[j], pj, "a user name")) {
          add_names(entries, {trim(*s)}, pj, item.items[j], ud);
        }
      }
    } else {
      ud.decoder().error(item, p, "expected a user name or a map, got " + item.type_name());
    }
  }
  return entries;
}

std::vector<GroupSpec> decode_groups(const Value& v, UsersDecoder& ud) {
  std::vector<GroupSpec> groups;
  auto add = [&](const std::string& name, const std::vector<std::string>& members) {
    for (auto& g : groups) {
      if (g.name == name) {
        for (const auto& m : members) {
          if (std::find(g.members.begin(), g.members.end(), m) == g.members.end()) {
            g.members.push_back(m);
          }
        }
        return;
      }
    }
    groups.push_back({name, members});
  };
  auto members_of = [&](const Value& m, const std::string& p) {
    std::vector<std::string> out;
    if (m.is_null()) {
      return out;
    }
    auto names = ud.group_names(m, p);  // same shapes: "a, b" or [a, b]
    return names ? *names : out;
  };
  auto named = [&](const std::string& name, const Value& at, const std::string& p) {
    if (!valid_account_name(name)) {
      ud.decoder().error(at, p, "'" + name + "' is not a valid group name");
      return false;
    }
    return true;
  };
  if (v.is_null()) {
    return groups;
  }
  if (v.is_scalar()) {
    if (auto s = ud.text(v, "groups", "a list of groups")) {
      for (const auto& n : split_commas(*s)) {
        if (named(n, v, "groups")) {
          add(n, {});
        }
      }
    }
  } else if (v.is_map()) {
    for (const auto& e : v.entries) {
      if (named(e.key, e.value, "groups." + e.key)) {
        add(e.key, members_of(e.value, "groups." + e.key));
      }
    }
  } else if (v.is_sequence()) {
    for (std::size_t i = 0; i < v.items.size(); ++i) {
      const Value& item = v.items[i];
      std::string p = "groups[" + std::to_string(i) + "]";
      if (item.is_map()) {
        for (const auto& e : item.entries) {
          if (named(e.key, e.value, p + "." + e.key)) {
            add(e.key, members_of(e.value, p + "." + e.key));
          }
        }
      } else if (auto s = ud.text(item, p, "a group name or a map of a group to its members")) {
        if (named(trim(*s), item, p)) {
          add(trim(*s), {});
        }
      }
    }
  } else {
    ud.decoder().error(v, "groups", "expected a list of groups, got " + v.type_name());
  }
  return groups;
}

Fields fields_of(const UserSpec& u) {
  Fields f;
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

UserSpec spec_of(const std::string& name, const Fields& f, const std::string& source) {
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

std::optional<UsersConfig> decode_users(const Value& config, const std::optional<OsRelease>& os,
                                        Diagnostics& out) {
  UsersDecoder ud(out);
  UsersConfig cfg;
  bool plan_time = os.has_value();

  // The default user's own layers: distribution defaults, then
  // system_info.default_user (a drop-in over them, as cloud.cfg.d files
  // are), then the old-style `user:` key.
  std::optional<Fields> base;
  if (os) {
    if (auto d = distro_default_user(*os)) {
      base = fields_of(*d);
    }
  }
  std::string default_source = "default user (/etc/os-release)";
  if (const Value* si = config.get("system_info"); si != nullptr && !si->is_null()) {
    if (ud.decoder().map(*si, "system_info") != nullptr) {
      for (const auto& e : si->entries) {
        if (e.key != "default_user") {
          Value at;
          at.pos = e.key_pos;
          ud.decoder().warning(at, "system_info." + e.key, "not used by amiboot; ignored");
        }
      }
      if (const Value* du = si->get("default_user"); du != nullptr && !du->is_null()) {
        if (ud.decoder().map(*du, "system_info.default_user") != nullptr) {
          Fields f = ud.user_map(*du, "system_info.default_user");
          base = base ? base : Fields{};
          override_with(*base, f);
          default_source = "default user (system_info.default_user)";
        }
      }
    }
  }
  bool old_user = false;
  if (const Value* u = config.get("user"); u != nullptr && !u->is_null()) {
    Fields f;
    if (u->is_map()) {
      f = ud.user_map(*u, "user");
    } else {
      f.name = ud.account_name(*u, "user", "user");
    }
    base = base ? base : Fields{};
    override_with(*base, f);
    default_source = "default user (user)";
    old_user = true;
  }

  std::vector<Entry> entries;
  if (const Value* v = config.get("users")) {
    entries = decode_users_value(*v, ud);
    bool listed = std::any_of(entries.begin(), entries.end(),
                              [](const Entry& e) { return e.name == "default"; });
    if (old_user && !listed) {
      entries.push_back(Entry{"default", {}, "user"});  // cloud-init appends it for `user:`
    }
    cfg.wants_default = old_user || listed;
    if (!cfg.wants_default) {
      ud.decoder().warning(*v, "users",
                           "no 'default' entry: the default user is not created, and the "
                           "instance's SSH keys from IMDS reach no user (root only gets a "
                           "message pointing elsewhere)");
    }
  } else {
    entries.push_back(Entry{"default", {}, "users"});
  }
  if (const Value* g = config.get("groups"); g != nullptr) {
    cfg.groups = decode_groups(*g, ud);
  }
  if (const Value* k = config.get("ssh_authorized_keys"); k != nullptr) {
    if (auto keys = ud.keys(*k, "ssh_authorized_keys")) {
      cfg.ssh_authorized_keys = *keys;
    }
  }
  if (const Value* d = config.get("disable_root"); d != nullptr && !d->is_null()) {
    cfg.disable_root = ud.decoder().boolean(*d, "disable_root").value_or(true);
  }
  if (const Value* o = config.get("disable_root_opts"); o != nullptr && !o->is_null()) {
    if (auto s = ud.one_line(*o, "disable_root_opts", "a string of authorized_keys options")) {
      cfg.disable_root_opts = *s;
    }
  }
  if (const Value* p = config.get("ssh_pwauth"); p != nullptr && !p->is_null()) {
    if (auto b = p->as_bool()) {
      cfg.ssh_pwauth = *b;
    } else if (p->is_scalar() && (p->scalar == "unchanged" || p->scalar == "")) {
      cfg.ssh_pwauth = std::nullopt;
    } else if (p->is_scalar() && (p->scalar == "yes" || p->scalar == "true")) {
      cfg.ssh_pwauth = true;
    } else if (p->is_scalar() && (p->scalar == "no" || p->scalar == "false")) {
      cfg.ssh_pwauth = false;
    } else {
      ud.decoder().error(*p, "ssh_pwauth",
                         "expected true, false or 'unchanged', got " +
                             (p->is_scalar() ? "'" + p->scalar + "'" : p->type_name()));
    }
  }

  if (ud.failed()) {
    return std::nullopt;
  }
  if (!plan_time) {
    return cfg;
  }

  // The default user first. cloud-init lets the distribution's settings win
  // over a `default` entry's (first source wins in its mergemanydict); only
  // the groups are the union of all of them.
  std::optional<UserSpec> default_user;
  auto def = std::find_if(entries.begin(), entries.end(),
                          [](const Entry& e) { return e.name == "default"; });
  if (def != entries.end()) {
    if (!base || !base->name || base->name->empty()) {
      ud.decoder().warning(config, "users",
                           "no default user: /etc/os-release names no distribution amiboot "
                           "knows and the image config has no system_info.default_user");
    } else {
      Fields merged = *base;
      std::set<std::string> groups;
      auto take_groups = [&](const Fields& f) {
        if (f.groups) {
          groups.insert(f.groups->begin(), f.groups->end());
        }
      };
      take_groups(*base);
      take_groups(def->fields);
      fill_missing(merged, def->fields);
      auto real = std::find_if(entries.begin(), entries.end(),
                               [&](const Entry& e) { return e.name == *base->name; });
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

void check_users(const Value& config, Diagnostics& out) {
  decode_users(config, std::nullopt, out);
}

// ---------------------------------------------------------------- planning

namespace {

// name -> fields of /etc/passwd, /etc/group or /etc/shadow.
using ColonFile = std::map<std::string, std::vector<std::string>>;

ColonFile parse_colon_file(const std::optional<std::string>& text) {
  ColonFile out;
  if (!text) {
    return out;
  }
  std::istringstream in(*text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#' || line[0] == '+' || line[0] == '-') {
      continue;
    }
    std::vector<std::string> fields = split_colon_fields(line);
    out.emplace(fields[0], fields);
  }
  return out;
}

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

// The key blob of an authorized_keys line: the first base64 word after the
// key type, with or without leading options.
std::string key_blob(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
    }
    if (!quoted && (c == ' ' || c == '\t')) {
      if (!word.empty()) {
        words.push_back(word);
      }
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) {
    words.push_back(word);
  }
  for (std::size_t i = 0; i + 1 < words.size(); ++i) {
    const std::string& w = words[i];
    if (w.rfind("ssh-", 0) == 0 || w.rfind("ecdsa-", 0) == 0 || w.rfind("sk-", 0) == 0) {
      return words[i + 1];
    }
  }
  return line;
}

struct Planner {
  const ModuleInput& in;
  const UsersConfig& cfg;
  PlanResult& result;
  ColonFile passwd, group, shadow;
  std::set<std::string> users_after;                     // existing and created in this plan
  std::set<std::string> groups_after;                    // likewise
  std::map<std::string, std::set<std::string>> members;  // group -> members, as planned
  std::vector<std::string> created;

  static RunCommand tool(std::vector<std::string> argv, std::string label,
                         std::vector<std::string> root_args = {"--root", "{root}"}) {
    RunCommand r{std::move(argv), std::move(label)};
    r.root_args = std::move(root_args);
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
    result.actions.push_back(tool({"gpasswd", "-a", user, grp},
                                  why + ": add " + user + " to group " + grp, {"-Q", "{root}"}));
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
    auto current = in.system.read_text(kSudoersFile);
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
    for (const UserSpec* u : with_rules) {
      content += "\n# User rules for " + u->name + "\n";
      for (const auto& rule : u->sudo) {
        content += u->name + " " + rule + "\n";
      }
      sources += (sources.empty() ? "" : ", ") + u->sudo_source;
    }
    if (current && *current == content) {
      return;
    }
    bool can_check = in.system.has_program("visudo");
    if (can_check) {
      // Each user's rules alone first, so the error names the key and its
      // line; all must pass before anything else of this module runs.
      for (const UserSpec* u : with_rules) {
        std::string rules;
        for (const auto& rule : u->sudo) {
          rules += u->name + " " + rule + "\n";
        }
        RunCommand check{{"visudo", "-cf", "-"}, "visudo check of " + u->sudo_source};
        check.input = rules;
        check.required = true;
        result.actions.push_back(check);
      }
    } else {
      result.diagnostics.push_back(
          Diagnostic{Diagnostic::Severity::Warning,
                     {},
                     "users",
                     "visudo not found: " + std::string(kSudoersFile) + " is installed unchecked"});
    }
    WriteFile w{kSudoersFile, content, 0440, "root:root", false, "sudo rules of " + sources};
    if (can_check) {
      w.check_argv = {"visudo", "-cf", "{}"};
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
      RunCommand r = tool({"chpasswd"}, why + ": set plain_text_passwd",
                          {"--root", "{root}", "--crypt-method", "SHA512"});
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
    auto existing = in.system.read_text(file);
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
    // cloud-init's cc_ssh: the IMDS keys and top-level ssh_authorized_keys
    // go to the default user and to root.
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
    add_unique(shared, in.metadata.public_keys);
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

  void pwauth() {
    if (!cfg.ssh_pwauth) {
      return;
    }
    if (!in.system.path_exists("/etc/ssh")) {
      result.diagnostics.push_back(Diagnostic{Diagnostic::Severity::Warning,
                                              {},
                                              "ssh_pwauth",
                                              "no /etc/ssh: sshd is not installed; ignored"});
      return;
    }
    // sshd takes the first value it reads, and Debian's and Amazon Linux's
    // sshd_config include sshd_config.d/*.conf at the top.
    std::string content = std::string("# From ssh_pwauth in the user data (amiboot).\n") +
                          "PasswordAuthentication " + (*cfg.ssh_pwauth ? "yes" : "no") + "\n";
    if (in.system.read_text(kSshdDropIn) != content) {
      result.actions.push_back(WriteFile{
          kSshdDropIn, content, 0644, "root:root", false,
          "ssh_pwauth: PasswordAuthentication " + std::string(*cfg.ssh_pwauth ? "yes" : "no")});
    }
  }
};

}  // namespace

std::string merge_authorized_keys(const std::string& existing, const std::vector<std::string>& keys,
                                  const std::string& options) {
  std::vector<std::string> lines;
  std::istringstream in(existing);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  for (const auto& key : keys) {
    std::string wanted = options.empty() ? key : options + " " + key;
    std::string blob = key_blob(key);
    bool found = false;
    for (auto& line : lines) {
      std::string t = trim(line);
      if (!t.empty() && t[0] != '#' && key_blob(t) == blob) {
        line = wanted;
        found = true;
      }
    }
    if (!found) {
      lines.push_back(wanted);
    }
  }
  std::string out;
  for (const auto& line : lines) {
    out += line + "\n";
  }
  return out;
}

PlanResult plan_users(const ModuleInput& input) {
  PlanResult result;
  if (!input.system.path_exists("/etc/passwd")) {
    // Not an OS tree (a bare sandbox root): there is nothing to add users to.
    result.diagnostics.push_back(Diagnostic{Diagnostic::Severity::Warning,
                                            {},
                                            "users",
                                            "no /etc/passwd under the root; users not managed"});
    return result;
  }
  auto os = read_os_release(input.system);
  auto cfg = decode_users(input.config, os.value_or(OsRelease{}), result.diagnostics);
  if (!cfg) {
    return result;
  }
  Planner p{input, *cfg, result};
  p.passwd = parse_colon_file(input.system.read_text("/etc/passwd"));
  p.group = parse_colon_file(input.system.read_text("/etc/group"));
  p.shadow = parse_colon_file(input.system.read_text("/etc/shadow"));
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
  for (const auto& u : cfg->users) {
    p.user(u);
  }
  p.group_members();
  p.keys();
  p.pwauth();
  std::string summary;
  for (const auto& u : cfg->users) {
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
  return result;
}

}  // namespace amiboot
