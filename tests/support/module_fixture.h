// SPDX-License-Identifier: Apache-2.0
// What every module plan test starts from: a config parsed from YAML as
// user data, an instance, no parts, and an empty in-memory system. plan()
// and check() go through the module's table row, as the runner does.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "agent/cloud_config.h"
#include "agent/core/config.h"
#include "modules/module.h"
#include "tests/support/fake_system_view.h"

namespace amiboot::testing {

/// The row of `module`; fails the test when there is none.
inline const ModuleSpec& row(std::string_view module) {
  const ModuleSpec* spec = find_module(module);
  EXPECT_NE(spec, nullptr) << "no module " << module;
  return *spec;
}

/// Validation of one document by one module: its decoder's diagnostics.
inline void check_module(std::string_view module, const Value& config, Diagnostics& out) {
  row(module).decode(config, out);
}

/// Decode then plan, as the runner does: decoder diagnostics first; a
/// config with errors is not planned.
inline PlanResult plan_module(std::string_view module, const Value& config, const Facts& facts) {
  const ModuleSpec& spec = row(module);
  Diagnostics decoded;
  DecodedConfig typed = spec.decode(config, decoded);
  if (has_errors(decoded)) {
    return PlanResult{.diagnostics = decoded};
  }
  PlanResult plan = spec.plan(typed.get(), facts);
  plan.diagnostics.insert(plan.diagnostics.begin(), decoded.begin(), decoded.end());
  return plan;
}

/// Every diagnostic as `amiboot validate` prints it, one a line: what a
/// failed expectation shows.
inline std::string formatted(const Diagnostics& d) {
  std::string out;
  for (const auto& x : d) {
    out += x.format() + "\n";
  }
  return out;
}

/// `amiboot validate` of one document: the whole cloud-config check, all
/// modules' decoders and the keys no module owns.
inline Diagnostics validate(const Value& doc) {
  Diagnostics d;
  check_cloud_config(doc, d);
  return d;
}

/// The same from YAML text; a YAML error is the one diagnostic, as
/// `amiboot validate` reports it.
inline Diagnostics validate(const std::string& yaml) {
  auto doc = parse_yaml(yaml, "user-data");
  if (!doc) {
    return {Diagnostic{Diagnostic::Severity::Error, {}, "", doc.error().message}};
  }
  return validate(*doc);
}

/// For cloud-init's documented examples, which must be accepted without a
/// single remark: `EXPECT_TRUE(testing::validates_cleanly(yaml))`.
inline ::testing::AssertionResult validates_cleanly(const std::string& yaml) {
  auto doc = parse_yaml(yaml, "user-data");
  if (!doc) {
    return ::testing::AssertionFailure() << doc.error().message << "\nin:\n" << yaml;
  }
  Diagnostics d;
  bool accepted = check_cloud_config(*doc, d);
  if (!accepted || !d.empty()) {
    return ::testing::AssertionFailure()
           << (accepted ? "accepted with remarks:\n" : "rejected:\n") << formatted(d) << "in:\n"
           << yaml;
  }
  return ::testing::AssertionSuccess();
}

struct ModuleFixture {
  explicit ModuleFixture(const std::string& yaml) {
    auto parsed = parse_yaml(yaml, "user-data");
    EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().message);
    if (parsed) {
      config = *parsed;
    }
    metadata.instance_id = "i-abc";
  }
  /// The facts a plan sees; the config doubles as the image config, as the
  /// old single-document tests had it.
  Facts facts() const { return Facts{metadata, parts, system, config}; }
  PlanResult plan(std::string_view module) const { return plan_module(module, config, facts()); }
  PlanResult plan(std::string_view module, const Facts& with) const {
    return plan_module(module, config, with);
  }
  void check(std::string_view module, Diagnostics& out) const { check_module(module, config, out); }

  Value config;
  Metadata metadata;
  std::vector<Part> parts;
  FakeSystemView system;
};

}  // namespace amiboot::testing
