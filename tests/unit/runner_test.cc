// SPDX-License-Identifier: Apache-2.0
// The runner over a RecordingSystem: a seed folder in the fake's host files,
// the instance's files in memory. Stages in order, semaphores, and the
// boundary around a failing module.
#include "agent/runner.h"

#include <algorithm>
#include <memory>
#include <stdexcept>

#include <gtest/gtest.h>

#include "agent/system.h"
#include "tests/support/fake_system.h"

namespace amiboot {
namespace {

using testing::RecordingSystem;

void seed(RecordingSystem& system, const std::string& id, const std::string& user_data) {
  system.add_host_file("/seed/meta-data", "instance-id: " + id + "\nlocal-hostname: web\n");
  system.add_host_file("/seed/user-data", user_data);
}

int run_both(RecordingSystem& system) {
  RunOptions options;
  options.root = system.root();
  options.seed_dir = "/seed";
  return run_stages(options, system);
}

std::size_t position(const RecordingSystem& system, const std::string& prefix) {
  for (std::size_t i = 0; i < system.calls.size(); ++i) {
    if (system.calls[i].rfind(prefix, 0) == 0) {
      return i;
    }
  }
  ADD_FAILURE() << "no call " << prefix;
  return system.calls.size();
}

nlohmann::json module_result(const RecordingSystem& system, const std::string& stage,
                             const std::string& name) {
  auto doc = nlohmann::json::parse(system.files.at("/run/amiboot/status.json"));
  for (const auto& m : doc["stages"][stage]["modules"]) {
    if (m["name"] == name) {
      return m;
    }
  }
  return nullptr;
}

// runcmd's script as the sandbox runs it: the commands of these tests.
std::string runcmd_script(const std::string& id) {
  return "/sandbox/var/lib/amiboot/instances/" + id + "/scripts/runcmd";
}

std::unique_ptr<RecordingSystem> sandbox() {
  auto system = std::make_unique<RecordingSystem>("/sandbox");
  system->allow_writes("/");
  system->allow_console();
  return system;
}

TEST(Runner, RunsInitThenFinal) {
  auto system = sandbox();
  seed(*system, "i-1", "#cloud-config\nruncmd:\n  - [echo, hi]\n");
  system->expect_run({runcmd_script("i-1")});
  EXPECT_EQ(run_both(*system), 0);
  // hostname (init), runcmd and final_message (final), in that order.
  EXPECT_LT(position(*system, "write_file /etc/hostname"),
            position(*system, "run " + runcmd_script("i-1")));
  EXPECT_LT(position(*system, "run " + runcmd_script("i-1")), position(*system, "console amiboot"));
  EXPECT_LT(position(*system, "write_file /var/lib/amiboot/boots/"),
            position(*system, "run " + runcmd_script("i-1")));
  auto doc = nlohmann::json::parse(system->files.at("/run/amiboot/status.json"));
  EXPECT_EQ(doc["status"], "done");
  EXPECT_EQ(doc["stages"]["init"]["status"], "done");
  EXPECT_EQ(doc["stages"]["final"]["status"], "done");
  EXPECT_EQ(module_result(*system, "final", "scripts_user")["result"], "ok");
  EXPECT_EQ(system->console_lines.size(), 1u);
}

TEST(Runner, ASemaphoreKeepsAModuleFromRunningTwice) {
  auto system = sandbox();
  seed(*system, "i-1", "#cloud-config\nruncmd:\n  - [echo, hi]\n");
  system->expect_run({runcmd_script("i-1")});
  EXPECT_EQ(run_both(*system), 0);
  EXPECT_TRUE(system->exists("/var/lib/amiboot/instances/i-1/sem/scripts_user"));

  // The same instance again: no run is scripted, so running it would fail.
  EXPECT_EQ(run_both(*system), 0);
  EXPECT_EQ(module_result(*system, "final", "scripts_user")["result"], "skipped");
  EXPECT_EQ(module_result(*system, "final", "scripts_user")["reason"],
            "already ran for this instance");

  // A new instance runs its per-instance modules again.
  seed(*system, "i-2", "#cloud-config\nruncmd:\n  - [echo, hi]\n");
  system->expect_run({runcmd_script("i-2")});
  EXPECT_EQ(run_both(*system), 0);
  EXPECT_EQ(module_result(*system, "final", "scripts_user")["result"], "ok");
}

// status.json names the row under way (what `status` reports should the
// process die) before that row's first effect, and only then: a row that
// plans nothing, as most per-boot rows do on every boot, costs no rewrite.
TEST(Runner, OnlyARowThatAppliesSomethingIsWrittenAsRunning) {
  auto system = sandbox();
  seed(*system, "i-1", "#cloud-config\nruncmd:\n  - [echo, hi]\n");
  system->expect_run({runcmd_script("i-1")});
  ASSERT_EQ(run_both(*system), 0);
  auto running_in = [&](std::size_t from) {
    std::vector<std::string> names;
    for (std::size_t i = from; i < system->writes.size(); ++i) {
      if (system->writes[i].path != "/run/amiboot/status.json") {
        continue;
      }
      auto doc = nlohmann::json::parse(system->writes[i].content);
      for (const auto& [stage, s] : doc["stages"].items()) {
        if (s.contains("running")) {
          names.push_back(s["running"].get<std::string>());
        }
      }
    }
    return names;
  };
  auto first = running_in(0);
  EXPECT_NE(std::find(first.begin(), first.end(), "scripts_user"), first.end());
  for (const auto& name : first) {
    for (const auto& stage : {"init", "final"}) {
      auto row = module_result(*system, stage, name);
      if (!row.is_null()) {
        EXPECT_NE(row["result"], "skipped") << name << " was written as running";
      }
    }
  }

  // The same instance again: nothing applies, so no row is ever running.
  std::size_t rerun = system->writes.size();
  ASSERT_EQ(run_both(*system), 0);
  EXPECT_EQ(running_in(rerun), std::vector<std::string>{});
}

TEST(Runner, AFailingModuleDoesNotStopTheOthers) {
  auto system = sandbox();
  seed(*system, "i-1", "#cloud-config\nruncmd:\n  - [false]\n");
  system->expect_run({runcmd_script("i-1")}, 1);
  EXPECT_EQ(run_both(*system), 1);
  EXPECT_EQ(module_result(*system, "final", "scripts_user")["result"], "failed");
  EXPECT_EQ(module_result(*system, "final", "final_message")["result"], "ok");
  EXPECT_EQ(system->console_lines.size(), 1u);
  auto doc = nlohmann::json::parse(system->files.at("/run/amiboot/status.json"));
  EXPECT_EQ(doc["status"], "error");
}

PlanResult plan_that_throws(const NoKeys&, const Facts&) {
  throw std::runtime_error("a bug in a plan");
}

PlanResult plan_console(const NoKeys&, const Facts&) {
  return PlanResult{.actions = {ConsoleMessage{"after the bug"}}};
}

TEST(Runner, APlanThatThrowsFailsItsModuleAndTheNextOneStillRuns) {
  auto system = sandbox();
  seed(*system, "i-1", "");
  const std::vector<ModuleSpec> table = {
      module_row<decode_no_keys, plan_that_throws>("buggy", {}, Stage::Init, Frequency::PerBoot,
                                                   true),
      module_row<decode_no_keys, plan_console>("after", {}, Stage::Init, Frequency::PerBoot, true),
  };
  RunOptions options;
  options.root = system->root();
  options.seed_dir = "/seed";
  options.stage = StageSelection::Init;
  options.modules = &table;
  EXPECT_EQ(run_stages(options, *system), 1);
  auto buggy = module_result(*system, "init", "buggy");
  EXPECT_EQ(buggy["result"], "failed");
  EXPECT_EQ(buggy["errors"][0], "internal error: a bug in a plan");
  EXPECT_EQ(module_result(*system, "init", "after")["result"], "ok");
  EXPECT_EQ(system->console_lines, std::vector<std::string>{"after the bug"});
}

TEST(Runner, TheKernelCommandLineDisablesIt) {
  auto system = sandbox();
  seed(*system, "i-1", "#cloud-config\nruncmd:\n  - [echo, hi]\n");
  system->cmdline = "ro quiet amiboot=disabled";
  EXPECT_TRUE(is_disabled(*system));
  EXPECT_EQ(run_both(*system), 0);
  auto doc = nlohmann::json::parse(system->files.at("/run/amiboot/status.json"));
  EXPECT_EQ(doc["status"], "disabled");
}

}  // namespace
}  // namespace amiboot
