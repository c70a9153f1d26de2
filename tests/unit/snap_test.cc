// SPDX-License-Identifier: Apache-2.0
// snap (cc_snap): cloud-init's documented examples, each key acted on; the
// order of a map's commands; "snap" put in front of an argv; an image
// without snapd warned about; bad input with its position; and a failed
// `snap ack` keeping the commands from running.
#include "modules/snap.h"

#include <gtest/gtest.h>

#include "agent/executor.h"
#include "agent/runner.h"
#include "tests/support/fake_system.h"
#include "tests/support/module_fixture.h"
#include "tests/support/test_util.h"

namespace amiboot {
namespace {

using Strings = std::vector<std::string>;

std::string doc_example(const std::string& name) {
  return testing::read_file(testing::source_dir() + "/tests/fixtures/cloud-init-docs/" + name);
}

struct Snap : testing::ModuleFixture {
  explicit Snap(const std::string& yaml) : ModuleFixture(yaml) { system.programs.insert("snap"); }
};

RunCommand host(Strings argv, const std::string& label, bool required = false) {
  RunCommand r{std::move(argv), label};
  r.needs_host = true;
  r.required = required;
  return r;
}

const RunCommand kWait = host({"snap", "wait", "system", "seed.loaded"},
                              "snap: waiting for snapd to load its seed", true);
const std::string kAssertions = "/var/lib/amiboot/instances/i-abc/snapd.assertions";

RunCommand ack() {
  RunCommand r = host({"snap", "ack"}, "snap.assertions", true);
  r.target_path(kAssertions);
  return r;
}

TEST(Snap, CloudInitsFirstExampleAcksTheAssertionsThenRunsTheCommandsInKeyOrder) {
  Snap f(doc_example("snap-1.yaml"));
  auto plan = f.plan("snap");
  ASSERT_FALSE(has_errors(plan.diagnostics)) << testing::formatted(plan.diagnostics);
  // cloud-init warns about a string that is not a snap command too, and runs it.
  ASSERT_EQ(plan.diagnostics.size(), 1u) << testing::formatted(plan.diagnostics);
  EXPECT_EQ(plan.diagnostics[0].format(),
            "user-data:12:9: warning: snap.commands.02: not a snap command; run with sh -c as "
            "written (cloud-init warns the same)");
  std::vector<Action> expected = {
      kWait,
      WriteFile{.path = kAssertions,
                .content = "signed_assertion_blob_here\n\nsigned_assertion_blob_here\n",
                .mode = 0600,
                .label = "snap.assertions"},
      ack(),
      host({"sh", "-c", "snap create-user --sudoer --known <snap-user>@mydomain.com"},
           "snap.commands.00"),
      host({"sh", "-c", "snap install canonical-livepatch"}, "snap.commands.01"),
      host({"sh", "-c", "canonical-livepatch enable <AUTH_TOKEN>"}, "snap.commands.02"),
  };
  EXPECT_EQ(plan.actions, expected);
  EXPECT_EQ(plan.summary, "2 assertion(s) acknowledged, 3 snap command(s) run");
}

TEST(Snap, CloudInitsSecondAndThirdExamplesAreTheSameFourCommands) {
  const std::vector<Strings> argvs = {{"snap", "install", "vlc"},
                                      {"snap", "install", "vlc"},
                                      {"sh", "-c", "snap install vlc"},
                                      {"sh", "-c", "snap install vlc"}};
  for (const auto& [name, labels] :
       {std::pair<std::string, Strings>{
            "snap-2.yaml",
            {"snap.commands.0", "snap.commands.1", "snap.commands.2", "snap.commands.3"}},
        {"snap-3.yaml",
         {"snap.commands[0]", "snap.commands[1]", "snap.commands[2]", "snap.commands[3]"}}}) {
    SCOPED_TRACE(name);
    Snap f(doc_example(name));
    auto plan = f.plan("snap");
    ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
    std::vector<Action> expected = {kWait};
    for (std::size_t i = 0; i < argvs.size(); ++i) {
      expected.push_back(host(argvs[i], labels[i]));
    }
    EXPECT_EQ(plan.actions, expected);
  }
}

TEST(Snap, CloudInitsFourthExampleWritesAListOfAssertionsJoinedByANewline) {
  Snap f(doc_example("snap-4.yaml"));
  auto plan = f.plan("snap");
  ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  ASSERT_EQ(plan.actions.size(), 3u);
  EXPECT_EQ(std::get<WriteFile>(plan.actions[1]).content,
            "signed_assertion_blob_here\nsigned_assertion_blob_here\n");
  EXPECT_EQ(std::get<RunCommand>(plan.actions[2]), ack());
}

TEST(Snap, AMapRunsInKeyOrderNumericWhenTheKeysAreNumbers) {
  Snap numbers("snap:\n  commands:\n    10: [ten]\n    9: [nine]\n    2: [two]\n");
  auto plan = numbers.plan("snap");
  ASSERT_EQ(plan.actions.size(), 4u) << testing::formatted(plan.diagnostics);
  EXPECT_EQ(std::get<RunCommand>(plan.actions[1]).argv, (Strings{"snap", "two"}));
  EXPECT_EQ(std::get<RunCommand>(plan.actions[3]).argv, (Strings{"snap", "ten"}));

  Snap words("snap:\n  commands:\n    b: [bee]\n    a: [ay]\n");
  plan = words.plan("snap");
  ASSERT_EQ(plan.actions.size(), 3u) << testing::formatted(plan.diagnostics);
  EXPECT_EQ(std::get<RunCommand>(plan.actions[1]).label, "snap.commands.a");
}

TEST(Snap, ANullFirstItemKeepsSnapOutOfTheArgv) {
  Snap f("snap:\n  commands:\n    - [null, systemctl, restart, snapd]\n");
  auto plan = f.plan("snap");
  ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  EXPECT_EQ(std::get<RunCommand>(plan.actions[1]).argv, (Strings{"systemctl", "restart", "snapd"}));
}

TEST(Snap, WithoutSnapdItIsAWarningAndNothingRuns) {
  testing::ModuleFixture f(doc_example("snap-1.yaml"));  // no snap program
  auto plan = f.plan("snap");
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_FALSE(has_errors(plan.diagnostics)) << testing::formatted(plan.diagnostics);
  EXPECT_EQ(plan.diagnostics.back().format(),
            "warning: snap: snapd is not on this image (no snap command): 2 assertion(s) and 3 "
            "command(s) skipped");
}

TEST(Snap, BadInputIsAnErrorWithItsPosition) {
  struct Case {
    std::string yaml;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"snap: [install, vlc]\n", "user-data:1:7: snap: expected a map, got a list"},
      {"snap:\n  assertions: blob\n",
       "user-data:2:15: snap.assertions: expected a list or a map of signed assertions, got a "
       "string"},
      {"snap:\n  assertions:\n    - {a: 1}\n",
       "user-data:3:7: snap.assertions[0]: expected a signed assertion (text), got a map"},
      {"snap:\n  commands: 5\n",
       "user-data:2:13: snap.commands: expected a list or a map of commands, got an integer"},
      {"snap:\n  commands:\n    - {install: vlc}\n",
       "user-data:3:7: snap.commands[0]: expected a command: a string (run with sh -c) or a "
       "non-empty list (an argv, \"snap\" put in front when it does not start with it), got a "
       "map"},
      {"snap:\n  commands:\n    x: []\n",
       "user-data:3:8: snap.commands.x: expected a command: a string (run with sh -c) or a "
       "non-empty list (an argv, \"snap\" put in front when it does not start with it), got a "
       "list"},
      {"snap:\n  commands:\n    - [install, [vlc]]\n",
       "user-data:3:17: snap.commands[0][1]: expected a string, got a list"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.yaml);
    Snap f(c.yaml);
    auto plan = f.plan("snap");
    EXPECT_TRUE(plan.actions.empty());
    ASSERT_FALSE(plan.diagnostics.empty());
    EXPECT_EQ(plan.diagnostics[0].format(), c.error);
  }
}

TEST(Snap, AFailedAckKeepsTheCommandsFromRunning) {
  Snap f("snap:\n  assertions: [blob]\n  commands: [[install, vlc]]\n");
  auto plan = f.plan("snap");
  ASSERT_EQ(plan.actions.size(), 4u) << testing::formatted(plan.diagnostics);
  testing::RecordingSystem system;
  system.allow_writes("/var/lib/amiboot");
  system.expect_run({"snap", "wait", "system", "seed.loaded"});
  system.expect_run({"snap", "ack", kAssertions}, 1);
  ExecContext ctx{system, "i-abc", {}};
  auto outcome = execute(plan.actions, ctx);
  EXPECT_EQ(outcome.errors, (Strings{"snap.assertions exited with status 1",
                                     "skipped the remaining 1 action(s) of this module"}));
  EXPECT_EQ(system.files.at(kAssertions), "blob");
}

TEST(Snap, WithoutSnapdTheOtherModulesStillRun) {
  testing::RecordingSystem system("/");
  system.allow_writes("/");
  system.allow_console();
  system.add_host_file("/seed/meta-data", "instance-id: i-1\n");
  system.add_host_file("/seed/user-data",
                       "#cloud-config\nsnap: {commands: [[install, vlc]]}\nruncmd: [[echo, hi]]\n");
  system.expect_run({"/var/lib/amiboot/instances/i-1/scripts/runcmd"});  // runcmd's script
  static const std::vector<ModuleSpec> table = {*find_module("snap"), *find_module("scripts_user")};
  RunOptions options;
  options.root = "/";
  options.seed_dir = "/seed";
  options.modules = &table;
  EXPECT_EQ(run_stages(options, system), 0);
  auto status = nlohmann::json::parse(system.files.at("/run/amiboot/status.json"));
  EXPECT_EQ(status["status"], "done");
  ASSERT_EQ(status["warnings"].size(), 1u);
  EXPECT_EQ(status["warnings"][0],
            "snap: snapd is not on this image (no snap command): 0 assertion(s) and 1 command(s) "
            "skipped");
  auto modules = status["stages"]["final"]["modules"];
  EXPECT_EQ(modules[0]["name"], "snap");
  EXPECT_EQ(modules[0]["reason"], "nothing to do");
  EXPECT_EQ(modules[1]["result"], "ok");
}

}  // namespace
}  // namespace amiboot
