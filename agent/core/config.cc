// SPDX-License-Identifier: Apache-2.0
#include "agent/core/config.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "agent/core/codecs.h"
#include "agent/core/strings.h"

namespace amiboot {

std::string Diagnostic::format() const {
  std::ostringstream out;
  if (!pos.source.empty()) {
    out << pos.source;
    if (pos.line > 0) {
      out << ':' << pos.line << ':' << pos.column;
    }
    out << ": ";
  }
  if (severity == Severity::Warning) {
    out << "warning: ";
  }
  if (!path.empty()) {
    out << path << ": ";
  }
  out << message;
  return out.str();
}

nlohmann::json Diagnostic::to_json() const {
  return {{"severity", severity == Severity::Error ? "error" : "warning"},
          {"source", pos.source},
          {"line", pos.line},
          {"column", pos.column},
          {"path", path},
          {"message", message}};
}

bool has_errors(const Diagnostics& diagnostics) {
  return std::any_of(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic& d) { return d.severity == Diagnostic::Severity::Error; });
}

const Value* Value::get(std::string_view key) const {
  if (kind != Kind::Map) {
    return nullptr;
  }
  for (const auto& e : entries) {
    if (e.key == key) {
      return &e.value;
    }
  }
  return nullptr;
}

Value* Value::get(std::string_view key) {
  return const_cast<Value*>(static_cast<const Value*>(this)->get(key));
}

void Value::set(std::string key, Value value) {
  kind = Kind::Map;
  if (Value* existing = get(key)) {
    *existing = std::move(value);
    return;
  }
  entries.push_back(Entry{std::move(key), value.pos, std::move(value)});
}

std::optional<bool> Value::as_bool() const {
  if (kind != Kind::Scalar || !plain) {
    return std::nullopt;
  }
  static const char* const kTrue[] = {"true", "True", "TRUE", "yes", "Yes",
                                      "YES",  "on",   "On",   "ON"};
  static const char* const kFalse[] = {"false", "False", "FALSE", "no", "No",
                                       "NO",    "off",   "Off",   "OFF"};
  for (const char* t : kTrue) {
    if (scalar == t) {
      return true;
    }
  }
  for (const char* f : kFalse) {
    if (scalar == f) {
      return false;
    }
  }
  return std::nullopt;
}

std::optional<long long> Value::as_int() const {
  if (kind != Kind::Scalar || !plain || scalar.empty()) {
    return std::nullopt;
  }
  std::string s = scalar;
  int base = 10;
  bool negative = false;
  std::size_t i = 0;
  if (s[0] == '-' || s[0] == '+') {
    negative = s[0] == '-';
    i = 1;
  }
  if (s.compare(i, 2, "0x") == 0) {
    base = 16;
    i += 2;
  } else if (s.compare(i, 2, "0o") == 0) {
    base = 8;
    i += 2;
  }
  if (i >= s.size()) {
    return std::nullopt;
  }
  long long v = 0;
  for (; i < s.size(); ++i) {
    int digit;
    char c = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c == '_') {
      continue;
    } else {
      return std::nullopt;
    }
    if (digit >= base || v > (1LL << 53)) {
      return std::nullopt;
    }
    v = v * base + digit;
  }
  return negative ? -v : v;
}

bool Value::looks_like_number() const {
  if (as_int()) {
    return true;
  }
  if (kind != Kind::Scalar || !plain || scalar.empty()) {
    return false;
  }
  char* end = nullptr;
  std::strtod(scalar.c_str(), &end);
  return end != nullptr && *end == '\0';
}

std::string Value::type_name() const {
  switch (kind) {
    case Kind::Null:
      return "null";
    case Kind::Sequence:
      return "a list";
    case Kind::Map:
      return "a map";
    case Kind::Scalar:
      break;
  }
  if (as_int()) {
    return "an integer";
  }
  if (looks_like_number()) {
    return "a number";
  }
  if (as_bool()) {
    return "a boolean";
  }
  return "a string";
}

namespace {

nlohmann::json position_json(const Position& pos) {
  return {pos.source, pos.line, pos.column};
}

Position position_from(const nlohmann::json& json) {
  return {json.at(0).get<std::string>(), json.at(1).get<int>(), json.at(2).get<int>()};
}

}  // namespace

nlohmann::json value_to_stored_json(const Value& value) {
  nlohmann::json out = {{"kind", static_cast<int>(value.kind)}, {"pos", position_json(value.pos)}};
  switch (value.kind) {
    case Value::Kind::Null:
      break;
    case Value::Kind::Scalar:
      // Bytes from !!binary need not be UTF-8, which JSON text must be.
      out["scalar"] = value.binary ? base64_encode(value.scalar) : value.scalar;
      out["plain"] = value.plain;
      if (value.binary) {
        out["binary"] = true;
      }
      break;
    case Value::Kind::Sequence:
      out["items"] = nlohmann::json::array();
      for (const auto& item : value.items) {
        out["items"].push_back(value_to_stored_json(item));
      }
      break;
    case Value::Kind::Map:
      out["entries"] = nlohmann::json::array();
      for (const auto& e : value.entries) {
        out["entries"].push_back({e.key, position_json(e.key_pos), value_to_stored_json(e.value)});
      }
      break;
  }
  return out;
}

Value value_from_stored_json(const nlohmann::json& json) {
  Value v;
  int kind = json.at("kind").get<int>();
  if (kind < 0 || kind > static_cast<int>(Value::Kind::Map)) {
    throw nlohmann::json::other_error::create(501, "unknown value kind", &json);
  }
  v.kind = static_cast<Value::Kind>(kind);
  v.pos = position_from(json.at("pos"));
  if (v.is_scalar()) {
    v.scalar = json.at("scalar").get<std::string>();
    v.plain = json.at("plain").get<bool>();
    v.binary = json.value("binary", false);
    if (v.binary) {
      auto bytes = base64_decode(v.scalar);
      if (!bytes) {
        throw nlohmann::json::other_error::create(501, "binary scalar: " + bytes.error().message,
                                                  &json);
      }
      v.scalar = std::move(*bytes);
    }
  }
  if (v.is_sequence()) {
    for (const auto& item : json.at("items")) {
      v.items.push_back(value_from_stored_json(item));
    }
  }
  if (v.is_map()) {
    for (const auto& e : json.at("entries")) {
      v.entries.push_back(Value::Entry{e.at(0).get<std::string>(), position_from(e.at(1)),
                                       value_from_stored_json(e.at(2))});
    }
  }
  return v;
}

nlohmann::json Value::to_json() const {
  switch (kind) {
    case Kind::Null:
      return nullptr;
    case Kind::Scalar:
      if (binary) {
        return "ci-b64:" + base64_encode(scalar);  // how cloud-init writes bytes as JSON
      }
      if (auto b = as_bool()) {
        return *b;
      }
      if (auto i = as_int()) {
        return *i;
      }
      return scalar;
    case Kind::Sequence: {
      auto arr = nlohmann::json::array();
      for (const auto& item : items) {
        arr.push_back(item.to_json());
      }
      return arr;
    }
    case Kind::Map: {
      auto obj = nlohmann::json::object();
      for (const auto& e : entries) {
        obj[e.key] = e.value.to_json();
      }
      return obj;
    }
  }
  return nullptr;
}

namespace {

Position position_of(const YAML::Mark& mark, const std::string& source, const Position& fallback) {
  if (mark.line < 0) {
    return fallback;
  }
  return Position{source, mark.line + 1, mark.column + 1};
}

std::string at(const Position& pos) {
  return pos.source + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column) + ": ";
}

constexpr char kBinaryTag[] = "tag:yaml.org,2002:binary";

// What one document may expand to (agent/core/limits.h): yaml-cpp shares an
// aliased node, but a Value copies it, so each alias is charged in full.
struct Budget {
  const Limits& limits;
  std::size_t nodes = 0;
  std::size_t bytes = 0;
};

Result<Value> convert(const YAML::Node& node, const std::string& source, const Position& fallback,
                      int depth, Budget& budget);

// A map's entries with YAML 1.1 merge keys resolved as PyYAML's
// SafeConstructor.flatten_mapping does: the merged maps' entries come first
// (a list's maps in reverse, so that earlier maps win), then the map's own
// entries, and a later entry replaces an earlier one with the same key.
// Merged entries keep the positions where they were written. Keys are
// looked up in a hash index, so a large map parses in linear time.
Result<Value> convert_map(const YAML::Node& node, const std::string& source, Value v, int depth,
                          Budget& budget) {
  std::vector<Value::Entry> merged;
  std::vector<Value::Entry> own;
  std::unordered_set<std::string> own_keys;
  for (const auto& kv : node) {
    Position key_pos = position_of(kv.first.Mark(), source, v.pos);
    if (!kv.first.IsScalar()) {
      return error(at(key_pos) + "map keys must be plain strings");
    }
    auto c = convert(kv.second, source, key_pos, depth + 1, budget);
    if (!c) {
      return c;
    }
    // Only a plain `<<` is a merge key; a quoted '<<' is a string key.
    if (kv.first.Scalar() == "<<" && kv.first.Tag() == "?") {
      std::vector<const Value*> maps;
      if (c->is_map()) {
        maps.push_back(&*c);
      } else if (c->is_sequence()) {
        for (const auto& item : c->items) {
          if (!item.is_map()) {
            return error(at(item.pos) +
                         "merge key '<<': expected a map or a list of maps to merge, found " +
                         item.type_name() + " in the list");
          }
        }
        for (auto it = c->items.rbegin(); it != c->items.rend(); ++it) {
          maps.push_back(&*it);
        }
      } else {
        return error(at(c->pos) +
                     "merge key '<<': expected a map or a list of maps to merge, got " +
                     c->type_name());
      }
      for (const Value* m : maps) {
        merged.insert(merged.end(), m->entries.begin(), m->entries.end());
      }
      continue;
    }
    if (!own_keys.insert(kv.first.Scalar()).second) {
      return error(at(key_pos) + "duplicate key '" + kv.first.Scalar() + "'");
    }
    budget.bytes += kv.first.Scalar().size();
    own.push_back(Value::Entry{kv.first.Scalar(), key_pos, std::move(*c)});
  }
  std::unordered_map<std::string, std::size_t> index;
  for (auto* list : {&merged, &own}) {
    for (auto& e : *list) {
      auto [it, added] = index.emplace(e.key, v.entries.size());
      if (!added) {
        Value::Entry& existing = v.entries[it->second];
        existing.key_pos = e.key_pos;
        existing.value = std::move(e.value);
      } else {
        v.entries.push_back(std::move(e));
      }
    }
  }
  return v;
}

Result<Value> convert(const YAML::Node& node, const std::string& source, const Position& fallback,
                      int depth, Budget& budget) {
  Position pos = position_of(node.Mark(), source, fallback);
  if (depth > budget.limits.yaml_depth) {
    return error(at(pos) + "nested deeper than " + std::to_string(budget.limits.yaml_depth) +
                 " levels (" + limit_setting("yaml_depth") + "); the document is refused");
  }
  if (++budget.nodes > budget.limits.yaml_nodes) {
    return error(at(pos) + "more than " + std::to_string(budget.limits.yaml_nodes) +
                 " YAML nodes once aliases are expanded (" + limit_setting("yaml_nodes") +
                 "); the document is refused");
  }
  Value v;
  v.pos = std::move(pos);
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      v.kind = Value::Kind::Null;
      break;
    case YAML::NodeType::Scalar:
      v.kind = Value::Kind::Scalar;
      budget.bytes += node.Scalar().size();
      if (budget.bytes > budget.limits.user_data_bytes) {
        return error(at(v.pos) + "the document's text exceeds " +
                     size_text(budget.limits.user_data_bytes) + " once aliases are expanded (" +
                     limit_setting("user_data_bytes") + "); the document is refused");
      }
      v.scalar = node.Scalar();
      // yaml-cpp tags plain scalars "?" and quoted or block ones "!".
      v.plain = node.Tag() == "?";
      if (node.Tag() == kBinaryTag) {
        // PyYAML gives bytes: base64 with any line breaks.
        auto bytes = base64_decode(v.scalar);
        if (!bytes) {
          return error(at(v.pos) + "!!binary: not valid base64: " + bytes.error().message);
        }
        v.scalar = std::move(*bytes);
        v.binary = true;
      }
      break;
    case YAML::NodeType::Sequence:
      v.kind = Value::Kind::Sequence;
      for (const auto& child : node) {
        auto c = convert(child, source, v.pos, depth + 1, budget);
        if (!c) {
          return c;
        }
        v.items.push_back(std::move(*c));
      }
      break;
    case YAML::NodeType::Map:
      v.kind = Value::Kind::Map;
      return convert_map(node, source, std::move(v), depth, budget);
  }
  return v;
}

// yaml-cpp's wording for the most common mistake is cryptic; say it plainly,
// and point `column` (1-based) at the tab itself: yaml-cpp's mark is where
// it noticed the trouble, one past a leading tab.
std::string explain(const std::string& text, const YAML::Mark& mark, const std::string& msg,
                    int& column) {
  std::size_t start = 0;
  for (int line = 0; line < mark.line && start != std::string::npos; ++line) {
    start = text.find('\n', start);
    if (start != std::string::npos) {
      ++start;
    }
  }
  if (start != std::string::npos && start < text.size()) {
    std::size_t end = text.find('\n', start);
    std::string line = text.substr(start, end == std::string::npos ? end : end - start);
    std::size_t indent_end = line.find_first_not_of(" \t");
    if (std::size_t tab = line.substr(0, indent_end).find('\t'); tab != std::string::npos) {
      column = static_cast<int>(tab) + 1;
      return "found a tab character where indentation is expected (YAML indents with spaces only)";
    }
  }
  return msg;
}

}  // namespace

Result<Value> parse_yaml(const std::string& text, const std::string& source, const Limits& limits) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own guard (its message is only "bad file") stops the parse
    // at about 500 levels, before amiboot's count of yaml_depth could.
    constexpr int kParserDepth = 500;
    std::string why = limits.yaml_depth < kParserDepth
                          ? "nested deeper than " + std::to_string(limits.yaml_depth) +
                                " levels (" + limit_setting("yaml_depth") + ")"
                          : "nested deeper than the YAML parser allows (about " +
                                std::to_string(kParserDepth) + " levels, whatever " +
                                limit_setting("yaml_depth") + " says)";
    return error(source + ":" + std::to_string(e.mark.line + 1) + ":" +
                 std::to_string(e.mark.column + 1) + ": " + why + "; the document is refused");
  } catch (const YAML::Exception& e) {
    int line = e.mark.line + 1;
    int column = e.mark.column + 1;
    std::string message = explain(text, e.mark, e.msg, column);
    return error(source + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " +
                 message);
  }
  Budget budget{limits};
  return convert(root, source, Position{source, 1, 1}, 0, budget);
}

Value merge(const Value& base, const Value& over) {
  if (!base.is_map() || !over.is_map()) {
    return over;
  }
  Value out = base;
  for (const auto& e : over.entries) {
    Value* existing = out.get(e.key);
    if (existing != nullptr) {
      *existing = merge(*existing, e.value);
    } else {
      out.entries.push_back(e);
    }
  }
  return out;
}

void Decoder::error(const Value& at, const std::string& path, const std::string& message) {
  ++m_errors;
  m_out.push_back(Diagnostic{Diagnostic::Severity::Error, at.pos, path, message});
}

void Decoder::warning(const Value& at, const std::string& path, const std::string& message) {
  m_out.push_back(Diagnostic{Diagnostic::Severity::Warning, at.pos, path, message});
}

std::optional<std::string> Decoder::string(const Value& v, const std::string& path) {
  if (!v.is_scalar()) {
    error(v, path, "expected a string, got " + v.type_name());
    return std::nullopt;
  }
  return v.scalar;
}

std::optional<bool> Decoder::boolean(const Value& v, const std::string& path) {
  auto b = v.as_bool();
  if (!b) {
    error(v, path, "expected a boolean (true or false), got " + v.type_name());
  }
  return b;
}

std::optional<long long> Decoder::integer(const Value& v, const std::string& path) {
  auto i = v.as_int();
  if (!i) {
    error(v, path, "expected an integer, got " + v.type_name());
  }
  return i;
}

const Value* Decoder::list(const Value& v, const std::string& path) {
  if (!v.is_sequence()) {
    error(v, path, "expected a list, got " + v.type_name());
    return nullptr;
  }
  return &v;
}

const Value* Decoder::map(const Value& v, const std::string& path) {
  if (!v.is_map()) {
    error(v, path, "expected a map, got " + v.type_name());
    return nullptr;
  }
  return &v;
}

std::optional<std::string> Decoder::file_path(const Value& v, const std::string& path) {
  auto p = string(v, path);
  if (!p) {
    return std::nullopt;
  }
  bool climbs = ("/" + *p + "/").find("/../") != std::string::npos;
  if (p->empty() || (*p)[0] != '/' || climbs || p->back() == '/') {
    error(v, path, "expected an absolute file path without '..', got '" + *p + "'");
    return std::nullopt;
  }
  return p;
}

void Decoder::unknown_keys(const Value& map, const std::string& path,
                           std::initializer_list<std::string_view> known) {
  for (const auto& e : map.entries) {
    if (std::find(known.begin(), known.end(), e.key) == known.end()) {
      Value at;
      at.pos = e.key_pos;
      warning(at, path.empty() ? e.key : path + "." + e.key, "unknown key; ignored");
    }
  }
}

}  // namespace amiboot
