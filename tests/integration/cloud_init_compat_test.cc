// SPDX-License-Identifier: Apache-2.0
// The real binary as `cloud-init` (a symlink named so, as the
// amiboot-cloud-init-compat package installs it) and amiboot's runs in a
// sandbox root with and without the compat package's marker.
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/test_util.h"

namespace amiboot::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kUserData = R"(#cloud-config
runcmd:
  - echo "runcmd says hello"
)";

class CloudInitCompat : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_symlink(amiboot_binary(), bin / "cloud-init");
    write_file(seed / "meta-data", "instance-id: i-compat\nlocal-hostname: compat\n");
    write_file(seed / "user-data", kUserData);
  }
  void install_compat() {
    write_file(root / "usr/lib/amiboot/cloud-init-compat", "");
    write_file(root / "var/lib/cloud/scripts/per-boot/10-hello", "#!/bin/sh\necho per-boot-ran\n");
    fs::permissions(root / "var/lib/cloud/scripts/per-boot/10-hello", fs::perms::owner_all);
  }
  CommandResult amiboot_run() {
    return run({amiboot_binary(), "run", "--root", root.path(), "--seed", seed.path()},
               {{"AMIBOOT_LOG", "stderr"}});
  }
  CommandResult cloud_init(std::vector<std::string> args) {
    args.insert(args.begin(), bin / "cloud-init");
    return run(args, {{"AMIBOOT_LOG", "stderr"}});
  }

  TempDir bin, seed, root;
};

TEST_F(CloudInitCompat, WithThePackageABootWritesCloudInitsFilesAndStatusSaysDone) {
  install_compat();
  auto r = amiboot_run();
  ASSERT_EQ(r.exit_code, 0) << r.err;

  // (instance is an absolute link, as cloud-init makes it: followed from the
  // host it would leave the sandbox root)
  auto finished = read_file(root / "var/lib/cloud/instances/i-compat/boot-finished");
  EXPECT_NE(finished.find(" - v. "), std::string::npos) << finished;
  EXPECT_EQ(fs::read_symlink(root / "var/lib/cloud/instance"), "/var/lib/cloud/instances/i-compat");
  EXPECT_EQ(read_file(root / "var/lib/cloud/data/instance-id"), "i-compat\n");
  auto result = nlohmann::json::parse(read_file(root / "run/cloud-init/result.json"));
  EXPECT_EQ(result["v1"]["errors"], nlohmann::json::array());
  EXPECT_EQ(result["v1"]["datasource"], "DataSourceNoCloud [seed=" + seed.path() + "]");
  auto status = nlohmann::json::parse(read_file(root / "run/cloud-init/status.json"));
  EXPECT_TRUE(status["v1"]["stage"].is_null());
  EXPECT_TRUE(status["v1"]["modules-final"]["finished"].is_number());

  // Command output, the image's cloud-init per-boot script included.
  auto log = read_file(root / "var/log/cloud-init-output.log");
  EXPECT_NE(log.find("runcmd says hello\n"), std::string::npos) << log;
  EXPECT_NE(log.find("per-boot-ran\n"), std::string::npos) << log;
  EXPECT_NE(log.find("running 'modules:final'"), std::string::npos) << log;
  EXPECT_EQ(fs::status(root / "var/log/cloud-init-output.log").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);

  // A bare sandbox root has no /etc/passwd: the users module warns, which
  // cloud-init calls degraded (exit 2).
  auto s = cloud_init({"status", "--wait", "--long", "--root", root.path()});
  EXPECT_EQ(s.exit_code, 2) << s.out << s.err;
  EXPECT_EQ(s.out.rfind("status: done\nextended_status: degraded done\n", 0), 0u) << s.out;
  EXPECT_NE(s.out.find("recoverable_errors:\nWARNING:\n\t- users: "), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("\t- final/scripts_user: ok"), std::string::npos) << s.out;
  auto j = cloud_init({"status", "--format", "json", "--root", root.path()});
  EXPECT_EQ(nlohmann::json::parse(j.out)["datasource"], "nocloud");

  auto q = cloud_init({"query", "instance_id", "--root", root.path()});
  EXPECT_EQ(q.exit_code, 0) << q.err;
  EXPECT_EQ(q.out, "i-compat\n");

  // clean: amiboot's state and cloud-init's files go; the image's scripts stay.
  write_file(root / "etc/machine-id", "0123456789abcdef0123456789abcdef\n");
  auto c = cloud_init({"clean", "--logs", "--machine-id", "--root", root.path()});
  EXPECT_EQ(c.exit_code, 0) << c.err;
  EXPECT_FALSE(exists(root / "var/lib/cloud/instance"));
  EXPECT_FALSE(exists(root / "var/lib/cloud/data"));
  EXPECT_FALSE(exists(root / "var/log/cloud-init-output.log"));
  EXPECT_FALSE(exists(root / "var/lib/amiboot/instances"));
  EXPECT_TRUE(exists(root / "var/lib/cloud/scripts/per-boot/10-hello"));
  EXPECT_EQ(read_file(root / "etc/machine-id"), "uninitialized\n");
}

TEST_F(CloudInitCompat, WithoutThePackageNothingOfCloudInitsIsWritten) {
  write_file(root / "var/lib/cloud/scripts/per-boot/10-hello", "#!/bin/sh\necho per-boot-ran\n");
  fs::permissions(root / "var/lib/cloud/scripts/per-boot/10-hello", fs::perms::owner_all);
  auto r = amiboot_run();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(exists(root / "var/lib/cloud/instance"));
  EXPECT_FALSE(exists(root / "var/lib/cloud/data"));
  EXPECT_FALSE(exists(root / "run/cloud-init"));
  EXPECT_FALSE(exists(root / "var/log/cloud-init-output.log"));
  EXPECT_EQ(r.err.find("per-boot-ran"), std::string::npos);
}

TEST_F(CloudInitCompat, StatusReportsAnErrorWithExitCodeOne) {
  install_compat();
  write_file(seed / "user-data", "#cloud-config\nruncmd:\n  - [sh, -c, 'exit 3']\n");
  auto r = amiboot_run();
  EXPECT_EQ(r.exit_code, 1);
  auto s = cloud_init({"status", "--long", "--root", root.path()});
  EXPECT_EQ(s.exit_code, 1) << s.out;
  EXPECT_EQ(s.out.rfind("status: error\nextended_status: error - done\n", 0), 0u) << s.out;
  auto result = nlohmann::json::parse(read_file(root / "var/lib/cloud/data/result.json"));
  EXPECT_EQ(result["v1"]["errors"].size(), 1u) << result.dump();
}

TEST_F(CloudInitCompat, SchemaIsValidate) {
  TempDir dir;
  write_file(dir / "good.yaml", "#cloud-config\nruncmd: [ls]\n");
  write_file(dir / "bad.yaml", "#cloud-config\nruncmd: [ls]\npackages: 5\n");
  EXPECT_EQ(cloud_init({"schema", "-c", dir / "good.yaml"}).exit_code, 0);
  auto bad = cloud_init({"schema", "-c", dir / "bad.yaml", "--annotate"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("packages: 5\t\t# E1\n"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("# Errors: -------------\n# E1: packages"), std::string::npos) << bad.out;
}

TEST_F(CloudInitCompat, OtherCommandsSayAmibootDoesNotDoThem) {
  auto r = cloud_init({"init", "--local"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cloud-init init: not provided by amiboot's compatibility command"),
            std::string::npos)
      << r.err;
  auto v = cloud_init({"--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_NE(v.out.find("(amiboot "), std::string::npos);
}

}  // namespace
}  // namespace amiboot::testing
