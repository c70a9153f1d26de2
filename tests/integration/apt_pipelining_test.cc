// SPDX-License-Identifier: Apache-2.0
// apt_pipelining with the real executor under --root: cloud-init's file.
#include <gtest/gtest.h>

#include "tests/support/seeded_root.h"

namespace amiboot::testing {
namespace {

TEST(AptPipeliningAgent, FalseWritesDepthZero) {
  SeededRoot box;
  write_file(box / "etc/os-release", "ID=debian\n");
  auto r = box.run("#cloud-config\napt_pipelining: false\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(box / "etc/apt/apt.conf.d/90cloud-init-pipelining"),
            "//Written by amiboot per 'apt_pipelining'\nAcquire::http::Pipeline-Depth \"0\";\n");
}

}  // namespace
}  // namespace amiboot::testing
