// SPDX-License-Identifier: Apache-2.0
// What the volumes and growpart integration tests share: the agent run
// under a sandbox root against a fake IMDS, with a test device folder in
// which loop devices stand for /dev nodes. Skips, with the reason printed,
// where loop devices cannot be had. Header-only, like loop_device.h.
#pragma once

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/fake_imds.h"
#include "tests/support/loop_device.h"
#include "tests/support/test_util.h"

namespace amiboot::testing {

class AgentOnLoopDevices : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = loop_devices_unavailable(); !why.empty()) {
      std::cout << "skipping: " << why << "\n";
      GTEST_SKIP() << why;
    }
    std::filesystem::create_directories(devdir());
  }
  void TearDown() override {
    // Before the sandbox folders go: never delete through a live mount.
    unmount_all_under(root.path());
  }

  /// The agent's /dev for block devices (AMIBOOT_TEST_DEV_DIR): an empty one
  /// keeps the volume modules away from every disk of the test machine.
  std::string devdir() { return images / "dev"; }
  CommandResult run_agent() {
    // A target as an image build has it: a mount point of its own, without
    // which amiboot refuses mount, mkfs and partition tables under --root.
    // Tests that mount a filesystem at the root itself have one already.
    auto table = mount_table();
    if (std::none_of(table.begin(), table.end(),
                     [&](const auto& m) { return m.second == root.path(); })) {
      EXPECT_EQ(run({"mount", "--bind", root.path(), root.path()}).exit_code, 0);
    }
    return run({amiboot_binary(), "run", "--root", root.path(), "--imds", imds.url()},
               {{"AMIBOOT_LOG", "stderr"}, {"AMIBOOT_TEST_DEV_DIR", devdir()}});
  }
  /// The init stage's record of module `name` in status.json, or null.
  nlohmann::json module(const std::string& name) {
    auto doc = nlohmann::json::parse(read_file(root / "run/amiboot/status.json"));
    for (const auto& m : doc["stages"]["init"]["modules"]) {
      if (m["name"] == name) {
        return m;
      }
    }
    return nullptr;
  }
  /// A reboot as far as amiboot can tell: /run is a tmpfs.
  void reboot() { std::filesystem::remove_all(root / "run"); }

  FakeImds imds;
  TempDir images;
  TempDir root;
};

}  // namespace amiboot::testing
