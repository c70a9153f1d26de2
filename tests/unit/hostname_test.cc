// SPDX-License-Identifier: Apache-2.0
// hostname: names from config or IMDS, /etc/hostname, the running name and
// /etc/hosts, as cloud-init's set_hostname and update_etc_hosts do.
#include "modules/hostname.h"

#include <gtest/gtest.h>

#include "tests/support/module_fixture.h"

namespace amiboot {
namespace {

struct Fixture : testing::ModuleFixture {
  explicit Fixture(const std::string& yaml, const std::string& os = "ID=debian\n")
      : ModuleFixture(yaml) {
    metadata.local_hostname = "ip-10-0-0-12.ec2.internal";
    system.files["/etc/os-release"] = os;
  }
};

SetHostname set_hostname(const std::string& name) {
  return SetHostname{name, "hostname: set the running hostname"};
}

WriteFile etc_hostname(const std::string& name) {
  return WriteFile{"/etc/hostname", name + "\n", 0644,
                   "root:root",     false,       "hostname: /etc/hostname"};
}

TEST(Hostname, DefaultIsTheShortNameFromImdsOnDebian) {
  Fixture f("{}");
  auto plan = f.plan("hostname");
  std::vector<Action> expected = {etc_hostname("ip-10-0-0-12"), set_hostname("ip-10-0-0-12")};
  EXPECT_EQ(plan.actions, expected);
  EXPECT_EQ(plan.summary, "hostname ip-10-0-0-12");
}

TEST(Hostname, TheRedHatFamilyPrefersTheFqdnUnlessTold) {
  Fixture amzn("{}", "ID=\"amzn\"\nID_LIKE=\"centos rhel fedora\"\n");
  std::vector<Action> expected = {etc_hostname("ip-10-0-0-12.ec2.internal"),
                                  set_hostname("ip-10-0-0-12.ec2.internal")};
  EXPECT_EQ(amzn.plan("hostname").actions, expected);
  Fixture told("prefer_fqdn_over_hostname: false\n", "ID=\"amzn\"\n");
  EXPECT_EQ(told.plan("hostname").actions[0], Action(etc_hostname("ip-10-0-0-12")));
}

TEST(Hostname, ConfigNamesWinAndADottedHostnameIsTheFqdn) {
  HostnameConfig cfg;
  cfg.hostname = "web.example.com";
  EXPECT_EQ(resolve_names(cfg, "ip-1"), (Names{"web", "web.example.com"}));
  cfg.fqdn = "db.example.org";
  EXPECT_EQ(resolve_names(cfg, "ip-1"), (Names{"web.example.com", "db.example.org"}));
  HostnameConfig bare;
  bare.hostname = "web";
  EXPECT_EQ(resolve_names(bare, "ip-10-0-0-12.ec2.internal"),
            (Names{"web", "ip-10-0-0-12.ec2.internal"}));
  EXPECT_EQ(resolve_names(HostnameConfig{}, "10.0.0.12"), (Names{"ip-10-0-0-12", "ip-10-0-0-12"}));
}

TEST(Hostname, ManageEtcHostsKeepsForeignLinesAndReplacesOurs) {
  Fixture f("hostname: web\nfqdn: web.example.com\nmanage_etc_hosts: true\n");
  f.system.files["/etc/hosts"] =
      "127.0.0.1\tlocalhost\n"
      "127.0.1.1\timage-builder.localdomain image-builder\n"
      "10.1.2.3 db.internal db\n"
      "::1 localhost ip6-localhost ip6-loopback\n";
  auto plan = f.plan("hostname");
  ASSERT_EQ(plan.actions.size(), 3u);
  EXPECT_EQ(plan.actions[2],
            Action(WriteFile{"/etc/hosts",
                             "127.0.0.1\tlocalhost\n"
                             "127.0.1.1 web.example.com web # amiboot manage_etc_hosts\n"
                             "10.1.2.3 db.internal db\n"
                             "::1 localhost ip6-localhost ip6-loopback\n",
                             0644, "root:root", false, "manage_etc_hosts: /etc/hosts"}));
}

TEST(Hostname, ASecondRunPlansNothing) {
  Fixture f("manage_etc_hosts: true\n");
  f.system.files["/etc/hosts"] = "127.0.0.1 localhost\n";
  auto first = f.plan("hostname");
  for (const auto& a : first.actions) {
    if (const auto* w = std::get_if<WriteFile>(&a)) {
      f.system.files[w->path] = w->content;
    }
  }
  f.system.files["/proc/sys/kernel/hostname"] = "ip-10-0-0-12\n";
  EXPECT_EQ(f.system.files["/etc/hosts"],
            "127.0.0.1 localhost\n127.0.1.1 ip-10-0-0-12.ec2.internal ip-10-0-0-12 # amiboot "
            "manage_etc_hosts\n");
  EXPECT_TRUE(f.plan("hostname").actions.empty());
  // A new name replaces our line instead of adding a second one.
  f.metadata.local_hostname = "ip-10-0-0-13.ec2.internal";
  auto renamed = f.plan("hostname");
  ASSERT_EQ(renamed.actions.size(), 3u);
  EXPECT_EQ(std::get<WriteFile>(renamed.actions[2]).content,
            "127.0.0.1 localhost\n127.0.1.1 ip-10-0-0-13.ec2.internal ip-10-0-0-13 # amiboot "
            "manage_etc_hosts\n");
}

TEST(Hostname, LocalhostModeKeepsForeignEntriesForTheAddress) {
  std::string hosts = "127.0.0.1 localhost\n127.0.1.1 other\n";
  Names n{"web", "web.example.com"};
  EXPECT_EQ(render_etc_hosts(hosts, n, "127.0.1.1", ManageEtcHosts::Localhost),
            "127.0.0.1 localhost\n127.0.1.1 other\n127.0.1.1 web.example.com web # amiboot "
            "manage_etc_hosts\n");
  // Already named by a line of its own: left alone.
  std::string named = "127.0.1.1 web.example.com web\n";
  EXPECT_EQ(render_etc_hosts(named, n, "127.0.1.1", ManageEtcHosts::Localhost), named);
  // Red Hat's address also carries localhost: template mode keeps that line.
  EXPECT_EQ(render_etc_hosts(std::string("127.0.0.1 localhost localhost.localdomain\n"), n,
                             "127.0.0.1", ManageEtcHosts::Template),
            "127.0.0.1 localhost localhost.localdomain\n"
            "127.0.0.1 web.example.com web # amiboot manage_etc_hosts\n");
}

TEST(Hostname, NoHostsFileGetsCloudInitsTemplate) {
  EXPECT_EQ(render_etc_hosts(std::nullopt, Names{"web", "web.example.com"}, "127.0.1.1",
                             ManageEtcHosts::Template),
            "127.0.0.1 localhost\n127.0.1.1 web.example.com web # amiboot manage_etc_hosts\n\n"
            "# The following lines are desirable for IPv6 capable hosts\n"
            "::1 localhost ip6-localhost ip6-loopback\nff02::1 ip6-allnodes\n"
            "ff02::2 ip6-allrouters\n");
}

TEST(Hostname, PreserveHostnameAndCreateHostnameFile) {
  Fixture preserve("preserve_hostname: true\n");
  EXPECT_TRUE(preserve.plan("hostname").actions.empty());
  Fixture no_file("create_hostname_file: false\n");
  std::vector<Action> expected = {set_hostname("ip-10-0-0-12")};
  EXPECT_EQ(no_file.plan("hostname").actions, expected);
  Fixture nothing("{}");
  nothing.metadata.local_hostname = "";
  EXPECT_TRUE(nothing.plan("hostname").actions.empty());
}

TEST(Hostname, BadValuesNameTheKeyAndLine) {
  for (auto [yaml, message] : {
           std::pair{"hostname: 'web server'\n",
                     "user-data:1:11: hostname: 'web server' is not a valid host name (letters, "
                     "digits and '-', labels separated by '.')"},
           std::pair{"manage_etc_hosts: sometimes\n",
                     "user-data:1:19: manage_etc_hosts: expected true, false or 'localhost', got "
                     "'sometimes'"},
           std::pair{"fqdn: [a]\n", "user-data:1:7: fqdn: expected a string, got a list"},
       }) {
    Fixture f(yaml);
    Diagnostics d;
    f.check("hostname", d);
    ASSERT_EQ(d.size(), 1u) << yaml;
    EXPECT_EQ(d[0].format(), message);
    EXPECT_TRUE(f.plan("hostname").actions.empty());
  }
}

}  // namespace
}  // namespace amiboot
