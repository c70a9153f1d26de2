// SPDX-License-Identifier: Apache-2.0
// locale with the real executor under --root: the files each family reads,
// and locale-gen never run on the host.
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/support/seeded_root.h"

namespace amiboot::testing {
namespace {

bool host_has(const std::string& program) {
  for (const char* dir :
       {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
    if (access((std::string(dir) + "/" + program).c_str(), X_OK) == 0) {
      return true;
    }
  }
  return false;
}

TEST(LocaleAgent, DebianEnablesTheLocaleAndSetsLangButLocaleGenStaysOffTheHost) {
  if (!host_has("locale-gen")) {
    std::printf("skipping: locale-gen is not installed on this host (Debian's locales)\n");
    GTEST_SKIP() << "locale-gen is not installed on this host";
  }
  SeededRoot box;
  write_file(box / "etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n");
  write_file(box / "usr/share/i18n/SUPPORTED", "de_DE.UTF-8 UTF-8\nde_DE ISO-8859-1\n");
  write_file(box / "etc/locale.gen", "# de_DE ISO-8859-1\n# de_DE.UTF-8 UTF-8\n");
  write_file(box / "etc/default/locale", "LANG=C.UTF-8\nLANGUAGE=en\n");
  auto r = box.run("#cloud-config\nlocale: de_DE.UTF-8\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(box.module("locale")["result"], "ok");
  EXPECT_EQ(read_file(box / "etc/locale.gen"), "# de_DE ISO-8859-1\nde_DE.UTF-8 UTF-8\n");
  EXPECT_EQ(read_file(box / "etc/default/locale"), "LANG=de_DE.UTF-8\nLANGUAGE=en\n");
  EXPECT_NE(r.err.find("locale: locale-gen de_DE.UTF-8: skipped under --root"), std::string::npos)
      << r.err;
}

TEST(LocaleAgent, CUtf8NeedsNoGeneration) {
  SeededRoot box;
  write_file(box / "etc/os-release", "ID=ubuntu\nID_LIKE=debian\n");
  auto r = box.run("#cloud-config\nlocale: C.UTF-8\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(box / "etc/default/locale"), "LANG=C.UTF-8\n");
  EXPECT_FALSE(exists(box / "etc/locale.gen"));
}

TEST(LocaleAgent, AmazonLinuxGetsLocaleConfWithItsOtherLinesKept) {
  SeededRoot box;
  write_file(box / "etc/os-release", "ID=\"amzn\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"2023\"\n");
  write_file(box / "etc/locale.conf", "LANG=C.UTF-8\nLC_TIME=en_GB.UTF-8\n");
  auto r = box.run("#cloud-config\nlocale: en_US.UTF-8\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(box / "etc/locale.conf"), "LANG=en_US.UTF-8\nLC_TIME=en_GB.UTF-8\n");
  // A second boot of a new instance finds it set and changes nothing.
  auto again = box.run("#cloud-config\nlocale: en_US.UTF-8\n", "i-0sandbox00000002");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(box.module("locale")["reason"], "nothing to do") << box.module("locale").dump();
  EXPECT_EQ(read_file(box / "etc/locale.conf"), "LANG=en_US.UTF-8\nLC_TIME=en_GB.UTF-8\n");
}

TEST(LocaleAgent, LocaleConfigfileIsTheFileWritten) {
  SeededRoot box;
  write_file(box / "etc/os-release", "ID=fedora\n");
  auto r =
      box.run("#cloud-config\nlocale: C.UTF-8\nlocale_configfile: /etc/alternate_path/locale\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(box / "etc/alternate_path/locale"), "LANG=C.UTF-8\n");
  EXPECT_FALSE(exists(box / "etc/locale.conf"));
}

}  // namespace
}  // namespace amiboot::testing
