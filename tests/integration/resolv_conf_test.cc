// SPDX-License-Identifier: Apache-2.0
// resolv_conf with the real executor under --root: systemd-resolved's link
// is replaced by the file, and the file it pointed at is left alone.
#include <filesystem>

#include <gtest/gtest.h>

#include "tests/support/seeded_root.h"

namespace amiboot::testing {
namespace {

namespace fs = std::filesystem;

TEST(ResolvConfAgent, TheStubLinkIsReplacedByTheFile) {
  SeededRoot box;
  write_file(box / "etc/os-release", "ID=ubuntu\nID_LIKE=debian\n");
  std::string stub =
      "# This is /run/systemd/resolve/stub-resolv.conf managed by man:systemd-resolved(8).\n"
      "nameserver 127.0.0.53\n";
  write_file(box / "run/systemd/resolve/stub-resolv.conf", stub);
  fs::create_symlink("../run/systemd/resolve/stub-resolv.conf", box / "etc/resolv.conf");
  auto r = box.run(
      "#cloud-config\nmanage_resolv_conf: true\n"
      "resolv_conf: {nameservers: [10.0.0.2], searchdomains: [ec2.internal], options: {rotate: "
      "true}}\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(box.module("resolv_conf")["result"], "ok");
  EXPECT_FALSE(fs::is_symlink(box / "etc/resolv.conf"));
  EXPECT_EQ(read_file(box / "etc/resolv.conf"),
            "# Written by amiboot: manage_resolv_conf is true, from the resolv_conf section of "
            "the\n# user data. Rewritten on each new instance.\n"
            "nameserver 10.0.0.2\nsearch ec2.internal\noptions rotate\n");
  EXPECT_EQ(read_file(box / "run/systemd/resolve/stub-resolv.conf"), stub);
}

TEST(ResolvConfAgent, WithoutManageResolvConfNothingIsWritten) {
  SeededRoot box;
  write_file(box / "etc/resolv.conf", "nameserver 169.254.169.253\n");
  auto r = box.run("#cloud-config\nresolv_conf: {nameservers: [10.0.0.2]}\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(box / "etc/resolv.conf"), "nameserver 169.254.169.253\n");
  EXPECT_NE(r.err.find("resolv_conf: ignored: manage_resolv_conf is not true"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace amiboot::testing
