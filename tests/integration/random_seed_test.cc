// SPDX-License-Identifier: Apache-2.0
// random_seed with the real executor under --root: a file of the target is
// appended to; the running kernel's device and the command are left alone.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "tests/support/seeded_root.h"

namespace amiboot::testing {
namespace {

TEST(RandomSeedAgent, ATargetFileIsAppendedToAndTheHostIsNotTouched) {
  SeededRoot box;
  write_file(box / "var/lib/seed", "old-");
  auto r = box.run(
      "#cloud-config\nrandom_seed:\n  file: /var/lib/seed\n  data: bmV3\n  encoding: b64\n"
      "  command: [sh, -c, 'echo ran > /tmp/amiboot-random-seed-must-not-exist']\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(box.module("random_seed")["result"], "ok");
  EXPECT_EQ(read_file(box / "var/lib/seed"), "old-new");
  struct stat st {};
  ASSERT_EQ(stat((box / "var/lib/seed").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_NE(r.err.find("random_seed: command sh: skipped under --root"), std::string::npos)
      << r.err;
  EXPECT_FALSE(exists("/tmp/amiboot-random-seed-must-not-exist"));
  // The seed is user data: not in the journal (stderr here) or the status.
  EXPECT_EQ(r.err.find("bmV3"), std::string::npos);
  EXPECT_EQ(read_file(box / "run/amiboot/status.json").find("bmV3"), std::string::npos);
}

TEST(RandomSeedAgent, TheDefaultDeviceIsTheRunningKernelsAndSkippedUnderRoot) {
  SeededRoot box;
  auto r = box.run("#cloud-config\nrandom_seed: {data: entropy}\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("random_seed: 7 bytes to /dev/urandom: skipped under --root"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(exists(box / "dev/urandom"));
}

}  // namespace
}  // namespace amiboot::testing
