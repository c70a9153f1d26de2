// SPDX-License-Identifier: Apache-2.0
// power_state (cc_power_state_change): the shutdown line as cloud-init
// builds it, handed to systemd as a unit ordered after amiboot-final.service;
// bad input with its position; and, through the runner on a RecordingSystem,
// the order: status and result written "done" and the readiness signal sent
// before any command of the power change runs.
#include "modules/power_state.h"

#include <memory>

#include <gtest/gtest.h>

#include "agent/executor.h"
#include "agent/runner.h"
#include "tests/support/fake_system.h"
#include "tests/support/module_fixture.h"
#include "tests/support/test_util.h"

namespace amiboot {
namespace {

using Strings = std::vector<std::string>;
using testing::RecordingSystem;

std::string doc_example(const std::string& name) {
  return testing::read_file(testing::source_dir() + "/tests/fixtures/cloud-init-docs/" + name);
}

RunCommand host(Strings argv, const std::string& label) {
  RunCommand r{std::move(argv), label};
  r.needs_host = true;
  return r;
}

const ChangePowerState& change_of(const PlanResult& plan) {
  EXPECT_EQ(plan.actions.size(), 1u);
  return std::get<ChangePowerState>(plan.actions.at(0));
}

TEST(PowerState, CloudInitsFirstExamplePowersOffNowThroughATransientUnitAfterTheFinalStage) {
  testing::ModuleFixture f(doc_example("power_state_change-1.yaml"));
  f.system.programs.insert("systemd-run");
  auto plan = f.plan("power_state");
  ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  // Every key acted on: delay now, mode poweroff (-P), the message, condition
  // true (nothing to run first); timeout 2 has nothing to bound here.
  ChangePowerState expected{
      .mode = "poweroff",
      .condition = std::nullopt,
      .command = host(
          {"systemd-run", "--no-block", "--unit=amiboot-power-state",
           "--description=amiboot power_state: poweroff", "--property=After=amiboot-final.service",
           "--", "shutdown", "-P", "now", "Powering off"},
          "power_state"),
      .fallback = host({"shutdown", "-P", "now", "Powering off"}, "power_state")};
  EXPECT_EQ(change_of(plan), expected);
  EXPECT_EQ(plan.summary,
            "poweroff (shutdown -P now \"Powering off\") once the final stage is done");
}

TEST(PowerState, CloudInitsSecondExampleRebootsInThirtyMinutesIfItsShellConditionHolds) {
  testing::ModuleFixture f(doc_example("power_state_change-2.yaml"));
  f.system.programs.insert("systemd-run");
  auto plan = f.plan("power_state");
  ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  const auto& change = change_of(plan);
  EXPECT_EQ(change.mode, "reboot");
  ASSERT_TRUE(change.condition.has_value());
  EXPECT_EQ(*change.condition,
            host({"sh", "-c", "test -f /var/tmp/reboot_me"}, "power_state.condition"));
  // delay 30 is shutdown's +30; the default timeout is 30 seconds.
  EXPECT_EQ(change.command.argv, (Strings{"systemd-run", "--no-block", "--unit=amiboot-power-state",
                                          "--description=amiboot power_state: reboot",
                                          "--property=After=amiboot-final.service", "--",
                                          "shutdown", "-r", "+30", "Rebooting machine"}));
  EXPECT_EQ(change.fallback->argv, (Strings{"shutdown", "-r", "+30", "Rebooting machine"}));
  // What `run --dry-run` prints for it.
  EXPECT_EQ(describe(plan.actions[0]),
            "after the final stage, its status written: if sh -c \"test -f /var/tmp/reboot_me\" "
            "exits 0, reboot: run systemd-run --no-block --unit=amiboot-power-state "
            "\"--description=amiboot power_state: reboot\" "
            "--property=After=amiboot-final.service -- shutdown -r +30 \"Rebooting machine\" (if "
            "that fails: shutdown -r +30 \"Rebooting machine\")");
  EXPECT_EQ(action_to_json(plan.actions[0])["action"], "power_state");
}

TEST(PowerState, WithoutSystemdRunShutdownRunsAloneAndAListConditionIsAnArgv) {
  testing::ModuleFixture f(
      "power_state: {mode: halt, delay: 0, timeout: 2.5, condition: [test, -e, /x]}\n");
  auto plan = f.plan("power_state");
  ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  const auto& change = change_of(plan);
  EXPECT_EQ(change.command, host({"shutdown", "-H", "+0"}, "power_state"));
  EXPECT_FALSE(change.fallback.has_value());
  EXPECT_EQ(change.condition->argv, (Strings{"test", "-e", "/x"}));

  // systemd refuses a job timeout on a transient unit: none is asked for.
  f.system.programs.insert("systemd-run");
  auto with_unit = f.plan("power_state");
  for (const auto& arg : change_of(with_unit).command.argv) {
    EXPECT_EQ(arg.find("JobTimeout"), std::string::npos) << arg;
  }
}

TEST(PowerState, TimeoutZeroIsAcceptedAndFalseMeansNoChange) {
  testing::ModuleFixture zero("power_state: {mode: reboot, timeout: 0}\n");
  zero.system.programs.insert("systemd-run");
  EXPECT_EQ(change_of(zero.plan("power_state")).command.argv,
            (Strings{"systemd-run", "--no-block", "--unit=amiboot-power-state",
                     "--description=amiboot power_state: reboot",
                     "--property=After=amiboot-final.service", "--", "shutdown", "-r", "now"}));

  testing::ModuleFixture never("power_state: {mode: reboot, condition: false}\n");
  auto plan = never.plan("power_state");
  EXPECT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  EXPECT_TRUE(plan.actions.empty());
}

TEST(PowerState, AStringDelayIsDeprecatedButTaken) {
  testing::ModuleFixture f("power_state:\n  mode: poweroff\n  delay: '+5'\n  timeout: '45'\n");
  auto plan = f.plan("power_state");
  ASSERT_EQ(plan.diagnostics.size(), 1u) << testing::formatted(plan.diagnostics);
  EXPECT_EQ(plan.diagnostics[0].format(),
            "user-data:3:10: warning: power_state.delay: a string is deprecated (cloud-init "
            "22.3); write now or an integer number of minutes");
  EXPECT_EQ(change_of(plan).command.argv, (Strings{"shutdown", "-P", "+5"}));
}

TEST(PowerState, BadInputIsAnErrorWithItsPosition) {
  struct Case {
    std::string yaml;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"power_state:\n  mode: reboot\n  delay: -5\n",
       "user-data:3:10: power_state.delay: expected now or a number of minutes (0 or more), got "
       "'-5'"},
      {"power_state:\n  mode: reboot\n  delay: soon\n",
       "user-data:3:10: power_state.delay: expected now or a number of minutes (0 or more), got "
       "'soon'"},
      {"power_state:\n  mode: sleep\n",
       "user-data:2:9: power_state.mode: expected poweroff, reboot or halt, got 'sleep'"},
      {"power_state:\n  delay: now\n",
       "user-data:2:3: power_state: missing required key 'mode' (poweroff, reboot or halt)"},
      {"power_state:\n  mode: halt\n  timeout: soon\n",
       "user-data:3:12: power_state.timeout: expected a number of seconds, got 'soon'"},
      {"power_state:\n  mode: halt\n  timeout: [1]\n",
       "user-data:3:12: power_state.timeout: expected a number of seconds, got a list"},
      {"power_state:\n  mode: halt\n  condition: {a: 1}\n",
       "user-data:3:14: power_state.condition: expected true, false, a command string (run with "
       "sh -c) or a non-empty list (an argv), got a map"},
      {"power_state: reboot\n", "user-data:1:14: power_state: expected a map, got a string"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.yaml);
    testing::ModuleFixture f(c.yaml);
    auto plan = f.plan("power_state");
    EXPECT_TRUE(plan.actions.empty());
    ASSERT_EQ(plan.diagnostics.size(), 1u) << testing::formatted(plan.diagnostics);
    EXPECT_EQ(plan.diagnostics[0].format(), c.error);
  }
}

TEST(PowerState, ANegativeTimeoutAndAnUnknownKeyAreWarnedAbout) {
  testing::ModuleFixture f("power_state: {mode: reboot, timeout: -3, when: later}\n");
  auto plan = f.plan("power_state");
  EXPECT_FALSE(has_errors(plan.diagnostics)) << testing::formatted(plan.diagnostics);
  EXPECT_EQ(plan.diagnostics.size(), 2u) << testing::formatted(plan.diagnostics);
  EXPECT_EQ(plan.actions.size(), 1u);
}

TEST(PowerState, TheFinalStageRestoresItsStoredConfig) {
  const ModuleSpec* row = find_module("power_state");
  ASSERT_NE(row, nullptr);
  testing::ModuleFixture f(doc_example("power_state_change-2.yaml"));
  Diagnostics out;
  DecodedConfig decoded = row->decode(f.config, out);
  auto json = row->store(decoded.get());
  DecodedConfig loaded = row->load(json);
  EXPECT_EQ(row->store(loaded.get()), json);
  EXPECT_EQ(json["condition_argv"], (Strings{"sh", "-c", "test -f /var/tmp/reboot_me"}));
}

// --- the change itself, after the stage (agent/executor.h) ----------------

ChangePowerState reboot_change() {
  return ChangePowerState{
      .mode = "reboot",
      .condition = host({"test", "-f", "/x"}, "power_state.condition"),
      .command = host({"systemd-run", "--", "shutdown", "-r", "now"}, "power_state"),
      .fallback = host({"shutdown", "-r", "now"}, "power_state")};
}

TEST(PowerStateChange, TheConditionDecidesAndSystemdRunIsTriedBeforeShutdownItself) {
  {
    RecordingSystem system;
    ExecContext ctx{system, "i-1", {}};
    system.expect_run({"test", "-f", "/x"}, 1);  // not met: nothing else runs
    auto changed = change_power_state(reboot_change(), ctx);
    ASSERT_TRUE(changed.ok());
    EXPECT_FALSE(*changed);
  }
  {
    RecordingSystem system;
    ExecContext ctx{system, "i-1", {}};
    system.expect_run({"test", "-f", "/x"}, 2);  // cloud-init: an unexpected exit is no either
    EXPECT_FALSE(*change_power_state(reboot_change(), ctx));
  }
  {
    RecordingSystem system;
    ExecContext ctx{system, "i-1", {}};
    system.expect_run({"test", "-f", "/x"}, 0);
    system.expect_run({"systemd-run", "--", "shutdown", "-r", "now"}, 0);
    EXPECT_TRUE(*change_power_state(reboot_change(), ctx));
  }
  {
    RecordingSystem system;
    ExecContext ctx{system, "i-1", {}};
    system.expect_run({"test", "-f", "/x"}, 0);
    system.expect_run({"systemd-run", "--", "shutdown", "-r", "now"}, 1);
    system.expect_run({"shutdown", "-r", "now"}, 0);
    EXPECT_TRUE(*change_power_state(reboot_change(), ctx));
  }
  {
    RecordingSystem system;
    ExecContext ctx{system, "i-1", {}};
    system.expect_run({"test", "-f", "/x"}, 0);
    system.expect_run({"systemd-run", "--", "shutdown", "-r", "now"}, 1);
    system.expect_run({"shutdown", "-r", "now"}, 1);
    auto changed = change_power_state(reboot_change(), ctx);
    ASSERT_FALSE(changed.ok());
    EXPECT_EQ(changed.error().message,
              "power_state: systemd-run exited with status 1, and shutdown exited with status 1");
  }
  {
    RecordingSystem system("/sandbox");  // nothing scripted: nothing may run
    ExecContext ctx{system, "i-1", {}};
    EXPECT_FALSE(*change_power_state(reboot_change(), ctx));
  }
}

// --- through the runner ----------------------------------------------------

const std::vector<ModuleSpec>& readiness_and_power_state() {
  static const std::vector<ModuleSpec> table = {*find_module("power_state"),
                                                *find_module("readiness")};
  return table;
}

std::unique_ptr<RecordingSystem> instance(const std::string& root, const std::string& user_data) {
  auto system = std::make_unique<RecordingSystem>(root);
  system->allow_writes("/");
  system->allow_console();
  system->programs.insert("systemd-run");
  system->add_host_file("/seed/meta-data", "instance-id: i-1\nlocal-hostname: web\n");
  system->add_host_file("/seed/user-data", user_data);
  return system;
}

int run(RecordingSystem& system, bool dry_run = false) {
  RunOptions options;
  options.root = system.root();
  options.seed_dir = "/seed";
  options.modules = &readiness_and_power_state();
  options.dry_run = dry_run;
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

std::size_t last_position(const RecordingSystem& system, const std::string& prefix) {
  std::size_t found = system.calls.size();
  for (std::size_t i = 0; i < system.calls.size(); ++i) {
    if (system.calls[i].rfind(prefix, 0) == 0) {
      found = i;
    }
  }
  return found;
}

const std::string kUserData =
    "#cloud-config\n"
    "readiness: {url: 'https://example.com/handle', attempts: 1}\n"
    "power_state: {mode: reboot, message: bye, condition: [test, -f, /x]}\n";

const Strings kSystemdRun = {"systemd-run",
                             "--no-block",
                             "--unit=amiboot-power-state",
                             "--description=amiboot power_state: reboot",
                             "--property=After=amiboot-final.service",
                             "--",
                             "shutdown",
                             "-r",
                             "now",
                             "bye"};

TEST(PowerStateRunner, StatusDoneAndReadinessComeBeforeTheCondition) {
  auto system = instance("/", kUserData);
  system->expect_http("PUT", "https://example.com/handle", {Status{}});
  system->expect_run({"test", "-f", "/x"}, 0);
  system->expect_run(kSystemdRun, 0);
  EXPECT_EQ(run(*system), 0);

  std::size_t condition = position(*system, "run test -f /x");
  std::size_t shutdown = position(*system, "run systemd-run");
  EXPECT_LT(condition, shutdown);
  EXPECT_LT(position(*system, "http PUT https://example.com/handle"), condition);
  // The final stage's last status write, and result.json (written only when
  // the run ends), both before the condition runs; nothing rewrites them after.
  EXPECT_LT(last_position(*system, "write_file /run/amiboot/status.json"), condition);
  EXPECT_LT(position(*system, "write_file /run/amiboot/result.json"), condition);
  auto status = nlohmann::json::parse(system->files.at("/run/amiboot/status.json"));
  EXPECT_EQ(status["status"], "done");
  EXPECT_EQ(status["stages"]["final"]["status"], "done");
  auto result = nlohmann::json::parse(system->files.at("/run/amiboot/result.json"));
  EXPECT_EQ(result["v1"]["status"], "done");
  for (const auto& m : status["stages"]["final"]["modules"]) {
    EXPECT_EQ(m["result"], "ok") << m.dump();
  }
  EXPECT_EQ(system->console_lines.back(), "amiboot: power_state: reboot requested");
  // The history of the stage is on disk before the machine goes down too.
  EXPECT_LT(last_position(*system, "write_file /var/lib/amiboot/boots/"), condition);

  // Per instance: the same instance's next run changes nothing (nothing
  // scripted; readiness, per boot, already signalled this boot).
  EXPECT_EQ(run(*system), 0);
}

TEST(PowerStateRunner, AConditionNotMetLeavesTheMachineUpAndTheRunClean) {
  auto system = instance("/", kUserData);
  system->expect_http("PUT", "https://example.com/handle", {Status{}});
  system->expect_run({"test", "-f", "/x"}, 1);
  EXPECT_EQ(run(*system), 0);
  auto status = nlohmann::json::parse(system->files.at("/run/amiboot/status.json"));
  EXPECT_EQ(status["status"], "done");
  EXPECT_TRUE(status["errors"].empty());
}

TEST(PowerStateRunner, AFailedShutdownIsAnErrorListedAfterTheStage) {
  auto system = instance("/", kUserData);
  system->expect_http("PUT", "https://example.com/handle", {Status{}});
  system->expect_run({"test", "-f", "/x"}, 0);
  system->expect_run(kSystemdRun, 1);
  system->expect_run({"shutdown", "-r", "now", "bye"}, 1);
  EXPECT_EQ(run(*system), 1);
  auto status = nlohmann::json::parse(system->files.at("/run/amiboot/status.json"));
  ASSERT_EQ(status["errors"].size(), 1u);
  EXPECT_EQ(status["errors"][0],
            "power_state: systemd-run exited with status 1, and shutdown exited with status 1");
}

TEST(PowerStateRunner, UnderRootNothingRunsAndAWarningSaysSo) {
  auto system = instance("/sandbox", kUserData);
  system->expect_http("PUT", "https://example.com/handle", {Status{}});
  EXPECT_EQ(run(*system), 0);
  EXPECT_EQ(system->commands.size(), 0u);
  auto status = nlohmann::json::parse(system->files.at("/run/amiboot/status.json"));
  ASSERT_EQ(status["warnings"].size(), 1u);
  EXPECT_EQ(status["warnings"][0],
            "power_state: no reboot under --root: it would act on the machine amiboot runs on, "
            "not the root");
}

TEST(PowerStateRunner, ADryRunShowsTheChangeAndRunsNothing) {
  auto system = instance("/", kUserData);
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(run(*system, true), 0);
  std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("run  power_state [per-instance]"), std::string::npos) << out;
  EXPECT_NE(out.find("after the final stage, its status written: if test -f /x exits 0, reboot: "
                     "run systemd-run"),
            std::string::npos)
      << out;
  EXPECT_EQ(system->commands.size(), 0u);
}

}  // namespace
}  // namespace amiboot
