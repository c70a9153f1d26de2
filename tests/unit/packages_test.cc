// SPDX-License-Identifier: Apache-2.0
// The packages module without a package manager: the argv of each manager
// and version form, the choice from /etc/os-release, the reading of failure
// output, and the session's retry and fallback rules driven by scripted
// outcomes.
#include <gtest/gtest.h>

#include "modules/package_managers.h"
#include "modules/packages.h"
#include "tests/support/module_fixture.h"

namespace amiboot {
namespace {

using Strings = std::vector<std::string>;

const PackageManager& manager(const char* name) {
  const PackageManager* m = find_package_manager(name);
  EXPECT_NE(m, nullptr) << name;
  return *m;
}

Strings names(const std::vector<NamedPackage>& named) {
  Strings out;
  for (const auto& n : named) {
    out.push_back(n.name);
  }
  return out;
}

const std::vector<PackageSpec> kTwo = {{"curl", ""}, {"nginx", "1.22.1-9"}};

TEST(PackageArgv, AptInstallsNoninteractiveWithLockTimeoutAndNameEqualsVersion) {
  EXPECT_EQ(package_argv(manager("apt"), PackageStep::Install, kTwo, 300),
            (Strings{"apt-get", "--assume-yes", "--quiet", "-o", "DPkg::Lock::Timeout=300", "-o",
                     "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold",
                     "install", "curl", "nginx=1.22.1-9"}));
  EXPECT_EQ(package_argv(manager("apt"), PackageStep::Update, {}, 7).back(), "update");
  EXPECT_EQ(package_argv(manager("apt"), PackageStep::Update, {}, 7)[4], "DPkg::Lock::Timeout=7");
  EXPECT_EQ(package_argv(manager("apt"), PackageStep::Upgrade, {}, 7).back(), "dist-upgrade");
  auto env = package_env(manager("apt"), 7);
  EXPECT_NE(std::find(env.begin(), env.end(),
                      std::pair<std::string, std::string>{"DEBIAN_FRONTEND", "noninteractive"}),
            env.end());
}

TEST(PackageArgv, DnfAndYumWriteNameDashVersionAndGiveUpAtOnceOnAHeldLock) {
  // exit_on_lock: neither waits for a limited time itself; amiboot waits
  // (lock_timeout_seconds, tests/unit/package_run_test.cc).
  EXPECT_EQ(package_argv(manager("dnf"), PackageStep::Install, kTwo, 300),
            (Strings{"dnf", "--assumeyes", "--setopt=exit_on_lock=True", "install", "curl",
                     "nginx-1.22.1-9"}));
  // --refresh: plain makecache keeps metadata that has not expired.
  EXPECT_EQ(
      package_argv(manager("dnf"), PackageStep::Update, {}, 300),
      (Strings{"dnf", "--assumeyes", "--setopt=exit_on_lock=True", "makecache", "--refresh"}));
  EXPECT_EQ(package_argv(manager("dnf"), PackageStep::Upgrade, {}, 300),
            (Strings{"dnf", "--assumeyes", "--setopt=exit_on_lock=True", "upgrade"}));
  // yum (Amazon Linux 2) would skip a missing name and exit 0.
  EXPECT_EQ(package_argv(manager("yum"), PackageStep::Install, kTwo, 300),
            (Strings{"yum", "--assumeyes", "--setopt=skip_missing_names_on_install=False",
                     "--setopt=exit_on_lock=True", "install", "curl", "nginx-1.22.1-9"}));
  EXPECT_EQ(package_argv(manager("yum"), PackageStep::Update, {}, 300),
            (Strings{"yum", "--assumeyes", "--setopt=skip_missing_names_on_install=False",
                     "--setopt=exit_on_lock=True", "clean", "expire-cache"}));
}

TEST(PackageArgv, ZypperIsNonInteractiveAgreesToLicencesAndWritesNameEqualsVersion) {
  EXPECT_EQ(package_argv(manager("zypper"), PackageStep::Install, kTwo, 60),
            (Strings{"zypper", "--non-interactive", "install", "--auto-agree-with-licenses", "curl",
                     "nginx=1.22.1-9"}));
  EXPECT_EQ(package_argv(manager("zypper"), PackageStep::Update, {}, 60),
            (Strings{"zypper", "--non-interactive", "refresh"}));
  EXPECT_EQ(package_argv(manager("zypper"), PackageStep::Upgrade, {}, 60),
            (Strings{"zypper", "--non-interactive", "update", "--auto-agree-with-licenses"}));
  EXPECT_EQ(package_env(manager("zypper"), 60),
            (std::vector<std::pair<std::string, std::string>>{{"ZYPP_LOCK_TIMEOUT", "60"}}));
}

struct ChooseCase {
  const char* os_release;
  std::vector<std::string> programs;
  const char* expected;  // manager name, or a text the error must contain
};

TEST(ChoosePackageManager, FromOsReleaseAndTheProgramsTheImageHas) {
  const std::vector<ChooseCase> cases = {
      {"ID=debian\nVERSION_ID=\"12\"\n", {"/usr/bin/apt-get"}, "apt"},
      {"ID=ubuntu\nID_LIKE=debian\n", {"/usr/bin/apt-get"}, "apt"},
      {"ID=\"amzn\"\nVERSION_ID=\"2023\"\nID_LIKE=\"fedora\"\n", {"/usr/bin/dnf"}, "dnf"},
      {"ID=\"amzn\"\nVERSION_ID=\"2\"\nID_LIKE=\"centos rhel fedora\"\n", {"/usr/bin/yum"}, "yum"},
      {"ID=\"rhel\"\nID_LIKE=\"fedora\"\n", {"/usr/bin/dnf", "/usr/bin/yum"}, "dnf"},
      {"ID=\"opensuse-leap\"\nID_LIKE=\"suse opensuse\"\n", {"/usr/bin/zypper"}, "zypper"},
      {"ID=\"sles\"\nID_LIKE=\"suse\"\n", {"/usr/bin/zypper"}, "zypper"},
      {"ID=debian\n", {}, "ID=debian, but the image has no apt-get"},
      {"ID=amzn\nID_LIKE=\"fedora\"\n", {}, "has no dnf or yum"},
      {"ID=arch\n", {"/usr/bin/pacman"}, "no supported package manager for ID=arch"},
  };
  for (const auto& c : cases) {
    testing::FakeSystemView system;
    for (const auto& p : c.programs) {
      system.files[p] = "";
    }
    ManagerChoice choice = choose_package_manager(parse_os_release(c.os_release), system);
    if (choice.manager != nullptr) {
      EXPECT_EQ(choice.manager->name, c.expected) << c.os_release;
    } else {
      EXPECT_NE(choice.why.find(c.expected), std::string::npos)
          << c.os_release << " -> " << choice.why;
    }
  }
}

TEST(ClassifyPackageOutcome, AptLockIsTransient) {
  auto f = classify_package_outcome(
      manager("apt"), PackageStep::Install, 100,
      "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 123 "
      "(unattended-upgr)\nE: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/"
      "lock-frontend), is another process using it?\n");
  EXPECT_EQ(f.kind, PackageFailure::Kind::Transient);
}

TEST(ClassifyPackageOutcome, AptNetworkIsTransientButA404IsAStaleIndex) {
  EXPECT_EQ(classify_package_outcome(manager("apt"), PackageStep::Install, 100,
                                     "Err:1 http://deb.example/debian bookworm/main amd64 jq "
                                     "1.6-2\n  Temporary failure resolving 'deb.example'\n")
                .kind,
            PackageFailure::Kind::Transient);
  auto stale = classify_package_outcome(
      manager("apt"), PackageStep::Install, 100,
      "E: Failed to fetch http://deb.example/pool/j/jq_1.6-2_amd64.deb  404  Not Found\n");
  EXPECT_EQ(stale.kind, PackageFailure::Kind::Missing);
  EXPECT_TRUE(stale.missing.empty());
}

TEST(ClassifyPackageOutcome, AptNamesEachMissingPackageAndVersion) {
  auto f = classify_package_outcome(manager("apt"), PackageStep::Install, 100,
                                    "Reading package lists...\n"
                                    "E: Unable to locate package nosuch\n"
                                    "E: Version '9.9' for 'curl' was not found\n"
                                    "E: Unable to locate package nosuch\n");
  EXPECT_EQ(f.kind, PackageFailure::Kind::Missing);
  EXPECT_EQ(f.missing,
            (std::vector<NamedPackage>{{"nosuch", "E: Unable to locate package nosuch"},
                                       {"curl", "E: Version '9.9' for 'curl' was not found"}}));
  EXPECT_EQ(f.reason, "E: Unable to locate package nosuch");
}

TEST(ClassifyPackageOutcome, DnfYumAndZypperMissingAndLocked) {
  auto dnf = classify_package_outcome(manager("dnf"), PackageStep::Install, 1,
                                      "No match for argument: nosuch\nError: Unable to find a "
                                      "match: nosuch\n");
  EXPECT_EQ(dnf.kind, PackageFailure::Kind::Missing);
  EXPECT_EQ(names(dnf.missing), Strings{"nosuch"});
  auto yum = classify_package_outcome(manager("yum"), PackageStep::Install, 1,
                                      "No package nosuch available.\nError: Nothing to do\n");
  EXPECT_EQ(names(yum.missing), Strings{"nosuch"});
  EXPECT_EQ(classify_package_outcome(manager("dnf"), PackageStep::Install, 1,
                                     "Curl error (6): Couldn't resolve host name\n")
                .kind,
            PackageFailure::Kind::Transient);
  // zypper 1.14.42's own text (tests/integration/rpm_packages_test.cc).
  auto zypper = classify_package_outcome(manager("zypper"), PackageStep::Install, 104,
                                         "'nosuch' not found in package names. Trying "
                                         "capabilities.\nNo provider of 'nosuch' found.\n");
  EXPECT_EQ(zypper.kind, PackageFailure::Kind::Missing);
  EXPECT_EQ(names(zypper.missing), Strings{"nosuch"});
  EXPECT_EQ(classify_package_outcome(manager("zypper"), PackageStep::Install, 7, "").kind,
            PackageFailure::Kind::Transient);
}

// rpm's own transaction lock, held by a process that is not dnf (dnf 4.14,
// exit 1): dnf gives up at once whatever exit_on_lock says.
const std::string kRpmLocked =
    "Running transaction\n\nRPM: error: can't create transaction lock on "
    "/var/lib/rpm/.rpm.lock (Resource temporarily unavailable)\nError: Could not run "
    "transaction.\n";

// dnf 4.14's output (stderr) with exit_on_lock while another dnf's
// transaction runs against the same root (tests/integration/rpm_packages_test.cc
// reproduces it); yum 3's from its yummain.py.
const std::string kDnfLocked =
    "Running transaction check\nRPMDB already locked by 20327\n"
    "  The application with PID 20327 is: dnf\n    Memory :  54 M RSS (111 MB VSZ)\n";
const std::string kYumLocked =
    "Existing lock /var/run/yum.pid: another copy is running as pid 4242.\n"
    "Another app is currently holding the yum lock; exiting as configured by exit_on_lock\n";

TEST(LockHeldLine, DnfAndYumSayTheirLockIsHeldAndAptAndZypperWaitThemselves) {
  EXPECT_EQ(lock_held_line(manager("dnf"), 200, kDnfLocked), "RPMDB already locked by 20327");
  EXPECT_EQ(lock_held_line(manager("dnf"), 200, "metadata already locked by 77\n"),
            "metadata already locked by 77");
  EXPECT_EQ(lock_held_line(manager("yum"), 1, kYumLocked),
            "Another app is currently holding the yum lock; exiting as configured by "
            "exit_on_lock");
  EXPECT_EQ(lock_held_line(manager("dnf"), 1, kRpmLocked),
            "RPM: error: can't create transaction lock on /var/lib/rpm/.rpm.lock (Resource "
            "temporarily unavailable)");
  EXPECT_EQ(lock_held_line(manager("dnf"), 1, "No match for argument: nosuch\n"), "");
  EXPECT_EQ(lock_held_line(manager("dnf"), 0, "Complete!\n"), "");
  // apt-get and zypper waited lock_timeout_seconds themselves: their lock
  // text is only a transient failure.
  EXPECT_EQ(lock_held_line(manager("apt"), 100, "E: Could not get lock /var/lib/dpkg/lock\n"), "");
  EXPECT_EQ(lock_held_line(manager("zypper"), 7, "System management is locked\n"), "");
  // A lock still held once amiboot's wait is over is retried like apt's.
  auto dnf = classify_package_outcome(manager("dnf"), PackageStep::Install, 200, kDnfLocked);
  EXPECT_EQ(dnf.kind, PackageFailure::Kind::Transient);
  EXPECT_EQ(dnf.reason, "RPMDB already locked by 20327");  // not the lines about the holder
  EXPECT_EQ(classify_package_outcome(manager("yum"), PackageStep::Install, 1, kYumLocked).kind,
            PackageFailure::Kind::Transient);
  // zypper 1.14.42 after ZYPP_LOCK_TIMEOUT (exit 7); its last line says nothing.
  auto zypper = classify_package_outcome(manager("zypper"), PackageStep::Install, 7,
                                         "System management is locked by the application with "
                                         "pid 25856 (zypper).\nClose this application before "
                                         "trying again.\n");
  EXPECT_EQ(zypper.reason,
            "System management is locked by the application with pid 25856 (zypper).");
}

TEST(ClassifyPackageOutcome, AFailingPostIsBrokenAsDnfAndZypperReportIt) {
  // dnf 4.14 installs the package, says so and exits 0.
  auto dnf = classify_package_outcome(
      manager("dnf"), PackageStep::Install, 0,
      "  Running scriptlet: amiboot-test-broken-1.0-1.noarch                       2/3 \n"
      "amiboot test: this %post fails\n\n"
      "Error in POSTIN scriptlet in rpm package amiboot-test-broken\n"
      "  Installing       : amiboot-test-a-1.0-1.noarch                            3/3 \n"
      "Complete!\n");
  EXPECT_EQ(dnf.kind, PackageFailure::Kind::Broken);
  EXPECT_EQ(dnf.broken, Strings{"amiboot-test-broken"});
  EXPECT_EQ(dnf.reason, "Error in POSTIN scriptlet in rpm package amiboot-test-broken");
  // zypper 1.14.42 passes rpm's line on and exits 107.
  auto zypper = classify_package_outcome(
      manager("zypper"), PackageStep::Install, 107,
      "(3/3) Installing: amiboot-test-broken-1.0-1.noarch [....done]\n"
      "warning: %post(amiboot-test-broken-1.0-1.noarch) scriptlet failed, exit status 1\n");
  EXPECT_EQ(zypper.kind, PackageFailure::Kind::Broken);
  EXPECT_EQ(zypper.broken, Strings{"amiboot-test-broken-1.0-1.noarch"});
  EXPECT_EQ(zypper.reason,
            "warning: %post(amiboot-test-broken-1.0-1.noarch) scriptlet failed, exit status 1");
  // The session names the package from rpm's name-version-release.arch.
  PackageSession s(manager("zypper"),
                   ManagePackages{.manager = "zypper", .packages = {{"amiboot-test-broken", ""}}});
  s.record(107,
           "warning: %post(amiboot-test-broken-1.0-1.noarch) scriptlet failed, exit status 1\n");
  ASSERT_EQ(s.errors().size(), 1u);
  EXPECT_EQ(s.errors()[0].rfind("package amiboot-test-broken: installed but not configured", 0), 0u)
      << s.errors()[0];
}

TEST(PackageManagers, RpmManagersActOnARootWithTheirOwnOption) {
  EXPECT_EQ(manager("dnf").root_options, Strings{"--installroot={root}"});
  EXPECT_EQ(manager("yum").root_options, Strings{"--installroot={root}"});
  EXPECT_EQ(manager("zypper").root_options, (Strings{"--root", "{root}"}));
  // apt-get runs in chroot ROOT: dpkg's --root would leave apt's own
  // configuration and lists the host's.
  EXPECT_TRUE(manager("apt").root_options.empty());
}

TEST(ClassifyPackageOutcome, AnythingElseIsOtherWithTheLastErrorLine) {
  auto f = classify_package_outcome(manager("apt"), PackageStep::Install, 100,
                                    "Setting up broken (1.0) ...\n"
                                    "dpkg: error processing package broken (--configure):\n"
                                    "E: Sub-process /usr/bin/dpkg returned an error code (1)\n"
                                    "\n");
  EXPECT_EQ(f.kind, PackageFailure::Kind::Other);
  EXPECT_EQ(f.reason, "E: Sub-process /usr/bin/dpkg returned an error code (1)");
}

TEST(ClassifyPackageOutcome, ZypperInformationalExitCodesAreSuccessOrTryAgain) {
  const auto& z = manager("zypper");
  for (int code : {0, 100, 101, 102}) {
    EXPECT_EQ(classify_package_outcome(z, PackageStep::Install, code, "").kind,
              PackageFailure::Kind::None)
        << code;
  }
  // 103: zypper updated itself and must run again; 106: a repository was skipped.
  for (int code : {103, 106}) {
    EXPECT_EQ(classify_package_outcome(z, PackageStep::Install, code, "").kind,
              PackageFailure::Kind::Transient)
        << code;
  }
}

TEST(ClassifyPackageOutcome, AnAptUpdateThatOnlyWarnsFetchedNothing) {
  const std::string warned =
      "Err:1 http://deb.example bookworm InRelease\n  Temporary failure resolving "
      "'deb.example'\nW: Failed to fetch http://deb.example/dists/bookworm/InRelease\n"
      "W: Some index files failed to download. They have been ignored, or old ones used "
      "instead.\n";
  EXPECT_EQ(classify_package_outcome(manager("apt"), PackageStep::Update, 0, warned).kind,
            PackageFailure::Kind::Transient);
  EXPECT_EQ(classify_package_outcome(manager("apt"), PackageStep::Update, 0, "Reading...\n").kind,
            PackageFailure::Kind::None);
}

TEST(ClassifyPackageOutcome, AFailingMaintainerScriptNamesThePackagesDpkgLeftBroken) {
  auto f = classify_package_outcome(
      manager("apt"), PackageStep::Install, 100,
      "Setting up good-a (1.0) ...\nSetting up broken (1.0) ...\n"
      "dpkg: error processing package broken (--configure):\n installed broken package "
      "post-installation script subprocess returned error exit status 1\n"
      "Errors were encountered while processing:\n broken\n needs-broken\n"
      "E: Sub-process /usr/bin/dpkg returned an error code (1)\n");
  EXPECT_EQ(f.kind, PackageFailure::Kind::Broken);
  EXPECT_EQ(f.broken, (Strings{"broken", "needs-broken"}));
}

TEST(PackageNames, OnlyNamesAndVersionsReachThePackageManager) {
  for (const char* good : {"nginx", "libc6:i386", "python3.11", "g++", "kernel-devel", "0ad"}) {
    EXPECT_TRUE(valid_package_name(good)) << good;
  }
  // An option, a removal (apt: trailing -, zypper: ~ or !), an apt task,
  // a local file, a URL, a dnf group, a glob, a second word.
  for (const char* bad : {"", "-o", "--allow-unauthenticated", "openssh-server-", "~nginx",
                          "!nginx", "web-server^", "./x.deb", "/tmp/x.rpm",
                          "https://example.com/x.rpm", "@core", "python3-*", "a b", "a\x01"}) {
    EXPECT_FALSE(valid_package_name(bad)) << bad;
  }
  for (const char* good : {"1.22.1-9", "1:2.3~rc1+dfsg-1", "1.2*", "3.8.10-0ubuntu1~20.04.2"}) {
    EXPECT_TRUE(valid_package_version(good)) << good;
  }
  for (const char* bad : {"-1", "1 2", "1/2", "1;2"}) {
    EXPECT_FALSE(valid_package_version(bad)) << bad;
  }
}

// Runs a session against scripted outcomes; returns the commands it asked
// for, as "step pkg pkg #retry".
struct Outcome {
  int exit_code;
  std::string output;
};

Strings drive(PackageSession& session, std::vector<Outcome> outcomes) {
  Strings seen;
  std::size_t i = 0;
  while (auto command = session.next()) {
    std::string line = command->step == PackageStep::Update    ? "update"
                       : command->step == PackageStep::Upgrade ? "upgrade"
                                                               : "install";
    for (const auto& p : command->packages) {
      line += " " + p.name;
    }
    if (command->retry > 0) {
      line += " #" + std::to_string(command->retry);
    }
    seen.push_back(line);
    if (i >= outcomes.size() || seen.size() > 20) {
      ADD_FAILURE() << "the session asked for more commands than scripted: " << line;
      break;
    }
    session.record(outcomes[i].exit_code, outcomes[i].output);
    ++i;
  }
  EXPECT_EQ(i, outcomes.size()) << "scripted outcomes left over";
  return seen;
}

ManagePackages request(std::vector<PackageSpec> packages, bool update = false) {
  return ManagePackages{.manager = "apt", .packages = std::move(packages), .update = update};
}

const std::string kLocked = "E: Could not get lock /var/lib/dpkg/lock-frontend\n";
const std::string kNoSuch = "E: Unable to locate package nosuch\n";

TEST(PackageSession, UpdatesFirstWhenAskedThenInstallsEverythingInOneCommand) {
  PackageSession s(manager("apt"), request({{"a", ""}, {"b", "1.0"}}, true));
  EXPECT_EQ(drive(s, {{0, ""}, {0, ""}}), (Strings{"update", "install a b"}));
  EXPECT_TRUE(s.errors().empty());
  EXPECT_TRUE(s.changed());
}

TEST(PackageSession, UpgradeRunsAfterAnUpdateEvenWhenUpdateWasNotAsked) {
  auto r = request({{"a", ""}});
  r.upgrade = true;
  PackageSession s(manager("apt"), r);
  EXPECT_EQ(drive(s, {{0, ""}, {0, ""}, {0, ""}}), (Strings{"update", "upgrade", "install a"}));
}

TEST(PackageSession, RetriesTheSameCommandWhileTheLockIsHeld) {
  PackageSession s(manager("apt"), request({{"a", ""}}));
  EXPECT_EQ(drive(s, {{100, kLocked}, {100, kLocked}, {0, ""}}),
            (Strings{"install a", "install a #1", "install a #2"}));
  EXPECT_TRUE(s.errors().empty());
  EXPECT_EQ(s.take_notes().size(), 2u);
}

TEST(PackageSession, GivesUpAfterTheAttemptsAndSaysWhy) {
  auto r = request({{"a", ""}});
  r.attempts = 3;
  PackageSession s(manager("apt"), r);
  drive(s, {{100, kLocked}, {100, kLocked}, {100, kLocked}});
  ASSERT_EQ(s.errors().size(), 1u);
  EXPECT_NE(s.errors()[0].find("installing a failed after 3 tries"), std::string::npos)
      << s.errors()[0];
  EXPECT_NE(s.errors()[0].find("Could not get lock"), std::string::npos);
  EXPECT_FALSE(s.changed());
}

TEST(PackageSession, AMissingPackageOnAStaleIndexUpdatesOnceAndInstallsAgain) {
  PackageSession s(manager("apt"), request({{"a", ""}}));
  EXPECT_EQ(drive(s, {{100, "E: Unable to locate package a\n"}, {0, ""}, {0, ""}}),
            (Strings{"install a", "update", "install a"}));
  EXPECT_TRUE(s.errors().empty());
}

TEST(PackageSession, AFailureThatIsNotAMissingPackageDoesNotUpdate) {
  PackageSession s(manager("apt"), request({{"a", ""}}));
  EXPECT_EQ(drive(s, {{100, "E: Sub-process /usr/bin/dpkg returned an error code (1)\n"}}),
            (Strings{"install a"}));
  ASSERT_EQ(s.errors().size(), 1u);
  EXPECT_NE(s.errors()[0].find("package a: install failed"), std::string::npos) << s.errors()[0];
}

TEST(PackageSession, AMissingPackageIsNamedAndTheOthersAreInstalled) {
  PackageSession s(manager("apt"), request({{"a", ""}, {"nosuch", ""}, {"c", "2"}}));
  EXPECT_EQ(drive(s, {{100, kNoSuch}, {0, ""}, {100, kNoSuch}, {0, ""}}),
            (Strings{"install a nosuch c", "update", "install a nosuch c", "install a c"}));
  ASSERT_EQ(s.errors().size(), 1u);
  EXPECT_EQ(s.errors()[0].rfind("package nosuch: no such package in the image's repositories", 0),
            0u)
      << s.errors()[0];
  EXPECT_TRUE(s.changed());
}

TEST(PackageSession, AMissingVersionIsNamedWithItsVersion) {
  PackageSession s(manager("apt"), request({{"a", "9.9"}}, true));
  drive(s, {{0, ""}, {100, "E: Version '9.9' for 'a' was not found\n"}});
  ASSERT_EQ(s.errors().size(), 1u);
  EXPECT_EQ(s.errors()[0].rfind("package a=9.9: no such package or version", 0), 0u)
      << s.errors()[0];
}

TEST(PackageSession, AFailureNamingNobodyInstallsEachPackageAlone) {
  PackageSession s(manager("apt"), request({{"a", ""}, {"broken", ""}, {"c", ""}}, true));
  const std::string dpkg = "E: Sub-process /usr/bin/dpkg returned an error code (1)\n";
  EXPECT_EQ(drive(s, {{0, ""}, {100, dpkg}, {0, ""}, {100, dpkg}, {0, ""}}),
            (Strings{"update", "install a broken c", "install a", "install broken", "install c"}));
  ASSERT_EQ(s.errors().size(), 1u);
  EXPECT_EQ(s.errors()[0].rfind("package broken: install failed", 0), 0u) << s.errors()[0];
}

TEST(PackageSession, TwoMissingPackagesAreBothNamedWithTheirOwnLines) {
  PackageSession s(manager("apt"), request({{"a", ""}, {"x", ""}, {"y", "2"}}, true));
  const std::string both = "E: Unable to locate package x\nE: Version '2' for 'y' was not found\n";
  EXPECT_EQ(drive(s, {{0, ""}, {100, both}, {0, ""}}),
            (Strings{"update", "install a x y", "install a"}));
  ASSERT_EQ(s.errors().size(), 2u);
  EXPECT_EQ(s.errors()[0],
            "package x: no such package in the image's repositories (apt-get: E: Unable to "
            "locate package x)");
  EXPECT_EQ(s.errors()[1],
            "package y=2: no such package or version in the image's repositories (apt-get: E: "
            "Version '2' for 'y' was not found)");
}

TEST(PackageSession, AFailedFallbackUpdateStillRetriesTheInstallOnce) {
  PackageSession s(manager("apt"), request({{"x", ""}}));
  EXPECT_EQ(drive(s, {{100, "E: Unable to locate package x\n"},
                      {100, "E: The repository 'file:/srv/repo ./ Release' is not signed.\n"},
                      {100, "E: Unable to locate package x\n"}}),
            (Strings{"install x", "update", "install x"}));
  ASSERT_EQ(s.errors().size(), 2u);
  EXPECT_NE(s.errors()[0].find("updating the package index failed"), std::string::npos);
  EXPECT_EQ(s.errors()[1].rfind("package x: no such package", 0), 0u) << s.errors()[1];
}

TEST(PackageSession, AnAptUpdateThatOnlyWarnedIsTriedAgain) {
  PackageSession s(manager("apt"), request({{"a", ""}}, true));
  EXPECT_EQ(drive(s, {{0, "W: Some index files failed to download.\n"}, {0, ""}, {0, ""}}),
            (Strings{"update", "update #1", "install a"}));
  EXPECT_TRUE(s.errors().empty());
}

TEST(PackageSession, ABrokenMaintainerScriptIsNamedAndNotRetried) {
  PackageSession s(manager("apt"), request({{"good", ""}, {"broken", ""}}, true));
  EXPECT_EQ(drive(s, {{0, ""},
                      {100,
                       "dpkg: error processing package broken (--configure):\n"
                       "Errors were encountered while processing:\n broken\n"
                       "E: Sub-process /usr/bin/dpkg returned an error code (1)\n"}}),
            (Strings{"update", "install good broken"}));
  ASSERT_EQ(s.errors().size(), 1u);
  EXPECT_EQ(s.errors()[0].rfind("package broken: installed but not configured", 0), 0u)
      << s.errors()[0];
  // good was configured in the same dpkg run; the reboot check must still run.
  EXPECT_TRUE(s.changed());
}

TEST(PackageSession, ZypperRebootNeededIsASuccess) {
  PackageSession s(manager("zypper"),
                   ManagePackages{.manager = "zypper", .packages = {{"kernel-default", ""}}});
  EXPECT_EQ(drive(s, {{102, ""}}), Strings{"install kernel-default"});
  EXPECT_TRUE(s.errors().empty());
  EXPECT_TRUE(s.changed());
}

TEST(PackageSession, AFailedUpdateOrUpgradeIsAnErrorButTheInstallStillRuns) {
  auto r = request({{"a", ""}});
  r.upgrade = true;
  PackageSession s(manager("apt"), r);
  EXPECT_EQ(
      drive(s,
            {{100, "E: The repository is not signed.\n"}, {100, "E: broken upgrade\n"}, {0, ""}}),
      (Strings{"update", "upgrade", "install a"}));
  ASSERT_EQ(s.errors().size(), 2u);
  EXPECT_NE(s.errors()[0].find("updating the package index failed"), std::string::npos);
  EXPECT_NE(s.errors()[1].find("upgrading the installed packages failed"), std::string::npos);
}

TEST(PackageSession, UpdateAloneChangesNothing) {
  PackageSession s(manager("apt"), request({}, true));
  EXPECT_EQ(drive(s, {{0, ""}}), Strings{"update"});
  EXPECT_FALSE(s.changed());
}

struct Plan : testing::ModuleFixture {
  explicit Plan(const std::string& yaml) : ModuleFixture(yaml) {
    system.files["/etc/os-release"] = "ID=debian\nVERSION_ID=\"12\"\n";
    system.files["/usr/bin/apt-get"] = "";
  }
};

TEST(PackagesPlan, DecodesEveryFormIntoOneActionForTheImagesManager) {
  Plan f(
      "packages:\n  - curl\n  - nginx=1.22.1-9\n  - [jq, 1.6-2]\n  - [tree]\n"
      "package_update: true\npackage_reboot_if_required: true\n"
      "amiboot: {packages: {lock_timeout_seconds: 30, attempts: 2}}\n");
  auto plan = f.plan("packages");
  ASSERT_TRUE(plan.diagnostics.empty()) << plan.diagnostics[0].format();
  std::vector<Action> expected = {ManagePackages{
      .manager = "apt",
      .packages = {{"curl", ""}, {"nginx", "1.22.1-9"}, {"jq", "1.6-2"}, {"tree", ""}},
      .update = true,
      .upgrade = false,
      .reboot_if_required = true,
      .lock_timeout_seconds = 30,
      .attempts = 2}};
  EXPECT_EQ(plan.actions, expected);
  EXPECT_EQ(describe(plan.actions[0]),
            "apt-get --assume-yes --quiet -o DPkg::Lock::Timeout=30 -o "
            "Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold update; apt-get "
            "--assume-yes --quiet -o DPkg::Lock::Timeout=30 -o Dpkg::Options::=--force-confdef -o "
            "Dpkg::Options::=--force-confold install curl nginx=1.22.1-9 jq=1.6-2 tree (then "
            "reboot if required)");
}

RunCommand snap_install(Strings args) {
  RunCommand r{{"snap", "install"}, "packages: snap install " + args[0]};
  r.argv.insert(r.argv.end(), args.begin(), args.end());
  r.needs_host = true;
  return r;
}

RunCommand snap_wait() {
  RunCommand r{{"snap", "wait", "system", "seed.loaded"},
               "packages: waiting for snapd to load its seed"};
  r.needs_host = true;
  r.required = true;
  return r;
}

TEST(PackagesPlan, CloudInitsAptAndSnapListsAreReadLikeCloudInit) {
  const std::string yaml = "packages:\n  - jq\n  - apt: [curl, [nginx, '1.2']]\n  - snap: [lxd]\n";
  Plan debian(yaml);
  debian.system.programs.insert("snap");
  auto plan = debian.plan("packages");
  ASSERT_TRUE(plan.diagnostics.empty()) << plan.diagnostics[0].format();
  ASSERT_EQ(plan.actions.size(), 3u);
  EXPECT_EQ(std::get<ManagePackages>(plan.actions[0]).packages,
            (std::vector<PackageSpec>{{"jq", ""}, {"curl", ""}, {"nginx", "1.2"}}));
  EXPECT_EQ(plan.actions[1], Action(snap_wait()));
  EXPECT_EQ(plan.actions[2], Action(snap_install({"lxd"})));
  EXPECT_EQ(plan.summary, "3 package(s) via apt-get, 1 snap(s)");

  Plan fedora(yaml);
  fedora.system.files.clear();
  fedora.system.files["/etc/os-release"] = "ID=fedora\n";
  fedora.system.files["/usr/bin/dnf"] = "";
  plan = fedora.plan("packages");
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(std::get<ManagePackages>(plan.actions[0]).packages,
            (std::vector<PackageSpec>{{"jq", ""}}));
  ASSERT_EQ(plan.diagnostics.size(), 2u);
  EXPECT_NE(plan.diagnostics[0].message.find("the apt: list is skipped"), std::string::npos);
  EXPECT_EQ(plan.diagnostics[1].message,
            "snapd is not on this image (no snap command): the snap: packages are not installed "
            "(lxd)");

  Plan bad("packages:\n  - yum: [jq]\n");
  plan = bad.plan("packages");
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_EQ(plan.diagnostics.size(), 1u);
  EXPECT_EQ(plan.diagnostics[0].format(),
            "user-data:2:10: packages[0].yum: expected apt or snap, got 'yum'");
}

TEST(PackagesPlan, CloudInitsDocumentedSnapListIsInstalledOneSnapAtATimeAfterTheRest) {
  // cloud-init's own example (cc_package_update_upgrade_install).
  const std::string yaml =
      "packages:\n"
      "  - pwgen\n"
      "  - pastebinit\n"
      "  - [libpython3.8, 3.8.10-0ubuntu1~20.04.2]\n"
      "  - snap:\n"
      "    - certbot\n"
      "    - [juju, --classic]\n"
      "    - [lxd, --channel=5.15/stable]\n"
      "  - apt: [mg]\n";
  Plan doc(yaml);
  doc.system.programs.insert("snap");
  auto plan = doc.plan("packages");
  ASSERT_TRUE(plan.diagnostics.empty()) << plan.diagnostics[0].format();
  std::vector<Action> expected = {
      ManagePackages{.manager = "apt",
                     .packages = {{"pwgen", ""},
                                  {"pastebinit", ""},
                                  {"libpython3.8", "3.8.10-0ubuntu1~20.04.2"},
                                  {"mg", ""}}},
      snap_wait(), snap_install({"certbot"}), snap_install({"juju", "--classic"}),
      snap_install({"lxd", "--channel=5.15/stable"})};
  EXPECT_EQ(plan.actions, expected);
  EXPECT_EQ(describe(plan.actions[3]), "run snap install juju --classic");

  // Without snapd: a warning naming them, and the other packages still install.
  Plan without(yaml);
  plan = without.plan("packages");
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(std::get<ManagePackages>(plan.actions[0]).packages.size(), 4u);
  ASSERT_EQ(plan.diagnostics.size(), 1u);
  EXPECT_EQ(plan.diagnostics[0].format(),
            "warning: packages: snapd is not on this image (no snap command): the snap: packages "
            "are not installed (certbot, juju, lxd)");

  // The flow form, snaps alone, and cloud-init's name=argument string.
  Plan flow("packages: [{snap: [certbot, 'vlc=--edge']}]\n");
  flow.system.programs.insert("snap");
  plan = flow.plan("packages");
  EXPECT_TRUE(plan.diagnostics.empty());
  EXPECT_EQ(plan.actions, (std::vector<Action>{snap_wait(), snap_install({"certbot"}),
                                               snap_install({"vlc", "--edge"})}));
  EXPECT_EQ(plan.summary, "2 snap(s)");

  // No package manager to be found: the snaps are still installed, the module still fails.
  Plan nowhere("packages: [jq, {snap: [certbot]}]\n");
  nowhere.system.files.clear();
  nowhere.system.programs.insert("snap");
  plan = nowhere.plan("packages");
  EXPECT_TRUE(has_errors(plan.diagnostics));
  EXPECT_TRUE(plan.apply_with_errors);
  EXPECT_EQ(plan.actions, (std::vector<Action>{snap_wait(), snap_install({"certbot"})}));
}

TEST(PackagesPlan, ABadSnapItemIsAnErrorWithItsPosition) {
  struct Case {
    std::string yaml;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"packages:\n  - jq\n  - snap: lxd\n",
       "user-data:3:11: packages[1].snap: expected a list, got a string"},
      {"packages:\n  - snap: {a: 1}\n",
       "user-data:2:11: packages[0].snap: expected a list, got a map"},
      {"packages:\n  - snap: [[juju, --classic, --edge]]\n",
       "user-data:2:12: packages[0].snap[0]: expected a snap name or a [name, option] list, got "
       "a list"},
      {"packages:\n  - snap: [--devmode]\n",
       "user-data:2:12: packages[0].snap[0]: expected a snap name (lowercase letters, digits and "
       "-), got '--devmode'"},
      {"packages:\n  - snap: [{lxd: 1}]\n",
       "user-data:2:12: packages[0].snap[0]: expected a snap name or a [name, option] list, got "
       "a map"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.yaml);
    Plan f(c.yaml);
    f.system.programs.insert("snap");
    auto plan = f.plan("packages");
    EXPECT_TRUE(plan.actions.empty());
    ASSERT_EQ(plan.diagnostics.size(), 1u);
    EXPECT_EQ(plan.diagnostics[0].format(), c.error);
  }
}

TEST(PackagesPlan, DeprecatedAptNamesTurnTheStepsOnWithAWarningNamingTheNewKey) {
  Plan f("apt_update: true\napt_upgrade: true\napt_reboot_if_required: true\n");
  auto plan = f.plan("packages");
  ASSERT_EQ(plan.actions.size(), 1u);
  const auto& action = std::get<ManagePackages>(plan.actions[0]);
  EXPECT_TRUE(action.update);
  EXPECT_TRUE(action.upgrade);
  EXPECT_TRUE(action.reboot_if_required);
  ASSERT_EQ(plan.diagnostics.size(), 3u);
  EXPECT_EQ(plan.diagnostics[0].format(),
            "user-data:1:13: warning: apt_update: deprecated (cloud-init 22.2); use "
            "package_update instead");
  EXPECT_NE(plan.diagnostics[1].message.find("use package_upgrade instead"), std::string::npos);
  EXPECT_NE(plan.diagnostics[2].message.find("use package_reboot_if_required instead"),
            std::string::npos);

  // Both names: cloud-init turns the step on when either is true
  // (_multi_cfg_bool_get), so a false new name does not switch off a true old one.
  Plan both("apt_update: true\npackage_update: false\napt_upgrade: false\npackage_upgrade: true\n");
  plan = both.plan("packages");
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_TRUE(std::get<ManagePackages>(plan.actions[0]).update);
  EXPECT_TRUE(std::get<ManagePackages>(plan.actions[0]).upgrade);
  Plan neither("apt_update: false\npackage_update: false\npackages: [jq]\n");
  plan = neither.plan("packages");
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_FALSE(std::get<ManagePackages>(plan.actions[0]).update);

  Plan bad("apt_upgrade: sometimes\n");
  plan = bad.plan("packages");
  ASSERT_TRUE(has_errors(plan.diagnostics));
  EXPECT_EQ(plan.diagnostics[1].format(),
            "user-data:1:14: apt_upgrade: expected a boolean (true or false), got a string");
}

TEST(PackagesPlan, NothingAskedIsNothingToDo) {
  Plan f("package_update: false\npackages: []\n");
  auto plan = f.plan("packages");
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_TRUE(plan.diagnostics.empty());
}

TEST(PackagesPlan, ANameThatLooksLikeAnOptionIsRejectedWithItsPosition) {
  Plan f("packages:\n  - curl\n  - --allow-unauthenticated\n");
  auto plan = f.plan("packages");
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_EQ(plan.diagnostics.size(), 1u);
  EXPECT_EQ(
      plan.diagnostics[0].format().rfind("user-data:3:5: packages[1]: expected a package name", 0),
      0u)
      << plan.diagnostics[0].format();
}

TEST(PackagesPlan, WrongTypesAreErrorsWithPositions) {
  Diagnostics d;
  testing::ModuleFixture f("packages: 5\n");
  EXPECT_FALSE(decode_packages(f.config, d).has_value());
  ASSERT_FALSE(d.empty());
  EXPECT_NE(d[0].format().find("user-data:1:11: packages: expected a list"), std::string::npos)
      << d[0].format();
  Plan bad("packages: [a]\namiboot: {packages: {attempts: 0}}\n");
  auto plan = bad.plan("packages");
  ASSERT_FALSE(plan.diagnostics.empty());
  EXPECT_NE(plan.diagnostics[0].format().find("amiboot.packages.attempts: expected 1 to 20, got 0"),
            std::string::npos)
      << plan.diagnostics[0].format();
}

TEST(PackagesPlan, NoOsReleaseOrNoManagerIsAnErrorThatSaysWhich) {
  testing::ModuleFixture none("packages: [a]\n");
  auto plan = none.plan("packages");
  ASSERT_EQ(plan.diagnostics.size(), 1u);
  EXPECT_NE(plan.diagnostics[0].message.find("os-release"), std::string::npos);
  testing::ModuleFixture arch("packages: [a]\n");
  arch.system.files["/etc/os-release"] = "ID=arch\n";
  plan = arch.plan("packages");
  ASSERT_EQ(plan.diagnostics.size(), 1u);
  EXPECT_NE(plan.diagnostics[0].message.find("ID=arch"), std::string::npos);
}

}  // namespace
}  // namespace amiboot
