// SPDX-License-Identifier: Apache-2.0
#include "agent/core/config.h"

#include <gtest/gtest.h>

#include "agent/cloud_config.h"

namespace amiboot {
namespace {

Diagnostics check(const std::string& text) {
  Diagnostics d;
  auto doc = parse_yaml(text, "user-data");
  if (!doc) {
    d.push_back(Diagnostic{Diagnostic::Severity::Error, {}, "", doc.error().message});
    return d;
  }
  check_cloud_config(*doc, d);
  return d;
}

std::vector<std::string> errors(const Diagnostics& d) {
  std::vector<std::string> out;
  for (const auto& x : d) {
    if (x.severity == Diagnostic::Severity::Error) {
      out.push_back(x.format());
    }
  }
  return out;
}

TEST(Config, ValuesKeepLineAndColumn) {
  auto doc = parse_yaml("#cloud-config\na: 1\nlist:\n  - x\n  - 'y'\n", "user-data");
  ASSERT_TRUE(doc.ok());
  const Value* list = doc->get("list");
  ASSERT_NE(list, nullptr);
  EXPECT_EQ(list->items[1].pos.line, 5);
  EXPECT_EQ(list->items[1].pos.column, 5);
  EXPECT_EQ(list->items[1].scalar, "y");
  EXPECT_FALSE(list->items[1].plain);
  EXPECT_EQ(doc->get("a")->type_name(), "an integer");
  EXPECT_EQ(doc->entries[0].key_pos.line, 2);
}

TEST(Config, TabAtLineTenNamesLineTen) {
  std::string text = "#cloud-config\n";
  for (int i = 2; i <= 8; ++i) {
    text += "# comment line " + std::to_string(i) + "\n";
  }
  text += "runcmd:\n\t- echo hi\n";  // line 9, then the tab on line 10
  auto doc = parse_yaml(text, "user-data");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.error().message.rfind("user-data:10:1: found a tab character", 0), 0u)
      << doc.error().message;
}

// yaml-cpp marks one past a leading tab; the error points at the tab.
TEST(Config, ATabInTheIndentationIsReportedAtItsOwnColumn) {
  for (auto [text, where] :
       {std::pair{"#cloud-config\nwrite_files:\n\t- path: /x\n", "3:1"},
        std::pair{"#cloud-config\nusers:\n  - name: a\n \tshell: sh\n", "4:2"},
        std::pair{"#cloud-config\nusers:\n  - name: a\n\t  shell: sh\n", "4:1"}}) {
    auto doc = parse_yaml(text, "user-data");
    ASSERT_FALSE(doc.ok()) << text;
    EXPECT_EQ(doc.error().message, std::string("user-data:") + where +
                                       ": found a tab character where indentation is expected "
                                       "(YAML indents with spaces only)")
        << text;
  }
}

TEST(Config, PackagesAsAnIntegerNamesTheKeyAndLine) {
  auto e = errors(check("#cloud-config\n\npackages: 5\n"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0], "user-data:3:11: packages: expected a list, got an integer");
}

TEST(Config, RuncmdAsOneStringIsRejected) {
  auto e = errors(check("#cloud-config\nruncmd: echo hello\n"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0], "user-data:2:9: runcmd: expected a list, got a string");
}

TEST(Config, CommandItemsMustBeStringsOrLists) {
  auto e = errors(check("#cloud-config\nbootcmd:\n  - {a: 1}\n"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("user-data:3:5: bootcmd[0]: expected a command"), std::string::npos) << e[0];
}

TEST(Config, KeysOfModulesWeLackAreWarningsNamingThem) {
  auto d = check("#cloud-config\nlandscape:\n  client: {}\nfrobnicate: 1\n");
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].severity, Diagnostic::Severity::Warning);
  EXPECT_EQ(
      d[0].format(),
      "user-data:2:1: warning: landscape: amiboot has no module for this cloud-init key; ignored");
  EXPECT_EQ(d[1].format(), "user-data:4:1: warning: frobnicate: unknown key; ignored");
}

TEST(Config, DecoderFilePathIsAbsoluteStaysInItsFolderAndIsNoFolder) {
  auto doc = parse_yaml("- /etc/x.conf\n- etc/x\n- /etc/../x\n- /etc/\n- /etc/..x\n", "t");
  ASSERT_TRUE(doc.ok());
  Diagnostics d;
  Decoder decoder(d);
  std::vector<std::optional<std::string>> got;
  for (const auto& item : doc->items) {
    got.push_back(decoder.file_path(item, "f"));
  }
  EXPECT_EQ(got, (std::vector<std::optional<std::string>>{"/etc/x.conf", std::nullopt, std::nullopt,
                                                          std::nullopt, "/etc/..x"}));
  EXPECT_EQ(errors(d), (std::vector<std::string>{
                           "t:2:3: f: expected an absolute file path without '..', got 'etc/x'",
                           "t:3:3: f: expected an absolute file path without '..', got '/etc/../x'",
                           "t:4:3: f: expected an absolute file path without '..', got '/etc/'"}));
}

TEST(Config, DuplicateKeysAreErrors) {
  auto doc = parse_yaml("a: 1\nb: 2\na: 3\n", "user-data");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.error().message, "user-data:3:1: duplicate key 'a'");
}

TEST(Config, MergeMapsRecursivelyListsAndScalarsReplace) {
  auto base = parse_yaml("a: {x: 1, y: [1, 2]}\nb: keep\n", "base");
  auto over = parse_yaml("a: {y: [3]}\nc: new\n", "over");
  ASSERT_TRUE(base.ok() && over.ok());
  Value merged = merge(*base, *over);
  EXPECT_EQ(merged.to_json().dump(), R"({"a":{"x":1,"y":[3]},"b":"keep","c":"new"})");
  // The merged value still knows where each piece was written.
  EXPECT_EQ(merged.get("a")->get("y")->pos.source, "over");
  EXPECT_EQ(merged.get("a")->get("x")->pos.source, "base");
}

TEST(Config, BrokenPartIsRejectedWholeAndOthersMerge) {
  std::vector<Part> parts = {
      {PartType::CloudConfig, "a", "user-data part 1 (a)", "runcmd: [ok]\nbootcmd: [x]\n"},
      {PartType::CloudConfig, "b", "user-data part 2 (b)",
       "write_files:\n  - path: ../etc/x\nfinal_message: from b\n"},
  };
  Diagnostics d;
  auto merged = merge_cloud_config(Value{}, parts, d);
  EXPECT_EQ(merged.accepted_parts, 1);
  EXPECT_EQ(merged.rejected_parts, 1);
  EXPECT_NE(merged.config.get("runcmd"), nullptr);
  // Nothing from the broken part, not even its valid keys.
  EXPECT_EQ(merged.config.get("final_message"), nullptr);
  EXPECT_EQ(merged.config.get("write_files"), nullptr);
  ASSERT_TRUE(has_errors(d));
  EXPECT_EQ(d[0].format(),
            "user-data part 2 (b):2:11: write_files[0].path: expected an absolute path, got "
            "'../etc/x'");
}

TEST(Config, EmptyDocumentIsNothingToDo) {
  EXPECT_TRUE(check("#cloud-config\n").empty());
  EXPECT_TRUE(check("").empty());
}

TEST(Config, TopLevelMustBeAMap) {
  auto e = errors(check("#cloud-config\n- a\n- b\n"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0], "user-data:2:1: expected a map of cloud-config keys, got a list");
}

TEST(Config, YamlBooleansAndIntegersAsPyYamlReadsThem) {
  auto doc = parse_yaml("a: yes\nb: off\nc: 0x1f\nd: '5'\ne: 0o17\n", "t");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->get("a")->as_bool(), true);
  EXPECT_EQ(doc->get("b")->as_bool(), false);
  EXPECT_EQ(doc->get("c")->as_int(), 31);
  EXPECT_EQ(doc->get("d")->as_int(), std::nullopt);  // quoted: a string
  EXPECT_EQ(doc->get("d")->type_name(), "a string");
  EXPECT_EQ(doc->get("e")->as_int(), 15);
}

TEST(Config, MergeKeyMergesTheAnchoredMapAndExplicitKeysWin) {
  auto doc = parse_yaml(
      "base: &base\n"
      "  owner: root:root\n"
      "  permissions: '0600'\n"
      "file:\n"
      "  <<: *base\n"
      "  permissions: '0644'\n"
      "  path: /etc/x\n",
      "user-data");
  ASSERT_TRUE(doc.ok()) << doc.error().message;
  const Value* file = doc->get("file");
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(file->to_json().dump(),
            R"({"owner":"root:root","path":"/etc/x","permissions":"0644"})");
  EXPECT_EQ(file->get("<<"), nullptr);
  // The merged entry keeps where it was written (the anchor's map), the
  // explicit one where it overrode it.
  EXPECT_EQ(file->get("owner")->pos, (Position{"user-data", 2, 10}));
  EXPECT_EQ(file->get("permissions")->pos, (Position{"user-data", 6, 16}));
  EXPECT_EQ(file->get("permissions")->scalar, "0644");
  // PyYAML's order: merged keys first, then the map's own.
  ASSERT_EQ(file->entries.size(), 3u);
  EXPECT_EQ(file->entries[0].key, "owner");
  EXPECT_EQ(file->entries[1].key, "permissions");
  EXPECT_EQ(file->entries[2].key, "path");
}

TEST(Config, MergeKeyListEarlierMapsWinOverLaterOnes) {
  auto doc = parse_yaml(
      "a: &a {x: from-a, y: from-a}\n"
      "b: &b {x: from-b, z: from-b}\n"
      "c: {<<: [*a, *b], y: own}\n"
      "d:\n"
      "  <<: [*b, *a]\n",
      "user-data");
  ASSERT_TRUE(doc.ok()) << doc.error().message;
  EXPECT_EQ(doc->get("c")->get("x")->scalar, "from-a");
  EXPECT_EQ(doc->get("c")->get("y")->scalar, "own");
  EXPECT_EQ(doc->get("c")->get("z")->scalar, "from-b");
  EXPECT_EQ(doc->get("d")->get("x")->scalar, "from-b");
  EXPECT_EQ(doc->get("d")->get("y")->scalar, "from-a");
  // A merge of a map that merges itself.
  auto nested = parse_yaml("a: &a {x: 1}\nb: &b {<<: *a, y: 2}\nc: {<<: *b}\n", "user-data");
  ASSERT_TRUE(nested.ok()) << nested.error().message;
  EXPECT_EQ(nested->get("c")->to_json().dump(), R"({"x":1,"y":2})");
}

TEST(Config, MergeKeyOfAnythingButMapsIsAnErrorWithPosition) {
  auto scalar = parse_yaml("a: &a hello\nb:\n  <<: *a\n", "user-data");
  ASSERT_FALSE(scalar.ok());
  EXPECT_EQ(scalar.error().message,
            "user-data:1:4: merge key '<<': expected a map or a list of maps to merge, got a "
            "string");
  auto list = parse_yaml("a: &a {x: 1}\nb:\n  <<: [*a, 5]\n", "user-data");
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().message,
            "user-data:3:12: merge key '<<': expected a map or a list of maps to merge, found an "
            "integer in the list");
  auto null = parse_yaml("b:\n  <<:\n", "user-data");
  ASSERT_FALSE(null.ok());
  EXPECT_NE(null.error().message.find("merge key '<<'"), std::string::npos);
  // Explicit keys still may not repeat.
  auto dup = parse_yaml("a: &a {x: 1}\nb: {<<: *a, y: 1, y: 2}\n", "user-data");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().message, "user-data:2:19: duplicate key 'y'");
}

TEST(Config, AQuotedMergeKeyIsAnOrdinaryKey) {
  auto doc = parse_yaml("a: &a {x: 1}\nb: {'<<': *a}\n", "user-data");
  ASSERT_TRUE(doc.ok()) << doc.error().message;
  ASSERT_NE(doc->get("b")->get("<<"), nullptr);
  EXPECT_EQ(doc->get("b")->get("x"), nullptr);
}

TEST(Config, BinaryScalarsHoldTheirBytes) {
  auto doc = parse_yaml("a: !!binary |\n  AP8K\n  gA==\nb: !!binary aGk=\nc: aGk=\n", "user-data");
  ASSERT_TRUE(doc.ok()) << doc.error().message;
  const Value* a = doc->get("a");
  EXPECT_EQ(a->scalar, std::string("\x00\xff\x0a\x80", 4));
  EXPECT_TRUE(a->binary);
  EXPECT_FALSE(a->plain);
  EXPECT_EQ(doc->get("b")->scalar, "hi");
  EXPECT_EQ(doc->get("c")->scalar, "aGk=");
  EXPECT_FALSE(doc->get("c")->binary);
  // As JSON (merged_cfg, query), the bytes are written as cloud-init writes them.
  EXPECT_EQ(a->to_json(), "ci-b64:AP8KgA==");
  // The stored form keeps them exactly, though they are not UTF-8.
  Value back = value_from_stored_json(nlohmann::json::parse(value_to_stored_json(*doc).dump()));
  EXPECT_EQ(back.get("a")->scalar, std::string("\x00\xff\x0a\x80", 4));
  EXPECT_TRUE(back.get("a")->binary);
  EXPECT_FALSE(back.get("c")->binary);

  auto bad = parse_yaml("x: 1\ny: !!binary 'not*base64'\n", "user-data");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.rfind("user-data:2:4: !!binary: not valid base64", 0), 0u)
      << bad.error().message;
}

}  // namespace
}  // namespace amiboot
