// SPDX-License-Identifier: Apache-2.0
// The login order on files: the generator's drop-ins (or none) from a DMI
// asset tag and amiboot's state under a sandbox root, the built generator
// program as systemd calls it, and the record an init stage leaves (real
// `amiboot run --root` from a seed).
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "agent/login_order.h"
#include "tests/support/test_util.h"

namespace amiboot {
namespace {

namespace fs = std::filesystem;
using namespace testing;

constexpr const char* kMetaData = "instance-id: i-0f1e2d3c4b5a69788\nlocal-hostname: lo\n";
constexpr const char* kId = "i-0f1e2d3c4b5a69788";

std::vector<std::string> drop_ins(const std::string& out) {
  std::vector<std::string> found;
  for (const char* unit : kLoginUnits) {
    fs::path path = fs::path(out) / (std::string(unit) + ".d") / kLoginDropInName;
    if (fs::exists(path)) {
      EXPECT_EQ(read_file(path), login_drop_in_text());
      found.push_back(unit);
    }
  }
  return found;
}

const std::vector<std::string> kAll = {"ssh.service", "sshd.service",
                                       "systemd-user-sessions.service", "sshd-keygen@.service"};

class LoginOrderFiles : public ::testing::Test {
 protected:
  /// One boot's init stage from the seed, under the sandbox root.
  CommandResult boot(const std::string& user_data) {
    write_file(seed / "meta-data", kMetaData);
    write_file(seed / "user-data", user_data);
    return run(
        {amiboot_binary(), "run", "--stage", "init", "--root", root.path(), "--seed", seed.path()},
        {{"AMIBOOT_LOG", "stderr"}});
  }
  void reboot() { fs::remove_all(root / "run"); }
  void dmi(const std::string& tag) { write_file(root / "sys/class/dmi/id/board_asset_tag", tag); }
  std::vector<std::string> generate() {
    fs::remove_all(out.path());
    fs::create_directories(out.path());
    std::ostringstream err;
    EXPECT_EQ(generate_login_order(root.path(), out.path(), err), 0) << err.str();
    return drop_ins(out.path());
  }

  TempDir root;
  TempDir seed;
  TempDir out;
};

TEST_F(LoginOrderFiles, ASameInstanceRebootWithoutBootcmdLetsLoginsGo) {
  dmi(std::string(kId) + "\n");
  // Before amiboot ever ran: hold.
  EXPECT_EQ(generate(), kAll);
  auto r = boot("#cloud-config\nwrite_files:\n  - {path: /etc/motd.d/x, content: hi}\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(root / "var/lib/amiboot/logins-need-not-wait"), std::string(kId) + "\n");
  EXPECT_EQ(
      fs::status(root / "var/lib/amiboot/logins-need-not-wait").permissions() & fs::perms::all,
      fs::perms::owner_read | fs::perms::owner_write);
  reboot();
  EXPECT_EQ(generate(), std::vector<std::string>{});
  // A new instance from this disk (DMI names it): hold.
  dmi("i-0aaaaaaaaaaaaaaaa\n");
  EXPECT_EQ(generate(), kAll);
  // No DMI asset tag: hold.
  fs::remove(root / "sys/class/dmi/id/board_asset_tag");
  EXPECT_EQ(generate(), kAll);
  // `amiboot clean` forgets the instance: hold.
  dmi(std::string(kId) + "\n");
  ASSERT_EQ(run({amiboot_binary(), "clean", "--root", root.path()}).exit_code, 0);
  EXPECT_EQ(generate(), kAll);
}

TEST_F(LoginOrderFiles, BootcmdHoldsLoginsOnEveryBoot) {
  dmi(std::string(kId) + "\n");
  auto r = boot("#cloud-config\nbootcmd:\n  - [true]\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(root / "var/lib/amiboot/logins-need-not-wait"));
  reboot();
  EXPECT_EQ(generate(), kAll);
  // The user data lost its bootcmd (changed while the instance was
  // stopped): this boot still held, the next one need not.
  r = boot("#cloud-config\n{}\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  reboot();
  EXPECT_EQ(generate(), std::vector<std::string>{});
  // And back: the record goes at the end of the boot that has it.
  r = boot("#cloud-config\nbootcmd:\n  - [true]\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  reboot();
  EXPECT_EQ(generate(), kAll);
}

TEST_F(LoginOrderFiles, TheProgramWritesIntoSystemdsNormalFolder) {
  fs::path program = fs::path(amiboot_binary()).parent_path() / "amiboot-login-generator";
  if (!fs::exists(program)) {
    GTEST_SKIP() << program << " is not built";
  }
  // On the test host (no EC2 asset tag matching amiboot's state): hold.
  fs::path normal = fs::path(out.path()) / "normal";
  fs::create_directories(normal);
  auto r = run({program.string(), normal.string(), out / "early", out / "late"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(drop_ins(normal.string()), kAll);
  EXPECT_FALSE(fs::exists(out / "early/ssh.service.d"));
  EXPECT_EQ(run({program.string()}).exit_code, 2);
}

}  // namespace
}  // namespace amiboot
