// SPDX-License-Identifier: Apache-2.0
// Configuration as YAML values that remember where they were written, the
// merge of image config and cloud-config parts, and the typed-decode helpers
// that turn mistakes into diagnostics with a key path, a line and a column.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/core/limits.h"
#include "agent/core/result.h"

namespace amiboot {

struct Position {
  std::string source;  // "user-data", "/etc/amiboot/amiboot.yaml"
  int line = 0;        // 1-based; 0 = unknown
  int column = 0;      // 1-based
  bool operator==(const Position&) const = default;
};

struct Diagnostic {
  enum class Severity { Error, Warning };
  Severity severity = Severity::Error;
  Position pos;
  std::string path;  // "write_files[0].path"
  std::string message;

  /// "user-data:3:11: packages: expected a list, got an integer"
  std::string format() const;
  nlohmann::json to_json() const;
};
using Diagnostics = std::vector<Diagnostic>;

bool has_errors(const Diagnostics& diagnostics);

class Value {
 public:
  enum class Kind { Null, Scalar, Sequence, Map };
  struct Entry;

  Kind kind = Kind::Null;
  std::string scalar;
  bool plain = true;  // unquoted scalar: may be a number, boolean or null
  /// A `!!binary` scalar: `scalar` holds the decoded bytes (PyYAML's bytes).
  bool binary = false;
  std::vector<Value> items;
  std::vector<Entry> entries;  // map entries in document order
  Position pos;

  bool is_null() const { return kind == Kind::Null; }
  bool is_scalar() const { return kind == Kind::Scalar; }
  bool is_sequence() const { return kind == Kind::Sequence; }
  bool is_map() const { return kind == Kind::Map; }
  /// Map lookup; nullptr when absent or when this is not a map.
  const Value* get(std::string_view key) const;
  Value* get(std::string_view key);
  void set(std::string key, Value value);

  std::optional<bool> as_bool() const;      // YAML 1.1 booleans, as PyYAML reads them
  std::optional<long long> as_int() const;  // plain decimal, 0x, 0o
  bool looks_like_number() const;
  /// "a string", "an integer", "a boolean", "null", "a list", "a map".
  std::string type_name() const;
  nlohmann::json to_json() const;
};

struct Value::Entry {
  std::string key;
  Position key_pos;
  Value value;
};

/// A Value as JSON that keeps everything, positions included, so a stage in
/// another process can read it back exactly (value_to_json() drops the
/// positions and the scalars' quoting).
nlohmann::json value_to_stored_json(const Value& value);
/// The reverse; throws nlohmann::json::exception on a malformed document.
Value value_from_stored_json(const nlohmann::json& json);

/// Parses YAML text. Errors carry "source:line:column: ..." in their message.
/// An empty document yields a Null value. As PyYAML's SafeLoader: YAML 1.1
/// merge keys (`<<: *anchor`, `<<: [*a, *b]`) merge the maps' entries
/// (explicit keys win; in a list, earlier maps win over later ones), and a
/// `!!binary` scalar holds its base64-decoded bytes (`Value::binary`).
/// `limits` bounds the nodes and bytes after alias expansion and the nesting
/// (an error naming the limit's setting, never an exhausted memory).
Result<Value> parse_yaml(const std::string& text, const std::string& source,
                         const Limits& limits = {});

/// cloud-init's merge of cloud-config parts: maps merge recursively; a later
/// part's lists and scalars replace earlier ones.
Value merge(const Value& base, const Value& over);

/// Collects diagnostics while a module decodes its keys into a typed struct.
class Decoder {
 public:
  explicit Decoder(Diagnostics& out) : m_out(out) {}

  void error(const Value& at, const std::string& path, const std::string& message);
  void warning(const Value& at, const std::string& path, const std::string& message);
  bool failed() const { return m_errors > 0; }

  /// Any non-null scalar as its text (cloud-init accepts `content: 5`).
  std::optional<std::string> string(const Value& v, const std::string& path);
  std::optional<bool> boolean(const Value& v, const std::string& path);
  std::optional<long long> integer(const Value& v, const std::string& path);
  /// nullptr (and an error) unless v is a list / a map.
  const Value* list(const Value& v, const std::string& path);
  const Value* map(const Value& v, const std::string& path);
  /// A file the agent writes: an absolute path, no '..' component that
  /// could leave its folder, and no trailing '/' (a folder is not a file).
  std::optional<std::string> file_path(const Value& v, const std::string& path);
  /// Warns about keys of `map` not in `known`.
  void unknown_keys(const Value& map, const std::string& path,
                    std::initializer_list<std::string_view> known);

 private:
  Diagnostics& m_out;
  int m_errors = 0;
};

}  // namespace amiboot
