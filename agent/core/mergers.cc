// SPDX-License-Identifier: Apache-2.0
#include "agent/core/mergers.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "agent/core/strings.h"

namespace amiboot {

namespace {

// The settings cloud-init's schema allows (merge_definition in
// schema-cloud-config-v1.json), for any of the three mergers; a merger
// ignores the ones that mean nothing to it, as cloud-init's do.
constexpr std::array<std::string_view, 9> kSettings{
    "allow_delete", "no_replace",   "replace",       "append",      "prepend",
    "recurse_dict", "recurse_list", "recurse_array", "recurse_str",
};

bool has(const std::vector<std::string>& options, std::string_view option) {
  return std::find(options.begin(), options.end(), option) != options.end();
}

// cloud-init's canonical form of a name or setting: lowercase, '-' as '_'.
std::string canonical(std::string_view s) {
  std::string out(trim(s));
  for (char& c : out) {
    c = c == '-' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// A printable excerpt of user input for a message.
std::string shown(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 40)) {
    out += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c;
  }
  if (s.size() > 40) {
    out += "...";
  }
  return out;
}

void error_at(Diagnostics& out, const Position& pos, const std::string& path,
              const std::string& message) {
  out.push_back(Diagnostic{Diagnostic::Severity::Error, pos, path, message});
}

// Adds the merger called `name` with `options` to `spec` unless it has one
// of that type already (cloud-init's LookupMerger asks them in order and
// the first that handles a type wins). Returns an error message, or "".
std::string add_merger(MergeSpec& spec, std::string name, const std::vector<std::string>& options) {
  // cloud-init looks the merger up as module "m_<name>", adding the prefix
  // unless it is there.
  if (name.starts_with("m_")) {
    name.erase(0, 2);
  }
  if (name != "list" && name != "dict" && name != "str") {
    return "unknown merger '" + shown(name) + "' (cloud-init has list, dict and str)";
  }
  for (const auto& option : options) {
    if (std::find(kSettings.begin(), kSettings.end(), option) == kSettings.end()) {
      return "unknown merge setting '" + shown(option) + "' for " + name +
             "() (expected allow_delete, no_replace, replace, append, prepend, recurse_dict, "
             "recurse_list, recurse_array or recurse_str)";
    }
  }
  bool recurse_array = has(options, "recurse_array") || has(options, "recurse_list");
  if (name == "dict" && !spec.dict) {
    // m_dict.py: replace is looked for before no_replace, its default.
    spec.dict = DictMerger{has(options, "replace"), has(options, "recurse_str"), recurse_array,
                           has(options, "allow_delete")};
  } else if (name == "list" && !spec.list) {
    // m_list.py: the first of append, prepend, replace, no_replace present.
    ListMerger list;
    if (has(options, "append")) {
      list.method = ListMerger::Method::Append;
    } else if (has(options, "prepend")) {
      list.method = ListMerger::Method::Prepend;
    } else if (has(options, "replace")) {
      list.method = ListMerger::Method::Replace;
    } else if (has(options, "no_replace")) {
      list.method = ListMerger::Method::NoReplace;
    }
    list.recurse_str = has(options, "recurse_str");
    list.recurse_dict = has(options, "recurse_dict");
    list.recurse_array = recurse_array;
    spec.list = list;
  } else if (name == "str" && !spec.str) {
    spec.str = StrMerger{has(options, "append")};
  }
  return "";
}

// One setting of the list form, checked where it is written.
bool read_setting(const Value& s, const std::string& path, std::vector<std::string>& options,
                  Diagnostics& out) {
  if (!s.is_scalar()) {
    error_at(out, s.pos, path, "expected a setting name, got " + s.type_name());
    return false;
  }
  std::string option = canonical(s.scalar);
  if (std::find(kSettings.begin(), kSettings.end(), option) == kSettings.end()) {
    error_at(out, s.pos, path,
             "unknown merge setting '" + shown(option) +
                 "' (expected allow_delete, no_replace, replace, append, prepend, "
                 "recurse_dict, recurse_list, recurse_array or recurse_str)");
    return false;
  }
  options.push_back(std::move(option));
  return true;
}

std::optional<MergeSpec> spec_from_list(const Value& list, const std::string& path,
                                        Diagnostics& out) {
  MergeSpec spec;
  for (std::size_t i = 0; i < list.items.size(); ++i) {
    const Value& item = list.items[i];
    std::string item_path = path + "[" + std::to_string(i) + "]";
    std::string name;
    std::vector<std::string> options;
    const Value* name_value = nullptr;
    if (item.is_map()) {
      // {name: list, settings: [append]}
      for (const auto& e : item.entries) {
        if (e.key != "name" && e.key != "settings") {
          error_at(out, e.key_pos, item_path + "." + e.key,
                   "unknown key in a merger (expected name and settings)");
          return std::nullopt;
        }
      }
      name_value = item.get("name");
      if (name_value == nullptr) {
        error_at(out, item.pos, item_path, "a merger needs a name (list, dict or str)");
        return std::nullopt;
      }
      if (const Value* settings = item.get("settings");
          settings != nullptr && !settings->is_null()) {
        if (!settings->is_sequence()) {
          error_at(out, settings->pos, item_path + ".settings",
                   "expected a list of settings, got " + settings->type_name());
          return std::nullopt;
        }
        for (std::size_t k = 0; k < settings->items.size(); ++k) {
          if (!read_setting(settings->items[k], item_path + ".settings[" + std::to_string(k) + "]",
                            options, out)) {
            return std::nullopt;
          }
        }
      }
    } else if (item.is_sequence() && !item.items.empty()) {
      // [list, append]: dict_extract_mergers takes the first item as the name.
      name_value = &item.items[0];
      for (std::size_t k = 1; k < item.items.size(); ++k) {
        if (!read_setting(item.items[k], item_path + "[" + std::to_string(k) + "]", options, out)) {
          return std::nullopt;
        }
      }
    } else {
      error_at(out, item.pos, item_path,
               "expected a merger like {name: list, settings: [append]}, got " + item.type_name());
      return std::nullopt;
    }
    if (!name_value->is_scalar()) {
      error_at(out, name_value->pos, item_path + ".name",
               "expected a merger name (list, dict or str), got " + name_value->type_name());
      return std::nullopt;
    }
    name = canonical(name_value->scalar);
    if (name.empty()) {
      continue;  // cloud-init skips a merger without a name
    }
    if (std::string message = add_merger(spec, name, options); !message.empty()) {
      error_at(out, name_value->pos, item_path, message);
      return std::nullopt;
    }
  }
  return spec;
}

// Python's str: a scalar PyYAML reads as neither a number, a boolean nor
// bytes.
bool is_str(const Value& v) {
  return v.is_scalar() && !v.binary && v.type_name() == "a string";
}

class Merge {
 public:
  Merge(const MergeSpec& spec, Diagnostics& out) : m_spec(spec), m_out(out) {}

  // LookupMerger.merge: the earlier value's type picks the merger; a type
  // no merger handles keeps the earlier value.
  // `base` is taken by value and merged in place: a part merged into the
  // parts before it costs what the part holds, not what they hold (20,000
  // list(append) parts were quadratic when each merge copied the lists).
  std::optional<Value> merge(Value base, const Value& over, const std::string& path) {
    if (base.is_map() && m_spec.dict) {
      return on_dict(*m_spec.dict, std::move(base), over, path);
    }
    if (base.is_sequence() && m_spec.list) {
      return on_list(*m_spec.list, std::move(base), over, path);
    }
    if (is_str(base) && m_spec.str) {
      return on_str(*m_spec.str, std::move(base), over, path);
    }
    return base;
  }

 private:
  static std::string key_path(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

  std::optional<Value> on_dict(const DictMerger& m, Value base, const Value& over,
                               const std::string& path) {
    if (!over.is_map()) {
      return base;
    }
    Value out = std::move(base);
    for (const auto& e : over.entries) {
      auto it = std::find_if(out.entries.begin(), out.entries.end(),
                             [&](const Value::Entry& x) { return x.key == e.key; });
      if (it == out.entries.end()) {
        out.entries.push_back(e);
        continue;
      }
      if (e.value.is_null() && m.allow_delete) {
        out.entries.erase(it);
        continue;
      }
      if (m.replace) {
        // Taken whole: nothing below it is merged.
        it->value = e.value;
        it->key_pos = e.key_pos;
        continue;
      }
      bool recurse = (e.value.is_sequence() && m.recurse_array) ||
                     (is_str(e.value) && m.recurse_str) || e.value.is_map();
      if (recurse) {
        auto merged = merge(std::move(it->value), e.value, key_path(path, e.key));
        if (!merged) {
          return std::nullopt;
        }
        it->value = std::move(*merged);
      }
      // Otherwise the earlier value stays.
    }
    return out;
  }

  std::optional<Value> on_list(const ListMerger& m, Value base, const Value& over,
                               const std::string& path) {
    using Method = ListMerger::Method;
    if (m.method == Method::NoReplace) {
      return base;  // each index keeps its earlier item, and the length stays
    }
    if (!over.is_sequence()) {
      if (m.method == Method::Replace) {
        return over;
      }
      // cloud-init extends the list with whatever it is: a string's
      // characters, a map's keys, or a TypeError for anything else.
      error_at(m_out, over.pos, path,
               std::string("cannot ") + (m.method == Method::Append ? "append " : "prepend ") +
                   over.type_name() + " to a list (the merge spec says list(" +
                   (m.method == Method::Append ? "append" : "prepend") + "))");
      return std::nullopt;
    }
    Value out = std::move(base);
    if (m.method == Method::Append) {
      out.items.insert(out.items.end(), over.items.begin(), over.items.end());
      return out;
    }
    if (m.method == Method::Prepend) {
      out.items.insert(out.items.begin(), over.items.begin(), over.items.end());
      return out;
    }
    // replace: index by index, over the earlier list's length.
    std::size_t common = std::min(out.items.size(), over.items.size());
    for (std::size_t i = 0; i < common; ++i) {
      const Value& item = over.items[i];
      bool recurse = (item.is_sequence() && m.recurse_array) || (is_str(item) && m.recurse_str) ||
                     (item.is_map() && m.recurse_dict);
      if (!recurse) {
        out.items[i] = item;
        continue;
      }
      auto merged = merge(std::move(out.items[i]), item, path + "[" + std::to_string(i) + "]");
      if (!merged) {
        return std::nullopt;
      }
      out.items[i] = std::move(*merged);
    }
    return out;
  }

  std::optional<Value> on_str(const StrMerger& m, Value base, const Value& over,
                              const std::string& path) {
    if (!m.append) {
      return over;
    }
    if (!is_str(over)) {
      error_at(m_out, over.pos, path,
               "cannot append " + over.type_name() +
                   " to a string (the merge spec says "
                   "str(append))");
      return std::nullopt;
    }
    Value out = std::move(base);
    out.scalar += over.scalar;
    out.plain = false;  // still a string, whatever the two halves spell
    return out;
  }

  const MergeSpec& m_spec;
  Diagnostics& m_out;
};

}  // namespace

void MergeSpec::add_missing(const MergeSpec& later) {
  if (!dict) {
    dict = later.dict;
  }
  if (!list) {
    list = later.list;
  }
  if (!str) {
    str = later.str;
  }
}

std::string MergeSpec::to_string() const {
  std::vector<std::string> parts;
  auto join = [](const std::vector<std::string_view>& options) {
    std::string s;
    for (auto o : options) {
      s += (s.empty() ? "" : ",") + std::string(o);
    }
    return s;
  };
  if (list) {
    std::vector<std::string_view> o;
    switch (list->method) {
      case ListMerger::Method::Replace:
        o.push_back("replace");
        break;
      case ListMerger::Method::Append:
        o.push_back("append");
        break;
      case ListMerger::Method::Prepend:
        o.push_back("prepend");
        break;
      case ListMerger::Method::NoReplace:
        o.push_back("no_replace");
        break;
    }
    if (list->recurse_dict) {
      o.push_back("recurse_dict");
    }
    if (list->recurse_array) {
      o.push_back("recurse_array");
    }
    if (list->recurse_str) {
      o.push_back("recurse_str");
    }
    parts.push_back("list(" + join(o) + ")");
  }
  if (dict) {
    std::vector<std::string_view> o{dict->replace ? "replace" : "no_replace"};
    if (dict->recurse_array) {
      o.push_back("recurse_array");
    }
    if (dict->recurse_str) {
      o.push_back("recurse_str");
    }
    if (dict->allow_delete) {
      o.push_back("allow_delete");
    }
    parts.push_back("dict(" + join(o) + ")");
  }
  if (str) {
    parts.push_back(str->append ? "str(append)" : "str()");
  }
  std::string s;
  for (const auto& p : parts) {
    s += (s.empty() ? "" : "+") + p;
  }
  return s;
}

MergeSpec default_user_data_mergers() {
  MergeSpec spec;
  spec.dict = DictMerger{.replace = true};
  spec.list = ListMerger{};
  spec.str = StrMerger{};
  return spec;
}

std::optional<MergeSpec> parse_merge_spec(std::string_view text, const Position& at,
                                          const std::string& path, Diagnostics& out) {
  MergeSpec spec;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('+', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view raw = text.substr(start, end - start);
    std::size_t lead = raw.find_first_not_of(" \t\r\n");
    std::size_t column = start + 1 + (lead == std::string_view::npos ? 0 : lead);
    std::string segment = canonical(raw);
    std::string where = " (character " + std::to_string(column) + ")";
    if (!segment.empty()) {
      // string_extract_mergers: ^[a-zA-Z_][A-Za-z0-9_]*\((.*?)\)$
      std::size_t open = segment.find('(');
      bool name_ok =
          open != std::string::npos && open > 0 &&
          !std::isdigit(static_cast<unsigned char>(segment[0])) &&
          std::all_of(segment.begin(), segment.begin() + static_cast<long>(open), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
          });
      if (!name_ok || segment.back() != ')') {
        error_at(out, at, path,
                 "'" + shown(segment) + "' is not a merger like list(append)" + where);
        return std::nullopt;
      }
      std::string name = segment.substr(0, open);
      std::vector<std::string> options;
      std::string_view inside = std::string_view(segment).substr(open + 1);
      inside.remove_suffix(1);
      std::size_t from = 0;
      while (from <= inside.size()) {
        std::size_t comma = inside.find(',', from);
        if (comma == std::string_view::npos) {
          comma = inside.size();
        }
        std::string option(trim(inside.substr(from, comma - from)));
        if (!option.empty()) {
          options.push_back(option);
        }
        from = comma + 1;
      }
      if (std::string message = add_merger(spec, name, options); !message.empty()) {
        error_at(out, at, path, message + where);
        return std::nullopt;
      }
    }
    start = end + 1;
  }
  return spec;
}

bool is_merge_key(std::string_view key) {
  return key == "merge_how" || key == "merge_type";
}

std::optional<MergeSpec> merge_spec_of(const Value& doc, Diagnostics& out) {
  // dict_extract_mergers: merge_how, and merge_type when that is absent or null.
  const Value* v = doc.get("merge_how");
  std::string key = "merge_how";
  if (v == nullptr || v->is_null()) {
    v = doc.get("merge_type");
    key = "merge_type";
  }
  if (v == nullptr || v->is_null()) {
    return MergeSpec{};
  }
  if (v->is_scalar()) {
    return parse_merge_spec(v->scalar, v->pos, key, out);
  }
  if (v->is_sequence()) {
    return spec_from_list(*v, key, out);
  }
  error_at(out, v->pos, key,
           "expected a merge spec like \"list(append)+dict(recurse_array)+str()\" or a list of "
           "{name, settings}, got " +
               v->type_name());
  return std::nullopt;
}

std::optional<Value> merge_values(Value base, const Value& over, const MergeSpec& spec,
                                  Diagnostics& out) {
  return Merge(spec, out).merge(std::move(base), over, "");
}

bool same_data(const Value& a, const Value& b) {
  if (a.kind != b.kind) {
    return false;
  }
  switch (a.kind) {
    case Value::Kind::Null:
      return true;
    case Value::Kind::Scalar:
      return a.scalar == b.scalar && a.plain == b.plain && a.binary == b.binary;
    case Value::Kind::Sequence:
      return std::equal(a.items.begin(), a.items.end(), b.items.begin(), b.items.end(), same_data);
    case Value::Kind::Map:
      return std::equal(a.entries.begin(), a.entries.end(), b.entries.begin(), b.entries.end(),
                        [](const Value::Entry& x, const Value::Entry& y) {
                          return x.key == y.key && same_data(x.value, y.value);
                        });
  }
  return false;
}

}  // namespace amiboot
