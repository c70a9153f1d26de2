// The packages module with the real apt-get and dpkg: the amiboot binary
// with --root on a copy of a debootstrap minbase root
// (tests/support/debian-root.sh), which runs apt-get in a chroot against a
// file:// repository of tiny .debs built here
// (tests/support/make-apt-repo.sh). The root's package lists start empty, as
// on an image whose lists were cleaned before the snapshot.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/test_util.h"

namespace amiboot::testing {
namespace {

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
    auto base = run({source_dir() + "/tests/support/debian-root.sh"});
    if (base.exit_code == 77) {
      skip(base.err);
    }
    ASSERT_EQ(base.exit_code, 0) << base.err;
    std::string pristine = base.out.substr(0, base.out.find('\n'));
    auto copy = run({"cp", "-a", "--reflink=auto", pristine, root});
    ASSERT_EQ(copy.exit_code, 0) << copy.err;
    auto repo = run({source_dir() + "/tests/support/make-apt-repo.sh", root + "/srv/repo",
                     "amiboot-test-a=1.0", "amiboot-test-b=1.0", "amiboot-test-b=2.0",
                     "amiboot-test-reboot=1.0+reboot"});
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

  // Holds the dpkg frontend lock of the root (an fcntl lock, as apt takes
  // it) while `body` runs, and lets it go after `hold`.
  CommandResult run_agent_with_lock_held(std::chrono::milliseconds hold) {
    int fd = open((root + "/var/lib/dpkg/lock-frontend").c_str(), O_RDWR | O_CREAT, 0640);
    EXPECT_GE(fd, 0);
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    EXPECT_EQ(fcntl(fd, F_SETLK, &lock), 0);
    auto agent = std::async(std::launch::async, [&] { return run_agent(); });
    std::this_thread::sleep_for(hold);
    close(fd);
    return agent.get();
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
  auto r = run_agent_with_lock_held(std::chrono::seconds(3));
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
  auto r = run_agent_with_lock_held(std::chrono::seconds(3));
  auto m = packages_module();
  ASSERT_FALSE(m.is_null()) << r.err;
  EXPECT_EQ(m["result"], "ok") << m.dump(2) << r.err;
  EXPECT_EQ(installed("amiboot-test-a"), "1.0");
  EXPECT_NE(r.err.find("Could not get lock"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("failed, will try again"), std::string::npos) << r.err;
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

TEST_F(PackagesAgent, NoRebootWhenTheUserDataDidNotAskForIt) {
  user_data("packages: [amiboot-test-reboot]\n");
  auto r = run_agent();
  EXPECT_EQ(installed("amiboot-test-reboot"), "1.0") << r.err;
  EXPECT_TRUE(exists(root + "/run/reboot-required"));
  EXPECT_EQ(status()["warnings"].dump().find("reboot"), std::string::npos);
}

}  // namespace
}  // namespace amiboot::testing
