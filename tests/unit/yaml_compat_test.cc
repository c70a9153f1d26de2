// SPDX-License-Identifier: Apache-2.0
// cloud-config that cloud-init accepts, read as cloud-init's PyYAML reads
// it (merge keys, !!binary), through the whole validation and the modules'
// plans: nothing here may be rejected.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "agent/cloud_config.h"
#include "agent/core/config.h"
#include "tests/support/module_fixture.h"

namespace amiboot {
namespace {

TEST(YamlCompat, MergeKeysShareFieldsBetweenWriteFilesEntries) {
  testing::ModuleFixture f(
      "write_files:\n"
      "  - &secret\n"
      "    path: /etc/app/a.key\n"
      "    owner: root:root\n"
      "    permissions: '0600'\n"
      "    content: a\n"
      "  - <<: *secret\n"
      "    path: /etc/app/b.key\n"
      "    content: b\n");
  auto plan = f.plan("write_files");
  ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  std::vector<Action> expected = {
      WriteFile{"/etc/app/a.key", "a", 0600, "root:root", false, "write_files[0]"},
      WriteFile{"/etc/app/b.key", "b", 0600, "root:root", false, "write_files[1]"}};
  EXPECT_EQ(plan.actions, expected);
}

TEST(YamlCompat, AMergedMistakeIsReportedWhereItWasWritten) {
  // The bad permissions come from the anchor: the error points there.
  auto d = testing::validate(
      "write_files:\n"
      "  - &base\n"
      "    path: /etc/a\n"
      "    permissions: 'rw'\n"
      "  - <<: *base\n"
      "    path: /etc/b\n");
  ASSERT_TRUE(has_errors(d));
  EXPECT_EQ(d[0].format().rfind("user-data:4:18: write_files[0].permissions:", 0), 0u)
      << testing::formatted(d);
  EXPECT_EQ(d[1].format().rfind("user-data:4:18: write_files[1].permissions:", 0), 0u)
      << testing::formatted(d);
}

TEST(YamlCompat, CloudInitsDocumentedExamplesAreAccepted) {
  const std::vector<std::string> examples = {
      // cc_write_files
      "write_files:\n"
      "- encoding: gzip\n"
      "  content: !!binary |\n"
      "      H4sIAIDb/U8C/1NW1E/KzNMvzuBKTc7IV8hIzcnJVyjPL8pJ4QIA6N+MVxsAAAA=\n"
      "  path: /usr/bin/hello\n"
      "  permissions: '0755'\n",
      // cc_package_update_upgrade_install
      "package_reboot_if_required: true\n"
      "package_update: true\n"
      "package_upgrade: true\n"
      "packages:\n"
      "- pwgen\n"
      "- pastebinit\n"
      "- [libpython3.8, 3.8.10-0ubuntu1~20.04.2]\n"
      "- snap:\n"
      "  - certbot\n"
      "  - [juju, --classic]\n"
      "  - [lxd, --channel=5.15/stable]\n"
      "- apt: [mg]\n",
      // cc_runcmd / cc_bootcmd, with a commented-out item
      "runcmd:\n"
      "- [ls, -l, /]\n"
      "- [sh, -xc, 'echo $(date) '': hello world!''']\n"
      "- [sh, -c, echo \"=========hello world'=========\"]\n"
      "- ls -l /root\n"
      "-\n"
      "- [wget, 'http://example.org', -O, /tmp/index.html]\n"
      "bootcmd:\n"
      "- echo 192.168.1.130 us.archive.ubuntu.com > /etc/hosts\n"
      "- [cloud-init-per, once, mymkfs, mkfs, /dev/vdb]\n",
      // cc_ssh
      "allow_public_ssh_keys: false\n"
      "ssh_authorized_keys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample example]\n",
      // the deprecated names
      "apt_update: true\napt_upgrade: true\napt_reboot_if_required: true\n",
  };
  for (const auto& yaml : examples) {
    auto d = testing::validate(yaml);
    EXPECT_FALSE(has_errors(d)) << yaml << testing::formatted(d);
    for (const auto& x : d) {
      EXPECT_EQ(x.message.find("unknown key"), std::string::npos) << yaml << x.format();
    }
  }
}

TEST(YamlCompat, CloudInitsOwnSettingsAreNoModuleWarningsNotUnknownKeys) {
  auto d = testing::validate(
      "version: 1\n"
      "output: {all: '| tee -a /var/log/cloud-init-output.log'}\n"
      "cloud_init_modules: [bootcmd]\n"
      "cloud_config_modules: [runcmd]\n"
      "cloud_final_modules: [scripts_user]\n"
      "launch-index: 0\n"
      "byobu_by_default: disable\n"
      "ubuntu_pro: {token: x}\n");
  ASSERT_FALSE(has_errors(d)) << testing::formatted(d);
  ASSERT_EQ(d.size(), 8u) << testing::formatted(d);
  for (const auto& x : d) {
    EXPECT_EQ(x.message, "amiboot has no module for this cloud-init key; ignored") << x.format();
  }
}

}  // namespace
}  // namespace amiboot
