// SPDX-License-Identifier: Apache-2.0
// The one reader of /etc/passwd, /etc/group and /etc/shadow text.
#include "agent/core/colon_file.h"

#include <gtest/gtest.h>

namespace amiboot {
namespace {

const char* kPasswd =
    "root:x:0:0:root:/root:/bin/bash\n"
    "# a comment:x:9:9::/:/bin/sh\n"
    "+nisuser::::::\n"
    "-nisgone::::::\n"
    "\n"
    "rootless:x:1001:1001::/home/rootless:\n"
    "root:x:99:99:second root:/nowhere:/bin/false\n"
    "last:x:1002:1002::/home/last:/bin/sh";  // no newline at the end

TEST(ColonFile, EntriesAreByNameWithEmptyFieldsKeptAndTheFirstOfANameCounting) {
  ColonFile file = parse_colon_file(kPasswd);
  ASSERT_EQ(file.size(), 3u);
  EXPECT_EQ(file.at("root")[2], "0");  // not the second "root" line
  EXPECT_EQ(file.at("rootless"),
            (std::vector<std::string>{"rootless", "x", "1001", "1001", "", "/home/rootless", ""}));
  EXPECT_EQ(file.at("last")[5], "/home/last");
  EXPECT_TRUE(parse_colon_file("").empty());
}

TEST(ColonFile, CommentsAndNisLinesAreNotEntries) {
  ColonFile file = parse_colon_file(kPasswd);
  EXPECT_EQ(file.count("+nisuser"), 0u);
  EXPECT_EQ(file.count("-nisgone"), 0u);
  EXPECT_EQ(file.count("# a comment"), 0u);
  EXPECT_FALSE(colon_file_entry(kPasswd, "+nisuser"));
  EXPECT_FALSE(colon_file_entry(kPasswd, "# a comment"));
}

TEST(ColonFile, AnEntryIsFoundByItsWholeName) {
  auto root = colon_file_entry(kPasswd, "root");
  ASSERT_TRUE(root);
  EXPECT_EQ((*root)[2], "0");
  EXPECT_EQ(colon_file_entry(kPasswd, "rootless").value()[2], "1001");
  EXPECT_FALSE(colon_file_entry(kPasswd, "roo"));
  EXPECT_FALSE(colon_file_entry(kPasswd, "nobody"));
  EXPECT_EQ(colon_file_entry(kPasswd, "last").value()[6], "/bin/sh");
  EXPECT_FALSE(colon_file_entry(kPasswd, ""));
}

}  // namespace
}  // namespace amiboot
