// SPDX-License-Identifier: Apache-2.0
#include "modules/disable_ec2_metadata.h"

#include <gtest/gtest.h>

#include "tests/support/module_fixture.h"

namespace amiboot {
namespace {

TEST(DisableEc2Metadata, ProhibitsTheRouteToImdsOnTheRunningMachine) {
  testing::ModuleFixture f("disable_ec2_metadata: true\n");
  f.system.programs = {"ip"};
  auto plan = f.plan("disable_ec2_metadata");
  ASSERT_TRUE(plan.diagnostics.empty());
  RunCommand route{{"ip", "route", "replace", "prohibit", "169.254.169.254/32"},
                   "disable_ec2_metadata: route to 169.254.169.254 prohibited"};
  route.needs_host = true;
  EXPECT_EQ(plan.actions, std::vector<Action>{route});
}

TEST(DisableEc2Metadata, FalseOrAbsentDoesNothing) {
  testing::ModuleFixture off("disable_ec2_metadata: false\n");
  off.system.programs = {"ip"};
  EXPECT_TRUE(off.plan("disable_ec2_metadata").actions.empty());
  testing::ModuleFixture absent("runcmd: [echo]\n");
  absent.system.programs = {"ip"};
  EXPECT_TRUE(absent.plan("disable_ec2_metadata").actions.empty());
}

TEST(DisableEc2Metadata, WithoutIpItIsAnErrorNotASilentNoOp) {
  testing::ModuleFixture f("disable_ec2_metadata: true\n");
  auto plan = f.plan("disable_ec2_metadata");
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_EQ(plan.diagnostics.size(), 1u);
  EXPECT_EQ(plan.diagnostics[0].severity, Diagnostic::Severity::Error);
}

TEST(DisableEc2Metadata, ANonBooleanIsRejectedWithItsPosition) {
  testing::ModuleFixture f("disable_ec2_metadata: sometimes\n");
  Diagnostics d;
  f.check("disable_ec2_metadata", d);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].pos.line, 1);
  EXPECT_EQ(d[0].path, "disable_ec2_metadata");
}

}  // namespace
}  // namespace amiboot
