// SPDX-License-Identifier: Apache-2.0
// yum_add_repo and zypper_add_repo: cloud-init's repository files, ids
// checked, a repository without a location refused, the index refreshed.
#include "modules/rpm_repos.h"

#include <gtest/gtest.h>

#include "tests/support/module_fixture.h"
#include "tests/support/os_release_samples.h"

namespace amiboot {
namespace {

using namespace testing::os_release;

struct Fixture : testing::ModuleFixture {
  Fixture(const std::string& yaml, const std::string& os) : ModuleFixture(yaml) {
    system.files["/etc/os-release"] = os;
    system.files["/usr/bin/dnf"] = "";  // the image's package manager
  }
};

TEST(YumAddRepo, EachRepositoryIsAFileThenTheIndexIsRefreshed) {
  Fixture f(
      "yum_repos:\n"
      "  my repo:\n"
      "    name: My Repo\n"
      "    baseurl: http://repo.example.com/$releasever/$basearch\n"
      "    enabled: true\n"
      "    gpgcheck: false\n"
      "    gpgkey: [http://repo.example.com/a.asc, http://repo.example.com/b.asc]\n"
      "    Skip-If-Unavailable: 1\n"
      "  other:\n"
      "    metalink: https://mirrors.example.com/metalink?repo=x\n",
      kAmazon);
  auto plan = f.plan("yum_add_repo");
  ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  ASSERT_EQ(plan.actions.size(), 3u);
  EXPECT_EQ(plan.actions[0],
            Action(WriteFile{.path = "/etc/yum.repos.d/my-repo.repo",
                             .content = "# Created by amiboot (cloud-init's yum_repos)\n"
                                        "[my-repo]\n"
                                        "name = My Repo\n"
                                        "baseurl = http://repo.example.com/$releasever/$basearch\n"
                                        "enabled = 1\n"
                                        "gpgcheck = 0\n"
                                        "gpgkey = http://repo.example.com/a.asc\n"
                                        "\thttp://repo.example.com/b.asc\n"
                                        "skip_if_unavailable = 1\n\n",
                             .label = "yum_repos: /etc/yum.repos.d/my-repo.repo"}));
  EXPECT_EQ(std::get<WriteFile>(plan.actions[1]).path, "/etc/yum.repos.d/other.repo");
  auto update = std::get<ManagePackages>(plan.actions[2]);
  EXPECT_EQ(update.manager, "dnf");
  EXPECT_TRUE(update.update);
  EXPECT_TRUE(update.packages.empty());
}

TEST(YumAddRepo, RepoDirAndAnExistingFileAsCloudInit) {
  Fixture f(
      "yum_repo_dir: /etc/my.repos.d/\nyum_repos:\n  a: {baseurl: http://a}\n"
      "  b: {baseurl: http://b}\n",
      kRhel);
  f.system.files["/etc/my.repos.d/b.repo"] = "[b]\nbaseurl = http://old\n";
  auto plan = f.plan("yum_add_repo");
  ASSERT_EQ(plan.actions.size(), 2u);
  EXPECT_EQ(std::get<WriteFile>(plan.actions[0]).path, "/etc/my.repos.d/a.repo");
  ASSERT_EQ(plan.diagnostics.size(), 1u);
  EXPECT_NE(plan.diagnostics[0].message.find("left as it is"), std::string::npos);
}

TEST(YumAddRepo, BadIdsAndMissingLocationsAreErrors) {
  struct Case {
    const char* yaml;
    const char* path;
    const char* message;
  };
  for (const Case& c : {
           Case{"yum_repos:\n  ../evil: {baseurl: http://a}\n", "yum_repos.../evil",
                "expected a repository id"},
           Case{"yum_repos:\n  a/b: {baseurl: http://a}\n", "yum_repos.a/b",
                "expected a repository id"},
           Case{"yum_repos:\n  nourl: {name: x, enabled: true}\n", "yum_repos.nourl",
                "neither baseurl nor mirrorlist/metalink"},
           Case{"yum_repos:\n  a: {baseurl: \"http://a\\nenabled=0\"}\n", "yum_repos.a.baseurl",
                "a line break"},
           Case{"yum_repo_dir: etc/yum\nyum_repos:\n  a: {baseurl: http://a}\n", "yum_repo_dir",
                "expected an absolute path"},
       }) {
    Fixture f(c.yaml, kFedora);
    Diagnostics d;
    f.check("yum_add_repo", d);
    ASSERT_TRUE(has_errors(d)) << c.yaml;
    EXPECT_EQ(d[0].path, c.path) << c.yaml;
    EXPECT_NE(d[0].message.find(c.message), std::string::npos) << d[0].message;
  }
}

TEST(YumAddRepo, NotOnDebian) {
  Fixture f("yum_repos:\n  a: {baseurl: http://a}\n", kDebian);
  auto plan = f.plan("yum_add_repo");
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_EQ(plan.diagnostics.size(), 1u);
  EXPECT_EQ(plan.diagnostics[0].severity, Diagnostic::Severity::Warning);
}

TEST(ZypperAddRepo, ReposWithCloudInitsDefaultsAndZyppConfOnce) {
  Fixture f(
      "zypper:\n"
      "  config: {download.use_deltarpm: true, configdir: /x}\n"
      "  repos:\n"
      "    - {id: opensuse oss, baseurl: 'http://dl.opensuse.org/oss/', name: os-oss}\n"
      "    - {id: up, baseurl: 'http://dl.opensuse.org/up', enabled: 0}\n",
      kOpenSuse);
  f.system.files["/etc/zypp/zypp.conf"] = "[main]\n";
  auto plan = f.plan("zypper_add_repo");
  ASSERT_EQ(plan.actions.size(), 4u) << testing::formatted(plan.diagnostics);
  EXPECT_EQ(plan.actions[0],
            Action(WriteFile{.path = "/etc/zypp/zypp.conf",
                             .content = "[main]\n# Added via cloud.cfg\ndownload.use_deltarpm=1\n",
                             .label = "zypper: /etc/zypp/zypp.conf"}));
  EXPECT_EQ(plan.actions[1],
            Action(WriteFile{.path = "/etc/zypp/repos.d/opensuse_oss.repo",
                             .content = "[opensuse_oss]\nbaseurl = http://dl.opensuse.org/oss/\n"
                                        "name = os-oss\nenabled = 1\nautorefresh = 1\n",
                             .label = "zypper: /etc/zypp/repos.d/opensuse_oss.repo"}));
  EXPECT_EQ(std::get<WriteFile>(plan.actions[2]).content,
            "[up]\nbaseurl = http://dl.opensuse.org/up\nenabled = 0\nautorefresh = 1\n");
  EXPECT_EQ(std::get<ManagePackages>(plan.actions[3]).manager, "zypper");
  // configdir is skipped with a warning, as in cloud-init.
  Diagnostics d;
  f.check("zypper_add_repo", d);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].path, "zypper.config.configdir");
  // Once: the settings already there are not added again.
  f.system.files["/etc/zypp/zypp.conf"] = std::get<WriteFile>(plan.actions[0]).content;
  f.system.files["/etc/zypp/repos.d/opensuse_oss.repo"] =
      std::get<WriteFile>(plan.actions[1]).content;
  f.system.files["/etc/zypp/repos.d/up.repo"] = std::get<WriteFile>(plan.actions[2]).content;
  EXPECT_TRUE(f.plan("zypper_add_repo").actions.empty());
}

TEST(ZypperAddRepo, MissingIdOrBaseurlAndBadIdsAreErrors) {
  for (auto [yaml, message] : {
           std::pair{"zypper:\n  repos:\n    - {baseurl: http://a}\n", "expected id"},
           std::pair{"zypper:\n  repos:\n    - {id: a}\n", "neither baseurl"},
           std::pair{"zypper:\n  repos:\n    - {id: 'a;b', baseurl: http://a}\n",
                     "expected a repository id"},
       }) {
    Fixture f(yaml, kSles);
    Diagnostics d;
    f.check("zypper_add_repo", d);
    ASSERT_TRUE(has_errors(d)) << yaml;
    EXPECT_EQ(d[0].path, "zypper.repos[0]") << yaml;
    EXPECT_NE(d[0].message.find(message), std::string::npos) << d[0].message;
  }
}

}  // namespace
}  // namespace amiboot
