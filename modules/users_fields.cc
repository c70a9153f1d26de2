// SPDX-License-Identifier: Apache-2.0
#include "modules/users_fields.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

#include "agent/core/strings.h"

namespace amiboot {

namespace {

std::string where(const Position& pos) {
  if (pos.source.empty()) {
    return "";
  }
  return pos.source + (pos.line > 0
                           ? ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column)
                           : std::string());
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

}  // namespace

void fill_missing(UserFields& into, const UserFields& from) {
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

void override_with(UserFields& into, const UserFields& from) {
  UserFields merged = from;
  fill_missing(merged, into);
  into = merged;
}

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

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string item; std::getline(in, item, ',');) {
    item = std::string(trim(item, " \t"));
    if (!item.empty()) {
      out.push_back(item);
    }
  }
  return out;
}

std::optional<std::string> UserFieldDecoder::text(const Value& v, const std::string& path,
                                                  const std::string& expected) {
  if (v.is_scalar() && !(v.plain && (v.as_bool() || v.looks_like_number()))) {
    return v.scalar;
  }
  m_d.error(v, path, "expected " + expected + ", got " + v.type_name());
  return std::nullopt;
}

std::optional<std::string> UserFieldDecoder::one_line(const Value& v, const std::string& path,
                                                      const std::string& expected) {
  auto s = text(v, path, expected);
  if (s && s->find_first_of("\n\r") != std::string::npos) {
    m_d.error(v, path, "must be a single line");
    return std::nullopt;
  }
  return s;
}

std::optional<std::string> UserFieldDecoder::account_name(const Value& v, const std::string& path,
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

std::optional<std::string> UserFieldDecoder::absolute_path(const Value& v,
                                                           const std::string& path) {
  auto s = one_line(v, path, "an absolute path");
  if (s && (s->empty() || (*s)[0] != '/')) {
    m_d.error(v, path, "expected an absolute path, got '" + *s + "'");
    return std::nullopt;
  }
  return s;
}

std::optional<std::vector<std::string>> UserFieldDecoder::group_names(const Value& v,
                                                                      const std::string& path) {
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
        add(v.items[i], std::string(trim(*s, " \t")), p);
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

std::optional<std::vector<std::string>> UserFieldDecoder::sudo_rules(const Value& v,
                                                                     const std::string& path) {
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
      if (trim(*s, " \t").empty()) {
        m_d.error(item, p, "a sudo rule cannot be empty");
      } else {
        rules.push_back(std::string(trim(*s, " \t")));
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

std::optional<std::vector<std::string>> UserFieldDecoder::keys(const Value& v,
                                                               const std::string& path) {
  std::vector<std::string> out;
  if (v.is_null()) {
    return out;
  }
  if (v.is_scalar()) {
    if (auto s = one_line(v, path, "an SSH public key or a list of keys")) {
      out.push_back(std::string(trim(*s, " \t")));
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
      if (trim(*s, " \t").empty()) {
        m_d.error(v.items[i], p, "an SSH public key cannot be empty");
      } else {
        out.push_back(std::string(trim(*s, " \t")));
      }
    }
  }
  return out;
}

std::optional<std::string> UserFieldDecoder::password(const Value& v, const std::string& path,
                                                      bool hashed) {
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

UserFields UserFieldDecoder::user_map(const Value& map, const std::string& path) {
  UserFields f;
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

std::optional<long long> UserFieldDecoder::uid(const Value& v, const std::string& path) {
  if (v.is_null()) {
    return std::nullopt;
  }
  std::optional<long long> n = v.as_int();
  if (!n && v.is_scalar() && all_digits(v.scalar)) {
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

}  // namespace amiboot
