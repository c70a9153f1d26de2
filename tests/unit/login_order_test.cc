// SPDX-License-Identifier: Apache-2.0
// The login order's two rules (agent/login_order.h): the generator's (does
// sshd wait for amiboot this boot?) and the init stage's (may the next boot
// of this instance let it go?). The files and the real generator are in
// tests/integration/login_order_test.cc.
#include "agent/login_order.h"

#include <gtest/gtest.h>

namespace amiboot {
namespace {

constexpr const char* kId = "i-0f1e2d3c4b5a69788";
constexpr const char* kLink = "instances/i-0f1e2d3c4b5a69788";

TEST(LoginOrder, LoginsGoWithoutAmibootOnlyOnTheInstanceAmibootRecorded) {
  // DMI as the kernel gives it (a trailing newline), the record as the init
  // stage writes it.
  EXPECT_FALSE(logins_wait_for_amiboot("i-0f1e2d3c4b5a69788\n", "i-0f1e2d3c4b5a69788\n", kLink));
}

TEST(LoginOrder, AnythingUnknownOrDifferentHoldsLogins) {
  // No DMI asset tag (not Nitro, or no DMI at all), no record (the last init
  // stage had per-boot work, or never ran), no current instance (amiboot
  // clean): hold.
  EXPECT_TRUE(logins_wait_for_amiboot(std::nullopt, kId, kLink));
  EXPECT_TRUE(logins_wait_for_amiboot(kId, std::nullopt, kLink));
  EXPECT_TRUE(logins_wait_for_amiboot(kId, kId, std::nullopt));
  // A new instance launched from the image: DMI names another id.
  EXPECT_TRUE(logins_wait_for_amiboot("i-0aaaaaaaaaaaaaaaa\n", kId, kLink));
  // The record is from an older instance than the state's current one.
  EXPECT_TRUE(logins_wait_for_amiboot(kId, kId, "instances/i-0bbbbbbbbbbbbbbbb"));
  EXPECT_TRUE(logins_wait_for_amiboot(kId, "i-0bbbbbbbbbbbbbbbb\n", kLink));
  // Asset tags that are not an instance id, even if a record matched them.
  EXPECT_TRUE(
      logins_wait_for_amiboot("Not Specified\n", "Not Specified\n", "instances/Not Specified"));
  EXPECT_TRUE(logins_wait_for_amiboot("\n", "\n", "instances/"));
  EXPECT_TRUE(logins_wait_for_amiboot("", "", "instances/"));
  // A link that is not the state's own shape.
  EXPECT_TRUE(logins_wait_for_amiboot(kId, kId, "/elsewhere/i-0f1e2d3c4b5a69788"));
}

TEST(LoginOrder, TheDropInOrdersAfterTheInitStage) {
  std::string text = login_drop_in_text();
  EXPECT_NE(text.find("[Unit]\nAfter=amiboot.service\n"), std::string::npos) << text;
  EXPECT_EQ(std::vector<std::string>(kLoginUnits.begin(), kLoginUnits.end()),
            (std::vector<std::string>{"ssh.service", "sshd.service",
                                      "systemd-user-sessions.service", "sshd-keygen@.service"}));
}

std::vector<ModuleOutcome> quiet_reboot() {
  // A same-instance reboot with nothing per boot configured: per-instance
  // rows done, growpart ran (it does every boot, off the login path).
  return {{"boothooks", "skipped"},  {"bootcmd", "skipped"}, {"growpart", "ok"},
          {"users", "skipped"},      {"mounts", "skipped"},  {"firewall", "skipped"},
          {"write_files", "skipped"}};
}

ModuleOutcome& row(std::vector<ModuleOutcome>& rows, const std::string& name) {
  for (auto& r : rows) {
    if (r.name == name) {
      return r;
    }
  }
  throw std::runtime_error(name);
}

TEST(LoginOrder, ABootWithoutPerBootLoginWorkLetsTheNextOneGo) {
  EXPECT_TRUE(next_boot_logins_may_skip_amiboot(quiet_reboot(), false));
  // The first boot of an instance: users and keys ran, and they are done.
  auto first = quiet_reboot();
  row(first, "users").result = "ok";
  EXPECT_TRUE(next_boot_logins_may_skip_amiboot(first, false));
}

TEST(LoginOrder, TheUsersCommandsBeforeSshdHoldEveryBoot) {
  // cloud-init runs bootcmd and boothooks before sshd on every boot
  // (cloud-init.service is Before=sshd.service); so does amiboot.
  for (const char* name : {"bootcmd", "boothooks", "mounts"}) {
    auto rows = quiet_reboot();
    row(rows, name).result = "ok";
    EXPECT_FALSE(next_boot_logins_may_skip_amiboot(rows, true)) << name;
  }
}

TEST(LoginOrder, AFailedModuleHoldsTheNextBoot) {
  // A per-instance row that failed runs again on the next boot.
  auto rows = quiet_reboot();
  row(rows, "users").result = "failed";
  EXPECT_FALSE(next_boot_logins_may_skip_amiboot(rows, true));
}

TEST(LoginOrder, AFirewallHoldsLoginsUnlessItIsKeptForTheEarlyUnit) {
  auto rows = quiet_reboot();
  row(rows, "firewall").result = "ok";
  // nft, kept: amiboot-firewall.service has it in force before the network.
  EXPECT_TRUE(next_boot_logins_may_skip_amiboot(rows, true));
  // The iptables fallback keeps nothing: sshd must not listen unfiltered.
  EXPECT_FALSE(next_boot_logins_may_skip_amiboot(rows, false));
}

}  // namespace
}  // namespace amiboot
