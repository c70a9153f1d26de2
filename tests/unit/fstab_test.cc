// SPDX-License-Identifier: Apache-2.0
#include "modules/fstab.h"

#include <gtest/gtest.h>

namespace amiboot {
namespace {

// What an image's fstab looks like, with the oddities that must survive:
// comments, blank lines, tabs and runs of spaces, a CRLF line, an escaped
// space, a trailing comment on an entry.
const std::string kForeign =
    "# /etc/fstab: static file system information.\n"
    "#\n"
    "UUID=1111-2222  /          ext4    errors=remount-ro 0       1\n"
    "\n"
    "/dev/xvdb\t/media/ephemeral0\tauto\tdefaults,nofail\t0\t2\r\n"
    "server:/export /mnt/my\\040share nfs rw 0 0   # the team share\n"
    "   # indented comment\n";

const OwnedFstabEntry kData{
    "ebs1",
    {"UUID=5e1f", "/data", "auto", "defaults,nofail,x-systemd.device-timeout=30s", "0", "2"}};

TEST(Fstab, MergeKeepsForeignLinesByteForByteAndAppendsOurs) {
  std::string merged = merge_fstab(kForeign, {kData});
  EXPECT_EQ(merged,
            kForeign +
                "# amiboot: ebs1\n"
                "UUID=5e1f\t/data\tauto\tdefaults,nofail,x-systemd.device-timeout=30s\t0\t2\n");
}

TEST(Fstab, MergeIsIdempotentAndReplacesOnlyOurEntries) {
  std::string once = merge_fstab(kForeign, {kData});
  EXPECT_EQ(merge_fstab(once, {kData}), once);
  OwnedFstabEntry other{"ebs2", {"UUID=77", "/logs", "xfs", "defaults,nofail", "0", "2"}};
  std::string changed = merge_fstab(once, {other});
  EXPECT_EQ(changed, kForeign +
                         "# amiboot: ebs2\n"
                         "UUID=77\t/logs\txfs\tdefaults,nofail\t0\t2\n");
  // Nothing of ours left: exactly the foreign file again.
  EXPECT_EQ(merge_fstab(changed, {}), kForeign);
}

TEST(Fstab, ForeignLinesAfterOursStayWhereTheyAre) {
  std::string text =
      "# amiboot: ebs1\nUUID=old\t/data\tauto\tdefaults\t0\t2\n/dev/sdz /z auto defaults 0 0\n";
  EXPECT_EQ(merge_fstab(text, {kData}),
            "/dev/sdz /z auto defaults 0 0\n"
            "# amiboot: ebs1\n"
            "UUID=5e1f\t/data\tauto\tdefaults,nofail,x-systemd.device-timeout=30s\t0\t2\n");
}

TEST(Fstab, LastLineWithoutNewlineGetsOneOnlyWhenWeAppend) {
  EXPECT_EQ(merge_fstab("/dev/sda1 / ext4 defaults 0 1", {}), "/dev/sda1 / ext4 defaults 0 1");
  EXPECT_EQ(merge_fstab("/dev/sda1 / ext4 defaults 0 1", {kData}),
            "/dev/sda1 / ext4 defaults 0 1\n# amiboot: ebs1\n"
            "UUID=5e1f\t/data\tauto\tdefaults,nofail,x-systemd.device-timeout=30s\t0\t2\n");
  EXPECT_EQ(merge_fstab("", {}), "");
}

TEST(Fstab, ParseFindsOursAndForeignEntries) {
  auto parsed = parse_fstab(merge_fstab(kForeign, {kData}));
  ASSERT_EQ(parsed.owned.size(), 1u);
  EXPECT_EQ(parsed.owned[0], kData);
  ASSERT_EQ(parsed.foreign.size(), 7u);
  EXPECT_FALSE(parsed.foreign[0].entry);
  ASSERT_TRUE(parsed.foreign[2].entry);
  EXPECT_EQ(parsed.foreign[2].entry->file, "/");
  EXPECT_EQ(parsed.foreign[2].number, 3);
  ASSERT_TRUE(parsed.foreign[4].entry);
  EXPECT_EQ(parsed.foreign[4].entry->passno, "2");  // CR is not part of the field
  ASSERT_TRUE(parsed.foreign[5].entry);
  EXPECT_EQ(parsed.foreign[5].entry->file, "/mnt/my share");
  EXPECT_FALSE(parsed.foreign[6].entry);
}

TEST(Fstab, MarkerWithoutEntryIsDroppedAndTheLineBelowStaysForeign) {
  auto parsed = parse_fstab("# amiboot: ebs1\n# someone's comment\n");
  EXPECT_TRUE(parsed.owned.empty());
  ASSERT_EQ(parsed.foreign.size(), 1u);
  EXPECT_EQ(parsed.foreign[0].text, "# someone's comment\n");
}

TEST(Fstab, FieldsWithBlanksAreEscaped) {
  FstabEntry e{"LABEL=my data", "/srv/my data", "ext4", "defaults", "0", "2"};
  std::string line = format_fstab_entry(e);
  EXPECT_EQ(line, "LABEL=my\\040data\t/srv/my\\040data\text4\tdefaults\t0\t2");
  EXPECT_EQ(parse_fstab_entry(line), e);
  // A marker name cannot break the file: it stays one comment line.
  std::string merged = merge_fstab("", {{"evil\nname", e}});
  EXPECT_EQ(merged.rfind("# amiboot: evil?name\n", 0), 0u) << merged;
}

TEST(Fstab, ShortEntriesGetFstabDefaults) {
  auto e = parse_fstab_entry("/dev/sdb /mnt");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, "auto");
  EXPECT_EQ(e->options, "defaults");
  EXPECT_EQ(e->passno, "0");
  EXPECT_FALSE(parse_fstab_entry("/dev/sdb"));
  EXPECT_FALSE(parse_fstab_entry("  # comment /a /b"));
}

}  // namespace
}  // namespace amiboot
