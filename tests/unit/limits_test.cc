// SPDX-License-Identifier: Apache-2.0
// The limits on what untrusted input may cost (agent/core/limits.h): each is
// an error naming its setting, and each is settable in the image config.
#include <gtest/gtest.h>

#include <string>

#include "agent/cloud_config.h"
#include "agent/core/config.h"
#include "agent/core/settings.h"
#include "agent/core/user_data.h"
#include "tests/support/test_util.h"

namespace amiboot {
namespace {

TEST(Limits, AnAliasBombIsRefusedByItsNodeCountNamingTheSetting) {
  auto doc = parse_yaml(testing::alias_bomb(9), "user-data");
  ASSERT_FALSE(doc);
  EXPECT_NE(
      doc.error().message.find(
          "more than 100000 YAML nodes once aliases are expanded (amiboot.limits.yaml_nodes)"),
      std::string::npos)
      << doc.error().message;
  EXPECT_TRUE(doc.error().message.starts_with("user-data:")) << doc.error().message;
}

TEST(Limits, AliasesWithinTheBudgetStillExpand) {
  Limits limits;
  limits.yaml_nodes = 20;
  auto doc = parse_yaml("a: &a [1, 2]\nb: [*a, *a]\n", "user-data", limits);
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(doc->get("b")->items[1].items[1].scalar, "2");
  limits.yaml_nodes = 8;
  EXPECT_FALSE(parse_yaml("a: &a [1, 2]\nb: [*a, *a]\n", "user-data", limits));
}

TEST(Limits, AnAliasedLongStringCountsAgainstTheDecodedBytes) {
  Limits limits;
  limits.user_data_bytes = 1000;
  std::string text = "a: &a " + std::string(400, 'x') + "\nb: [*a, *a]\n";
  auto doc = parse_yaml(text, "user-data", limits);
  ASSERT_FALSE(doc);
  // Where the aliased value was written: yaml-cpp marks an alias so.
  EXPECT_NE(doc.error().message.find("user-data:1:4: the document's text exceeds 1000 bytes"),
            std::string::npos)
      << doc.error().message;
  EXPECT_NE(doc.error().message.find("amiboot.limits.user_data_bytes"), std::string::npos);
}

TEST(Limits, DeepNestingNamesTheLimitAndWhereItWasPassed) {
  Limits limits;
  limits.yaml_depth = 5;
  auto doc =
      parse_yaml("a:\n  b:\n    c:\n      d:\n        e:\n          f: 1\n", "x.yaml", limits);
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().message,
            "x.yaml:6:14: nested deeper than 5 levels (amiboot.limits.yaml_depth); the document "
            "is refused");
}

// Past about 500 levels yaml-cpp's own guard stops the parse with only "bad
// file"; the error still names the limit (1 KiB of brackets did that).
TEST(Limits, NestingDeeperThanTheParserAllowsStillNamesTheLimit) {
  for (std::string open : {"[", "{a: "}) {
    std::string text = "x: ";
    for (int i = 0; i < 600; ++i) {
      text += open;
    }
    auto doc = parse_yaml(text, "user-data", Limits{});
    ASSERT_FALSE(doc) << open;
    EXPECT_NE(doc.error().message.find(
                  "nested deeper than 64 levels (amiboot.limits.yaml_depth); the document is "
                  "refused"),
              std::string::npos)
        << doc.error().message;
    EXPECT_EQ(doc.error().message.rfind("user-data:1:", 0), 0u) << doc.error().message;
  }
  Limits generous;
  generous.yaml_depth = 10000;
  auto doc = parse_yaml("x: " + std::string(600, '['), "user-data", generous);
  ASSERT_FALSE(doc);
  EXPECT_NE(doc.error().message.find("nested deeper than the YAML parser allows (about 500 "
                                     "levels, whatever amiboot.limits.yaml_depth says)"),
            std::string::npos)
      << doc.error().message;
}

TEST(Limits, AHugeFlatMapParsesWithEveryKey) {
  std::string text;
  for (int k = 0; k < 20000; ++k) {
    text += "k" + std::to_string(k) + ": " + std::to_string(k) + "\n";
  }
  auto doc = parse_yaml(text, "user-data");
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(doc->entries.size(), 20000u);
  EXPECT_FALSE(parse_yaml("a: 1\nb: 2\na: 3\n", "user-data"));  // duplicates still refused
}

TEST(Limits, MimePartsAreCountedOverAllLevels) {
  UserDataOptions options;
  options.limits.mime_parts = 3;
  std::string inner =
      "Content-Type: multipart/mixed; "
      "boundary=in\n\n--in\n\n#!/bin/sh\n--in\n\n#!/bin/sh\n--in--\n";
  std::string outer = "Content-Type: multipart/mixed; boundary=out\n\n--out\n" + inner +
                      "--out\n\n#!/bin/sh\n--out--\n";
  auto decoded = decode_user_data(outer, options);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().message,
            "user-data part 1: more than 3 MIME parts (amiboot.limits.mime_parts); the user data "
            "is refused");
  options.limits.mime_parts = 4;
  EXPECT_TRUE(decode_user_data(outer, options));
}

TEST(Limits, WriteFilesContentIsCountedOverAllPartsDecoded) {
  Limits limits;
  limits.write_files_bytes = 10;
  // "aGVsbG8K" is base64 for 6 bytes: the first part fits, the second passes 10.
  std::vector<Part> parts = {
      {PartType::CloudConfig, "a", "part 1",
       "write_files:\n  - {path: /a, encoding: b64, content: aGVsbG8K}\n", ""},
      {PartType::CloudConfig, "b", "part 2",
       "write_files:\n  - {path: /b, encoding: b64, content: aGVsbG8K}\n", ""}};
  Diagnostics out;
  auto merged = merge_cloud_config(Value{}, parts, out, limits);
  EXPECT_EQ(merged.accepted_parts, 1);
  ASSERT_EQ(merged.rejected, std::vector<std::string>{"part 2"});
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out[0].format(),
            "part 2:2:40: write_files[0].content: the decoded write_files content of the user "
            "data exceeds 10 bytes (amiboot.limits.write_files_bytes)");
}

TEST(Limits, EachIsSetUnderAmibootLimits) {
  auto doc = parse_yaml(
      "amiboot:\n  limits:\n    yaml_nodes: 10\n    yaml_depth: 3\n    user_data_bytes: 100\n"
      "    write_files_bytes: 200\n    mime_parts: 4\n    includes: 5\n    include_seconds: 6\n",
      "amiboot.yaml");
  ASSERT_TRUE(doc);
  Diagnostics out;
  Settings s = decode_settings(*doc, out);
  EXPECT_TRUE(out.empty()) << out[0].format();
  EXPECT_EQ(s.limits.yaml_nodes, 10u);
  EXPECT_EQ(s.limits.yaml_depth, 3);
  EXPECT_EQ(s.limits.user_data_bytes, 100u);
  EXPECT_EQ(s.limits.write_files_bytes, 200u);
  EXPECT_EQ(s.limits.mime_parts, 4);
  EXPECT_EQ(s.limits.includes, 5);
  EXPECT_EQ(s.limits.include_time, std::chrono::seconds(6));
}

TEST(Limits, ALimitMustBePositive) {
  auto doc = parse_yaml("amiboot:\n  limits:\n    mime_parts: 0\n", "amiboot.yaml");
  ASSERT_TRUE(doc);
  Diagnostics out;
  Settings s = decode_settings(*doc, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].format(),
            "amiboot.yaml:3:17: amiboot.limits.mime_parts: expected a positive integer, got 0");
  EXPECT_EQ(s.limits.mime_parts, 1000);
}

}  // namespace
}  // namespace amiboot
