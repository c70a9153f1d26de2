// SPDX-License-Identifier: Apache-2.0
// System against a real sandbox root: path mapping, escapes, atomic writes,
// owners from the sandbox's own passwd, commands.
#include "agent/system.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/support/test_util.h"

namespace amiboot {
namespace {

using testing::TempDir;

TEST(System, PathsMapUnderTheRoot) {
  TempDir root;
  HostSystem sys(root.path());
  ASSERT_TRUE(sys.write_file("/etc/app/conf", "x=1\n", FileAttrs{0640}).ok());
  EXPECT_EQ(testing::read_file(root / "etc/app/conf"), "x=1\n");
  struct stat st;
  ASSERT_EQ(stat((root / "etc/app/conf").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
}

// What analyze and the status rows put on the boot's timeline: the
// kernel's uptime, as /proc/uptime says it (read before and after).
TEST(System, UptimeIsWhatProcUptimeSays) {
  HostSystem sys("/");
  auto proc_uptime = [] {
    double up = -1;
    std::ifstream("/proc/uptime") >> up;
    return up;
  };
  double before = proc_uptime();
  double up = sys.uptime_seconds();
  double after = proc_uptime();
  ASSERT_GT(before, 0);
  // /proc/uptime is in hundredths of a second.
  EXPECT_GE(up, before);
  EXPECT_LE(up, after + 0.01);
}

TEST(System, DotDotAndRelativePathsAreRefused) {
  TempDir root;
  HostSystem sys(root.path());
  EXPECT_FALSE(sys.resolve("/etc/../../outside").ok());
  EXPECT_FALSE(sys.resolve("etc/passwd").ok());
  EXPECT_FALSE(sys.write_file("/../escape", "x", {}).ok());
  EXPECT_FALSE(testing::exists(std::filesystem::path(root.path()).parent_path() / "escape"));
}

TEST(System, SymlinksResolveInsideTheRoot) {
  TempDir root;
  TempDir outside;
  HostSystem sys(root.path());
  std::filesystem::create_directories(root / "real");
  // An absolute link means the image's root, as it would once booted.
  std::filesystem::create_directory_symlink("/real", root / "abs");
  ASSERT_TRUE(sys.write_file("/abs/file", "in", {}).ok());
  EXPECT_EQ(testing::read_file(root / "real/file"), "in");
  // A link to a host folder is re-rooted, never followed out.
  std::filesystem::create_directory_symlink(outside.path(), root / "host");
  ASSERT_TRUE(sys.write_file("/host/file", "in", {}).ok());
  EXPECT_FALSE(testing::exists(outside / "file"));
  // A relative link that climbs above the root is refused.
  std::filesystem::create_directory_symlink("../../../../../../..", root / "up");
  auto r = sys.resolve("/up/etc/passwd");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("leads out of"), std::string::npos) << r.error().message;
}

// read_file and exists open a plain path in the call that proves it plain;
// a path with a symlink in it takes the walk. Both give the same answers.
TEST(System, ReadsAndExistenceAreTheSameWithOrWithoutASymlinkOnTheWay) {
  TempDir root;
  HostSystem sys(root.path());
  std::filesystem::create_directories(root / "real");
  testing::write_file(root / "real/file", "content\n");
  std::filesystem::create_directory_symlink("/real", root / "abs");
  std::filesystem::create_symlink("/real/gone", root / "real/dangling");
  for (std::string dir : {"/real", "/abs"}) {
    SCOPED_TRACE(dir);
    auto text = sys.read_file(dir + "/file");
    ASSERT_TRUE(text.ok()) << text.error().message;
    EXPECT_EQ(*text, "content\n");
    EXPECT_TRUE(sys.exists(dir + "/file"));
    EXPECT_TRUE(sys.exists(dir));
    // A symlink exists even when what it names does not (lstat's answer).
    EXPECT_TRUE(sys.exists(dir + "/dangling"));
    EXPECT_FALSE(sys.exists(dir + "/missing"));
    EXPECT_FALSE(sys.exists(dir + "/file/below"));  // a file is not a folder
    auto missing = sys.read_file(dir + "/missing");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().message,
              "cannot read " + dir + "/missing: No such file or directory");
    auto below = sys.read_file(dir + "/file/below");
    ASSERT_FALSE(below.ok());
    EXPECT_EQ(below.error().message, "cannot read " + dir + "/file/below: Not a directory");
    // Reading through the dangling link: the walk follows it inside the root.
    EXPECT_FALSE(sys.read_file(dir + "/dangling").ok());
  }
  // Too big is too big on either way in.
  auto big = sys.read_file("/abs/file", 3);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().message, "/abs/file is larger than 3 bytes");
  EXPECT_FALSE(sys.read_file("/real/file", 3).ok());
}

TEST(System, WriteIsAtomicAndLeavesNoTemporaryFiles) {
  TempDir root;
  HostSystem sys(root.path());
  ASSERT_TRUE(sys.write_file("/etc/f", "old", {}).ok());
  ASSERT_TRUE(sys.write_file("/etc/f", "new", {}).ok());
  EXPECT_EQ(testing::read_file(root / "etc/f"), "new");
  auto names = sys.list_dir("/etc");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"f"});
}

TEST(System, OwnersComeFromTheRootsPasswdAndGroup) {
  TempDir root;
  testing::write_file(root / "etc/passwd",
                      "root:x:0:0::/root:/bin/sh\napp:x:1234:1300::/home/app:/bin/sh\n");
  testing::write_file(root / "etc/group", "root:x:0:\nstaff:x:1400:\n");
  HostSystem sys(root.path());
  auto ids = sys.lookup_owner("app");
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::pair<uid_t, gid_t>{1234, 1300}));
  ids = sys.lookup_owner("app:staff");
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::pair<uid_t, gid_t>{1234, 1400}));
  auto missing = sys.lookup_owner("nobody-here");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("no user 'nobody-here'"), std::string::npos);
}

// The kernel clears setuid and setgid on a chown: '04755' survives only
// when the mode is set after the owner.
TEST(System, SetIdBitsSurviveTheOwnerBeingSet) {
  TempDir root;
  HostSystem sys(root.path());
  FileAttrs attrs;
  attrs.mode = 06755;
  attrs.uid = 0;
  attrs.gid = 0;
  ASSERT_TRUE(sys.write_file("/usr/local/bin/tool", "#!/bin/sh\n", attrs).ok());
  struct stat st {};
  ASSERT_EQ(stat((root / "usr/local/bin/tool").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 06755u);
}

TEST(System, AnOwnerNumberPastAUidIsAnErrorNotRoot) {
  TempDir root;
  HostSystem sys(root.path());
  for (const char* owner : {"4294967296", "99999999999999999999", "0:4294967295"}) {
    auto ids = sys.lookup_owner(owner);
    ASSERT_FALSE(ids.ok()) << owner;
    EXPECT_NE(ids.error().message.find("not a valid uid or gid"), std::string::npos)
        << ids.error().message;
  }
}

TEST(System, RunUsesAnArgvAndReportsTheExitCode) {
  TempDir root;
  HostSystem sys(root.path());
  // An argument with shell syntax stays one literal argument.
  auto r = sys.run(CommandSpec{{"touch", root / "a b;c"}, {}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_TRUE(testing::exists(root / "a b;c"));
  r = sys.run(CommandSpec{{"sh", "-c", "exit 7"}, {}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 7);
  r = sys.run(CommandSpec{{"/no/such/program"}, {}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 127);
}

TEST(System, CaptureStdoutKeepsStdoutApartFromStderr) {
  TempDir root;
  HostSystem sys(root.path());
  CommandSpec spec;
  // More than a pipe holds, interleaved with stderr, so both are drained.
  spec.argv = {"sh", "-c",
               "i=0; while [ $i -lt 20000 ]; do echo out$i; echo err$i >&2; i=$((i+1)); done"};
  spec.capture_stdout = true;
  spec.capture_output = true;
  auto r = sys.run(spec);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->stdout_text.rfind("out0\nout1\n", 0), 0u);
  EXPECT_TRUE(r->stdout_text.ends_with("out19999\n"));
  EXPECT_EQ(r->stdout_text.find("err"), std::string::npos);
  EXPECT_EQ(r->output.find("out"), std::string::npos);
  EXPECT_TRUE(r->output.ends_with("err19999\n"));
}

}  // namespace
}  // namespace amiboot
