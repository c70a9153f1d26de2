// SPDX-License-Identifier: Apache-2.0
// parse_yaml() of config.h: yaml-cpp's parser events turned straight into
// Values, without yaml-cpp's own Node graph (YAML::Load) built and copied on
// the way: work every command that reads YAML paid for nothing (issue 16).
// The Values are the same, position for position and error for error
// (tests/unit/yaml_events_test.cc and the yaml_values fuzz target compare
// them with a conversion of YAML::Load's Node).
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <cstdint>
#include <istream>
#include <limits>
#include <optional>
#include <streambuf>
#include <unordered_map>
#include <unordered_set>

#include "agent/core/codecs.h"
#include "agent/core/config.h"
#include "agent/core/strings.h"

namespace amiboot {
namespace {

constexpr char kBinaryTag[] = "tag:yaml.org,2002:binary";

std::string at(const Position& pos) {
  return pos.source + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column) + ": ";
}

// One parser event. While an anchor is open the events are kept, so that an
// alias can replay its node: YAML's alias is a second reference to a node,
// and a Value is a copy of it whose every node is counted against the limits
// and checked for depth again where the alias stands, merge keys and all,
// exactly as the first time.
struct Event {
  enum class Type : std::uint8_t {
    Null,
    Scalar,
    Alias,
    SequenceStart,
    SequenceEnd,
    MapStart,
    MapEnd
  };
  Type type;
  YAML::Mark mark;
  YAML::anchor_t anchor;  // an alias's node
  std::string tag;
  std::string value;
};

// An event without copies of its strings, as the parser hands it over.
struct EventView {
  Event::Type type;
  const YAML::Mark& mark;
  YAML::anchor_t anchor;
  const std::string& tag;
  const std::string& value;
};

EventView view(const Event& e) {
  return {e.type, e.mark, e.anchor, e.tag, e.value};
}

const std::string kNoText;

// Builds one document's Value from the parser's events. The first mistake
// is kept and the rest of the document ignored, but the parser goes on to
// its end: a syntax error anywhere in the document wins over a mistake of
// its values, as it did when the whole document was parsed first.
class ValueBuilder final : public YAML::EventHandler {
 public:
  ValueBuilder(const std::string& source, const Limits& limits)
      : m_source(source), m_limits(limits), m_root_fallback{source, 1, 1} {}

  Result<Value> result() && {
    if (!m_root && !m_error) {
      // No document at all: a null, as YAML::Load's empty Node was.
      apply({Event::Type::Null, YAML::Mark::null_mark(), 0, kNoText, kNoText});
    }
    if (m_error) {
      return error(std::move(*m_error));
    }
    return std::move(*m_root);
  }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    node({Event::Type::Null, mark, anchor, kNoText, kNoText});
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    node({Event::Type::Alias, mark, anchor, kNoText, kNoText});
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    node({Event::Type::Scalar, mark, anchor, tag, value});
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    node({Event::Type::SequenceStart, mark, anchor, tag, kNoText});
  }
  void OnSequenceEnd() override { end(Event::Type::SequenceEnd); }
  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    node({Event::Type::MapStart, mark, anchor, tag, kNoText});
  }
  void OnMapEnd() override { end(Event::Type::MapEnd); }

 private:
  // Where an anchored node's events are in m_log; `end` is unknown while
  // the node is open (an alias inside it refers to itself).
  struct Anchored {
    std::size_t begin = 0;
    std::size_t end = std::numeric_limits<std::size_t>::max();
  };

  // A collection being built.
  struct Frame {
    Value value;
    int depth = 0;
    // A map's key waiting for its value.
    bool has_key = false;
    bool merge_key = false;
    std::string key;
    Position key_pos;
    // Entries from merge keys, and the map's own ones (see finish_map()).
    std::vector<Value::Entry> merged;
    std::vector<Value::Entry> own;
    std::unordered_set<std::string> own_keys;  // once `own` is too long to scan
  };

  // A node event from the parser: kept if an anchor is open, then applied.
  void node(const EventView& e) {
    if (m_error) {
      return;
    }
    bool anchored = e.anchor != 0 && e.type != Event::Type::Alias;
    if (anchored) {
      if (m_anchors.size() <= e.anchor) {
        m_anchors.resize(e.anchor + 1);
      }
      m_anchors[e.anchor] = Anchored{m_log.size()};
    }
    if (anchored || m_open_anchors > 0) {
      m_log.push_back(Event{e.type, e.mark, e.anchor, e.tag, e.value});
    }
    bool opens = e.type == Event::Type::SequenceStart || e.type == Event::Type::MapStart;
    if (opens) {
      m_open.push_back(anchored ? e.anchor : 0);
      if (anchored) {
        ++m_open_anchors;
      }
    } else if (anchored) {
      m_anchors[e.anchor].end = m_log.size();
    }
    apply(e);
  }

  void end(Event::Type type) {
    if (m_error) {
      return;
    }
    if (m_open_anchors > 0) {
      m_log.push_back(Event{type, YAML::Mark::null_mark(), 0, {}, {}});
    }
    YAML::anchor_t anchor = m_open.back();
    m_open.pop_back();
    if (anchor != 0) {
      m_anchors[anchor].end = m_log.size();
      --m_open_anchors;
    }
    apply({type, YAML::Mark::null_mark(), 0, kNoText, kNoText});
  }

  void apply(const EventView& e) {
    if (m_error) {
      return;
    }
    if (e.type == Event::Type::SequenceEnd || e.type == Event::Type::MapEnd) {
      Frame frame = std::move(m_stack.back());
      m_stack.pop_back();
      if (frame.value.is_map()) {
        finish_map(frame);
      }
      finish(std::move(frame.value));
      return;
    }
    if (!m_stack.empty() && m_stack.back().value.is_map() && !m_stack.back().has_key) {
      take_key(e);
      return;
    }
    if (e.type == Event::Type::Alias) {
      replay(e.anchor);
      return;
    }
    start(e);
  }

  void replay(YAML::anchor_t anchor) {
    Anchored range = m_anchors[anchor];
    std::size_t end = std::min(range.end, m_log.size());
    for (std::size_t i = range.begin; i < end && !m_error; ++i) {
      apply(view(m_log[i]));
    }
  }

  Position position_of(const YAML::Mark& mark, const Position& fallback) const {
    if (mark.line < 0) {
      return fallback;
    }
    return Position{m_source, mark.line + 1, mark.column + 1};
  }

  // A key is not a node of the Value: it is neither counted nor checked for
  // depth, and an alias as a key is the anchored node's text where it was
  // written.
  void take_key(const EventView& e) {
    const EventView key = e.type == Event::Type::Alias ? view(m_log[m_anchors[e.anchor].begin]) : e;
    Frame& frame = m_stack.back();
    Position pos = position_of(key.mark, frame.value.pos);
    if (key.type != Event::Type::Scalar) {
      fail(at(pos) + "map keys must be plain strings");
      return;
    }
    frame.has_key = true;
    frame.key = key.value;
    frame.key_pos = std::move(pos);
    // Only a plain `<<` is a merge key; a quoted '<<' is a string key.
    // yaml-cpp tags plain scalars "?" and quoted or block ones "!".
    frame.merge_key = key.value == "<<" && key.tag == "?";
  }

  // A node (not a key): its checks, then a scalar or null finished, or a
  // collection opened.
  void start(const EventView& e) {
    int depth = 0;
    const Position* fallback = &m_root_fallback;
    if (!m_stack.empty()) {
      const Frame& parent = m_stack.back();
      depth = parent.depth + 1;
      fallback = parent.value.is_map() ? &parent.key_pos : &parent.value.pos;
    }
    Value v;
    v.pos = position_of(e.mark, *fallback);
    if (depth > m_limits.yaml_depth) {
      fail(at(v.pos) + "nested deeper than " + std::to_string(m_limits.yaml_depth) + " levels (" +
           limit_setting("yaml_depth") + "); the document is refused");
      return;
    }
    if (++m_nodes > m_limits.yaml_nodes) {
      fail(at(v.pos) + "more than " + std::to_string(m_limits.yaml_nodes) +
           " YAML nodes once aliases are expanded (" + limit_setting("yaml_nodes") +
           "); the document is refused");
      return;
    }
    switch (e.type) {
      case Event::Type::Null:
        v.kind = Value::Kind::Null;
        finish(std::move(v));
        return;
      case Event::Type::Scalar:
        v.kind = Value::Kind::Scalar;
        m_bytes += e.value.size();
        if (m_bytes > m_limits.user_data_bytes) {
          fail(at(v.pos) + "the document's text exceeds " + size_text(m_limits.user_data_bytes) +
               " once aliases are expanded (" + limit_setting("user_data_bytes") +
               "); the document is refused");
          return;
        }
        v.scalar = e.value;
        v.plain = e.tag == "?";
        if (e.tag == kBinaryTag) {
          // PyYAML gives bytes: base64 with any line breaks.
          auto bytes = base64_decode(v.scalar);
          if (!bytes) {
            fail(at(v.pos) + "!!binary: not valid base64: " + bytes.error().message);
            return;
          }
          v.scalar = std::move(*bytes);
          v.binary = true;
        }
        finish(std::move(v));
        return;
      case Event::Type::SequenceStart:
      case Event::Type::MapStart:
        v.kind = e.type == Event::Type::MapStart ? Value::Kind::Map : Value::Kind::Sequence;
        m_stack.push_back(Frame{std::move(v), depth});
        return;
      default:
        return;
    }
  }

  // A finished node into its parent, or the root.
  void finish(Value v) {
    if (m_stack.empty()) {
      m_root = std::move(v);
      return;
    }
    Frame& frame = m_stack.back();
    if (frame.value.is_sequence()) {
      frame.value.items.push_back(std::move(v));
      return;
    }
    frame.has_key = false;
    if (frame.merge_key) {
      merge_from(frame, std::move(v));
      return;
    }
    if (has_own_key(frame, frame.key)) {
      fail(at(frame.key_pos) + "duplicate key '" + frame.key + "'");
      return;
    }
    m_bytes += frame.key.size();
    frame.own.push_back(Value::Entry{std::move(frame.key), std::move(frame.key_pos), std::move(v)});
  }

  // Small maps are scanned; a large one gets a hash index, so that it still
  // parses in linear time.
  static bool has_own_key(Frame& frame, const std::string& key) {
    constexpr std::size_t kScan = 16;
    if (frame.own.size() < kScan) {
      for (const auto& e : frame.own) {
        if (e.key == key) {
          return true;
        }
      }
      if (frame.own.size() + 1 == kScan) {
        for (const auto& e : frame.own) {
          frame.own_keys.insert(e.key);
        }
        frame.own_keys.insert(key);
      }
      return false;
    }
    return !frame.own_keys.insert(key).second;
  }

  // YAML 1.1 merge keys resolved as PyYAML's SafeConstructor.flatten_mapping
  // does: the merged maps' entries come first (a list's maps in reverse, so
  // that earlier maps win), then the map's own entries, and a later entry
  // replaces an earlier one with the same key. Merged entries keep the
  // positions where they were written.
  void merge_from(Frame& frame, Value from) {
    if (from.is_map()) {
      for (auto& e : from.entries) {
        frame.merged.push_back(std::move(e));
      }
      return;
    }
    if (!from.is_sequence()) {
      fail(at(from.pos) + "merge key '<<': expected a map or a list of maps to merge, got " +
           from.type_name());
      return;
    }
    for (const auto& item : from.items) {
      if (!item.is_map()) {
        fail(at(item.pos) + "merge key '<<': expected a map or a list of maps to merge, found " +
             item.type_name() + " in the list");
        return;
      }
    }
    for (auto it = from.items.rbegin(); it != from.items.rend(); ++it) {
      for (auto& e : it->entries) {
        frame.merged.push_back(std::move(e));
      }
    }
  }

  static void finish_map(Frame& frame) {
    std::vector<Value::Entry>& entries = frame.value.entries;
    if (frame.merged.empty()) {
      entries = std::move(frame.own);  // own keys are unique
      return;
    }
    std::unordered_map<std::string, std::size_t> index;
    for (auto* list : {&frame.merged, &frame.own}) {
      for (auto& e : *list) {
        auto [it, added] = index.emplace(e.key, entries.size());
        if (!added) {
          Value::Entry& existing = entries[it->second];
          existing.key_pos = std::move(e.key_pos);
          existing.value = std::move(e.value);
        } else {
          entries.push_back(std::move(e));
        }
      }
    }
  }

  void fail(std::string message) {
    if (!m_error) {
      m_error = std::move(message);
    }
  }

  const std::string& m_source;
  const Limits& m_limits;
  const Position m_root_fallback;
  std::vector<Frame> m_stack;
  std::optional<Value> m_root;
  std::optional<std::string> m_error;
  // What the document expands to (agent/core/limits.h): each alias is
  // charged in full, as it is copied.
  std::size_t m_nodes = 0;
  std::size_t m_bytes = 0;
  // Anchors: their events, by anchor number (yaml-cpp numbers them from 1).
  std::vector<Event> m_log;
  std::vector<Anchored> m_anchors;
  std::vector<YAML::anchor_t> m_open;  // each open collection's anchor, or 0
  std::size_t m_open_anchors = 0;
};

// The text as an istream, without a copy (YAML::Parser reads a stream).
class TextBuffer : public std::streambuf {
 public:
  explicit TextBuffer(const std::string& text) {
    char* begin = const_cast<char*>(text.data());  // only read
    setg(begin, begin, begin + text.size());
  }
};

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
  ValueBuilder builder(source, limits);
  try {
    TextBuffer buffer(text);
    std::istream stream(&buffer);
    YAML::Parser parser(stream);
    parser.HandleNextDocument(builder);  // the first document only, as YAML::Load
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
  return std::move(builder).result();
}

}  // namespace amiboot
