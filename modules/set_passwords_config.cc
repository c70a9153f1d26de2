// SPDX-License-Identifier: Apache-2.0
#include "modules/set_passwords_config.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

#include "agent/core/strings.h"

namespace amiboot {

namespace {

constexpr const char* kHashExpected =
    "expected a crypt(3) hash such as $6$salt$hash or $y$j9T$salt$hash (for a clear-text "
    "password add type: text)";

// A password as chpasswd reads it: one "user:password" line on stdin.
std::optional<std::string> one_password(const Value& v, const std::string& path,
                                        UserFieldDecoder& ud) {
  auto s = ud.text(v, path, "a string (quote a numeric password)");
  if (!s) {
    return std::nullopt;
  }
  if (s->find_first_of("\n\r") != std::string::npos) {
    ud.decoder().error(v, path, "a password must be a single line");
    return std::nullopt;
  }
  if (s->empty()) {
    ud.decoder().error(v, path, "a password cannot be empty");
    return std::nullopt;
  }
  return s;
}

void decode_users_list(const Value& list, UserFieldDecoder& ud, PasswordsConfig& out) {
  Decoder& d = ud.decoder();
  for (std::size_t i = 0; i < list.items.size(); ++i) {
    const Value& item = list.items[i];
    std::string path = "chpasswd.users[" + std::to_string(i) + "]";
    if (!item.is_map()) {
      d.error(item, path, "expected a map with name, password and type, got " + item.type_name());
      continue;
    }
    d.unknown_keys(item, path, {"name", "password", "type"});
    PasswordEntry entry;
    entry.source = path;
    const Value* name = item.get("name");
    if (name == nullptr) {
      d.error(item, path, "a user needs a name");
      continue;
    }
    auto user = ud.account_name(*name, path + ".name", "user");
    if (!user) {
      continue;
    }
    entry.user = *user;
    if (const Value* type = item.get("type"); type != nullptr) {
      static const std::set<std::string> kTypes = {"hash", "text", "RANDOM"};
      if (!type->is_scalar() || kTypes.count(type->scalar) == 0) {
        d.error(*type, path + ".type",
                "expected hash, text or RANDOM, got " +
                    (type->is_scalar() ? "'" + type->scalar + "'" : type->type_name()));
        continue;
      }
      entry.kind = type->scalar == "text"     ? PasswordEntry::Kind::Text
                   : type->scalar == "RANDOM" ? PasswordEntry::Kind::Random
                                              : PasswordEntry::Kind::Hash;
    }
    const Value* password = item.get("password");
    if (entry.kind == PasswordEntry::Kind::Random) {
      if (password != nullptr) {
        d.warning(*password, path + ".password",
                  "ignored with type: RANDOM (a random password is made instead)");
      }
      out.entries.push_back(entry);
      continue;
    }
    if (password == nullptr || password->is_null()) {
      d.error(item, path, "needs a password (or type: RANDOM for a random one)");
      continue;
    }
    auto text = one_password(*password, path + ".password", ud);
    if (!text) {
      continue;
    }
    if (entry.kind == PasswordEntry::Kind::Hash && !is_crypt_hash(*text)) {
      d.error(*password, path + ".password", kHashExpected);
      continue;
    }
    entry.password = *text;
    out.entries.push_back(entry);
  }
}

// One "user:password" line of the deprecated list form, as cloud-init
// reads it: a crypt(3) hash is set as a hash, R or RANDOM makes a random
// password, anything else is clear text.
void add_list_line(const std::string& line, const Value& at, const std::string& path,
                   UserFieldDecoder& ud, PasswordsConfig& out) {
  auto colon = line.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == line.size()) {
    ud.decoder().error(at, path, "expected user:password");
    return;
  }
  PasswordEntry entry;
  entry.user = line.substr(0, colon);
  entry.source = path;
  if (!valid_account_name(entry.user)) {
    ud.decoder().error(at, path, "'" + entry.user + "' is not a valid user name");
    return;
  }
  std::string password = line.substr(colon + 1);
  if (password == "R" || password == "RANDOM") {
    entry.kind = PasswordEntry::Kind::Random;
  } else {
    entry.kind = is_crypt_hash(password) ? PasswordEntry::Kind::Hash : PasswordEntry::Kind::Text;
    entry.password = password;
  }
  out.entries.push_back(entry);
}

// chpasswd.list: "user:password" lines in a string, or a list of them.
// Deprecated in cloud-init (22.2) in favour of chpasswd.users.
void decode_list(const Value& list, UserFieldDecoder& ud, PasswordsConfig& out) {
  Decoder& d = ud.decoder();
  if (list.is_scalar()) {
    auto text = ud.text(list, "chpasswd.list", "user:password lines or a list of them");
    if (!text) {
      return;
    }
    d.warning(list, "chpasswd.list",
              "deprecated in cloud-init 22.2 (a multi-line string even more so); use "
              "chpasswd.users");
    std::istringstream in(*text);
    int n = 0;
    for (std::string line; std::getline(in, line);) {
      ++n;
      std::string trimmed(trim(line));
      if (!trimmed.empty()) {
        add_list_line(trimmed, list, "chpasswd.list (line " + std::to_string(n) + ")", ud, out);
      }
    }
    return;
  }
  if (!list.is_sequence()) {
    d.error(list, "chpasswd.list",
            "expected user:password lines or a list of them, got " + list.type_name());
    return;
  }
  if (!list.items.empty()) {
    d.warning(list, "chpasswd.list", "deprecated in cloud-init 22.2; use chpasswd.users");
  }
  for (std::size_t i = 0; i < list.items.size(); ++i) {
    std::string path = "chpasswd.list[" + std::to_string(i) + "]";
    if (auto line = ud.text(list.items[i], path, "user:password")) {
      if (line->find_first_of("\n\r") != std::string::npos) {
        d.error(list.items[i], path, "must be a single line");
        continue;
      }
      add_list_line(*line, list.items[i], path, ud, out);
    }
  }
}

}  // namespace

bool is_crypt_hash(const std::string& s) {
  static const std::set<std::string> kIds = {"1", "2a", "2b", "2x", "2y", "5", "6", "7", "y", "gy"};
  if (s.size() < 4 || s[0] != '$') {
    return false;
  }
  auto end = s.find('$', 1);
  if (end == std::string::npos || kIds.count(s.substr(1, end - 1)) == 0) {
    return false;
  }
  // Then the parameters and salt, and the hash: at least two more fields,
  // none empty, in crypt's alphabet (rounds=5000 and yescrypt's j9T).
  std::size_t fields = 0;
  for (std::size_t start = end + 1; start <= s.size();) {
    auto next = std::min(s.find('$', start), s.size());
    if (next == start) {
      return false;
    }
    ++fields;
    start = next + 1;
  }
  return fields >= 2 && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '/' || c == '$' ||
                  c == '=' || c == ',';
         });
}

void decode_passwords(const Value& doc, UserFieldDecoder& ud, PasswordsConfig& out) {
  Decoder& d = ud.decoder();
  bool chpasswd_sets = false;
  if (const Value* c = doc.get("chpasswd"); c != nullptr && !c->is_null()) {
    if (d.map(*c, "chpasswd") != nullptr) {
      d.unknown_keys(*c, "chpasswd", {"expire", "users", "list"});
      if (const Value* e = c->get("expire"); e != nullptr && !e->is_null()) {
        out.expire = d.boolean(*e, "chpasswd.expire").value_or(true);
      }
      if (const Value* u = c->get("users"); u != nullptr && !u->is_null()) {
        if (d.list(*u, "chpasswd.users") != nullptr) {
          decode_users_list(*u, ud, out);
          chpasswd_sets = chpasswd_sets || !u->items.empty();
        }
      }
      if (const Value* l = c->get("list"); l != nullptr && !l->is_null()) {
        decode_list(*l, ud, out);
        chpasswd_sets =
            chpasswd_sets || (l->is_sequence() ? !l->items.empty() : !l->scalar.empty());
      }
    }
  }
  if (const Value* p = doc.get("password"); p != nullptr && !p->is_null()) {
    if (auto text = one_password(*p, "password", ud)) {
      if (chpasswd_sets) {
        d.warning(*p, "password",
                  "ignored: chpasswd sets the passwords (as in cloud-init, `password` is for "
                  "when it does not)");
      } else {
        // Through the list form's rules, as cloud-init takes it: a hash,
        // R or RANDOM, or clear text.
        PasswordEntry entry{"", PasswordEntry::Kind::Text, *text, "password"};
        if (*text == "R" || *text == "RANDOM") {
          entry.kind = PasswordEntry::Kind::Random;
          entry.password.clear();
        } else if (is_crypt_hash(*text)) {
          entry.kind = PasswordEntry::Kind::Hash;
        }
        out.entries.push_back(entry);
      }
    }
  }
  if (const Value* p = doc.get("ssh_pwauth"); p != nullptr && !p->is_null()) {
    // cloud-init's util.is_true / is_false; any other string leaves sshd
    // alone with a warning, as there.
    std::optional<bool> b = p->plain ? p->as_bool() : std::nullopt;
    std::string word = p->is_scalar() ? lowercase(p->scalar) : "";
    if (b) {
      out.ssh_pwauth = *b;
    } else if (!p->is_scalar()) {
      d.error(*p, "ssh_pwauth", "expected true, false or 'unchanged', got " + p->type_name());
    } else if (word == "unchanged" || word.empty()) {
      out.ssh_pwauth = std::nullopt;
    } else if (word == "true" || word == "yes" || word == "on" || word == "1") {
      out.ssh_pwauth = true;
    } else if (word == "false" || word == "no" || word == "off" || word == "0") {
      out.ssh_pwauth = false;
    } else {
      d.warning(*p, "ssh_pwauth",
                "not true, false or 'unchanged': PasswordAuthentication is left unchanged, as "
                "cloud-init does");
    }
  }
}

}  // namespace amiboot
