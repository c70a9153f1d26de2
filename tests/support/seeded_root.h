// SPDX-License-Identifier: Apache-2.0
// The real amiboot binary's init stage against a sandbox root, its user data
// from a seed folder (no IMDS): for the integration tests of modules that only
// write the target's files. Header-only: the test support library's file list
// belongs to CMakeLists.txt.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "tests/support/test_util.h"

namespace amiboot::testing {

struct SeededRoot {
  /// `amiboot run --stage init --root ROOT --seed SEED` with this user data,
  /// as a new instance each time `instance_id` changes.
  CommandResult run(const std::string& user_data,
                    const std::string& instance_id = "i-0sandbox00000001") {
    write_file(seed / "meta-data", "instance-id: " + instance_id + "\n");
    write_file(seed / "user-data", user_data);
    return testing::run(
        {amiboot_binary(), "run", "--stage", "init", "--root", root.path(), "--seed", seed.path()},
        {{"AMIBOOT_LOG", "stderr"}});
  }
  /// The module's entry in status.json (result, errors, summary), or null.
  nlohmann::json module(const std::string& name) const {
    auto doc = nlohmann::json::parse(read_file(root / "run/amiboot/status.json"));
    for (const auto& m : doc["stages"]["init"]["modules"]) {
      if (m["name"] == name) {
        return m;
      }
    }
    return nullptr;
  }
  std::string operator/(const std::string& rel) const { return root / rel; }

  TempDir root;
  TempDir seed;
};

}  // namespace amiboot::testing
