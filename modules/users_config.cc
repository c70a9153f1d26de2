// SPDX-License-Identifier: Apache-2.0
#include "modules/users_config.h"

#include <algorithm>

#include "agent/core/strings.h"

namespace amiboot {

namespace {

void add_entry(std::vector<UserEntry>& entries, UserEntry entry) {
  for (auto& e : entries) {
    if (e.name == entry.name) {
      // cloud-init merges repeated names, the first mention winning.
      fill_missing(e.fields, entry.fields);
      return;
    }
  }
  entries.push_back(std::move(entry));
}

void add_names(std::vector<UserEntry>& entries, const std::vector<std::string>& names,
               const std::string& path, const Value& at, UserFieldDecoder& ud) {
  for (const auto& n : names) {
    if (n != "default" && !valid_account_name(n)) {
      ud.decoder().error(at, path, "'" + n + "' is not a valid user name");
      continue;
    }
    add_entry(entries, UserEntry{n, {}, path});
  }
}

std::vector<UserEntry> decode_users_value(const Value& v, UserFieldDecoder& ud) {
  std::vector<UserEntry> entries;
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
        UserFields f = ud.user_map(e.value, p);
        add_entry(entries, UserEntry{e.key, f, p});
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
      UserFields f = ud.user_map(item, p);
      // A map without a name configures the default user (cloud-init).
      std::string name = f.name.value_or("default");
      if (item.get("name") != nullptr && !f.name) {
        continue;  // the name itself was bad; already reported
      }
      add_entry(entries, UserEntry{name, f, p});
    } else if (item.is_scalar()) {
      if (auto s = ud.text(item, p, "a user name or a map")) {
        add_names(entries, split_commas(*s), p, item, ud);
      }
    } else if (item.is_sequence()) {
      for (std::size_t j = 0; j < item.items.size(); ++j) {
        std::string pj = p + "[" + std::to_string(j) + "]";
        if (auto s = ud.text(item.items[j], pj, "a user name")) {
          add_names(entries, {std::string(trim(*s, " \t"))}, pj, item.items[j], ud);
        }
      }
    } else {
      ud.decoder().error(item, p, "expected a user name or a map, got " + item.type_name());
    }
  }
  return entries;
}

std::vector<GroupSpec> decode_groups(const Value& v, UserFieldDecoder& ud) {
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
        std::string name(trim(*s, " \t"));
        if (named(name, item, p)) {
          add(name, {});
        }
      }
    }
  } else {
    ud.decoder().error(v, "groups", "expected a list of groups, got " + v.type_name());
  }
  return groups;
}

}  // namespace

std::optional<UsersKeys> decode_users(const Value& doc, Diagnostics& out) {
  UserFieldDecoder ud(out);
  UsersKeys decoded;
  decoded.pos = doc.pos;
  UsersConfig& cfg = decoded.settings;

  // The default user's own layers: system_info.default_user (a drop-in over
  // the distribution's defaults, as cloud.cfg.d files are), then the
  // old-style `user:` key.
  std::optional<UserFields>& base = decoded.default_user;
  std::string& default_source = decoded.default_source;
  if (const Value* si = doc.get("system_info"); si != nullptr && !si->is_null()) {
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
          UserFields f = ud.user_map(*du, "system_info.default_user");
          base = base ? base : UserFields{};
          override_with(*base, f);
          default_source = "default user (system_info.default_user)";
        }
      }
    }
  }
  bool old_user = false;
  if (const Value* u = doc.get("user"); u != nullptr && !u->is_null()) {
    UserFields f;
    if (u->is_map()) {
      f = ud.user_map(*u, "user");
    } else {
      f.name = ud.account_name(*u, "user", "user");
    }
    base = base ? base : UserFields{};
    override_with(*base, f);
    default_source = "default user (user)";
    old_user = true;
  }

  std::vector<UserEntry>& entries = decoded.entries;
  if (const Value* v = doc.get("users")) {
    entries = decode_users_value(*v, ud);
    bool listed = std::any_of(entries.begin(), entries.end(),
                              [](const UserEntry& e) { return e.name == "default"; });
    if (old_user && !listed) {
      entries.push_back(UserEntry{"default", {}, "user"});  // cloud-init appends it for `user:`
    }
    cfg.wants_default = old_user || listed;
    if (!cfg.wants_default) {
      ud.decoder().warning(*v, "users",
                           "no 'default' entry: the default user is not created, and the "
                           "instance's SSH keys from IMDS reach no user (root only gets a "
                           "message pointing elsewhere)");
    }
  } else {
    entries.push_back(UserEntry{"default", {}, "users"});
  }
  if (const Value* g = doc.get("groups"); g != nullptr) {
    cfg.groups = decode_groups(*g, ud);
  }
  if (const Value* k = doc.get("ssh_authorized_keys"); k != nullptr) {
    if (auto keys = ud.keys(*k, "ssh_authorized_keys")) {
      cfg.ssh_authorized_keys = *keys;
    }
  }
  if (const Value* a = doc.get("allow_public_ssh_keys"); a != nullptr && !a->is_null()) {
    cfg.allow_public_ssh_keys = ud.decoder().boolean(*a, "allow_public_ssh_keys").value_or(true);
  }
  if (const Value* d = doc.get("disable_root"); d != nullptr && !d->is_null()) {
    cfg.disable_root = ud.decoder().boolean(*d, "disable_root").value_or(true);
  }
  if (const Value* o = doc.get("disable_root_opts"); o != nullptr && !o->is_null()) {
    if (auto s = ud.one_line(*o, "disable_root_opts", "a string of authorized_keys options")) {
      cfg.disable_root_opts = *s;
    }
  }
  decode_passwords(doc, ud, decoded.passwords);

  if (ud.failed()) {
    return std::nullopt;
  }
  return decoded;
}

}  // namespace amiboot
