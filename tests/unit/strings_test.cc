// SPDX-License-Identifier: Apache-2.0
#include "agent/core/strings.h"

#include <gtest/gtest.h>

namespace amiboot {
namespace {

TEST(Strings, LowercaseTouchesOnlyAsciiLetters) {
  EXPECT_EQ(lowercase("En_US.UTF-8 @X"), "en_us.utf-8 @x");
  EXPECT_EQ(lowercase(""), "");
  EXPECT_EQ(lowercase("\xC3\x84"), "\xC3\x84");  // UTF-8 'Ä' stays as it is
}

TEST(Strings, SplitLinesDropsOnlyTheFinalNewline) {
  using Lines = std::vector<std::string>;
  EXPECT_EQ(split_lines(""), Lines{});
  EXPECT_EQ(split_lines("\n"), Lines{""});
  EXPECT_EQ(split_lines("a"), Lines{"a"});
  EXPECT_EQ(split_lines("a\n"), Lines{"a"});
  EXPECT_EQ(split_lines("a\n\nb"), (Lines{"a", "", "b"}));
  EXPECT_EQ(split_lines("a\n\n"), (Lines{"a", ""}));
  EXPECT_EQ(split_lines("a\r\nb\n"), (Lines{"a\r", "b"}));  // "\r" is the caller's business
}

TEST(Strings, JoinLinesEndsEveryLineSoSplitThenJoinKeepsAFile) {
  EXPECT_EQ(join_lines({}), "");
  EXPECT_EQ(join_lines({"a", "", "b"}), "a\n\nb\n");
  for (const char* text : {"", "a\n", "a\n\nb\n", "\n\n"}) {
    EXPECT_EQ(join_lines(split_lines(text)), text);
  }
  EXPECT_EQ(join_lines(split_lines("no newline")), "no newline\n");
}

TEST(Strings, TrimAndAllDigits) {
  EXPECT_EQ(trim("  a b\t\n"), "a b");
  EXPECT_EQ(trim("--a--", "-"), "a");
  EXPECT_EQ(trim(" \t"), "");
  EXPECT_TRUE(all_digits("0123"));
  EXPECT_FALSE(all_digits(""));
  EXPECT_FALSE(all_digits("12a"));
}

TEST(Strings, IsSpaceAndIsBlankAreCsInTheCLocale) {
  for (char c : std::string(" \t\r\n\f\v")) {
    EXPECT_TRUE(is_space(c)) << int(c);
  }
  for (char c : std::string("a\0\xA0", 3)) {
    EXPECT_FALSE(is_space(c)) << int(c);
  }
  EXPECT_TRUE(is_blank(' ') && is_blank('\t'));
  EXPECT_FALSE(is_blank('\n'));
}

TEST(Strings, SizeTextIsExactForWholeUnitsAndRoundedElse) {
  EXPECT_EQ(size_text(0), "0 bytes");
  EXPECT_EQ(size_text(100), "100 bytes");
  EXPECT_EQ(size_text(1000), "1000 bytes");
  EXPECT_EQ(size_text(64 << 10), "64 KiB");
  EXPECT_EQ(size_text(32 << 20), "32 MiB");
  EXPECT_EQ(size_text(8ULL << 30), "8 GiB");
  EXPECT_EQ(size_text(1536), "1.5 KiB");
  EXPECT_EQ(size_text(3 << 19), "1.5 MiB");
  EXPECT_EQ(size_text(16775135ULL * 512), "8.0 GiB");
  EXPECT_EQ(size_text((1 << 20) - 1), "1.0 MiB");  // not "1024.0 KiB"
  EXPECT_EQ(size_text(3ULL << 39), "1.5 TiB");
}

}  // namespace
}  // namespace amiboot
