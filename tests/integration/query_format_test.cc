// SPDX-License-Identifier: Apache-2.0
// `amiboot query --format` and cloud-init's dotted keys, against the cached
// metadata of a run on the fake IMDS.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "tests/support/fake_imds.h"
#include "tests/support/test_util.h"

namespace amiboot::testing {
namespace {

class Query : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = amiboot({"run", "--root", root.path(), "--imds", imds.url()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  CommandResult amiboot(std::vector<std::string> args) {
    args.insert(args.begin(), amiboot_binary());
    return run(args, {{"AMIBOOT_LOG", "stderr"}});
  }
  CommandResult query(std::vector<std::string> args) {
    args.insert(args.begin(), "query");
    args.push_back("--root");
    args.push_back(root.path());
    return amiboot(args);
  }

  FakeImds imds;
  TempDir root;
};

TEST_F(Query, FormatRendersCloudInitInstanceData) {
  auto r = query({"--format",
                  "{{ v1.region }} {{ v1.availability_zone }} {{ v1.cloud_name }} "
                  "{{ ds.meta_data['local-hostname'] | upper }}{% if v1.platform == 'ec2' %} ec2"
                  "{% endif %}"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "us-east-1 us-east-1a aws IP-10-0-0-12.EC2.INTERNAL ec2\n");
}

TEST_F(Query, FormatErrorsArePositionedAndExitOne) {
  auto r = query({"--format", "{{ v1.region }}\n{{ v1.regoin }}"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("amiboot query: --format:2:7: undefined 'v1.regoin'"), std::string::npos)
      << r.err;
  r = query({"--format", "{% set x = 1 %}"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--format:1:4: '{% set %}' is not in amiboot's Jinja subset"),
            std::string::npos)
      << r.err;
}

TEST_F(Query, CloudInitDottedKeys) {
  auto r = query({"v1.region"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "us-east-1\n");
  r = query({"ds.meta_data.local-hostname"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "ip-10-0-0-12.ec2.internal\n");
  r = query({"instance_id"});  // amiboot's own keys still work
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "i-0123456789abcdef0\n");
  EXPECT_EQ(query({"v1.nope"}).exit_code, 1);
}

TEST_F(Query, MergedCfgIsTheImageConfigWithTheUserDataMergedOverIt) {
  std::filesystem::create_directories(root.path() + "/etc/amiboot");
  write_file(root.path() + "/etc/amiboot/amiboot.yaml",
             "final_message: from the image\nruncmd: [echo image]\n");
  imds.set_user_data("#cloud-config\nruncmd: [echo user]\npassword: Admin pass\n");
  auto r = amiboot({"run", "--stage", "init", "--root", root.path(), "--imds", imds.url()});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  r = query({"merged_cfg"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto merged = nlohmann::json::parse(r.out);
  EXPECT_EQ(merged["final_message"], "from the image");
  EXPECT_EQ(merged["runcmd"], nlohmann::json::array({"echo user"})) << "dict(replace): the user's";
  r = query({"merged_cfg.runcmd"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out), nlohmann::json::array({"echo user"}));
  EXPECT_EQ(query({"merged_cfg.nope"}).exit_code, 1);

  // It holds user data: root only, as cloud-init's sensitive instance data.
  struct stat st {};
  ASSERT_EQ(stat((root.path() + "/run/amiboot/merged-cfg.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  EXPECT_EQ(merged["password"], "Admin pass") << "root asked for it: unredacted";

  // The dry run shows the same merge, its secrets redacted.
  r = amiboot({"run", "--root", root.path(), "--imds", imds.url(), "--dry-run", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  merged["password"] = "<redacted>";
  EXPECT_EQ(nlohmann::json::parse(r.out)["merged_cfg"], merged);
  EXPECT_EQ(r.out.find("Admin pass"), std::string::npos);
}

}  // namespace
}  // namespace amiboot::testing
