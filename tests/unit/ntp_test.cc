// SPDX-License-Identifier: Apache-2.0
// ntp: the client chosen from the image, cloud-init's templates and
// defaults per distribution (the expected files below are what Jinja2
// renders from cloud-init's templates with cloud-init's settings), the
// Amazon Time Sync Service on EC2, and the service restarted.
#include "modules/ntp.h"

#include <gtest/gtest.h>

#include "agent/cloud_config.h"
#include "tests/support/module_fixture.h"
#include "tests/support/os_release_samples.h"

namespace amiboot {
namespace {

using namespace testing::os_release;

// chrony.conf.debian with cloud-init's default pools.
const std::string kDebianChrony =
    "# Welcome to the chrony configuration file. See chrony.conf(5) for more\n"
    "# information about usable directives.\n"
    "# pools\n"
    "pool 0.debian.pool.ntp.org iburst\n"
    "pool 1.debian.pool.ntp.org iburst\n"
    "pool 2.debian.pool.ntp.org iburst\n"
    "pool 3.debian.pool.ntp.org iburst\n"
    "\n"
    "# This directive specify the location of the file containing ID/key pairs for\n"
    "# NTP authentication.\n"
    "keyfile /etc/chrony/chrony.keys\n"
    "\n"
    "# This directive specify the file into which chronyd will store the rate\n"
    "# information.\n"
    "driftfile /var/lib/chrony/chrony.drift\n"
    "\n"
    "# Uncomment the following line to turn logging on.\n"
    "#log tracking measurements statistics\n"
    "\n"
    "# Log files location.\n"
    "logdir /var/log/chrony\n"
    "\n"
    "# Stop bad estimates upsetting machine clock.\n"
    "maxupdateskew 100.0\n"
    "\n"
    "# This directive enables kernel synchronisation (every 11 minutes) of the\n"
    "# real-time clock. Note that it can’t be used along with the 'rtcfile' directive.\n"
    "rtcsync\n"
    "\n"
    "# Step the system clock instead of slewing it if the adjustment is larger than\n"
    "# one second, but only in the first three clock updates.\n"
    "makestep 1 3\n"
    "\n";

// chrony.conf.rhel on EC2: the Time Sync Service preferred, then the pools.
const std::string kAmazonChronyOnEc2 =
    "# Use public servers from the pool.ntp.org project.\n"
    "# Please consider joining the pool (http://www.pool.ntp.org/join.html).\n"
    "# pools\n"
    "pool 0.amazon.pool.ntp.org iburst\n"
    "pool 1.amazon.pool.ntp.org iburst\n"
    "pool 2.amazon.pool.ntp.org iburst\n"
    "pool 3.amazon.pool.ntp.org iburst\n"
    "# servers\n"
    "server 169.254.169.123 prefer minpoll 4 maxpoll 4 iburst\n"
    "\n"
    "# Record the rate at which the system clock gains/losses time.\n"
    "driftfile /var/lib/chrony/drift\n"
    "\n"
    "# Allow the system clock to be stepped in the first three updates\n"
    "# if its offset is larger than 1 second.\n"
    "makestep 1.0 3\n"
    "\n"
    "# Enable kernel synchronization of the real-time clock (RTC).\n"
    "rtcsync\n"
    "\n"
    "# Enable hardware timestamping on all interfaces that support it.\n"
    "#hwtimestamp *\n"
    "\n"
    "# Increase the minimum number of selectable sources required to adjust\n"
    "# the system clock.\n"
    "#minsources 2\n"
    "\n"
    "# Allow NTP client access from local network.\n"
    "#allow 192.168.0.0/16\n"
    "\n"
    "# Serve time even if not synchronized to a time source.\n"
    "#local stratum 10\n"
    "\n"
    "# Specify file containing keys for NTP authentication.\n"
    "#keyfile /etc/chrony.keys\n"
    "\n"
    "# Specify directory for log files.\n"
    "logdir /var/log/chrony\n"
    "\n"
    "# Select which information is logged.\n"
    "#log measurements statistics tracking\n";

// timesyncd.conf on EC2.
const std::string kTimesyncdOnEc2 =
    "# cloud-init generated file\n"
    "# See timesyncd.conf(5) for details.\n"
    "\n"
    "[Time]\n"
    "NTP=169.254.169.123 0.debian.pool.ntp.org 1.debian.pool.ntp.org 2.debian.pool.ntp.org "
    "3.debian.pool.ntp.org \n";

struct Fixture : testing::ModuleFixture {
  explicit Fixture(const std::string& yaml, const std::string& os = kDebian) : ModuleFixture(yaml) {
    system.files["/etc/os-release"] = os;
    system.files["/usr/bin/apt-get"] = "";
    system.files["/usr/bin/dnf"] = "";
    system.files["/usr/bin/zypper"] = "";
  }
};

RunCommand restart(const std::string& service) {
  RunCommand r{{"systemctl", "restart", service}, "ntp: restart " + service};
  r.needs_host = true;
  return r;
}

RunCommand enable(const std::string& service) {
  RunCommand r{{"systemctl", "enable", service}, "ntp: enable " + service};
  r.root_option = "--root";
  return r;
}

WriteFile conf(const std::string& path, const std::string& content) {
  return WriteFile{path, content, 0644, "root:root", false, "ntp: " + path};
}

const WriteFile& written(const PlanResult& plan) {
  for (const auto& a : plan.actions) {
    if (const auto* w = std::get_if<WriteFile>(&a)) {
      return *w;
    }
  }
  static const WriteFile none;
  ADD_FAILURE() << "no file written";
  return none;
}

TEST(Ntp, AutoPicksTheFirstPreferredClientTheImageHas) {
  Fixture chrony("ntp: {}\n");
  chrony.system.files["/usr/sbin/chronyd"] = "";
  chrony.system.files["/lib/systemd/systemd-timesyncd"] = "";
  auto plan = chrony.plan("ntp");
  ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  std::vector<Action> expected = {conf("/etc/chrony/chrony.conf", kDebianChrony),
                                  restart("chrony")};
  EXPECT_EQ(plan.actions, expected);
  EXPECT_EQ(plan.summary, "chrony: 4 source(s) in /etc/chrony/chrony.conf");

  Fixture timesyncd("ntp:\n");
  timesyncd.system.files["/lib/systemd/systemd-timesyncd"] = "";
  auto plan2 = timesyncd.plan("ntp");
  ASSERT_TRUE(plan2.diagnostics.empty()) << testing::formatted(plan2.diagnostics);
  ASSERT_EQ(plan2.actions.size(), 2u);
  EXPECT_EQ(written(plan2).path, "/etc/systemd/timesyncd.conf.d/cloud-init.conf");
  EXPECT_EQ(plan2.actions[1], Action(restart("systemd-timesyncd")));

  // None at all: cloud-init's first preference, installed.
  Fixture none("ntp: {}\n");
  auto plan3 = none.plan("ntp");
  ASSERT_TRUE(plan3.diagnostics.empty()) << testing::formatted(plan3.diagnostics);
  std::vector<Action> expected3 = {
      ManagePackages{
          .manager = "apt", .packages = {{"chrony", ""}}, .label = "ntp: install chrony"},
      conf("/etc/chrony/chrony.conf", kDebianChrony), enable("chrony"), restart("chrony")};
  EXPECT_EQ(plan3.actions, expected3);
  EXPECT_EQ(plan3.summary, "chrony: 4 source(s) in /etc/chrony/chrony.conf (installed)");
}

TEST(Ntp, OnEc2TheTimeSyncServiceIsPreferredUntilServersOrPoolsReplaceIt) {
  Fixture f("ntp: {}\n", kAmazon);
  f.metadata.source = "imds";
  f.system.files["/usr/sbin/chronyd"] = "";
  auto plan = f.plan("ntp");
  ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  std::vector<Action> expected = {conf("/etc/chrony.conf", kAmazonChronyOnEc2), restart("chronyd")};
  EXPECT_EQ(plan.actions, expected);

  // timesyncd takes the bare address, first.
  Fixture t("ntp: {ntp_client: systemd-timesyncd}\n");
  t.metadata.source = "imds";
  t.system.files["/lib/systemd/systemd-timesyncd"] = "";
  EXPECT_EQ(written(t.plan("ntp")).content, kTimesyncdOnEc2);

  // The user's servers replace it, as they replace cloud-init's pools.
  Fixture own("ntp: {servers: [ntp.example.com], peers: [10.0.0.7], allow: [10.0.0.0/8]}\n",
              kAmazon);
  own.metadata.source = "imds";
  own.system.files["/usr/sbin/chronyd"] = "";
  std::string text = written(own.plan("ntp")).content;
  EXPECT_EQ(text.find("169.254.169.123"), std::string::npos);
  EXPECT_EQ(text.find("\npool "), std::string::npos);
  EXPECT_NE(
      text.find("# servers\nserver ntp.example.com iburst\npeer 10.0.0.7\nallow 10.0.0.0/8\n"),
      std::string::npos)
      << text;

  // Off EC2 (a seed directory): cloud-init's pools only.
  Fixture seed("ntp: {}\n", kAmazon);
  seed.system.files["/usr/sbin/chronyd"] = "";
  EXPECT_EQ(written(seed.plan("ntp")).content.find("169.254.169.123"), std::string::npos);
}

TEST(Ntp, EachFamilyHasItsPathsServicesAndTemplates) {
  struct Case {
    const char* os;
    const char* client;
    const char* exe;
    const char* path;
    const char* service;
    const char* marker;  // a line only that distribution's template has
  };
  for (const auto& c : std::vector<Case>{
           {kDebian, "chrony", "/usr/sbin/chronyd", "/etc/chrony/chrony.conf", "chrony",
            "keyfile /etc/chrony/chrony.keys\n"},
           {kUbuntu, "chrony", "/usr/sbin/chronyd", "/etc/chrony/chrony.conf", "chrony",
            "Approved by Ubuntu Technical Board"},
           {kUbuntu, "ntp", "/usr/sbin/ntpd", "/etc/ntp.conf", "ntp",
            "# Use Ubuntu's ntp server as a fallback.\n"},
           {kDebian, "ntpdate", "/usr/sbin/ntpdate", "/etc/ntp.conf", "ntpdate",
            "driftfile /var/lib/ntp/ntp.drift\n"},
           {kAmazon, "chrony", "/usr/sbin/chronyd", "/etc/chrony.conf", "chronyd",
            "#minsources 2\n"},
           {kRhel, "ntp", "/usr/sbin/ntpd", "/etc/ntp.conf", "ntpd",
            "restrict default kod nomodify notrap nopeer noquery\n"},
           {"ID=fedora\n", "chrony", "/usr/sbin/chronyd", "/etc/chrony.conf", "chronyd",
            "leapsectz right/UTC\n"},
           {"ID=fedora\n", "ntp", "/usr/sbin/ntpd", "/etc/ntp.conf", "ntpd", "disable monitor\n"},
           {kSles, "chrony", "/usr/sbin/chronyd", "/etc/chrony.conf", "chronyd",
            "#allow 192.168/16\n"},
           {kSles, "systemd-timesyncd", "/usr/lib/systemd/systemd-timesyncd",
            "/etc/systemd/timesyncd.conf.d/cloud-init.conf", "systemd-timesyncd", "[Time]\n"},
       }) {
    Fixture f("ntp: {ntp_client: " + std::string(c.client) + "}\n", c.os);
    f.system.files[c.exe] = "";
    auto plan = f.plan("ntp");
    ASSERT_TRUE(plan.diagnostics.empty())
        << c.os << c.client << testing::formatted(plan.diagnostics);
    ASSERT_EQ(plan.actions.size(), 2u) << c.os << c.client;
    EXPECT_EQ(written(plan).path, c.path) << c.os << c.client;
    EXPECT_NE(written(plan).content.find(c.marker), std::string::npos) << c.os << c.client;
    EXPECT_EQ(plan.actions[1], Action(restart(c.service))) << c.os << c.client;
  }
  OsRelease sles = parse_os_release(kSles);
  EXPECT_EQ(default_ntp_pools(sles)[0], "0.opensuse.pool.ntp.org");
  EXPECT_EQ(default_ntp_pools(parse_os_release(kAmazon))[3], "3.amazon.pool.ntp.org");
}

TEST(Ntp, SuseNtpIsWrittenAsCloudInitWritesIt) {
  Fixture f("ntp: {ntp_client: ntp, servers: [ntp.example.com], peers: [km001]}\n", kSles);
  f.system.files["/usr/sbin/ntpd"] = "";
  EXPECT_EQ(
      written(f.plan("ntp")).content,
      "\n"
      "##\n"
      "## Radio and modem clocks by convention have addresses in the \n"
      "## form 127.127.t.u, where t is the clock type and u is a unit \n"
      "## number in the range 0-3. \n"
      "##\n"
      "## Most of these clocks require support in the form of a \n"
      "## serial port or special bus peripheral. The particular  \n"
      "## device is normally specified by adding a soft link \n"
      "## /dev/device-u to the particular hardware device involved, \n"
      "## where u correspond to the unit number above. \n"
      "## \n"
      "## Generic DCF77 clock on serial port (Conrad DCF77)\n"
      "## Address:     127.127.8.u\n"
      "## Serial Port: /dev/refclock-u\n"
      "##  \n"
      "## (create soft link /dev/refclock-0 to the particular ttyS?)\n"
      "##\n"
      "# server 127.127.8.0 mode 5 prefer\n"
      "\n"
      "##\n"
      "## Undisciplined Local Clock. This is a fake driver intended for backup\n"
      "## and when no outside source of synchronized time is available.\n"
      "##\n"
      "# server 127.127.1.0\t\t# local clock (LCL)\n"
      "# fudge  127.127.1.0 stratum 10\t# LCL is unsynchronized\n"
      "\n"
      "##\n"
      "## Add external Servers using\n"
      "## # rcntpd addserver <yourserver>\n"
      "## The servers will only be added to the currently running instance, not\n"
      "## to /etc/ntp.conf.\n"
      "##\n"
      "# servers\n"
      "server ntp.example.com iburst\n"
      "peer km001\n"
      "\n"
      "# Access control configuration; see /usr/share/doc/packages/ntp/html/accopt.html for\n"
      "# details.  The web page <http://support.ntp.org/bin/view/Support/AccessRestrictions>\n"
      "# might also be helpful.\n"
      "#\n"
      "# Note that \"restrict\" applies to both servers and clients, so a configuration\n"
      "# that might be intended to block requests from certain clients could also end\n"
      "# up blocking replies from your own upstream servers.\n"
      "\n"
      "# By default, exchange time with everybody, but don't allow configuration.\n"
      "restrict -4 default notrap nomodify nopeer noquery\n"
      "restrict -6 default notrap nomodify nopeer noquery\n"
      "\n"
      "# Local users may interrogate the ntp server more closely.\n"
      "restrict 127.0.0.1\n"
      "restrict ::1\n"
      "\n"
      "# Clients from this (example!) subnet have unlimited access, but only if\n"
      "# cryptographically authenticated.\n"
      "#restrict 192.168.123.0 mask 255.255.255.0 notrust\n"
      "\n"
      "##\n"
      "## Miscellaneous stuff\n"
      "##\n"
      "\n"
      "driftfile /var/lib/ntp/drift/ntp.drift # path for drift file\n"
      "\n"
      "logfile   /var/log/ntp\t\t# alternate log file\n"
      "# logconfig =syncstatus + sysevents\n"
      "# logconfig =all\n"
      "\n"
      "# statsdir /tmp/\t\t# directory for statistics files\n"
      "# filegen peerstats  file peerstats  type day enable\n"
      "# filegen loopstats  file loopstats  type day enable\n"
      "# filegen clockstats file clockstats type day enable\n"
      "\n"
      "#\n"
      "# Authentication stuff\n"
      "#\n"
      "keys /etc/ntp.keys\t\t# path for keys file\n"
      "trustedkey 1\t\t\t# define trusted keys\n"
      "requestkey 1\t\t\t# key (7) for accessing server variables\n"
      "controlkey 1\t\t\t# key (6) for accessing server variables\n"
      "\n");
}

TEST(Ntp, TheImagesFileIsKeptAsDistOnceAndAnUnchangedFileIsLeftAlone) {
  Fixture f("ntp: {}\n");
  f.system.files["/usr/sbin/chronyd"] = "";
  f.system.files["/etc/chrony/chrony.conf"] = "pool 2.debian.pool.ntp.org iburst\n";
  auto plan = f.plan("ntp");
  RunCommand keep{{"cp", "-p", "/etc/chrony/chrony.conf", "/etc/chrony/chrony.conf.dist"},
                  "ntp: keep the image's /etc/chrony/chrony.conf as .dist"};
  keep.target_paths = {2, 3};
  std::vector<Action> expected = {keep, conf("/etc/chrony/chrony.conf", kDebianChrony),
                                  restart("chrony")};
  EXPECT_EQ(plan.actions, expected);

  f.system.files["/etc/chrony/chrony.conf.dist"] = "pool 2.debian.pool.ntp.org iburst\n";
  f.system.files["/etc/chrony/chrony.conf"] = "an earlier instance's\n";
  std::vector<Action> no_copy = {conf("/etc/chrony/chrony.conf", kDebianChrony), restart("chrony")};
  EXPECT_EQ(f.plan("ntp").actions, no_copy);

  f.system.files["/etc/chrony/chrony.conf"] = kDebianChrony;
  auto unchanged = f.plan("ntp");
  EXPECT_TRUE(unchanged.actions.empty());
  EXPECT_EQ(unchanged.summary, "chrony: /etc/chrony/chrony.conf unchanged");
}

TEST(Ntp, AMissingClientIsInstalledOrAnErrorNamingIt) {
  Fixture f("ntp: {ntp_client: ntp}\n", kAmazon);
  auto plan = f.plan("ntp");
  ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  ASSERT_EQ(plan.actions.size(), 4u);
  EXPECT_EQ(plan.actions[0],
            Action(ManagePackages{
                .manager = "dnf", .packages = {{"ntpsec", ""}}, .label = "ntp: install ntp"}));
  EXPECT_EQ(plan.actions[2], Action(enable("ntpd")));

  // cloud-init names no package for systemd-timesyncd.
  Fixture timesyncd("ntp: {ntp_client: systemd-timesyncd}\n");
  auto missing = timesyncd.plan("ntp");
  EXPECT_TRUE(missing.actions.empty());
  ASSERT_EQ(missing.diagnostics.size(), 1u);
  EXPECT_EQ(missing.diagnostics[0].format(),
            "ntp: systemd-timesyncd: /lib/systemd/systemd-timesyncd is not on this image and "
            "there is no package to install for it (cloud-init names none); nothing was written");

  // No package manager either.
  Fixture bare("ntp: {}\n");
  bare.system.files.erase("/usr/bin/apt-get");
  auto no_manager = bare.plan("ntp");
  EXPECT_TRUE(no_manager.actions.empty());
  ASSERT_EQ(no_manager.diagnostics.size(), 1u);
  EXPECT_EQ(no_manager.diagnostics[0].message,
            "chrony: chronyd is not on this image, and /etc/os-release says ID=debian, but the "
            "image has no apt-get; nothing was written");

  // A distribution without defaults.
  Fixture alpine("ntp: {}\n", "ID=alpine\n");
  auto unknown = alpine.plan("ntp");
  EXPECT_TRUE(unknown.actions.empty());
  ASSERT_EQ(unknown.diagnostics.size(), 1u);
  EXPECT_EQ(unknown.diagnostics[0].message.rfind("no defaults for an NTP client on ID=alpine", 0),
            0u);
}

TEST(Ntp, BadValuesRejectTheConfigWithTheirPosition) {
  for (auto [yaml, message] : {
           std::pair{"ntp: {ntp_client: ntpd-rs}\n",
                     "user-data:1:19: ntp.ntp_client: unknown client 'ntpd-rs' (expected auto, "
                     "chrony, systemd-timesyncd, ntp or ntpdate); a client of your own needs "
                     "ntp.config with confpath, check_exe, packages, service_name and template "
                     "(missing: confpath, check_exe, packages, service_name, template)"},
           std::pair{"ntp: {ntp_client: mine, config: {confpath: /etc/mine.conf}}\n",
                     "user-data:1:19: ntp.ntp_client: unknown client 'mine' (expected auto, "
                     "chrony, systemd-timesyncd, ntp or ntpdate); a client of your own needs "
                     "ntp.config with confpath, check_exe, packages, service_name and template "
                     "(missing: check_exe, packages, service_name, template)"},
           std::pair{"ntp: {servers: [ntp.example.com, 'time.example.com iburst']}\n",
                     "user-data:1:34: ntp.servers[1]: 'time.example.com iburst' is not a host "
                     "name or an IP address"},
           std::pair{"ntp: {pools: [\"pool.ntp.org\\nallow all\"]}\n",
                     "user-data:1:15: ntp.pools[0]: 'pool.ntp.org\nallow all' is not a host name "
                     "or an IP address"},
           std::pair{"ntp: {peers: [-bad]}\n",
                     "user-data:1:15: ntp.peers[0]: '-bad' is not a host name or an IP address"},
           std::pair{"ntp: {allow: [10.0.0.0/33]}\n",
                     "user-data:1:15: ntp.allow[0]: '10.0.0.0/33' is not an address or a network "
                     "(10.0.0.0/8, fd00::/8)"},
           std::pair{"ntp: {enabled: sometimes}\n",
                     "user-data:1:16: ntp.enabled: expected a boolean (true or false), got a "
                     "string"},
           std::pair{"ntp: {config: {confpath: ../etc/passwd}}\n",
                     "user-data:1:26: ntp.config.confpath: expected an absolute path, got "
                     "'../etc/passwd'"},
           std::pair{"ntp: {config: {service_name: 'chrony; reboot'}}\n",
                     "user-data:1:30: ntp.config.service_name: 'chrony; reboot' is not a service "
                     "name"},
           std::pair{"ntp: {config: {packages: [-oDebug::pkgProblemResolver=1]}}\n",
                     "user-data:1:27: ntp.config.packages[0]: '-oDebug::pkgProblemResolver=1' is "
                     "not a package name"},
           std::pair{"ntp: {config: {template: 'server {{ servers }}'}}\n",
                     "user-data:1:26: ntp.config.template: expected a Jinja template whose first "
                     "line is '## template:jinja' (cloud-init's other template syntax is not "
                     "supported)"},
           std::pair{"ntp: [chrony]\n",
                     "user-data:1:6: ntp: expected a map (enabled, ntp_client, servers, ...), got "
                     "a list"},
       }) {
    Fixture f(yaml);
    Diagnostics d;
    f.check("ntp", d);
    ASSERT_EQ(d.size(), 1u) << yaml << testing::formatted(d);
    EXPECT_EQ(d[0].format(), message);
    EXPECT_TRUE(f.plan("ntp").actions.empty());
  }
  // A template that does not render names its own line and column.
  Fixture broken(
      "ntp:\n  config:\n    template: |\n      ## template:jinja\n"
      "      server {{ servers[0] }\n");
  Diagnostics d;
  broken.check("ntp", d);
  ASSERT_EQ(d.size(), 1u) << testing::formatted(d);
  EXPECT_EQ(d[0].format().rfind("user-data:3:15: ntp.config.template: template:2:", 0), 0u)
      << d[0].format();
}

TEST(Ntp, DisabledPlansNothingAndDuplicatesAreWarned) {
  Fixture off("ntp: {enabled: false, servers: [a.example]}\n");
  auto plan = off.plan("ntp");
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_EQ(plan.summary, "disabled");

  Fixture twice("ntp: {servers: [a.example, a.example]}\n");
  twice.system.files["/usr/sbin/chronyd"] = "";
  auto dup = twice.plan("ntp");
  ASSERT_EQ(dup.diagnostics.size(), 1u);
  EXPECT_EQ(dup.diagnostics[0].format(),
            "user-data:1:28: warning: ntp.servers[1]: 'a.example' is listed twice; once is "
            "enough");
  EXPECT_EQ(written(dup).content.find("server a.example iburst\nserver a.example"),
            std::string::npos);
}

TEST(Ntp, CloudInitsExamplesAreAcceptedAndEachKeyActedOn) {
  // doc/module-docs/cc_ntp/example1.yaml: chrony on Ubuntu.
  Fixture one("ntp:\n  enabled: true\n  ntp_client: chrony  # cloud-init's default config\n",
              kUbuntu);
  one.system.files["/usr/sbin/chronyd"] = "";
  EXPECT_TRUE(testing::validate(one.config).empty())
      << testing::formatted(testing::validate(one.config));
  auto plan1 = one.plan("ntp");
  ASSERT_TRUE(plan1.diagnostics.empty()) << testing::formatted(plan1.diagnostics);
  ASSERT_EQ(plan1.actions.size(), 2u);
  EXPECT_EQ(written(plan1).path, "/etc/chrony/chrony.conf");
  EXPECT_NE(written(plan1).content.find("pool 0.ubuntu.pool.ntp.org iburst\n"), std::string::npos);
  EXPECT_EQ(plan1.actions[1], Action(restart("chrony")));

  // example2.yaml: a client of one's own, its template rendered as Jinja2
  // renders it (the doc's template glues "# pools" to the first pool line).
  Fixture two(
      "ntp:\n"
      "  enabled: true\n"
      "  ntp_client: myntpclient\n"
      "  config:\n"
      "    confpath: /etc/myntpclient/myntpclient.conf\n"
      "    check_exe: myntpclientd\n"
      "    packages:\n"
      "    - myntpclient\n"
      "    service_name: myntpclient\n"
      "    template: |\n"
      "      ## template:jinja\n"
      "      # My NTP Client config\n"
      "      {% if pools -%}# pools{% endif %}\n"
      "      {% for pool in pools -%}\n"
      "      pool {{pool}} iburst\n"
      "      {% endfor %}\n"
      "      {%- if servers %}# servers\n"
      "      {% endif %}\n"
      "      {% for server in servers -%}\n"
      "      server {{server}} iburst\n"
      "      {% endfor %}\n"
      "      {% if peers -%}# peers{% endif %}\n"
      "      {% for peer in peers -%}\n"
      "      peer {{peer}}\n"
      "      {% endfor %}\n"
      "      {% if allow -%}# allow{% endif %}\n"
      "      {% for cidr in allow -%}\n"
      "      allow {{cidr}}\n"
      "      {% endfor %}\n"
      "  pools: [0.int.pool.ntp.org, 1.int.pool.ntp.org, ntp.myorg.org]\n"
      "  servers:\n"
      "  - ntp.server.local\n"
      "  - ntp.ubuntu.com\n"
      "  - 192.168.23.2\n"
      "  allow:\n"
      "  - 192.168.23.0/32\n"
      "  peers:\n"
      "  - km001\n"
      "  - km002\n",
      kUbuntu);
  two.metadata.source = "imds";  // the user's servers and pools: no Time Sync added
  EXPECT_TRUE(testing::validate(two.config).empty())
      << testing::formatted(testing::validate(two.config));
  auto plan2 = two.plan("ntp");
  ASSERT_TRUE(plan2.diagnostics.empty()) << testing::formatted(plan2.diagnostics);
  std::vector<Action> expected2 = {
      ManagePackages{
          .manager = "apt", .packages = {{"myntpclient", ""}}, .label = "ntp: install myntpclient"},
      conf("/etc/myntpclient/myntpclient.conf",
           "# My NTP Client config\n"
           "# poolspool 0.int.pool.ntp.org iburst\n"
           "pool 1.int.pool.ntp.org iburst\n"
           "pool ntp.myorg.org iburst\n"
           "# servers\n"
           "server ntp.server.local iburst\n"
           "server ntp.ubuntu.com iburst\n"
           "server 192.168.23.2 iburst\n"
           "# peerspeer km001\n"
           "peer km002\n"
           "# allowallow 192.168.23.0/32\n"
           "\n"),
      enable("myntpclient"), restart("myntpclient")};
  EXPECT_EQ(plan2.actions, expected2);
}

TEST(Ntp, TheConfigSurvivesTheFinalStagesStoredConfig) {
  Fixture f(
      "ntp: {ntp_client: mine, servers: [a.example], allow: [10.0.0.0/8], config: {confpath: "
      "/etc/mine.conf, check_exe: mined, packages: [mine], service_name: mine, template: \"## "
      "template:jinja\\n{{ servers }}\\n\"}}\n");
  const ModuleSpec& row = testing::row("ntp");
  ASSERT_NE(row.store, nullptr);
  Diagnostics d;
  DecodedConfig decoded = row.decode(f.config, d);
  ASSERT_TRUE(d.empty()) << testing::formatted(d);
  DecodedConfig loaded = row.load(row.store(decoded.get()));
  using Stored = std::optional<NtpConfig>;
  EXPECT_EQ(*static_cast<const Stored*>(loaded.get()), *static_cast<const Stored*>(decoded.get()));
}

}  // namespace
}  // namespace amiboot
