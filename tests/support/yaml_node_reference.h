// SPDX-License-Identifier: Apache-2.0
// The reference parse_yaml() for the differential tests: what amiboot did
// before it built Values from yaml-cpp's parser events (agent/core/
// config_yaml.cc), YAML::Load's Node graph converted node by node, kept
// verbatim. tests/unit/yaml_events_test.cc and the yaml_values fuzz target
// compare the two, Value for Value (positions included) and error for error.
#pragma once

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "agent/core/codecs.h"
#include "agent/core/config.h"
#include "agent/core/limits.h"
#include "agent/core/strings.h"

namespace amiboot::testing::node_reference {

inline Position position_of(const YAML::Mark& mark, const std::string& source,
                            const Position& fallback) {
  if (mark.line < 0) {
    return fallback;
  }
  return Position{source, mark.line + 1, mark.column + 1};
}

inline std::string at(const Position& pos) {
  return pos.source + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column) + ": ";
}

inline constexpr char kBinaryTag[] = "tag:yaml.org,2002:binary";

// What one document may expand to (agent/core/limits.h): yaml-cpp shares an
// aliased node, but a Value copies it, so each alias is charged in full.
struct Budget {
  const Limits& limits;
  std::size_t nodes = 0;
  std::size_t bytes = 0;
};

inline Result<Value> convert(const YAML::Node& node, const std::string& source,
                             const Position& fallback, int depth, Budget& budget);

// A map's entries with YAML 1.1 merge keys resolved as PyYAML's
// SafeConstructor.flatten_mapping does: the merged maps' entries come first
// (a list's maps in reverse, so that earlier maps win), then the map's own
// entries, and a later entry replaces an earlier one with the same key.
// Merged entries keep the positions where they were written. Keys are
// looked up in a hash index, so a large map parses in linear time.
inline Result<Value> convert_map(const YAML::Node& node, const std::string& source, Value v,
                                 int depth, Budget& budget) {
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

inline Result<Value> convert(const YAML::Node& node, const std::string& source,
                             const Position& fallback, int depth, Budget& budget) {
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
inline std::string explain(const std::string& text, const YAML::Mark& mark, const std::string& msg,
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

inline Result<Value> parse_yaml(const std::string& text, const std::string& source,
                                const Limits& limits = {}) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::DeepRecursion& e) {
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

/// A Value as text that keeps everything, byte for byte (scalars need not
/// be UTF-8, which value_to_stored_json's JSON text must be): kind,
/// position, scalar, plain, binary, items and entries with their keys'
/// positions.
inline void exact_text(const Value& v, std::string& out) {
  auto pos = [&out](const Position& p) {
    out += "@" + p.source + ":" + std::to_string(p.line) + ":" + std::to_string(p.column);
  };
  auto bytes = [&out](const std::string& s) { out += std::to_string(s.size()) + "'" + s + "'"; };
  out += std::to_string(static_cast<int>(v.kind));
  pos(v.pos);
  switch (v.kind) {
    case Value::Kind::Null:
      break;
    case Value::Kind::Scalar:
      bytes(v.scalar);
      out += v.plain ? "p" : "q";
      out += v.binary ? "b" : "t";
      break;
    case Value::Kind::Sequence:
      out += "[";
      for (const auto& item : v.items) {
        exact_text(item, out);
        out += ",";
      }
      out += "]";
      break;
    case Value::Kind::Map:
      out += "{";
      for (const auto& e : v.entries) {
        bytes(e.key);
        pos(e.key_pos);
        out += "=";
        exact_text(e.value, out);
        out += ",";
      }
      out += "}";
      break;
  }
}

/// Both parses as one comparable text: the whole Value or the error message.
inline std::string outcome(const Result<Value>& r) {
  if (!r) {
    return "error " + r.error().message;
  }
  std::string out = "value ";
  exact_text(*r, out);
  return out;
}

}  // namespace amiboot::testing::node_reference
