// SPDX-License-Identifier: Apache-2.0
// resolv_conf: /etc/resolv.conf only with manage_resolv_conf, in cloud-init's
// order, a link replaced by the file, and every bad address named.
#include "modules/resolv_conf.h"

#include <gtest/gtest.h>

#include "agent/cloud_config.h"
#include "tests/support/module_fixture.h"

namespace amiboot {
namespace {

constexpr const char* kHeader =
    "# Written by amiboot: manage_resolv_conf is true, from the resolv_conf section of the\n"
    "# user data. Rewritten on each new instance.\n";

std::vector<Action> write(const std::string& body) {
  return {RemoveFile{"/etc/resolv.conf", "resolv_conf: old /etc/resolv.conf"},
          WriteFile{.path = "/etc/resolv.conf",
                    .content = kHeader + body,
                    .label = "resolv_conf: /etc/resolv.conf"}};
}

TEST(ResolvConf, EveryFieldInCloudInitsOrder) {
  for (const char* os : {"ID=debian\n", "ID=\"amzn\"\n", "ID=\"rhel\"\n", "ID=\"sles\"\n"}) {
    testing::ModuleFixture f(
        "manage_resolv_conf: true\n"
        "resolv_conf:\n"
        "  nameservers: [10.0.0.2, '2600:1f18::53', 'fe80::1%eth0']\n"
        "  searchdomains: [ec2.internal, corp.example.com]\n"
        "  sortlist: [10.0.0.0/255.255.0.0, 10.1.0.1]\n"
        "  options: {timeout: 2, rotate: true, edns0: true, debug: false, attempts: 3}\n");
    f.system.files["/etc/os-release"] = os;
    auto plan = f.plan("resolv_conf");
    ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
    EXPECT_EQ(plan.actions, write("nameserver 10.0.0.2\n"
                                  "nameserver 2600:1f18::53\n"
                                  "nameserver fe80::1%eth0\n"
                                  "search ec2.internal corp.example.com\n"
                                  "sortlist 10.0.0.0/255.255.0.0 10.1.0.1\n"
                                  "options rotate edns0 attempts:3 timeout:2\n"))
        << os;
    EXPECT_EQ(plan.summary, "3 nameservers in /etc/resolv.conf");
  }
}

TEST(ResolvConf, WithoutManageResolvConfTheSectionIsCheckedAndIgnored) {
  for (const char* manage : {"", "manage_resolv_conf: false\n"}) {
    testing::ModuleFixture f(std::string(manage) + "resolv_conf: {nameservers: [10.0.0.2]}\n");
    auto plan = f.plan("resolv_conf");
    EXPECT_TRUE(plan.actions.empty());
    ASSERT_EQ(plan.diagnostics.size(), 1u) << manage;
    EXPECT_EQ(plan.diagnostics[0].severity, Diagnostic::Severity::Warning);
    EXPECT_EQ(plan.diagnostics[0].path, "resolv_conf");
  }
  // A mistake is found even then.
  testing::ModuleFixture bad("resolv_conf: {nameservers: [dns.example.com]}\n");
  Diagnostics d;
  bad.check("resolv_conf", d);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].severity, Diagnostic::Severity::Error);
}

TEST(ResolvConf, ManageWithoutASectionIsAWarning) {
  testing::ModuleFixture f("manage_resolv_conf: true\n");
  auto plan = f.plan("resolv_conf");
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_EQ(plan.diagnostics.size(), 1u);
  EXPECT_EQ(plan.diagnostics[0].format(),
            "user-data:1:21: warning: manage_resolv_conf: true, but there is no resolv_conf "
            "section; /etc/resolv.conf is left alone");
}

TEST(ResolvConf, SystemdResolvedsFileIsReplacedWithAWarningAndASecondRunDoesNothing) {
  testing::ModuleFixture f("manage_resolv_conf: true\nresolv_conf: {nameservers: [1.1.1.1]}\n");
  f.system.files["/etc/resolv.conf"] =
      "# This is /run/systemd/resolve/stub-resolv.conf managed by man:systemd-resolved(8).\n"
      "nameserver 127.0.0.53\n";
  auto plan = f.plan("resolv_conf");
  EXPECT_EQ(plan.actions, write("nameserver 1.1.1.1\n"));
  ASSERT_EQ(plan.diagnostics.size(), 1u);
  EXPECT_EQ(plan.diagnostics[0].severity, Diagnostic::Severity::Warning);
  f.system.files["/etc/resolv.conf"] = std::string(kHeader) + "nameserver 1.1.1.1\n";
  EXPECT_TRUE(f.plan("resolv_conf").actions.empty());
}

TEST(ResolvConf, MoreThanThreeNameserversIsAWarning) {
  testing::ModuleFixture f(
      "manage_resolv_conf: true\nresolv_conf:\n  nameservers: [1.1.1.1, 1.0.0.1, 8.8.8.8, "
      "8.8.4.4]\n");
  auto plan = f.plan("resolv_conf");
  ASSERT_EQ(plan.diagnostics.size(), 1u);
  EXPECT_EQ(plan.diagnostics[0].format(),
            "user-data:3:16: warning: resolv_conf.nameservers: the resolver uses only the first 3 "
            "of 4 nameservers");
  EXPECT_EQ(plan.actions.size(), 2u);
}

TEST(ResolvConf, BadValuesAreRejectedWithLineAndColumn) {
  for (auto [yaml, message] : {
           std::pair{"resolv_conf:\n  nameservers: [10.0.0.2, dns.example.com]\n",
                     "user-data:2:27: resolv_conf.nameservers[1]: 'dns.example.com' is not an IP "
                     "address"},
           std::pair{"resolv_conf:\n  nameservers: [10.0.0.256]\n",
                     "user-data:2:17: resolv_conf.nameservers[0]: '10.0.0.256' is not an IP "
                     "address"},
           std::pair{"resolv_conf:\n  nameservers: 10.0.0.2\n",
                     "user-data:2:16: resolv_conf.nameservers: expected a list, got a string"},
           std::pair{"resolv_conf:\n  searchdomains: ['a b']\n",
                     "user-data:2:19: resolv_conf.searchdomains[0]: 'a b' is not a domain name"},
           std::pair{"resolv_conf:\n  domain: \"x\\nnameserver 6.6.6.6\"\n",
                     "user-data:2:11: resolv_conf.domain: 'x\nnameserver 6.6.6.6' is not a "
                     "domain name"},
           std::pair{"resolv_conf:\n  sortlist: [10.0.0.0/abc]\n",
                     "user-data:2:14: resolv_conf.sortlist[0]: '10.0.0.0/abc' is not an IPv4 "
                     "address[/netmask]"},
           std::pair{"resolv_conf:\n  options: {timeout: 'a b'}\n",
                     "user-data:2:22: resolv_conf.options.timeout: expected true, false or a "
                     "value such as 2, got 'a b'"},
           std::pair{"resolv_conf:\n  options: {'bad key': true}\n",
                     "user-data:2:13: resolv_conf.options.bad key: 'bad key' is not a resolver "
                     "option name"},
           std::pair{"resolv_conf: [8.8.8.8]\n",
                     "user-data:1:14: resolv_conf: expected a map, got a list"},
           std::pair{"manage_resolv_conf: maybe\n",
                     "user-data:1:21: manage_resolv_conf: expected a boolean (true or false), "
                     "got a string"},
       }) {
    testing::ModuleFixture f(yaml);
    Diagnostics d;
    f.check("resolv_conf", d);
    ASSERT_EQ(d.size(), 1u) << yaml << testing::formatted(d);
    EXPECT_EQ(d[0].format(), message);
    if (!std::string(yaml).starts_with("manage_resolv_conf")) {
      testing::ModuleFixture managed(std::string(yaml) + "manage_resolv_conf: true\n");
      EXPECT_TRUE(managed.plan("resolv_conf").actions.empty()) << yaml;
    }
  }
}

// cloud-init's doc/module-docs/cc_resolv_conf/example1.yaml.
TEST(ResolvConf, CloudInitsDocumentedExampleIsAcceptedAndActedOn) {
  const std::string example =
      "#cloud-config\n"
      "manage_resolv_conf: true\n"
      "resolv_conf:\n"
      "  domain: example.com\n"
      "  nameservers: [8.8.8.8, 8.8.4.4]\n"
      "  options: {rotate: true, timeout: 1}\n"
      "  searchdomains: [foo.example.com, bar.example.com]\n"
      "  sortlist: [10.0.0.1/255, 10.0.0.2]\n";
  auto doc = parse_yaml(example, "user-data");
  ASSERT_TRUE(doc.ok());
  Diagnostics d;
  EXPECT_TRUE(check_cloud_config(*doc, d)) << testing::formatted(d);
  // The one remark: glibc reads only the later of `search` and `domain`.
  ASSERT_EQ(d.size(), 1u) << testing::formatted(d);
  EXPECT_EQ(d[0].format(),
            "user-data:4:11: warning: resolv_conf.domain: domain and searchdomains both set: the "
            "resolver uses only the last of the two lines, domain (cloud-init's order)");
  testing::ModuleFixture f(example);
  auto plan = f.plan("resolv_conf");
  EXPECT_EQ(plan.actions, write("nameserver 8.8.8.8\n"
                                "nameserver 8.8.4.4\n"
                                "search foo.example.com bar.example.com\n"
                                "domain example.com\n"
                                "sortlist 10.0.0.1/255 10.0.0.2\n"
                                "options rotate timeout:1\n"));
}

}  // namespace
}  // namespace amiboot
