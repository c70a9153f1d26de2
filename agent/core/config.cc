// SPDX-License-Identifier: Apache-2.0
#include "agent/core/config.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <sstream>

#include "agent/core/codecs.h"

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
