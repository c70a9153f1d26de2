// SPDX-License-Identifier: Apache-2.0
// Paths a module hands to a host tool stay inside --root: the executor maps
// them through HostSystem::resolve, so a symlink planted in the sandbox
// cannot send ssh-keygen, mkswap or mount elsewhere.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "agent/executor.h"
#include "agent/system.h"
#include "tests/support/loop_device.h"
#include "tests/support/seeded_root.h"
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

/// What a folder holds, for "nothing was created outside the root".
std::vector<std::string> listing(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    out.push_back(e.path().filename().string());
  }
  return out;
}

/// Mount points at or below `dir`.
std::vector<std::string> mounts_under(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& [source, target] : testing::mount_table()) {
    if (target == dir || target.rfind(dir + "/", 0) == 0) {
      out.push_back(source + " on " + target);
    }
  }
  return out;
}

// The whole binary, as an image build would run it, with links planted in
// the sandbox root that point at a host folder.
TEST(TargetPathsThroughTheAgent, HostKeysAndASwapFileBehindAbsoluteLinksStayInTheRoot) {
  if (!testing::run({"sh", "-c", "command -v ssh-keygen && command -v mkswap"}).out.size()) {
    GTEST_SKIP() << "needs ssh-keygen and mkswap";
  }
  TempDir outside;
  testing::SeededRoot box;
  std::filesystem::create_directories(box / "etc");
  std::filesystem::create_symlink(outside.path(), box / "etc/ssh");
  std::filesystem::create_symlink(outside.path(), box / "data");
  // Where the links lead inside the root, as in an image.
  std::filesystem::create_directories(box.root.path() + outside.path());
  auto r = box.run(
      "#cloud-config\n"
      "ssh_genkeytypes: [ed25519]\n"
      "swap: {filename: /data/swap.img, size: 1048576}\n");
  EXPECT_TRUE(listing(outside.path()).empty())
      << "written outside the root: " << listing(outside.path()).front() << "\n"
      << r.err;
  std::string inside = box.root.path() + outside.path();
  EXPECT_TRUE(testing::exists(inside + "/ssh_host_ed25519_key")) << r.err;
  EXPECT_TRUE(testing::exists(inside + "/swap.img")) << r.err;
}

TEST(TargetPathsThroughTheAgent, MountsIntoAPlainFolderAreRefusedAndSaySo) {
  testing::SeededRoot box;
  std::filesystem::create_directories(box / "etc");
  auto r = box.run(
      "#cloud-config\n"
      "mounts:\n"
      "  - [tmpfs, /data/m, tmpfs]\n"
      "  - [LABEL=amiboot-none, /mnt/x, ext4]\n");
  auto mounted = mounts_under(box.root.path());
  testing::unmount_all_under(box.root.path());
  EXPECT_TRUE(mounted.empty()) << "a host mount under a plain --root folder: " << mounted.front();
  auto mounts = box.module("mounts");
  ASSERT_FALSE(mounts.is_null()) << r.err;
  EXPECT_EQ(mounts["result"], "failed");
  ASSERT_FALSE(mounts["errors"].empty());
  EXPECT_NE(mounts["errors"][0].get<std::string>().find("is not a mount point"), std::string::npos)
      << mounts.dump();
  // The target's own fstab still gets the entries: an image keeps them.
  EXPECT_NE(testing::read_file(box / "etc/fstab").find("/data/m"), std::string::npos);
}

TEST(TargetPathsThroughTheAgent, ARootThatIsAMountPointGetsItsMounts) {
  testing::SeededRoot box;
  if (testing::run({"mount", "--bind", box.root.path(), box.root.path()}).exit_code != 0) {
    GTEST_SKIP() << "cannot bind-mount a folder onto itself (needs root)";
  }
  std::filesystem::create_directories(box / "etc");
  auto r = box.run("#cloud-config\nmounts:\n  - [tmpfs, /data/m, tmpfs]\n");
  auto mounted = mounts_under(box / "data/m");
  testing::unmount_all_under(box.root.path());
  EXPECT_EQ(mounted.size(), 1u) << r.err;
}

// A user owns their home and can put anything in it: on a real instance
// (root "/") as under --root, a link there must not redirect a root write.
class UserOwnedFolders : public ::testing::TestWithParam<bool> {};

TEST_P(UserOwnedFolders, AHomeSshLinkDoesNotRedirectAuthorizedKeys) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root to give a folder to a user";
  }
  bool under_root = GetParam();
  TempDir dir;
  // The paths as the agent sees them: under the root, or the host's own.
  std::string prefix = under_root ? "" : dir.path();
  std::string home = prefix + "/home/bob";
  std::string victim = prefix + "/root/.ssh";
  std::filesystem::create_directories(dir / "root/.ssh");
  std::filesystem::create_directories(dir / "home/bob");
  testing::write_file(dir / "etc/passwd",
                      "root:x:0:0::/root:/bin/sh\nbob:x:1234:1234::/home/bob:/bin/sh\n");
  ASSERT_EQ(chown((dir / "home/bob").c_str(), 1234, 1234), 0);
  std::filesystem::create_directory_symlink(victim, dir / "home/bob/.ssh");
  HostSystem system(under_root ? dir.path() : "/");
  ExecContext ctx{system, "i-test", {}};
  auto outcome = execute({WriteFile{home + "/.ssh/authorized_keys", "ssh-ed25519 AAAA bob\n", 0600,
                                    "root", false, "ssh_authorized_keys (bob)"}},
                         ctx);
  ASSERT_FALSE(outcome.ok()) << "written through the link";
  EXPECT_NE(outcome.errors[0].find("refusing to follow the symlink"), std::string::npos)
      << outcome.errors[0];
  EXPECT_TRUE(listing(dir / "root/.ssh").empty());
}

INSTANTIATE_TEST_SUITE_P(OnAnInstanceAndUnderRoot, UserOwnedFolders, ::testing::Bool());

}  // namespace
}  // namespace amiboot
