// SPDX-License-Identifier: Apache-2.0
// State over a RecordingSystem: crash-safe (durable) writes, semaphores per
// frequency, the instance switch, clean.
#include "agent/state.h"

#include <gtest/gtest.h>

#include "tests/support/fake_system.h"

namespace amiboot {
namespace {

using testing::RecordedWrite;
using testing::RecordingSystem;

ModuleSpec module(std::string_view name, Frequency frequency) {
  return ModuleSpec{name, {}, Stage::Init, frequency, false, nullptr, nullptr, nullptr};
}

SourceData source(const std::string& id, std::optional<std::string> user_data = "#!/bin/sh\n") {
  SourceData data;
  data.metadata.instance_id = id;
  data.metadata.source = "seed:/seed";
  data.user_data = std::move(user_data);
  return data;
}

const RecordedWrite* find_write(const RecordingSystem& system, const std::string& path) {
  for (const auto& w : system.writes) {
    if (w.path == path) {
      return &w;
    }
  }
  return nullptr;
}

TEST(State, SavesTheInstanceDurablyAndPrivately) {
  RecordingSystem system;
  system.allow_writes("/var/lib/amiboot");
  State state(system);
  ASSERT_TRUE(state.save_instance(source("i-1"),
                                  {Part{PartType::ShellScript, "part-001", "x", "#!/bin/sh\n"}},
                                  "{\"final\": {}}"));
  for (const char* name : {"metadata.json", "user-data", "parts.json", "final-config.json"}) {
    const auto* w = find_write(system, std::string("/var/lib/amiboot/instances/i-1/") + name);
    ASSERT_NE(w, nullptr) << name;
    EXPECT_TRUE(w->durable) << name;  // temp file, fsync, rename
    EXPECT_EQ(w->mode, 0600u) << name;
  }
  EXPECT_EQ(system.symlinks["/var/lib/amiboot/instance"], "instances/i-1");
  EXPECT_EQ(state.load_final_configs(), "{\"final\": {}}\n");
  EXPECT_EQ(state.current_instance(), "i-1");
  auto loaded = state.load_current();
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->first.metadata.instance_id, "i-1");
  EXPECT_EQ(loaded->first.user_data, "#!/bin/sh\n");
  ASSERT_EQ(loaded->second.size(), 1u);
  EXPECT_EQ(loaded->second[0].name, "part-001");
}

TEST(State, APartsMergeTypeSurvivesForTheFinalStage) {
  RecordingSystem system;
  system.allow_writes("/var/lib/amiboot");
  State state(system);
  Part part{PartType::CloudConfig, "part-001", "user-data part 1", "#cloud-config\n"};
  part.merge_type = "list(append)+dict(recurse_array)+str()";
  ASSERT_TRUE(state.save_instance(source("i-1"), {part}, std::nullopt));
  auto loaded = state.load_current();
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->second, std::vector<Part>{part});

  // What an amiboot before merge types stored still loads, with the default.
  std::string parts = "/var/lib/amiboot/instances/i-1/parts.json";
  system.files[parts] =
      R"([{"type": "cloud-config", "name": "p", "label": "l", "content": "#cloud-config\n"}])";
  loaded = state.load_current();
  ASSERT_TRUE(loaded);
  ASSERT_EQ(loaded->second.size(), 1u);
  EXPECT_EQ(loaded->second[0].merge_type, "");
}

// A reboot of the same instance is on the login path: it writes (and
// fsyncs) nothing that has not changed.
TEST(State, TheSameInstanceRewritesNothingUnchanged) {
  RecordingSystem system;
  system.allow_writes("/var/lib/amiboot");
  State state(system);
  ASSERT_TRUE(state.save_instance(source("i-1"), {}, std::nullopt));
  system.calls.clear();
  ASSERT_TRUE(state.save_instance(source("i-1"), {}, std::nullopt));
  for (const auto& call : system.calls) {
    EXPECT_EQ(call.find("write_file"), std::string::npos) << call;
    EXPECT_EQ(call.find("symlink"), std::string::npos) << call;
  }
  // New user data for the same instance (it can change while the instance
  // is stopped) is written, durably.
  system.calls.clear();
  ASSERT_TRUE(state.save_instance(source("i-1", "#!/bin/sh\necho new\n"), {}, std::nullopt));
  const std::vector<std::string> expected = {
      "make_dirs /var/lib/amiboot 0700",
      "make_dirs /var/lib/amiboot/instances 0700",
      "make_dirs /var/lib/amiboot/instances/i-1 0700",
      "make_dirs /var/lib/amiboot/instances/i-1/sem 0700",
      "write_file /var/lib/amiboot/instances/i-1/user-data (durable, its folder synced later)",
      "sync_folder /var/lib/amiboot/instances/i-1"};
  EXPECT_EQ(system.calls, expected);
}

// A first boot's records are on its login path: each file is fsynced, their
// folder once after the last rename, and the link that names the instance
// (the next boot compares with it) is made durable too.
TEST(State, TheRecordsOfANewInstanceShareOneFolderSyncAndTheLinkIsDurable) {
  RecordingSystem system;
  system.allow_writes("/var/lib/amiboot");
  State state(system);
  ASSERT_TRUE(state.save_instance(source("i-1"), {}, "{}"));
  const std::string dir = "/var/lib/amiboot/instances/i-1";
  std::vector<std::string> effects;
  for (const auto& call : system.calls) {
    if (call.rfind("make_dirs", 0) != 0) {
      effects.push_back(call);
    }
  }
  const std::vector<std::string> expected = {
      "write_file " + dir + "/metadata.json (durable, its folder synced later)",
      "write_file " + dir + "/user-data (durable, its folder synced later)",
      "write_file " + dir + "/parts.json (durable, its folder synced later)",
      "write_file " + dir + "/final-config.json (durable, its folder synced later)",
      "sync_folder " + dir,
      "symlink /var/lib/amiboot/instance -> instances/i-1",
      "sync_folder /var/lib/amiboot"};
  EXPECT_EQ(effects, expected);

  // No final configs this time (the user data's were rejected): the stale
  // file goes, and that removal is synced as well.
  system.calls.clear();
  ASSERT_TRUE(state.save_instance(source("i-1"), {}, std::nullopt));
  EXPECT_FALSE(system.exists(dir + "/final-config.json"));
  EXPECT_EQ(system.calls.back(), "sync_folder " + dir);
  EXPECT_FALSE(state.load_final_configs());
}

TEST(State, ANewInstanceSwitchesTheLink) {
  RecordingSystem system;
  system.allow_writes("/var/lib/amiboot");
  State state(system);
  ASSERT_TRUE(state.save_instance(source("i-1"), {}, std::nullopt));
  ASSERT_TRUE(state.save_instance(source("i-2", std::nullopt), {}, std::nullopt));
  EXPECT_EQ(state.current_instance(), "i-2");
  ASSERT_GE(system.calls.size(), 2u);
  EXPECT_EQ(system.calls[system.calls.size() - 2],
            "symlink /var/lib/amiboot/instance -> instances/i-2");
  EXPECT_EQ(system.calls.back(), "sync_folder /var/lib/amiboot");
  auto loaded = state.load_current();
  ASSERT_TRUE(loaded);
  EXPECT_FALSE(loaded->first.user_data.has_value());
}

TEST(State, NoInstanceYetIsAnError) {
  RecordingSystem system;
  State state(system);
  EXPECT_FALSE(state.current_instance());
  auto loaded = state.load_current();
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find("the init stage has not run"), std::string::npos);
}

TEST(State, SemaphoresFollowTheFrequency) {
  RecordingSystem system;
  system.allow_writes("/var/lib/amiboot");
  system.allow_writes("/run/amiboot");
  State state(system);
  auto per_instance = module("users", Frequency::PerInstance);
  auto per_boot = module("hostname", Frequency::PerBoot);
  auto once = module("growpart", Frequency::Once);
  for (const auto* m : {&per_instance, &per_boot, &once}) {
    EXPECT_FALSE(state.done(*m, "i-1"));
    ASSERT_TRUE(state.mark_done(*m, "i-1", "ok"));
    EXPECT_TRUE(state.done(*m, "i-1"));
  }
  const auto* w = find_write(system, "/var/lib/amiboot/instances/i-1/sem/users");
  ASSERT_NE(w, nullptr);
  EXPECT_TRUE(w->durable);
  EXPECT_NE(w->content.find("\"result\":\"ok\""), std::string::npos);
  EXPECT_NE(w->content.find("\"time\":1700000000"), std::string::npos);  // the System's clock
  w = find_write(system, "/run/amiboot/sem/hostname");
  ASSERT_NE(w, nullptr);
  EXPECT_FALSE(w->durable);  // tmpfs
  w = find_write(system, "/var/lib/amiboot/once/growpart");
  ASSERT_NE(w, nullptr);
  EXPECT_TRUE(w->durable);
  // Another instance: per-instance modules run again, once modules do not.
  EXPECT_FALSE(state.done(per_instance, "i-2"));
  EXPECT_TRUE(state.done(once, "i-2"));
  EXPECT_TRUE(state.done(per_boot, "i-2"));
}

TEST(State, CleanForgetsInstancesAndSemaphoresButKeepsTheHistory) {
  RecordingSystem system;
  system.allow_writes("/var/lib/amiboot");
  system.allow_writes("/run/amiboot");
  State state(system);
  ASSERT_TRUE(state.save_instance(source("i-1"), {}, std::nullopt));
  ASSERT_TRUE(state.mark_done(module("growpart", Frequency::Once), "i-1", "ok"));
  ASSERT_TRUE(state.mark_done(module("hostname", Frequency::PerBoot), "i-1", "ok"));
  ASSERT_TRUE(state.record_boot("20240101T000000Z-1-init", {{"stage", "init"}}));
  const auto* w = find_write(system, "/var/lib/amiboot/boots/20240101T000000Z-1-init.json");
  ASSERT_NE(w, nullptr);
  EXPECT_FALSE(w->durable);  // history for analyze only: no fsync

  ASSERT_TRUE(system.write_file("/var/lib/amiboot/firewall.nft", "table inet amiboot {}\n", {}));
  ASSERT_TRUE(system.write_file("/var/lib/amiboot/logins-need-not-wait", "i-1\n", {}));

  ASSERT_TRUE(state.clean(false));
  EXPECT_FALSE(state.current_instance());
  EXPECT_FALSE(system.exists("/var/lib/amiboot/firewall.nft"));
  EXPECT_FALSE(system.exists("/var/lib/amiboot/logins-need-not-wait"));
  EXPECT_FALSE(system.exists("/var/lib/amiboot/instances"));
  EXPECT_FALSE(system.exists("/var/lib/amiboot/once"));
  EXPECT_FALSE(system.exists("/run/amiboot"));
  ASSERT_EQ(state.boots().size(), 1u);
  EXPECT_EQ(state.boots()[0]["stage"], "init");

  ASSERT_TRUE(state.clean(true));
  EXPECT_TRUE(state.boots().empty());
}

}  // namespace
}  // namespace amiboot
