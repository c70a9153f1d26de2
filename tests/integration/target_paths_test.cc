// SPDX-License-Identifier: Apache-2.0
// Paths a module hands to a host tool stay inside --root: the executor maps
// them through HostSystem::resolve, so a symlink planted in the sandbox
// cannot send ssh-keygen, mkswap or mount elsewhere.
#include <gtest/gtest.h>

#include <filesystem>

#include "agent/executor.h"
#include "agent/system.h"
#include "tests/support/test_util.h"

namespace amiboot {
namespace {

using testing::TempDir;

ExecOutcome run_in(HostSystem& system, RunCommand command) {
  ExecContext ctx{system, "i-0123456789abcdef0", {}};
  return execute({command}, ctx);
}

TEST(TargetPaths, AnAbsoluteSymlinkInTheRootIsFollowedInsideIt) {
  TempDir outside;
  TempDir root;
  std::filesystem::create_directories(root / "etc");
  std::filesystem::create_directories(root.path() + outside.path());
  // As an image would have it: /etc/ssh -> /elsewhere, absolute.
  std::filesystem::create_symlink(outside.path(), root / "etc/ssh");
  HostSystem system(root.path());
  RunCommand touch{{"touch"}, "touch a host key"};
  auto outcome = run_in(system, touch.target_path("/etc/ssh/ssh_host_ed25519_key"));
  ASSERT_TRUE(outcome.ok()) << outcome.errors[0];
  EXPECT_FALSE(testing::exists(outside / "ssh_host_ed25519_key"))
      << "the tool wrote outside the root";
  EXPECT_TRUE(testing::exists(root.path() + outside.path() + "/ssh_host_ed25519_key"));
}

TEST(TargetPaths, APathThatClimbsOutIsRefusedBeforeAnythingRuns) {
  TempDir root;
  HostSystem system(root.path());
  RunCommand touch{{"touch"}, "mkswap /data/../../escaped"};
  auto outcome = run_in(system, touch.target_path("/data/../../escaped"));
  ASSERT_EQ(outcome.errors.size(), 1u);
  EXPECT_NE(outcome.errors[0].find("'..'"), std::string::npos) << outcome.errors[0];
  EXPECT_FALSE(testing::exists(std::filesystem::path(root.path()).parent_path() / "escaped"));
}

TEST(TargetPaths, OnTheInstanceTheyAreUsedAsWritten) {
  TempDir dir;
  HostSystem system;  // "/"
  RunCommand touch{{"touch"}, "touch"};
  auto outcome = run_in(system, touch.target_path(dir / "made"));
  ASSERT_TRUE(outcome.ok()) << outcome.errors[0];
  EXPECT_TRUE(testing::exists(dir / "made"));
}

}  // namespace
}  // namespace amiboot
