// What every module plan test starts from: a config parsed from YAML as
// user data, an instance, no parts, and an empty in-memory system.
#pragma once

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "agent/config.h"
#include "modules/module.h"
#include "tests/support/fake_system_view.h"

namespace amiboot::testing {

struct ModuleFixture {
  explicit ModuleFixture(const std::string& yaml) {
    auto parsed = parse_yaml(yaml, "user-data");
    EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().message);
    if (parsed) {
      config = *parsed;
    }
    metadata.instance_id = "i-abc";
  }
  ModuleInput input() const { return ModuleInput{config, metadata, parts, system}; }

  Value config;
  Metadata metadata;
  std::vector<Part> parts;
  FakeSystemView system;
};

}  // namespace amiboot::testing
