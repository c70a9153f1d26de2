// SPDX-License-Identifier: Apache-2.0
// parse_yaml() builds Values from yaml-cpp's parser events
// (agent/core/config_yaml.cc); before, it converted YAML::Load's Node graph.
// Differential tests: over every YAML file of the tree, the fuzz corpora,
// hand-written edge cases and mutations of them all, under the default
// limits and tight ones, both give the same Value, positions included, or
// the same error text (compared as node_reference::exact_text, byte for
// byte; value_to_stored_json's JSON text wants UTF-8).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iterator>
#include <string>
#include <vector>

#include "agent/core/config.h"
#include "tests/support/test_util.h"
#include "tests/support/yaml_node_reference.h"

namespace amiboot {
namespace {

namespace fs = std::filesystem;
using testing::node_reference::outcome;

std::vector<Limits> limit_sets() {
  std::vector<Limits> sets(6);
  sets[1].yaml_depth = 2;
  sets[2].yaml_nodes = 7;
  sets[3].user_data_bytes = 40;
  sets[4].yaml_depth = 0;
  sets[4].yaml_nodes = 0;
  sets[5].yaml_depth = 600;  // past yaml-cpp's own guard
  sets[5].yaml_nodes = 300;
  sets[5].user_data_bytes = 1000;
  return sets;
}

// The number of (text, limits) pairs that differ; each one reported.
int differences(const std::string& name, const std::string& text) {
  int differ = 0;
  int i = 0;
  for (const Limits& limits : limit_sets()) {
    std::string expected = outcome(testing::node_reference::parse_yaml(text, "doc", limits));
    std::string got = outcome(parse_yaml(text, "doc", limits));
    if (got != expected) {
      ++differ;
      ADD_FAILURE() << name << " (limit set " << i << ")\n--- text:\n"
                    << text << "\n--- Node conversion:\n"
                    << expected << "\n--- events:\n"
                    << got;
    }
    ++i;
  }
  return differ;
}

std::vector<std::pair<std::string, std::string>> tree_corpus() {
  std::vector<std::pair<std::string, std::string>> out;
  const fs::path root = testing::source_dir();
  for (const char* dir : {"examples", "tests", "packaging"}) {
    for (const auto& entry : fs::recursive_directory_iterator(root / dir)) {
      if (!entry.is_regular_file() || entry.file_size() > (1 << 20)) {
        continue;
      }
      const fs::path& p = entry.path();
      std::string ext = p.extension().string();
      bool in_corpus = p.string().find("/tests/fuzz/corpus/") != std::string::npos;
      bool yaml_text = ext == ".yaml" || ext == ".yml";
      bool user_data = p.filename().string().find("user-data") != std::string::npos;
      if (in_corpus || yaml_text || user_data) {
        out.emplace_back(fs::relative(p, root).string(), testing::read_file(p.string()));
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string nested(int levels, const std::string& open, const std::string& close) {
  std::string s;
  for (int i = 0; i < levels; ++i) {
    s += open;
  }
  s += "x";
  for (int i = 0; i < levels; ++i) {
    s += close;
  }
  return s;
}

std::string many_keys(int n, int duplicate_at) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    s += "k" + std::to_string(i == duplicate_at ? 0 : i) + ": " + std::to_string(i) + "\n";
  }
  return s;
}

std::vector<std::string> edge_cases() {
  return {
      // Empty, null and several documents.
      "",
      "---",
      "--- \n...\n",
      "# only a comment\n",
      "~",
      "null",
      "a: 1\n---\nb: 2\n",
      "--- a\n--- [b\n",
      "a: 1\n...\n--- b\n",
      "%YAML 1.2\n---\na: 1\n",
      "%YAML 1.1\n%YAML 1.1\n---\na: 1\n",
      "a:\nb: ~\nc: null\nd: Null\n",
      // Scalars, styles and tags.
      "a: 'x'\nb: \"y\\n\\t\"\nc: plain text\n  continued\n",
      "a: |\n  x\n  y\nb: >\n  folded\n  text\nc: |-\n  strip\nd: |+\n  keep\n\ne: x\n",
      "a: !!str 1\nb: !foo bar\nc: !!int 3\nd: !foo\ne: !!null\nf: ! a\n",
      "!!map {a: 1}",
      "a: !!seq [1, 2]\nb: !!map {c: d}\n",
      "a: !!binary aGVsbG8=\n",
      "a: !!binary |\n  aGVs\n  bG8=\n",
      "a: !!binary '!!!'\n",
      "--- !!binary aGVsbG8=\n",
      "a: !!binary\n",
      "a: !<tag:yaml.org,2002:binary> aGk=\n",
      "%TAG !e! tag:yaml.org,2002:\n---\na: !e!binary aGk=\n",
      // Flow styles.
      "{a: [1, {b: c}], d: 'e', f: }\n",
      "[a, b: c, {d: e}, [f]]\n",
      "- [a, b]\n- {c: d}\n- - e\n  - f\n",
      "a: [1, 2\n",
      "{a: 1, a: 2}\n",
      // Line endings, tabs, encodings.
      "a: 1\r\nb:\r\n  - x\r\n  - y\r\n",
      "a:\n\tb: 1\n",
      "\truncmd: [a]\n",
      "a: b\tc\n",
      "\xEF\xBB\xBF"
      "a: 1\n",
      // UTF-16LE "a: 1\n" after its byte-order mark: 2 + 5 * 2 bytes.
      std::string("\xFF\xFE"
                  "a\0:\0 \0"
                  "1\0\n\0",
                  12),
      "a: \x80\xFF\n",
      // Syntax errors, and one after a mistake of the values: the syntax
      // error wins; a second document is not read.
      "a: b: c\n",
      "*unknown\n",
      "a: 'unterminated\n",
      "&a &b x\n",
      "a: 1\na: 2\nb: [\n",
      "a: 1\na: 2\n---\nb: [\n",
      "- a\nb: c\n",
      // Duplicate keys, and a 17th key that repeats the first (hash index).
      "a: 1\na: 2\n",
      "a: 1\nb:\n  c: 1\n  c: 2\na: 3\n",
      many_keys(40, -1),
      many_keys(40, 16),
      many_keys(40, 15),
      many_keys(40, 39),
      // Keys that are not scalars.
      "? [a, b]\n: 1\n",
      "? {a: 1}\n: x\n",
      ": x\n",
      "~: x\n",
      "null: x\n",
      "'null': x\n",
      "? |\n  block\n: 1\n",
      "? &k [a]\n: 1\nb: *k\n",
      "a: 1\n? [b]\n: 2\n",
      "a: {[b]: c}\n",
      // Anchors and aliases.
      "a: &x 1\nb: *x\n",
      "base: &b {x: 1, y: [1, 2]}\nc: *b\nd: [*b, *b]\n",
      "&k key: 1\n*k : 2\n",
      "&k key: 1\nv: *k\n",
      "? &k key\n: 1\nother: *k\n",
      "a: &m {k: v}\n*m : 1\n",
      "a: &s [1]\n*s : 1\n",
      "a: &n\n*n : 1\n",
      "a: &n ~\nb: *n\n",
      "&k !!binary aGk=: 1\nv: *k\n",
      "&k !!binary '!!': 1\nv: *k\n",
      "&k !!binary '!!': 1\n",
      "x: &s str\ny: &m {k: *s, l: [*s]}\nz: *m\n",
      "a: &x 1\nb: &x 2\nc: *x\n",
      "a: &a [x, &b [y, *a]]\n",
      "&r [*r]\n",
      "&r {a: *r}\n",
      "&r {a: [1, *r]}\n",
      "&r {*r : 1}\n",
      "&r [1, 2, {a: b, c: *r}]\n",
      "&r {<<: *r}\n",
      "a: &deep {b: {c: {d: 1}}}\nl1: {l2: {l3: *deep}}\n",
      "a: &x [1, *x]\n",
      testing::alias_bomb(3),
      testing::alias_bomb(9),
      // Merge keys.
      "base: &b {a: 1, b: 2}\nc:\n  <<: *b\n  b: 3\n",
      "x: &x {a: 1, b: 1}\ny: &y {b: 2, c: 2}\nz:\n  <<: [*x, *y]\n  c: 3\n",
      "x: &x {a: 1}\nz:\n  <<: *x\n  <<: {a: 2, d: 4}\n",
      "a:\n  <<: 5\n",
      "a:\n  <<: [1]\n",
      "a:\n  <<: [{b: 1}, 2]\n",
      "a:\n  <<:\n",
      "a:\n  '<<': x\n",
      "a:\n  !!str <<: x\n",
      "a:\n  <<: {b: 1}\n  c: 2\n  c: 3\n",
      "a:\n  <<: {b: 1, b: 2}\n",
      "a:\n  <<: [{b: 1}, {b: 2}]\n  <<: {b: 3}\n",
      "? &mk <<\n: {a: 1}\nb:\n  *mk : {c: 2}\n",
      "x: &x {a: [1, 2], b: {c: d}}\ny:\n  <<: *x\n  b: e\n",
      // Nesting.
      nested(3, "[", "]"),
      nested(64, "[", "]"),
      nested(65, "[", "]"),
      nested(70, "{a: ", "}"),
      nested(499, "[", "]"),
      nested(600, "[", "]"),
      "a:\n  b:\n    c:\n      d:\n        - e\n        - f: g\n",
      // Budgets.
      "a: " + std::string(50, 'x') + "\n",
      "a: &a " + std::string(20, 'x') + "\nb: [*a, *a]\n",
      "a: &a {k: v}\nb: [*a, *a, *a, *a]\n",
      "long_key_" + std::string(40, 'k') + ": 1\nb: c\n",
  };
}

TEST(YamlEvents, EveryYamlFileOfTheTreeParsesAsTheNodeConversionDid) {
  auto corpus = tree_corpus();
  ASSERT_GE(corpus.size(), 100u) << "the tree's YAML files and fuzz corpora were not found";
  int differ = 0;
  for (const auto& [name, text] : corpus) {
    differ += differences(name, text);
  }
  EXPECT_EQ(differ, 0);
}

TEST(YamlEvents, EdgeCasesParseAsTheNodeConversionDid) {
  int differ = 0;
  int n = 0;
  for (const auto& text : edge_cases()) {
    differ += differences("edge case " + std::to_string(n++), text);
  }
  EXPECT_EQ(differ, 0);
}

// The edge cases are only worth something if they reach the paths they are
// for: a few outcomes spelled out.
TEST(YamlEvents, EdgeCasesReachWhatTheyAreFor) {
  auto err = [](const std::string& text, const Limits& limits = {}) {
    auto r = parse_yaml(text, "doc", limits);
    return r ? std::string("no error") : r.error().message;
  };
  EXPECT_EQ(err("a: 1\na: 2\nb: [\n").rfind("doc:4:1: ", 0), 0u);
  EXPECT_EQ(err("a: 1\na: 2\n---\nb: [\n"), "doc:2:1: duplicate key 'a'");
  EXPECT_EQ(err(many_keys(40, 16)), "doc:17:1: duplicate key 'k0'");
  // An alias as a key stands where its anchored node was written (its
  // mark is the anchor's).
  EXPECT_EQ(err("&k key: 1\n*k : 2\n"), "doc:1:1: duplicate key 'key'");
  EXPECT_EQ(err("a: &m {k: v}\n*m : 1\n"), "doc:1:4: map keys must be plain strings");
  EXPECT_NE(err("&r [*r]\n").find("nested deeper than 64 levels"), std::string::npos);
  EXPECT_NE(err(testing::alias_bomb(9)).find("more than 100000 YAML nodes"), std::string::npos);
  EXPECT_NE(err(nested(600, "[", "]")).find("nested deeper than 64 levels"), std::string::npos);
  Limits tight;
  tight.user_data_bytes = 40;
  EXPECT_NE(err("a: &a " + std::string(20, 'x') + "\nb: [*a, *a]\n", tight)
                .find("exceeds 40 bytes once aliases are expanded"),
            std::string::npos);

  auto value = [](const std::string& text) {
    return value_to_stored_json(*parse_yaml(text, "doc"));
  };
  // An alias is a copy with the positions of the anchored node.
  auto v = value("a: &x {k: v}\nb: *x\n");
  EXPECT_EQ(v["entries"][1][2]["pos"], nlohmann::json::parse(R"(["doc", 1, 4])"));
  EXPECT_EQ(v["entries"][1][1], nlohmann::json::parse(R"(["doc", 2, 1])"));
  auto b = *parse_yaml("a: !!binary aGVsbG8=\n", "doc");
  EXPECT_TRUE(b.get("a")->binary);
  EXPECT_EQ(b.get("a")->scalar, "hello");
  auto empty = *parse_yaml("", "doc");
  EXPECT_TRUE(empty.is_null());
  EXPECT_EQ(empty.pos, (Position{"doc", 1, 1}));
}

// Each text of the corpus and the edge cases, changed at random in a few
// places (a fixed seed: the same texts on every run).
TEST(YamlEvents, MutatedTextsParseAsTheNodeConversionDid) {
  std::vector<std::string> seeds = edge_cases();
  for (auto& [name, text] : tree_corpus()) {
    if (text.size() < 4096) {
      seeds.push_back(text);
    }
  }
  static const std::string k_pieces[] = {
      ":", " ", "-", "\n", "\t", "&a ",  "*a", "&b ", "*b", "!!binary ", "!x ",  "[", "]", "{",
      "}", ",", "'", "\"", "?",  "<<: ", "#",  "|",   ">",  "~",         "\r\n", "a", "0", "---\n"};
  std::uint64_t state = 0x9e3779b97f4a7c15ULL;
  auto next = [&state]() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  int differ = 0;
  int cases = 0;
  for (int round = 0; round < 4; ++round) {
    for (const auto& seed : seeds) {
      std::string text = seed;
      int edits = 1 + static_cast<int>(next() % 4);
      for (int e = 0; e < edits; ++e) {
        std::size_t at = text.empty() ? 0 : next() % (text.size() + 1);
        switch (next() % 3) {
          case 0:
            text.insert(at, k_pieces[next() % std::size(k_pieces)]);
            break;
          case 1:
            text.erase(at, 1 + next() % 3);
            break;
          default: {
            std::size_t from = text.empty() ? 0 : next() % text.size();
            text.insert(at, text.substr(from, 1 + next() % 12));
          }
        }
      }
      differ += differences("mutation " + std::to_string(cases++), text);
      if (differ > 20) {
        FAIL() << "stopping after 20 differences";
      }
    }
  }
  EXPECT_GT(cases, 1000);
  EXPECT_EQ(differ, 0);
}

}  // namespace
}  // namespace amiboot
