// SPDX-License-Identifier: Apache-2.0
// A multipart user data as Terraform's cloudinit_config writes it: several
// text/cloud-config parts, each with a Merge-Type header. The parts merge
// as cloud-init merges them (agent/core/mergers.h), through the decoder,
// the merge and the real binary's dry run.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "agent/cloud_config.h"
#include "agent/core/user_data.h"
#include "modules/module.h"
#include "tests/support/fake_system_view.h"
#include "tests/support/test_util.h"

namespace amiboot {
namespace {

constexpr const char* kTerraformMergeType = "list(append)+dict(recurse_array)+str()";

// What Terraform's cloudinit_config (and Python's email package) writes,
// `header` added to each part when it is not empty.
std::string terraform_multipart(const std::vector<std::string>& parts, const std::string& header) {
  std::string out =
      "Content-Type: multipart/mixed; boundary=\"MIMEBOUNDARY\"\n"
      "MIME-Version: 1.0\n"
      "\n";
  for (std::size_t i = 0; i < parts.size(); ++i) {
    out += "--MIMEBOUNDARY\n";
    out += "Content-Disposition: attachment; filename=\"part" + std::to_string(i + 1) + ".yaml\"\n";
    if (!header.empty()) {
      out += header + "\n";
    }
    out += "Content-Transfer-Encoding: 7bit\n";
    out += "Content-Type: text/cloud-config\n";
    out += "Mime-Version: 1.0\n";
    out += "\n";
    out += parts[i];
    out += "\n";
  }
  out += "--MIMEBOUNDARY--\n";
  return out;
}

const std::vector<std::string> kThreeParts = {
    "#cloud-config\nruncmd:\n  - echo one\n  - echo two\nhostname: first\n",
    "#cloud-config\nruncmd:\n  - echo three\nhostname: second\n",
    "#cloud-config\nruncmd:\n  - echo four\n  - echo five\n",
};

MergedConfig merge_user_data(const std::string& raw, Diagnostics& d) {
  auto decoded = decode_user_data(raw, UserDataOptions{});
  EXPECT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->parts.size(), 3u);
  return merge_cloud_config(Value{}, decoded->parts, d);
}

std::vector<std::string> runcmd_of(const Value& config) {
  std::vector<std::string> out;
  if (const Value* runcmd = config.get("runcmd")) {
    for (const auto& item : runcmd->items) {
      out.push_back(item.scalar);
    }
  }
  return out;
}

TEST(MergeParts, MergeTypeHeaderAppendsEveryPartsRuncmdInOrder) {
  Diagnostics d;
  MergedConfig merged = merge_user_data(
      terraform_multipart(kThreeParts, std::string("Merge-Type: ") + kTerraformMergeType), d);
  EXPECT_FALSE(has_errors(d)) << d[0].format();
  EXPECT_EQ(merged.accepted_parts, 3);
  EXPECT_EQ(
      runcmd_of(merged.config),
      (std::vector<std::string>{"echo one", "echo two", "echo three", "echo four", "echo five"}));
  // dict(recurse_array) is no_replace: the first part's hostname stays.
  EXPECT_EQ(merged.config.get("hostname")->scalar, "first");
  // Each command still says which part it came from.
  EXPECT_EQ(merged.config.get("runcmd")->items[2].pos.source, "user-data part 2 (part2.yaml)");

  // The runcmd module plans from the merge: one script of all five
  // commands, in order.
  const ModuleSpec* runcmd = find_module("scripts_user");
  ASSERT_NE(runcmd, nullptr);
  DecodedConfig config = merged.modules.get(*runcmd, d);
  ASSERT_NE(config, nullptr);
  std::vector<Part> parts;
  Metadata metadata;
  testing::FakeSystemView view;
  Value image;
  auto plan = runcmd->plan(config.get(), Facts{metadata, parts, view, image});
  ASSERT_EQ(plan.actions.size(), 2u);
  EXPECT_EQ(std::get<WriteFile>(plan.actions[0]).content,
            "#!/bin/sh\necho one\necho two\necho three\necho four\necho five\n");
}

TEST(MergeParts, XMergeTypeHeaderWorksAlike) {
  Diagnostics d;
  MergedConfig merged = merge_user_data(
      terraform_multipart(kThreeParts, std::string("X-Merge-Type: ") + kTerraformMergeType), d);
  EXPECT_EQ(runcmd_of(merged.config).size(), 5u);
}

TEST(MergeParts, WithoutTheHeaderTheLastPartsRuncmdWins) {
  Diagnostics d;
  MergedConfig merged = merge_user_data(terraform_multipart(kThreeParts, ""), d);
  EXPECT_FALSE(has_errors(d));
  EXPECT_EQ(merged.accepted_parts, 3);
  EXPECT_EQ(runcmd_of(merged.config), (std::vector<std::string>{"echo four", "echo five"}));
  // dict(replace): a later part's key replaces the earlier one.
  EXPECT_EQ(merged.config.get("hostname")->scalar, "second");
}

TEST(MergeParts, APartsOwnMergeHowComesBeforeItsHeader) {
  // cloud-init joins the key's mergers and the header's, the key's first:
  // list(prepend) from the key, dict(recurse_array) from the header.
  std::vector<std::string> parts = kThreeParts;
  parts[2] = "#cloud-config\nmerge_how: list(prepend)\nruncmd:\n  - echo four\n";
  Diagnostics d;
  MergedConfig merged = merge_user_data(
      terraform_multipart(parts, std::string("Merge-Type: ") + kTerraformMergeType), d);
  EXPECT_FALSE(has_errors(d));
  EXPECT_EQ(runcmd_of(merged.config),
            (std::vector<std::string>{"echo four", "echo one", "echo two", "echo three"}));
  EXPECT_EQ(merged.config.get("merge_how"), nullptr) << "cloud-init pops it before merging";
  for (const auto& diagnostic : d) {
    EXPECT_EQ(diagnostic.message.find("unknown key"), std::string::npos) << diagnostic.format();
    EXPECT_EQ(diagnostic.message.find("no module"), std::string::npos) << diagnostic.format();
  }
}

TEST(MergeParts, ABadMergeTypeHeaderRejectsThatPartWithItsPosition) {
  Diagnostics d;
  std::string raw = terraform_multipart(kThreeParts, "Merge-Type: list(append)+dict(sideways)");
  MergedConfig merged = merge_user_data(raw, d);
  EXPECT_EQ(merged.accepted_parts, 0);
  EXPECT_EQ(merged.rejected_parts, 3);
  ASSERT_FALSE(d.empty());
  EXPECT_EQ(d[0].format(),
            "user-data part 1 (part1.yaml): Merge-Type: unknown merge setting 'sideways' for "
            "dict() (expected allow_delete, no_replace, replace, append, prepend, recurse_dict, "
            "recurse_list, recurse_array or recurse_str) (character 14)");
  EXPECT_EQ(d[1].message, "cloud-config rejected whole; nothing from it is applied");
}

TEST(MergeParts, ABadMergeHowRejectsThatPartWithItsPosition) {
  std::vector<std::string> parts = kThreeParts;
  parts[1] =
      "#cloud-config\nruncmd: [echo three]\nmerge_how:\n  - name: list\n    settings: "
      "[apend]\n";
  Diagnostics d;
  MergedConfig merged = merge_user_data(terraform_multipart(parts, ""), d);
  EXPECT_EQ(merged.accepted_parts, 2);
  EXPECT_EQ(merged.rejected_parts, 1);
  ASSERT_TRUE(has_errors(d));
  const Diagnostic& e = *std::find_if(d.begin(), d.end(), [](const Diagnostic& x) {
    return x.severity == Diagnostic::Severity::Error;
  });
  EXPECT_EQ(e.pos, (Position{"user-data part 2 (part2.yaml)", 5, 16}));
  EXPECT_EQ(e.path, "merge_how[0].settings[0]");
  EXPECT_EQ(runcmd_of(merged.config), (std::vector<std::string>{"echo four", "echo five"}));
}

TEST(MergeParts, UserDataMergesOverTheImageConfigRecursively) {
  // The parts merge with each other first (dict(replace) by default), and
  // the result goes over the image config as cloud-init's mergemanydict
  // does: maps merge, the user data's lists and scalars win.
  Value image = *parse_yaml("apt: {a: 1, b: 2}\nruncmd: [echo image]\n", "image");
  std::vector<Part> parts = {
      {PartType::CloudConfig, "p1", "p1", "#cloud-config\napt: {b: 3, c: 4}\n"},
      {PartType::CloudConfig, "p2", "p2", "#cloud-config\napt: {d: 5}\nruncmd: [echo user]\n"},
  };
  Diagnostics d;
  MergedConfig merged = merge_cloud_config(image, parts, d);
  EXPECT_EQ(merged.config.get("apt")->to_json().dump(), R"({"a":1,"b":2,"d":5})");
  EXPECT_EQ(runcmd_of(merged.config), (std::vector<std::string>{"echo user"}));
}

TEST(MergeParts, DryRunOfTheBinaryPlansAllThreePartsCommands) {
  testing::TempDir dir;
  testing::write_file(dir / "seed/meta-data", "instance-id: i-0merge00000000001\n");
  testing::write_file(
      dir / "seed/user-data",
      terraform_multipart(kThreeParts, std::string("Merge-Type: ") + kTerraformMergeType));
  std::filesystem::create_directories(dir / "root");
  auto r = testing::run({testing::amiboot_binary(), "run", "--root", dir / "root", "--seed",
                         dir / "seed", "--dry-run", "--json"},
                        {{"AMIBOOT_LOG", "stderr"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto plan = nlohmann::json::parse(r.out);
  // runcmd is one script (its lines are not in the plan, only its size):
  // written, then run.
  std::vector<std::string> labels;
  for (const auto& stage : plan["stages"]) {
    for (const auto& m : stage["modules"]) {
      if (m["name"] == "scripts_user") {
        for (const auto& a : m["actions"]) {
          labels.push_back(a["label"]);
        }
      }
    }
  }
  EXPECT_EQ(labels, (std::vector<std::string>{"runcmd", "runcmd"})) << r.out;
  // The merged runcmd the script is made of, as `amiboot query` shows it.
  std::string commands = plan["merged_cfg"]["runcmd"].dump();
  std::size_t at = 0;
  for (const char* c : {"echo one", "echo two", "echo three", "echo four", "echo five"}) {
    std::size_t found = commands.find(c, at);
    EXPECT_NE(found, std::string::npos) << c << " missing or out of order in\n" << commands;
    at = found == std::string::npos ? at : found;
  }
  EXPECT_TRUE(plan["errors"].empty()) << plan["errors"].dump();
}

}  // namespace
}  // namespace amiboot
