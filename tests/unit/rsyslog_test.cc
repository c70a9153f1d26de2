// SPDX-License-Identifier: Apache-2.0
// rsyslog: cloud-init's configs and remotes written as cloud-init writes
// them, remotes and file names checked first, then rsyslog reloaded.
#include "modules/rsyslog.h"

#include <gtest/gtest.h>

#include "agent/cloud_config.h"
#include "tests/support/module_fixture.h"

namespace amiboot {
namespace {

struct Fixture : testing::ModuleFixture {
  explicit Fixture(const std::string& yaml, const std::string& os = "ID=debian\n")
      : ModuleFixture(yaml) {
    system.files["/etc/os-release"] = os;
    system.files["/usr/sbin/rsyslogd"] = "";
    system.files["/usr/bin/apt-get"] = "";
    system.files["/usr/bin/dnf"] = "";
  }
};

RunCommand reload() {
  RunCommand r{{"systemctl", "try-reload-or-restart", "rsyslog"}, "rsyslog: reload"};
  r.needs_host = true;
  return r;
}

WriteFile file(const std::string& path, const std::string& content) {
  return WriteFile{path, content, 0644, "root:root", false, "rsyslog: " + path};
}

TEST(Rsyslog, RemotesAreParsedAndWrittenAsCloudInitWritesThem) {
  struct Case {
    std::string in;
    std::string line;
  };
  for (const auto& c : std::vector<Case>{
           {"10.0.4.1", "*.* @10.0.4.1 # juju"},
           {"@@10.0.0.1:514", "*.* @@10.0.0.1:514 # juju"},
           {"*.* @@10.0.0.1:514", "*.* @@10.0.0.1:514 # juju"},
           {"kern.*;mail.none @[fd00::1]:10514", "kern.*;mail.none @[fd00::1]:10514 # juju"},
           {"@[2001:db8::5]", "*.* @[2001:db8::5] # juju"},
           {"auth,authpriv.* logs.example.com:6514 # ignored",
            "auth,authpriv.* @logs.example.com:6514 # juju"},
       }) {
    auto remote = parse_rsyslog_remote(c.in, "juju");
    ASSERT_TRUE(remote.ok()) << c.in << ": " << remote.error().message;
    EXPECT_EQ(remote->line(), c.line) << c.in;
  }
  // Without a key name, the comment names it (cloud-init's parse_remotes_line).
  auto commented = parse_rsyslog_remote("*.* @@10.0.0.1 # central", "");
  ASSERT_TRUE(commented.ok());
  EXPECT_EQ(commented->line(), "*.* @@10.0.0.1 # central");
  EXPECT_EQ(*commented, (RsyslogRemote{"central", "*.*", true, "10.0.0.1", 0}));
}

TEST(Rsyslog, ABadRemoteRejectsTheConfigWithItsPosition) {
  for (auto [remote, message] : {
           std::pair{"'*.* @fd00::1:514'",
                     "'@fd00::1:514': an IPv6 address goes in brackets, as in @[fd00::1]:514"},
           std::pair{"'@[10.0.0.1]'", "'10.0.0.1' in brackets is not an IPv6 address"},
           std::pair{"'@[fd00::1'", "'@[fd00::1': an opening '[' without its ']'"},
           std::pair{"'@@@10.0.0.1'", "'@@@10.0.0.1' is not [@|@@]host[:port]"},
           std::pair{"'10.0.0.1:99999'",
                     "'10.0.0.1:99999': expected :port after the host, a port from 1 to 65535"},
           std::pair{"'10.0.0.1:'",
                     "'10.0.0.1:': expected :port after the host, a port from 1 to 65535"},
           std::pair{"'*.* @10.0.0.1 extra'", "expected [filter] [@|@@]host[:port], got 3 words"},
           std::pair{"'<script> @10.0.0.1'",
                     "'<script>' is not a selector (facility.priority, e.g. *.* or "
                     "kern.warn;mail.none)"},
           std::pair{"'@bad_host!'", "'bad_host!' is not a host name or an IPv4 address"},
           std::pair{"'@:514'", "no host in '@:514'"},
           std::pair{"\"*.* @10.0.0.1\\n*.* /etc/passwd\"",
                     "a control character (a line break?) in a remote"},
           std::pair{"'@10.0.0.1 # a # b'", "more than one '#' comment"},
       }) {
    Fixture f(std::string("rsyslog:\n  remotes:\n    juju: 10.0.4.1\n    bad: ") + remote + "\n");
    Diagnostics d;
    f.check("rsyslog", d);
    ASSERT_EQ(d.size(), 1u) << remote << testing::formatted(d);
    EXPECT_EQ(d[0].format(), "user-data:4:10: rsyslog.remotes.bad: " + std::string(message));
    EXPECT_TRUE(f.plan("rsyslog").actions.empty());
  }
}

TEST(Rsyslog, ConfigsGoToTheirFilesAndTheRemotesBlockToTheDefaultOne) {
  Fixture f(
      "rsyslog:\n"
      "  configs:\n"
      "    - '*.* @@192.158.1.1'\n"
      "    - {content: '*.*   @@192.0.2.1:10514', filename: 01-example.conf}\n"
      "    - {content: \"*.*   @@syslogd.example.com\\n\"}\n"
      "  remotes: {juju: 10.0.4.1, maas: 192.168.1.1, none: null}\n");
  auto plan = f.plan("rsyslog");
  ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  std::vector<Action> expected = {
      file("/etc/rsyslog.d/20-cloud-config.conf",
           "*.* @@192.158.1.1\n"
           "*.*   @@syslogd.example.com\n"
           "# begin remotes\n"
           "*.* @10.0.4.1 # juju\n"
           "*.* @192.168.1.1 # maas\n"
           "# end remotes\n"),
      file("/etc/rsyslog.d/01-example.conf", "*.*   @@192.0.2.1:10514\n"), reload()};
  EXPECT_EQ(plan.actions, expected);
  EXPECT_EQ(plan.summary, "2 file(s) in /etc/rsyslog.d, 2 remote(s)");

  // Written already: nothing to write, nothing to reload.
  for (const auto& a : plan.actions) {
    if (const auto* w = std::get_if<WriteFile>(&a)) {
      f.system.files[w->path] = w->content;
    }
  }
  auto again = f.plan("rsyslog");
  EXPECT_TRUE(again.actions.empty());
  EXPECT_EQ(again.summary, "configuration unchanged");
}

TEST(Rsyslog, FileNamesThatLeaveConfigDirAreRefused) {
  for (auto [yaml, message] : {
           std::pair{"rsyslog: {configs: [{filename: ../../etc/cron.d/x, content: a}]}\n",
                     "user-data:1:32: rsyslog.configs[0].filename: '../../etc/cron.d/x' "
                     "contains '..': a file name must stay inside config_dir"},
           std::pair{"rsyslog: {configs: [{filename: /etc/profile, content: a}]}\n",
                     "user-data:1:32: rsyslog.configs[0].filename: '/etc/profile' is an absolute "
                     "path: a file name goes inside config_dir"},
           std::pair{"rsyslog: {config_filename: '  ', configs: [a]}\n",
                     "user-data:1:28: rsyslog.config_filename: an empty file name"},
           std::pair{"rsyslog: {config_dir: etc/rsyslog.d, configs: [a]}\n",
                     "user-data:1:23: rsyslog.config_dir: expected an absolute path, got "
                     "'etc/rsyslog.d'"},
           std::pair{"rsyslog: {config_dir: /etc/../root, configs: [a]}\n",
                     "user-data:1:23: rsyslog.config_dir: '/etc/../root' contains '..'; refusing "
                     "a path that can leave its folder"},
           std::pair{"rsyslog: {configs: [{filename: a.conf}]}\n",
                     "user-data:1:21: rsyslog.configs[0]: content is missing"},
           std::pair{"rsyslog: {service_reload_command: restart}\n",
                     "user-data:1:35: rsyslog.service_reload_command: expected 'auto' or a "
                     "command as a list (an argv), got 'restart'"},
           std::pair{"rsyslog: {packages: [--force-yes]}\n",
                     "user-data:1:22: rsyslog.packages[0]: '--force-yes' is not a package name"},
           std::pair{"rsyslog: {check_exe: 'rsyslogd -n'}\n",
                     "user-data:1:22: rsyslog.check_exe: expected a program name or an absolute "
                     "path, got 'rsyslogd -n'"},
           std::pair{"rsyslog: 5\n",
                     "user-data:1:10: rsyslog: expected a map (configs, remotes, ...), got an "
                     "integer"},
       }) {
    Fixture f(yaml);
    Diagnostics d;
    f.check("rsyslog", d);
    ASSERT_EQ(d.size(), 1u) << yaml << testing::formatted(d);
    EXPECT_EQ(d[0].format(), message);
  }
  // A sub-folder of config_dir stays inside it.
  Fixture sub("rsyslog: {configs: [{filename: ' sub/a.conf ', content: x}]}\n");
  auto plan = sub.plan("rsyslog");
  ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  EXPECT_EQ(std::get<WriteFile>(plan.actions[0]).path, "/etc/rsyslog.d/sub/a.conf");
}

TEST(Rsyslog, InstallRsyslogInstallsWhatCheckExeDoesNotFind) {
  for (auto [os, manager] :
       {std::pair{"ID=debian\n", "apt"}, std::pair{"ID=\"amzn\"\nID_LIKE=\"fedora\"\n", "dnf"}}) {
    Fixture f("rsyslog: {install_rsyslog: true, configs: ['*.* @@10.0.0.9']}\n", os);
    f.system.files.erase("/usr/sbin/rsyslogd");
    auto plan = f.plan("rsyslog");
    ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
    std::vector<Action> expected = {
        ManagePackages{
            .manager = manager, .packages = {{"rsyslog", ""}}, .label = "rsyslog: install_rsyslog"},
        file("/etc/rsyslog.d/20-cloud-config.conf", "*.* @@10.0.0.9\n"), reload()};
    EXPECT_EQ(plan.actions, expected) << os;
  }
  // Present: nothing installed.
  Fixture present("rsyslog: {install_rsyslog: true, configs: [a]}\n");
  EXPECT_EQ(present.plan("rsyslog").actions.size(), 2u);
}

TEST(Rsyslog, WithoutRsyslogTheFilesAreWrittenAndNothingIsReloaded) {
  Fixture f("rsyslog: {configs: [a]}\n", "ID=\"amzn\"\n");
  f.system.files.erase("/usr/sbin/rsyslogd");
  auto plan = f.plan("rsyslog");
  std::vector<Action> expected = {file("/etc/rsyslog.d/20-cloud-config.conf", "a\n")};
  EXPECT_EQ(plan.actions, expected);
  ASSERT_EQ(plan.diagnostics.size(), 1u);
  EXPECT_EQ(plan.diagnostics[0].format(),
            "warning: rsyslog: rsyslogd is not on this image: the files are written, no service "
            "is reloaded (install_rsyslog: true installs it)");
  EXPECT_FALSE(has_errors(plan.diagnostics));
}

TEST(Rsyslog, TheDeprecatedListFormIsConfigs) {
  Fixture f("rsyslog: ['*.* @10.0.0.1', {filename: 30-b.conf, content: b}]\n");
  auto plan = f.plan("rsyslog");
  ASSERT_EQ(plan.diagnostics.size(), 1u);
  EXPECT_EQ(plan.diagnostics[0].format(),
            "user-data:1:10: warning: rsyslog: a list is deprecated (cloud-init 22.2); use "
            "rsyslog.configs instead");
  std::vector<Action> expected = {file("/etc/rsyslog.d/20-cloud-config.conf", "*.* @10.0.0.1\n"),
                                  file("/etc/rsyslog.d/30-b.conf", "b\n"), reload()};
  EXPECT_EQ(plan.actions, expected);
}

TEST(Rsyslog, CloudInitsExamplesAreAcceptedAndEachKeyActedOn) {
  // doc/module-docs/cc_rsyslog/example1.yaml
  Fixture one(
      "rsyslog:\n"
      "  remotes: {juju: 10.0.4.1, maas: 192.168.1.1}\n"
      "  service_reload_command: auto\n");
  EXPECT_TRUE(testing::validate(one.config).empty())
      << testing::formatted(testing::validate(one.config));
  auto plan1 = one.plan("rsyslog");
  ASSERT_TRUE(plan1.diagnostics.empty()) << testing::formatted(plan1.diagnostics);
  std::vector<Action> expected1 = {
      file("/etc/rsyslog.d/20-cloud-config.conf",
           "# begin remotes\n*.* @10.0.4.1 # juju\n*.* @192.168.1.1 # maas\n# end remotes\n"),
      reload()};
  EXPECT_EQ(plan1.actions, expected1);

  // example2.yaml
  Fixture two(
      "rsyslog:\n"
      "  config_dir: /opt/etc/rsyslog.d\n"
      "  config_filename: 99-late-cloud-config.conf\n"
      "  configs:\n"
      "  - '*.* @@192.158.1.1'\n"
      "  - {content: '*.*   @@192.0.2.1:10514', filename: 01-example.conf}\n"
      "  - {content: '*.*   @@syslogd.example.com\n"
      "\n"
      "      '}\n"
      "  remotes: {juju: 10.0.4.1, maas: 192.168.1.1}\n"
      "  service_reload_command: [your, syslog, restart, command]\n");
  EXPECT_TRUE(testing::validate(two.config).empty())
      << testing::formatted(testing::validate(two.config));
  auto plan2 = two.plan("rsyslog");
  ASSERT_TRUE(plan2.diagnostics.empty()) << testing::formatted(plan2.diagnostics);
  RunCommand custom{{"your", "syslog", "restart", "command"}, "rsyslog: service_reload_command"};
  custom.needs_host = true;
  std::vector<Action> expected2 = {
      file("/opt/etc/rsyslog.d/99-late-cloud-config.conf",
           "*.* @@192.158.1.1\n*.*   @@syslogd.example.com\n"
           "# begin remotes\n*.* @10.0.4.1 # juju\n*.* @192.168.1.1 # maas\n# end remotes\n"),
      file("/opt/etc/rsyslog.d/01-example.conf", "*.*   @@192.0.2.1:10514\n"), custom};
  EXPECT_EQ(plan2.actions, expected2);

  // example3.yaml (FreeBSD's package name, taken as it is)
  Fixture three(
      "rsyslog:\n"
      "  check_exe: rsyslogd\n"
      "  config_dir: /usr/local/etc/rsyslog.d\n"
      "  install_rsyslog: true\n"
      "  packages: [rsyslogd]\n");
  three.system.files.erase("/usr/sbin/rsyslogd");
  EXPECT_TRUE(testing::validate(three.config).empty())
      << testing::formatted(testing::validate(three.config));
  auto plan3 = three.plan("rsyslog");
  ASSERT_TRUE(plan3.diagnostics.empty()) << testing::formatted(plan3.diagnostics);
  std::vector<Action> expected3 = {ManagePackages{
      .manager = "apt", .packages = {{"rsyslogd", ""}}, .label = "rsyslog: install_rsyslog"}};
  EXPECT_EQ(plan3.actions, expected3);
}

// cloud-init configures rsyslog after ca_certs; amiboot's init-stage rsyslog
// is told to read the trust store again once ca_certs has added to it.
TEST(Rsyslog, AfterCaCertsRsyslogReloadsOnlyWhenItIsConfiguredAndACertificateWasAdded) {
  const std::string added = "/usr/local/share/ca-certificates/cloud-init-ca-cert-1.crt";
  RunCommand again = reload();
  again.label = "rsyslog_after_ca_certs: reload";

  Fixture both("rsyslog: {remotes: {central: '@@logs.example.net:6514'}}\n");
  both.system.files[added] = "PEM";
  auto plan = both.plan("rsyslog_after_ca_certs");
  ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  EXPECT_EQ(plan.actions, std::vector<Action>{again});

  Fixture no_ca("rsyslog: {remotes: {central: '@@logs.example.net:6514'}}\n");
  no_ca.system.files["/usr/local/share/ca-certificates/site-root.crt"] = "PEM";  // not ours
  EXPECT_TRUE(no_ca.plan("rsyslog_after_ca_certs").actions.empty());

  Fixture no_rsyslog_key("ca_certs: {trusted: []}\n");
  no_rsyslog_key.system.files[added] = "PEM";
  EXPECT_TRUE(no_rsyslog_key.plan("rsyslog_after_ca_certs").actions.empty());

  Fixture not_installed("rsyslog: {configs: ['*.* @@10.0.0.9']}\n");
  not_installed.system.files[added] = "PEM";
  not_installed.system.files.erase("/usr/sbin/rsyslogd");
  EXPECT_TRUE(not_installed.plan("rsyslog_after_ca_certs").actions.empty());

  Fixture own_command(
      "rsyslog: {configs: ['*.* @@10.0.0.9'], service_reload_command: [rc-service, rsyslog, "
      "restart]}\n",
      "ID=amzn\nID_LIKE=fedora\n");
  own_command.system.files["/etc/pki/ca-trust/source/anchors/cloud-init-ca-cert-2.crt"] = "PEM";
  RunCommand own{{"rc-service", "rsyslog", "restart"},
                 "rsyslog_after_ca_certs: service_reload_command"};
  own.needs_host = true;
  EXPECT_EQ(own_command.plan("rsyslog_after_ca_certs").actions, std::vector<Action>{own});
}

}  // namespace
}  // namespace amiboot
