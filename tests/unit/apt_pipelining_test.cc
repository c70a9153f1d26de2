// SPDX-License-Identifier: Apache-2.0
// apt_pipelining: cloud-init's file and values, apt systems only.
#include "modules/apt_pipelining.h"

#include <gtest/gtest.h>

#include "agent/cloud_config.h"
#include "tests/support/module_fixture.h"
#include "tests/support/os_release_samples.h"

namespace amiboot {
namespace {

using namespace testing::os_release;

struct Fixture : testing::ModuleFixture {
  Fixture(const std::string& yaml, const std::string& os) : ModuleFixture(yaml) {
    system.files["/etc/os-release"] = os;
  }
};

WriteFile depth_file(int depth) {
  return WriteFile{.path = "/etc/apt/apt.conf.d/90cloud-init-pipelining",
                   .content =
                       "//Written by amiboot per 'apt_pipelining'\n"
                       "Acquire::http::Pipeline-Depth \"" +
                       std::to_string(depth) + "\";\n",
                   .label = "apt_pipelining: /etc/apt/apt.conf.d/90cloud-init-pipelining"};
}

TEST(AptPipelining, FalseAndDepthsAreWrittenOnAptSystems) {
  for (const char* os : {kDebian, kUbuntu}) {
    for (auto [yaml, depth] :
         {std::pair{"apt_pipelining: false\n", 0}, std::pair{"apt_pipelining: 'False'\n", 0},
          std::pair{"apt_pipelining: 3\n", 3}, std::pair{"apt_pipelining: '5'\n", 5},
          std::pair{"apt_pipelining: 0\n", 0}}) {
      Fixture f(yaml, os);
      auto plan = f.plan("apt_pipelining");
      ASSERT_TRUE(plan.diagnostics.empty()) << yaml;
      EXPECT_EQ(plan.actions, std::vector<Action>{depth_file(depth)}) << yaml << os;
    }
  }
}

TEST(AptPipelining, OsTrueAndTheDeprecatedNamesLeaveAptAlone) {
  for (const char* yaml : {"apt_pipelining: os\n", "apt_pipelining: OS\n", "apt_pipelining: true\n",
                           "apt_pipelining:\n"}) {
    Fixture f(yaml, kDebian);
    auto plan = f.plan("apt_pipelining");
    EXPECT_TRUE(plan.actions.empty()) << yaml;
    EXPECT_TRUE(plan.diagnostics.empty()) << yaml;
  }
  for (const char* yaml : {"apt_pipelining: none\n", "apt_pipelining: unchanged\n"}) {
    Fixture f(yaml, kDebian);
    auto plan = f.plan("apt_pipelining");
    EXPECT_TRUE(plan.actions.empty()) << yaml;
    ASSERT_EQ(plan.diagnostics.size(), 1u) << yaml;
    EXPECT_EQ(plan.diagnostics[0].severity, Diagnostic::Severity::Warning);
    EXPECT_EQ(plan.diagnostics[0].pos.column, 17);
  }
}

TEST(AptPipelining, DepthsCloudInitDoesNotWriteAreWarnings) {
  for (const char* yaml : {"apt_pipelining: 10\n", "apt_pipelining: -1\n"}) {
    Fixture f(yaml, kDebian);
    auto plan = f.plan("apt_pipelining");
    EXPECT_TRUE(plan.actions.empty()) << yaml;
    ASSERT_EQ(plan.diagnostics.size(), 1u) << yaml;
    EXPECT_EQ(plan.diagnostics[0].severity, Diagnostic::Severity::Warning) << yaml;
  }
}

TEST(AptPipelining, OtherSystemsHaveNoApt) {
  for (const char* os : {kAmazon, kRhel, kSles}) {
    Fixture f("apt_pipelining: false\n", os);
    auto plan = f.plan("apt_pipelining");
    EXPECT_TRUE(plan.actions.empty()) << os;
    EXPECT_TRUE(plan.diagnostics.empty()) << os;
    EXPECT_EQ(plan.summary, "not an apt system: nothing to do");
  }
}

TEST(AptPipelining, ASecondRunWritesNothing) {
  Fixture f("apt_pipelining: false\n", kDebian);
  f.system.files["/etc/apt/apt.conf.d/90cloud-init-pipelining"] = depth_file(0).content;
  EXPECT_TRUE(f.plan("apt_pipelining").actions.empty());
}

TEST(AptPipelining, BadValuesAreRejectedWithLineAndColumn) {
  for (auto [yaml, message] : {
           std::pair{"apt_pipelining: sometimes\n",
                     "user-data:1:17: apt_pipelining: expected os, true, false or a pipeline "
                     "depth from 0 to 5, got 'sometimes'"},
           std::pair{"apt_pipelining: [3]\n",
                     "user-data:1:17: apt_pipelining: expected a string, got a list"},
       }) {
    Fixture f(yaml, kDebian);
    Diagnostics d;
    f.check("apt_pipelining", d);
    ASSERT_EQ(d.size(), 1u) << yaml;
    EXPECT_EQ(d[0].format(), message);
  }
}

// cloud-init's doc/module-docs/cc_apt_pipelining/example{1,2,3}.yaml.
TEST(AptPipelining, CloudInitsDocumentedExamplesAreAcceptedAndActedOn) {
  const std::vector<std::pair<std::string, std::vector<Action>>> examples = {
      {"#cloud-config\napt_pipelining: false\n", {depth_file(0)}},
      {"#cloud-config\napt_pipelining: os\n", {}},
      {"#cloud-config\napt_pipelining: 3\n", {depth_file(3)}},
  };
  for (const auto& [yaml, actions] : examples) {
    EXPECT_TRUE(testing::validates_cleanly(yaml));
    Fixture f(yaml, kUbuntu);
    EXPECT_EQ(f.plan("apt_pipelining").actions, actions) << yaml;
  }
}

}  // namespace
}  // namespace amiboot
