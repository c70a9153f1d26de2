// SPDX-License-Identifier: Apache-2.0
// Each module's keys are decoded once a boot: validation and planning share
// one decoded config (agent/cloud_config.h, modules/module.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>

#include "agent/cloud_config.h"
#include "agent/runner.h"
#include "modules/module.h"
#include "tests/support/fake_system_view.h"
#include "tests/support/test_util.h"

namespace amiboot {
namespace {

/// Turns the decode log on for one test and off again.
class DecodeLog {
 public:
  DecodeLog() { g_decode_log = &m_calls; }
  ~DecodeLog() { g_decode_log = nullptr; }
  /// Decoder calls per module row (rows that share a decoder share a count).
  std::map<std::string, int> per_module() const {
    std::map<std::string, int> out;
    for (const auto& m : module_table()) {
      out[std::string(m.name)] =
          static_cast<int>(std::count(m_calls.begin(), m_calls.end(), m.decoder_id));
    }
    return out;
  }

 private:
  std::vector<const void*> m_calls;
};

std::string every_key_fixture() {
  return testing::read_file(testing::source_dir() + "/tests/fixtures/every-key.yaml");
}

/// A sandbox root and a seed folder with `user_data`, and run options for
/// one stage of it, as amiboot.service and amiboot-final.service run them.
struct Sandbox {
  Sandbox(const std::string& instance_id, const std::string& user_data) {
    testing::write_file(dir / "seed/meta-data", "instance-id: " + instance_id + "\n");
    testing::write_file(dir / "seed/user-data", user_data);
    std::filesystem::create_directories(dir / "root");
  }
  RunOptions stage(StageSelection which) const {
    RunOptions options;
    options.root = dir / "root";
    options.seed_dir = dir / "seed";
    options.stage = which;
    return options;
  }
  testing::TempDir dir;
};

TEST(DecodeOnce, EveryKeyOfAWholeBootIsDecodedOnce) {
  // The fixture sets every key the table owns; a key it missed would make
  // this test pass without proving anything for that module.
  auto doc = parse_yaml(every_key_fixture(), "user-data");
  ASSERT_TRUE(doc.ok());
  for (const auto& m : module_table()) {
    for (auto key : m.keys) {
      EXPECT_NE(doc->get(key), nullptr) << "every-key.yaml lacks " << key << " (" << m.name << ")";
    }
  }

  Sandbox box("i-0decode0000000001", every_key_fixture());
  RunOptions options = box.stage(StageSelection::All);
  options.dry_run = true;
  DecodeLog log;
  run_stages(options);  // init and final in one process, as `amiboot run` does

  for (const auto& [module, calls] : log.per_module()) {
    EXPECT_EQ(calls, 1) << module << "'s decoder ran " << calls << " times in one boot";
  }
}

TEST(DecodeOnce, TheFinalStageInItsOwnProcessDecodesNothingAgain) {
  // As on an instance: amiboot.service runs the init stage, and
  // amiboot-final.service a second process for the final stage.
  Sandbox box("i-0decode0000000002", every_key_fixture());
  const testing::TempDir& dir = box.dir;
  DecodeLog log;
  run_stages(box.stage(StageSelection::Init));
  run_stages(box.stage(StageSelection::Final));
  for (const auto& [module, calls] : log.per_module()) {
    EXPECT_EQ(calls, 1) << module << "'s decoder ran " << calls << " times in init and final";
  }
  EXPECT_TRUE(testing::exists(dir / "root/etc/every-key-late.conf"))
      << "the deferred file was not written from the stored config";
}

TEST(DecodeOnce, StoredFinalConfigsKeepBinaryContentAndFallBackWhenUnreadable) {
  // b64 of the bytes 00 ff 0a 80: not text, so the stored form must not be either.
  Sandbox box("i-0decode0000000003",
              "#cloud-config\n"
              "write_files:\n"
              "  - {path: /etc/late.bin, encoding: b64, content: AP8KgA==, defer: true}\n");
  const testing::TempDir& dir = box.dir;
  RunOptions final_stage = box.stage(StageSelection::Final);
  run_stages(box.stage(StageSelection::Init));
  std::string stored = dir / "root/var/lib/amiboot/instances/i-0decode0000000003/final-config.json";
  ASSERT_TRUE(testing::exists(stored));
  EXPECT_EQ(run_stages(final_stage), 0);
  EXPECT_EQ(testing::read_file(dir / "root/etc/late.bin"), std::string("\x00\xff\x0a\x80", 4));

  // A stored file that does not parse: the final stage decodes the parts.
  testing::write_file(stored, "{not json");
  std::filesystem::remove(dir / "root/etc/late.bin");
  std::filesystem::remove_all(dir / "root/var/lib/amiboot/instances/i-0decode0000000003/sem");
  DecodeLog log;
  EXPECT_EQ(run_stages(final_stage), 0);
  EXPECT_EQ(testing::read_file(dir / "root/etc/late.bin"), std::string("\x00\xff\x0a\x80", 4));
  EXPECT_EQ(log.per_module()["write_files_deferred"], 1) << "the fallback decoded the parts";
}

TEST(DecodeOnce, ValidationIsTheDecodeThatPlanningUses) {
  auto doc = parse_yaml("#cloud-config\nruncmd: [echo hi]\nfinal_message: done\n", "user-data");
  ASSERT_TRUE(doc.ok());
  DecodeLog log;
  Diagnostics diags;
  auto decoded = decode_cloud_config(*doc, diags);
  ASSERT_TRUE(decoded.has_value());
  ModuleConfigs configs;
  configs.add(*doc, std::move(*decoded));
  auto after_validation = log.per_module();
  EXPECT_EQ(after_validation["scripts_user"], 1);
  EXPECT_EQ(after_validation["final_message"], 1);
  EXPECT_EQ(after_validation["packages"], 0) << "a module whose keys are absent is not decoded";

  const ModuleSpec* runcmd = find_module("scripts_user");
  ASSERT_NE(runcmd, nullptr);
  DecodedConfig config = configs.get(*runcmd, diags);
  ASSERT_NE(config, nullptr);
  EXPECT_EQ(log.per_module()["scripts_user"], 1) << "planning decoded runcmd again";
  Metadata metadata;
  std::vector<Part> parts;
  testing::FakeSystemView view;
  Value image;
  // runcmd's script, written then run.
  EXPECT_EQ(runcmd->plan(config.get(), Facts{metadata, parts, view, image}).actions.size(), 2u);
}

TEST(DecodeOnce, KeysThatSeveralDocumentsSetAreDecodedOnceMoreFromTheMerge) {
  // cloud-init merges the YAML, not typed values: the merge is what the
  // module plans from, so it is decoded; each document alone was validated.
  auto image = parse_yaml("runcmd: [echo image]\n", "/etc/amiboot/amiboot.yaml");
  auto part = parse_yaml("runcmd: [echo user]\n", "user-data");
  ASSERT_TRUE(image.ok() && part.ok());
  DecodeLog log;
  Diagnostics diags;
  ModuleConfigs configs;
  configs.add(*image, *decode_cloud_config(*image, diags));
  configs.add(*part, *decode_cloud_config(*part, diags));
  const ModuleSpec* runcmd = find_module("scripts_user");
  ASSERT_NE(runcmd, nullptr);
  ASSERT_NE(configs.get(*runcmd, diags), nullptr);
  ASSERT_NE(configs.get(*runcmd, diags), nullptr);
  EXPECT_EQ(log.per_module()["scripts_user"], 3) << "two documents, then the merge, and only once";
}

}  // namespace
}  // namespace amiboot
