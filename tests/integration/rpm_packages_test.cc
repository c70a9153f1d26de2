// SPDX-License-Identifier: Apache-2.0
// The packages module with the real dnf and zypper (Debian ships both): the
// amiboot binary with --root on a copy of a Debian minbase root (for the
// shell that %post scripts run in) given an RPM database and an
// /etc/os-release that says Fedora or Amazon Linux 2023 (dnf) or
// openSUSE (zypper). The repository, tiny RPMs built here
// (tests/support/make-rpm-repo.sh), is added by the user data itself
// (yum_repos, zypper: repos) as file://. Under --root the host's dnf and
// zypper act on the root through --installroot and --root.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <optional>
#include <ostream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/test_util.h"

namespace amiboot::testing {
namespace {

struct Distro {
  const char* name;        // for the test's name
  const char* tool;        // "dnf", "zypper"
  const char* os_release;  // the root's /etc/os-release
};

// The distribution's name in test output, not the struct's bytes.
void PrintTo(const Distro& d, std::ostream* os) {
  *os << d.name;
}

class RpmPackagesAgent : public ::testing::TestWithParam<Distro> {
 protected:
  void SetUp() override {
    const Distro& d = GetParam();
    if (geteuid() != 0) {
      skip("needs root: the packages' scripts run chrooted in the root");
    }
    for (const std::string& tool : std::vector<std::string>{
             "/usr/bin/rpmbuild", "/usr/bin/createrepo_c", "/usr/bin/" + std::string(d.tool)}) {
      if (access(tool.c_str(), X_OK) != 0) {
        skip(tool +
             " is missing (tests/support/install-deps.sh installs rpm, createrepo-c, "
             "dnf and zypper)");
        return;
      }
    }
    auto copied = copy_debian_root(root);
    if (!copied.skip.empty()) {
      skip(copied.skip);
      return;
    }
    ASSERT_EQ(copied.error, "");
    auto repo =
        run({source_dir() + "/tests/support/make-rpm-repo.sh", repo_dir, "amiboot-test-a=1.0",
             "amiboot-test-b=1.0", "amiboot-test-b=2.0", "amiboot-test-reboot=1.0+reboot",
             "amiboot-test-broken=1.0+broken", "amiboot-test-hold=1.0+hold"});
    ASSERT_EQ(repo.exit_code, 0) << repo.err;
    std::filesystem::remove(root + "/etc/os-release");  // Debian's link to /usr/lib
    write_file(root + "/etc/os-release", d.os_release);
    // The image's package manager, as the plan looks for it; under --root
    // the host's runs, with its root option.
    write_file(root + "/usr/bin/" + std::string(d.tool), "");
    auto db = run({"rpm", "--root", root, "--initdb"});
    ASSERT_EQ(db.exit_code, 0) << db.err;
    // dnf's needs-restarting counts the packages named in its
    // needs-restarting.d as needing a reboot, as Fedora lists kernel and glibc.
    write_file(root + "/etc/dnf/plugins/needs-restarting.d/amiboot-test.conf",
               "amiboot-test-reboot\n");
    write_file(seed / "meta-data", "instance-id: i-0rpmpackages00001\n");
  }

  void skip(const std::string& why) {
    std::printf("skipping: %s\n", why.c_str());
    GTEST_SKIP() << why;
  }

  /// What the agent runs under so that the host's dnf has its
  /// needs-restarting plugin: nothing for zypper or when dnf-plugins-core is
  /// installed. Debian's dnf-plugins-core Breaks zypper, so install-deps.sh
  /// unpacks it instead, and with-dnf-plugins.sh shows it to dnf in a mount
  /// namespace. nullopt (and a skip) when it is in neither place.
  std::optional<std::vector<std::string>> with_needs_restarting() {
    if (zypper() || run({"dnf", "needs-restarting", "--help"}).exit_code == 0) {
      return std::vector<std::string>{};
    }
    const std::string unpacked = "/var/cache/amiboot-tests/dnf-plugins-core";
    if (!exists(unpacked + "/usr/lib/python3/dist-packages/dnf-plugins/needs_restarting.py")) {
      skip(
          "dnf needs-restarting is missing: dnf-plugins-core is neither installed nor unpacked "
          "in " +
          unpacked + " (tests/support/install-deps.sh unpacks it)");
      return std::nullopt;
    }
    return std::vector<std::string>{source_dir() + "/tests/support/with-dnf-plugins.sh", unpacked};
  }

  bool zypper() const { return std::string(GetParam().tool) == "zypper"; }

  // The repository, added by the user data, then `cloud_config`.
  void user_data(const std::string& cloud_config) {
    std::string url = "file://" + repo_dir;
    std::string repos =
        zypper() ? "zypper:\n  repos:\n    - {id: amiboot-test, name: amiboot test, baseurl: '" +
                       url + "', gpgcheck: false}\n"
                 : "yum_repos:\n  amiboot-test:\n    name: amiboot test\n    baseurl: '" + url +
                       "'\n    gpgcheck: false\n";
    write_file(seed / "user-data", "#cloud-config\n" + repos + cloud_config);
  }

  /// `wrapper`: a command that runs the agent's argv after its own.
  CommandResult run_agent(std::vector<std::string> wrapper = {}) {
    std::vector<std::string> argv = std::move(wrapper);
    argv.insert(argv.end(), {amiboot_binary(), "run", "--root", root, "--seed", seed.path()});
    return run(argv, {{"AMIBOOT_LOG", "stderr"}});
  }

  nlohmann::json status() {
    return nlohmann::json::parse(read_file(root + "/run/amiboot/status.json"));
  }

  nlohmann::json module(const std::string& name) {
    auto doc = status();  // kept: the loop reads into it
    for (const auto& m : doc["stages"]["final"]["modules"]) {
      if (m["name"] == name) {
        return m;
      }
    }
    return nullptr;
  }

  // "1.0-1" when installed, "" when not.
  std::string installed(const std::string& name) {
    auto r = run({"rpm", "--root", root, "-q", "--qf", "%{VERSION}-%{RELEASE}", name});
    return r.exit_code == 0 ? r.out : "";
  }

  TempDir scratch;
  std::string root = scratch / "root";
  std::string repo_dir = scratch / "repo";
  TempDir seed;
};

TEST_P(RpmPackagesAgent, TheRepositoryIsAddedAndPackagesInstallByNameAndPinnedVersion) {
  user_data("packages:\n  - amiboot-test-a\n  - [amiboot-test-b, '1.0']\n");
  auto r = run_agent();
  auto repos = module(zypper() ? "zypper_add_repo" : "yum_add_repo");
  ASSERT_FALSE(repos.is_null()) << r.err;
  EXPECT_EQ(repos["result"], "ok") << repos.dump(2) << r.err;
  EXPECT_TRUE(exists(root + (zypper() ? "/etc/zypp/repos.d/amiboot-test.repo"
                                      : "/etc/yum.repos.d/amiboot-test.repo")));
  auto m = module("packages");
  ASSERT_FALSE(m.is_null()) << r.err;
  EXPECT_EQ(m["result"], "ok") << m.dump(2) << r.err;
  EXPECT_EQ(installed("amiboot-test-a"), "1.0-1");
  // 2.0 is in the repository too: the pin decided.
  EXPECT_EQ(installed("amiboot-test-b"), "1.0-1");
  EXPECT_EQ(read_file(root + "/usr/share/amiboot-test-b/version"), "1.0\n");
}

TEST_P(RpmPackagesAgent, AMissingNameIsNamedInTheErrorAndTheOthersInstall) {
  user_data("packages: [amiboot-test-a, amiboot-no-such-package]\n");
  auto r = run_agent();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  auto m = module("packages");
  ASSERT_FALSE(m.is_null()) << r.err;
  EXPECT_EQ(m["result"], "failed");
  ASSERT_EQ(m["errors"].size(), 1u) << m.dump(2);
  std::string error = m["errors"][0];
  std::printf("%s reported: %s\n", GetParam().tool, error.c_str());
  EXPECT_EQ(error.rfind("package amiboot-no-such-package: no such package", 0), 0u) << error;
  // The tool's own line about it.
  EXPECT_NE(error.find(zypper() ? "No provider of 'amiboot-no-such-package' found"
                                : "No match for argument: amiboot-no-such-package"),
            std::string::npos)
      << error;
  EXPECT_EQ(installed("amiboot-test-a"), "1.0-1");
}

TEST_P(RpmPackagesAgent, AFailingPostIsNamedAndTheOtherPackageIsInstalled) {
  user_data("packages: [amiboot-test-a, amiboot-test-broken]\n");
  auto r = run_agent();
  auto m = module("packages");
  ASSERT_FALSE(m.is_null()) << r.err;
  EXPECT_EQ(m["result"], "failed") << m.dump(2) << r.err;
  ASSERT_EQ(m["errors"].size(), 1u) << m.dump(2);
  std::string error = m["errors"][0];
  std::printf("%s reported: %s\n", GetParam().tool, error.c_str());
  EXPECT_EQ(error.rfind("package amiboot-test-broken: installed but not configured", 0), 0u)
      << error;
  EXPECT_NE(error.find(zypper() ? "%post(amiboot-test-broken-1.0-1.noarch) scriptlet failed"
                                : "Error in POSTIN scriptlet in rpm package amiboot-test-broken"),
            std::string::npos)
      << error;
  EXPECT_EQ(installed("amiboot-test-a"), "1.0-1");
  EXPECT_EQ(r.err.find("installing each package on its own"), std::string::npos) << r.err;
}

// Another transaction of the same tool holds its lock: the real tool in the
// background installs amiboot-test-hold, whose %post waits while the test
// keeps /run/amiboot-test-hold.hold. attempts: 1, so only the lock wait
// (lock_timeout_seconds) can get the agent's install through: zypper waits
// inside (ZYPP_LOCK_TIMEOUT); dnf gives up at once (exit_on_lock) and
// amiboot runs it again every second.
class HeldLock {
 public:
  HeldLock(const std::string& tool, const std::string& root) : m_root(root) {
    write_file(root + "/run/amiboot-test-hold.hold", "");
    std::vector<std::string> argv =
        tool == "zypper"
            ? std::vector<std::string>{"zypper",  "--root",           root, "--non-interactive",
                                       "install", "amiboot-test-hold"}
            : std::vector<std::string>{"dnf", "--installroot=" + root, "--assumeyes", "install",
                                       "amiboot-test-hold"};
    m_holder = std::async(std::launch::async, [argv] { return run(argv); });
  }
  // The holder is in its %post, the lock taken.
  bool held() {
    for (int i = 0; i < 600; ++i) {
      if (exists(m_root + "/run/amiboot-test-hold.running")) {
        return true;
      }
      if (m_holder.wait_for(std::chrono::milliseconds(100)) == std::future_status::ready) {
        return false;
      }
    }
    return false;
  }
  void release() { std::filesystem::remove(m_root + "/run/amiboot-test-hold.hold"); }
  CommandResult finish() {
    release();
    return m_holder.get();
  }
  ~HeldLock() {
    if (m_holder.valid()) {
      finish();
    }
  }

 private:
  std::string m_root;
  std::future<CommandResult> m_holder;
};

// The repository for the background tool, in the image before the boot
// (yum_repos and zypper: repos leave an existing file alone).
void write_repo_file(const std::string& root, const std::string& tool, const std::string& repo) {
  write_file(root + (tool == "zypper" ? "/etc/zypp/repos.d/amiboot-test.repo"
                                      : "/etc/yum.repos.d/amiboot-test.repo"),
             "[amiboot-test]\nname=amiboot test\nbaseurl=file://" + repo +
                 "\nenabled=1\nautorefresh=1\ngpgcheck=0\n");
}

TEST_P(RpmPackagesAgent, AHeldLockIsWaitedForUpToLockTimeoutSeconds) {
  write_repo_file(root, GetParam().tool, repo_dir);
  write_file(root + "/etc/amiboot/amiboot.yaml",
             "amiboot:\n  packages:\n    lock_timeout_seconds: 120\n    attempts: 1\n");
  user_data("packages: [amiboot-test-a]\n");
  HeldLock lock(GetParam().tool, root);
  ASSERT_TRUE(lock.held()) << lock.finish().err;
  // Let go once the agent's tool has met the lock.
  auto releaser = std::async(std::launch::async, [&] {
    std::this_thread::sleep_for(std::chrono::seconds(6));
    lock.release();
  });
  auto r = run_agent();
  releaser.get();
  auto holder = lock.finish();
  EXPECT_EQ(holder.exit_code, 0) << holder.out << holder.err;
  auto m = module("packages");
  ASSERT_FALSE(m.is_null()) << r.err;
  EXPECT_EQ(m["result"], "ok") << m.dump(2) << r.err;
  EXPECT_EQ(installed("amiboot-test-a"), "1.0-1");
  if (!zypper()) {
    EXPECT_NE(r.err.find("packages: dnf is locked by another process (RPMDB already locked by "),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("the dnf lock is free again"), std::string::npos) << r.err;
  }
}

TEST_P(RpmPackagesAgent, ALockHeldLongerThanLockTimeoutSecondsFailsWithTheToolsWords) {
  write_repo_file(root, GetParam().tool, repo_dir);
  write_file(root + "/etc/amiboot/amiboot.yaml",
             "amiboot:\n  packages:\n    lock_timeout_seconds: 2\n    attempts: 1\n");
  user_data("packages: [amiboot-test-a]\n");
  HeldLock lock(GetParam().tool, root);
  ASSERT_TRUE(lock.held()) << lock.finish().err;
  auto r = run_agent();
  auto holder = lock.finish();
  EXPECT_EQ(holder.exit_code, 0) << holder.out << holder.err;
  auto m = module("packages");
  ASSERT_FALSE(m.is_null()) << r.err;
  EXPECT_EQ(m["result"], "failed") << m.dump(2) << r.err;
  ASSERT_EQ(m["errors"].size(), 1u) << m.dump(2);
  std::string error = m["errors"][0];
  std::printf("%s reported: %s\n", GetParam().tool, error.c_str());
  EXPECT_NE(error.find(zypper() ? "zypper exited with status 7: System management is locked by "
                                  "the application with pid"
                                : "dnf exited with status 200: RPMDB already locked by "),
            std::string::npos)
      << error;
  if (!zypper()) {
    EXPECT_NE(r.err.find("packages: dnf still locked after 2 s"), std::string::npos) << r.err;
  }
  EXPECT_EQ(installed("amiboot-test-a"), "");
}

TEST_P(RpmPackagesAgent, ARebootRequiredIsDetectedTheWayTheToolReportsIt) {
  auto wrapper = with_needs_restarting();
  if (!wrapper) {
    return;
  }
  user_data("packages: [amiboot-test-reboot]\npackage_reboot_if_required: true\n");
  auto r = run_agent(*wrapper);
  EXPECT_EQ(installed("amiboot-test-reboot"), "1.0-1") << r.err;
  if (zypper()) {
    // libzypp's mark for `Provides: installhint(reboot-needed)`, which
    // `zypper needs-rebooting` reads (exit 102).
    EXPECT_TRUE(exists(root + "/run/reboot-needed"));
  }
  std::string warnings = status()["warnings"].dump();
  EXPECT_NE(warnings.find("a reboot is required (package_reboot_if_required); not rebooting"),
            std::string::npos)
      << warnings << r.err;
}

TEST_P(RpmPackagesAgent, NoRebootWhenNoPackageNeedsOne) {
  auto wrapper = with_needs_restarting();
  if (!wrapper) {
    return;
  }
  user_data("packages: [amiboot-test-a]\npackage_reboot_if_required: true\n");
  auto r = run_agent(*wrapper);
  EXPECT_EQ(installed("amiboot-test-a"), "1.0-1") << r.err;
  EXPECT_EQ(status()["warnings"].dump().find("a reboot is required"), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    Distros, RpmPackagesAgent,
    ::testing::Values(
        Distro{"Fedora", "dnf", "NAME=\"Fedora Linux\"\nID=fedora\nVERSION_ID=40\n"},
        Distro{"AmazonLinux2023", "dnf",
               "NAME=\"Amazon Linux\"\nID=\"amzn\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"2023\"\n"},
        Distro{"OpenSuseLeap", "zypper",
               "NAME=\"openSUSE Leap\"\nID=\"opensuse-leap\"\nID_LIKE=\"suse opensuse\"\n"
               "VERSION_ID=\"15.6\"\n"}),
    [](const ::testing::TestParamInfo<Distro>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace amiboot::testing
