// SPDX-License-Identifier: Apache-2.0
// timezone with the real executor under --root: the link replaced, never
// followed into the old zone's file, and /etc/timezone on Debian.
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "tests/support/seeded_root.h"

namespace amiboot::testing {
namespace {

namespace fs = std::filesystem;

struct TimezoneAgent : ::testing::Test {
  void image(const std::string& os_release) {
    write_file(box / "etc/os-release", os_release);
    write_file(box / "usr/share/zoneinfo/Etc/UTC", "TZif2 UTC");
    write_file(box / "usr/share/zoneinfo/Europe/Berlin", "TZif2 Berlin");
    // As Debian's image has it: an absolute link to the old zone.
    fs::create_symlink("/usr/share/zoneinfo/Etc/UTC", box / "etc/localtime");
  }
  SeededRoot box;
};

TEST_F(TimezoneAgent, DebianGetsARelativeLinkAndEtcTimezone) {
  image("ID=debian\nVERSION_ID=\"12\"\n");
  write_file(box / "etc/timezone", "Etc/UTC\n");
  auto r = box.run("#cloud-config\ntimezone: Europe/Berlin\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(box.module("timezone")["result"], "ok");
  ASSERT_TRUE(fs::is_symlink(box / "etc/localtime"));
  EXPECT_EQ(fs::read_symlink(box / "etc/localtime"), "../usr/share/zoneinfo/Europe/Berlin");
  EXPECT_EQ(read_file(box / "etc/localtime"), "TZif2 Berlin");  // resolves inside the root
  EXPECT_EQ(read_file(box / "etc/timezone"), "Europe/Berlin\n");
  // The old link was removed, not followed: the old zone's file is intact.
  EXPECT_FALSE(fs::is_symlink(box / "usr/share/zoneinfo/Etc/UTC"));
  EXPECT_EQ(read_file(box / "usr/share/zoneinfo/Etc/UTC"), "TZif2 UTC");
}

TEST_F(TimezoneAgent, AmazonLinuxHasNoEtcTimezone) {
  image("ID=\"amzn\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"2023\"\n");
  auto r = box.run("#cloud-config\ntimezone: Europe/Berlin\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(fs::read_symlink(box / "etc/localtime"), "../usr/share/zoneinfo/Europe/Berlin");
  EXPECT_FALSE(exists(box / "etc/timezone"));
}

TEST_F(TimezoneAgent, AnUnknownZoneFailsTheModuleAndChangesNothing) {
  image("ID=debian\n");
  auto r = box.run("#cloud-config\ntimezone: Europe/Atlantis\n");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  auto m = box.module("timezone");
  EXPECT_EQ(m["result"], "failed");
  ASSERT_EQ(m["errors"].size(), 1u);
  EXPECT_EQ(m["errors"][0],
            "user-data:2:11: timezone: unknown time zone 'Europe/Atlantis': the image has no "
            "/usr/share/zoneinfo/Europe/Atlantis (is tzdata installed?)");
  EXPECT_EQ(fs::read_symlink(box / "etc/localtime"), "/usr/share/zoneinfo/Etc/UTC");
}

}  // namespace
}  // namespace amiboot::testing
