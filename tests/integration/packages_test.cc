// SPDX-License-Identifier: Apache-2.0
// The packages module with the real apt-get and dpkg: the amiboot binary
// with --root on a copy of a debootstrap minbase root
// (tests/support/debian-root.sh), which runs apt-get in a chroot against a
// file:// repository of tiny .debs built here
// (tests/support/make-apt-repo.sh). The root's package lists start empty, as
// on an image whose lists were cleaned before the snapshot.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/test_util.h"

namespace amiboot::testing {
namespace {

namespace fs = std::filesystem;

// An `apt-get ... install` process runs chrooted in `root` (other tests may
// run apt-get in their own roots at the same time).
bool apt_get_installing(const std::string& root) {
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::string pid = entry.path().filename();
    if (pid.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    std::error_code ec;
    if (fs::read_symlink(entry.path() / "root", ec) != fs::path(root)) {
      continue;
    }
    std::string cmdline = read_file(entry.path() / "cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find("apt-get") != std::string::npos &&
        cmdline.find(" install ") != std::string::npos) {
      return true;
    }
  }
  return false;
}

class PackagesAgent : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) {
      skip("needs root: apt-get runs in a chroot");
    }
    for (const char* tool : {"/usr/bin/dpkg-deb", "/usr/bin/dpkg-scanpackages"}) {
      if (access(tool, X_OK) != 0) {
        skip(std::string(tool) + " is missing (tests/support/install-deps.sh installs dpkg-dev)");
      }
    }
    auto copied = copy_debian_root(root);
    if (!copied.skip.empty()) {
      skip(copied.skip);
      return;
    }
    ASSERT_EQ(copied.error, "");
    auto repo = run({source_dir() + "/tests/support/make-apt-repo.sh", root + "/srv/repo",
                     "amiboot-test-a=1.0", "amiboot-test-b=1.0", "amiboot-test-b=2.0",
                     "amiboot-test-reboot=1.0+reboot", "amiboot-test-broken=1.0+broken"});
    ASSERT_EQ(repo.exit_code, 0) << repo.err;
    write_file(root + "/etc/apt/sources.list", "deb [trusted=yes] file:/srv/repo ./\n");
    write_file(seed / "meta-data", "instance-id: i-0packages000000001\n");
  }

  void skip(const std::string& why) {
    std::printf("skipping: %s\n", why.c_str());
    GTEST_SKIP() << why;
  }

  void user_data(const std::string& cloud_config) {
    write_file(seed / "user-data", "#cloud-config\n" + cloud_config);
  }

  CommandResult run_agent() {
    return run({amiboot_binary(), "run", "--root", root, "--seed", seed.path()},
               {{"AMIBOOT_LOG", "stderr"}});
  }

  nlohmann::json status() {
    return nlohmann::json::parse(read_file(root + "/run/amiboot/status.json"));
  }

  nlohmann::json packages_module() {
    auto doc = status();
    for (const auto& m : doc["stages"]["final"]["modules"]) {
      if (m["name"] == "packages") {
        return m;
      }
    }
    return nullptr;
  }

  // The version dpkg has installed, "" when the package is not installed.
  std::string installed(const std::string& name) {
    auto r = run({"chroot", root, "dpkg-query", "-W", "-f", "${Status} ${Version}", name});
    const std::string ok = "install ok installed ";
    return r.exit_code == 0 && r.out.rfind(ok, 0) == 0 ? r.out.substr(ok.size()) : "";
  }

  // Runs the agent while this process holds the root's dpkg frontend lock
  // (an fcntl lock, as apt takes it). The lock is let go 3 s after
  // `contended` says the agent's apt-get met it, so the test cannot pass
  // merely because apt-get came late.
  CommandResult run_agent_with_lock_held(const std::function<bool(const std::string&)>& contended) {
    int fd = open((root + "/var/lib/dpkg/lock-frontend").c_str(), O_RDWR | O_CREAT, 0640);
    EXPECT_GE(fd, 0);
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    EXPECT_EQ(fcntl(fd, F_SETLK, &lock), 0);
    std::string log = scratch / "agent.log";
    std::vector<std::string> args = {amiboot_binary(), "run",      "--root", root,
                                     "--seed",         seed.path()};
    std::vector<char*> argv;
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    pid_t pid = fork();
    if (pid == 0) {
      int out = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(out, STDOUT_FILENO);
      dup2(out, STDERR_FILENO);
      setenv("AMIBOOT_LOG", "stderr", 1);
      execv(argv[0], argv.data());
      _exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    bool met = false;
    while (!met && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      met = contended(exists(log) ? read_file(log) : "");
    }
    EXPECT_TRUE(met) << "apt-get never met the lock";
    std::this_thread::sleep_for(std::chrono::seconds(3));
    close(fd);
    int status = 0;
    waitpid(pid, &status, 0);
    CommandResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.err = read_file(log);
    return r;
  }

  TempDir scratch;
  std::string root = scratch / "root";
  TempDir seed;
};

TEST_F(PackagesAgent, InstallsByNameAndByVersionAfterUpdatingAStaleIndex) {
  user_data("packages:\n  - amiboot-test-a\n  - [amiboot-test-b, '1.0']\n");
  auto r = run_agent();
  auto m = packages_module();
  ASSERT_FALSE(m.is_null()) << r.err;
  EXPECT_EQ(m["result"], "ok") << m.dump(2) << r.err;
  EXPECT_EQ(installed("amiboot-test-a"), "1.0");
  // 2.0 is in the repository too: the pin decided.
  EXPECT_EQ(installed("amiboot-test-b"), "1.0");
  EXPECT_EQ(read_file(root + "/usr/share/amiboot-test-b/version"), "1.0\n");
  // The lists were empty: the first install failed, one update fixed it.
  EXPECT_NE(r.err.find("updating the package index and trying again"), std::string::npos) << r.err;
  // apt-get's own output reached the log, line by line.
  EXPECT_NE(r.err.find("Setting up amiboot-test-b (1.0)"), std::string::npos) << r.err;
}

TEST_F(PackagesAgent, AMissingPackageIsAnErrorNamingItAndTheOtherIsInstalled) {
  user_data("packages: [amiboot-test-a, amiboot-no-such-package]\n");
  auto r = run_agent();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  auto m = packages_module();
  ASSERT_FALSE(m.is_null()) << r.err;
  EXPECT_EQ(m["result"], "failed");
  ASSERT_EQ(m["errors"].size(), 1u) << m.dump(2);
  std::string error = m["errors"][0];
  EXPECT_EQ(error.rfind("package amiboot-no-such-package: no such package in the image's "
                        "repositories",
                        0),
            0u)
      << error;
  EXPECT_NE(error.find("E: Unable to locate package amiboot-no-such-package"), std::string::npos)
      << error;
  EXPECT_EQ(installed("amiboot-test-a"), "1.0");
  EXPECT_EQ(installed("amiboot-no-such-package"), "");
}

TEST_F(PackagesAgent, ALockHeldForThreeSecondsIsWaitedOutByApt) {
  user_data("package_update: true\npackages: [amiboot-test-a]\n");
  // apt-get waits inside (DPkg::Lock::Timeout): it is there, blocked.
  auto r = run_agent_with_lock_held([&](const std::string&) { return apt_get_installing(root); });
  auto m = packages_module();
  ASSERT_FALSE(m.is_null()) << r.err;
  EXPECT_EQ(m["result"], "ok") << m.dump(2) << r.err;
  EXPECT_EQ(installed("amiboot-test-a"), "1.0");
  EXPECT_NE(r.err.find("Waiting for cache lock"), std::string::npos) << r.err;
}

TEST_F(PackagesAgent, ALockHeldForThreeSecondsIsRetriedWhenAptDoesNotWait) {
  // With apt's own wait off, only amiboot's retries can get past the lock.
  write_file(root + "/etc/amiboot/amiboot.yaml",
             "amiboot:\n  packages:\n    lock_timeout_seconds: 0\n    attempts: 6\n");
  user_data("package_update: true\npackages: [amiboot-test-a]\n");
  auto r = run_agent_with_lock_held(
      [](const std::string& log) { return log.find("Could not get lock") != std::string::npos; });
  auto m = packages_module();
  ASSERT_FALSE(m.is_null()) << r.err;
  EXPECT_EQ(m["result"], "ok") << m.dump(2) << r.err;
  EXPECT_EQ(installed("amiboot-test-a"), "1.0");
  EXPECT_NE(r.err.find("failed, will try again"), std::string::npos) << r.err;
}

// A package manager that always fails: the root's dpkg lock is held for the
// whole run and apt-get does not wait for it. 20 tries with the backoff
// (2 s doubling to 30 s) would take minutes; the retry deadline stops them.
TEST_F(PackagesAgent, AManagerThatAlwaysFailsStopsAtTheRetryDeadline) {
  write_file(root + "/etc/amiboot/amiboot.yaml",
             "amiboot:\n  packages:\n    lock_timeout_seconds: 0\n    attempts: 20\n"
             "    retry_deadline_seconds: 8\n");
  user_data("package_update: true\npackages: [amiboot-test-a]\n");
  int fd = open((root + "/var/lib/dpkg/lock-frontend").c_str(), O_RDWR | O_CREAT, 0640);
  ASSERT_GE(fd, 0);
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  ASSERT_EQ(fcntl(fd, F_SETLK, &lock), 0);
  const auto start = std::chrono::steady_clock::now();
  auto r = run_agent();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  close(fd);

  auto m = packages_module();
  ASSERT_FALSE(m.is_null()) << r.err;
  EXPECT_EQ(m["result"], "failed") << m.dump(2) << r.err;
  EXPECT_EQ(installed("amiboot-test-a"), "");
  EXPECT_NE(r.err.find("(will try for up to 8 s)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the 8 s retry deadline would pass"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Could not get lock"), std::string::npos) << r.err;
  // The deadline bounds when the last retry starts; that try and the
  // agent's own start and end come on top.
  EXPECT_LT(elapsed, std::chrono::seconds(40)) << r.err;
}

TEST_F(PackagesAgent, ARebootRequiredByAPackageIsReportedAndNotDoneUnderRoot) {
  user_data("packages: [amiboot-test-reboot]\npackage_reboot_if_required: true\n");
  auto r = run_agent();
  EXPECT_EQ(installed("amiboot-test-reboot"), "1.0") << r.err;
  // /var/run links to /run: from the host, the root's own /run.
  EXPECT_TRUE(exists(root + "/run/reboot-required"));
  std::string warnings = status()["warnings"].dump();
  EXPECT_NE(warnings.find("a reboot is required (package_reboot_if_required); not rebooting"),
            std::string::npos)
      << warnings;
}

TEST_F(PackagesAgent, NoRebootWhenNoPackageNeedsOne) {
  user_data("packages: [amiboot-test-a]\npackage_reboot_if_required: true\n");
  auto r = run_agent();
  EXPECT_EQ(installed("amiboot-test-a"), "1.0") << r.err;
  EXPECT_FALSE(exists(root + "/run/reboot-required"));
  EXPECT_EQ(status()["warnings"].dump().find("reboot"), std::string::npos);
}

TEST_F(PackagesAgent, AFailingPostinstIsNamedAndTheOtherPackageIsInstalled) {
  user_data("package_update: true\npackages: [amiboot-test-a, amiboot-test-broken]\n");
  auto r = run_agent();
  auto m = packages_module();
  ASSERT_FALSE(m.is_null()) << r.err;
  EXPECT_EQ(m["result"], "failed");
  ASSERT_EQ(m["errors"].size(), 1u) << m.dump(2);
  EXPECT_EQ(m["errors"][0].get<std::string>().rfind(
                "package amiboot-test-broken: installed but not configured", 0),
            0u)
      << m.dump(2);
  EXPECT_EQ(installed("amiboot-test-a"), "1.0");
  // No second try that would blame amiboot-test-a for the broken postinst.
  EXPECT_EQ(r.err.find("installing each package on its own"), std::string::npos) << r.err;
}

TEST_F(PackagesAgent, NoRebootWhenTheUserDataDidNotAskForIt) {
  user_data("packages: [amiboot-test-reboot]\n");
  auto r = run_agent();
  EXPECT_EQ(installed("amiboot-test-reboot"), "1.0") << r.err;
  EXPECT_TRUE(exists(root + "/run/reboot-required"));
  EXPECT_EQ(status()["warnings"].dump().find("reboot"), std::string::npos);
}

}  // namespace
}  // namespace amiboot::testing
