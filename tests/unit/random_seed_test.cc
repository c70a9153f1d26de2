// SPDX-License-Identifier: Apache-2.0
// random_seed: data decoded and appended (a device in place, on the running
// machine), the command with RANDOM_SEED_FILE, and every bad value named.
#include "modules/random_seed.h"

#include <gtest/gtest.h>

#include "agent/cloud_config.h"
#include "agent/core/codecs.h"
#include "tests/support/module_fixture.h"

namespace amiboot {
namespace {

RunCommand to_device(const std::string& data, const std::string& file = "/dev/urandom") {
  RunCommand r{{"dd", "of=" + file, "oflag=append", "conv=notrunc", "status=none"},
               "random_seed: " + std::to_string(data.size()) + " bytes to " + file};
  r.input = data;
  r.needs_host = true;
  return r;
}

RunCommand command(std::vector<std::string> argv, const std::string& file = "/dev/urandom") {
  std::string program = argv[0];
  argv.insert(argv.begin(), {"env", "RANDOM_SEED_FILE=" + file});
  RunCommand r{argv, "random_seed: command " + program};
  r.needs_host = true;
  return r;
}

TEST(RandomSeed, RawDataGoesToUrandomInPlaceOnTheRunningMachine) {
  testing::ModuleFixture f("random_seed: {data: my random string}\n");
  auto plan = f.plan("random_seed");
  ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  EXPECT_EQ(plan.actions, std::vector<Action>{to_device("my random string")});
  // The data rides on stdin: never in the argv, describe() or the JSON.
  EXPECT_EQ(describe(plan.actions[0]).find("random string"), std::string::npos);
  EXPECT_EQ(action_to_json(plan.actions[0]).dump().find("random string"), std::string::npos);
}

TEST(RandomSeed, EachEncodingIsDecoded) {
  std::string bytes("\x00\xff\x10seed", 7);
  for (auto [encoding, data] :
       {std::pair{"base64", base64_encode(bytes)}, std::pair{"b64", base64_encode(bytes)},
        std::pair{"B64", base64_encode(bytes)}}) {
    testing::ModuleFixture f(std::string("random_seed: {encoding: ") + encoding + ", data: '" +
                             data + "'}\n");
    auto plan = f.plan("random_seed");
    ASSERT_TRUE(plan.diagnostics.empty()) << encoding << testing::formatted(plan.diagnostics);
    EXPECT_EQ(plan.actions, std::vector<Action>{to_device(bytes)}) << encoding;
  }
  // gzip over !!binary: the YAML form for bytes.
  for (const char* encoding : {"gzip", "gz"}) {
    testing::ModuleFixture f(
        std::string("random_seed:\n  encoding: ") + encoding +
        "\n  data: !!binary |\n"
        "    H4sIAIDb/U8C/1NW1E/KzNMvzuBKTc7IV8hIzcnJVyjPL8pJ4QIA6N+MVxsAAAA=\n");
    auto plan = f.plan("random_seed");
    ASSERT_TRUE(plan.diagnostics.empty()) << encoding << testing::formatted(plan.diagnostics);
    ASSERT_EQ(plan.actions.size(), 1u);
    EXPECT_EQ(std::get<RunCommand>(plan.actions[0]).input, "#!/bin/sh\necho hello world\n");
  }
}

TEST(RandomSeed, ARegularFileIsAppendedToThroughTheExecutor) {
  testing::ModuleFixture f("random_seed: {file: /var/lib/seed/extra, data: abc}\n");
  auto plan = f.plan("random_seed");
  ASSERT_TRUE(plan.diagnostics.empty());
  WriteFile appended{.path = "/var/lib/seed/extra",
                     .content = "abc",
                     .mode = 0600,
                     .append = true,
                     .label = "random_seed: 3 bytes to /var/lib/seed/extra"};
  EXPECT_EQ(plan.actions, std::vector<Action>{appended});
}

TEST(RandomSeed, TheCommandRunsWithRandomSeedFileAfterTheData) {
  testing::ModuleFixture f(
      "random_seed:\n  file: /dev/random\n  data: x\n  command: [pollinate, -q]\n");
  f.system.programs = {"pollinate"};
  auto plan = f.plan("random_seed");
  ASSERT_TRUE(plan.diagnostics.empty()) << testing::formatted(plan.diagnostics);
  std::vector<Action> expected = {to_device("x", "/dev/random"),
                                  command({"pollinate", "-q"}, "/dev/random")};
  EXPECT_EQ(plan.actions, expected);
  EXPECT_EQ(plan.summary, "1 bytes of seed, then pollinate");
}

TEST(RandomSeed, AMissingCommandIsAWarningUnlessRequired) {
  testing::ModuleFixture optional("random_seed: {data: x, command: [pollinate]}\n");
  auto plan = optional.plan("random_seed");
  EXPECT_EQ(plan.actions, std::vector<Action>{to_device("x")});
  ASSERT_EQ(plan.diagnostics.size(), 1u);
  EXPECT_EQ(plan.diagnostics[0].format(),
            "user-data:1:33: warning: random_seed.command: command 'pollinate' is not installed; "
            "not run (command_required is false)");

  testing::ModuleFixture required(
      "random_seed:\n  data: x\n  command: [pollinate]\n  command_required: true\n");
  plan = required.plan("random_seed");
  // The data is still written, as cloud-init writes it before it fails.
  EXPECT_EQ(plan.actions, std::vector<Action>{to_device("x")});
  EXPECT_TRUE(plan.apply_with_errors);
  ASSERT_EQ(plan.diagnostics.size(), 1u);
  EXPECT_EQ(plan.diagnostics[0].format(),
            "user-data:3:12: random_seed.command: command 'pollinate' is not installed and "
            "command_required is true");
}

TEST(RandomSeed, ACommandGivenByPathIsLookedUpThere) {
  testing::ModuleFixture f("random_seed: {command: [/opt/seed/bin/seed]}\n");
  f.system.files["/opt/seed/bin/seed"] = "#!/bin/sh\n";
  EXPECT_EQ(f.plan("random_seed").actions, std::vector<Action>{command({"/opt/seed/bin/seed"})});
}

TEST(RandomSeed, NothingGivenPlansNothing) {
  testing::ModuleFixture f("random_seed: {file: /dev/urandom}\n");
  auto plan = f.plan("random_seed");
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_TRUE(plan.diagnostics.empty());
  EXPECT_TRUE(testing::ModuleFixture("runcmd: [true]\n").plan("random_seed").actions.empty());
}

TEST(RandomSeed, BadValuesAreRejectedWithLineAndColumn) {
  for (auto [yaml, message] : {
           std::pair{"random_seed:\n  data: abc\n  encoding: rot13\n",
                     "user-data:3:13: random_seed.encoding: unknown encoding 'rot13' (raw, "
                     "base64, b64, gzip or gz)"},
           std::pair{"random_seed:\n  data: 'not*base64'\n  encoding: b64\n",
                     "user-data:2:9: random_seed.data: not valid base64: "},
           std::pair{"random_seed:\n  data: plain text\n  encoding: gzip\n",
                     "user-data:2:9: random_seed.data: not valid gzip: "},
           std::pair{"random_seed:\n  file: dev/urandom\n",
                     "user-data:2:9: random_seed.file: expected an absolute file path without "
                     "'..', got 'dev/urandom'"},
           std::pair{"random_seed:\n  file: /dev/../etc/shadow\n",
                     "user-data:2:9: random_seed.file: expected an absolute file path without "
                     "'..', got '/dev/../etc/shadow'"},
           std::pair{"random_seed:\n  command: pollinate\n",
                     "user-data:2:12: random_seed.command: expected a list, got a string"},
           std::pair{"random_seed:\n  command: []\n",
                     "user-data:2:12: random_seed.command: expected an argv, got an empty list"},
           std::pair{"random_seed:\n  command: [pollinate, [x]]\n",
                     "user-data:2:24: random_seed.command[1]: expected a string, got a list"},
           std::pair{"random_seed:\n  command_required: true\n",
                     "user-data:2:21: random_seed.command_required: true, but there is no "
                     "command to run"},
           std::pair{"random_seed:\n  command_required: sometimes\n",
                     "user-data:2:21: random_seed.command_required: expected a boolean (true or "
                     "false), got a string"},
           std::pair{"random_seed: abc\n",
                     "user-data:1:14: random_seed: expected a map, got a string"},
       }) {
    testing::ModuleFixture f(yaml);
    Diagnostics d;
    f.check("random_seed", d);
    ASSERT_EQ(d.size(), 1u) << yaml << testing::formatted(d);
    EXPECT_EQ(d[0].format().rfind(message, 0), 0u) << d[0].format();
    EXPECT_TRUE(f.plan("random_seed").actions.empty()) << yaml;
  }
}

TEST(RandomSeed, AnUnknownKeyIsAWarning) {
  testing::ModuleFixture f("random_seed: {data: x, size: 512}\n");
  auto plan = f.plan("random_seed");
  ASSERT_EQ(plan.diagnostics.size(), 1u);
  EXPECT_EQ(plan.diagnostics[0].format(),
            "user-data:1:24: warning: random_seed.size: unknown key; ignored");
  EXPECT_EQ(plan.actions.size(), 1u);
}

// cloud-init's doc/module-docs/cc_seed_random/example{1,2}.yaml.
TEST(RandomSeed, CloudInitsDocumentedExamplesAreAcceptedAndActedOn) {
  const std::vector<std::pair<std::string, std::vector<Action>>> examples = {
      {"#cloud-config\n"
       "random_seed:\n"
       "  command: [sh, -c, dd if=/dev/urandom of=$RANDOM_SEED_FILE]\n"
       "  command_required: true\n"
       "  data: my random string\n"
       "  encoding: raw\n"
       "  file: /dev/urandom\n",
       {to_device("my random string"),
        command({"sh", "-c", "dd if=/dev/urandom of=$RANDOM_SEED_FILE"})}},
      {"#cloud-config\n"
       "random_seed:\n"
       "  command: [pollinate, '--server=http://local.pollinate.server']\n"
       "  command_required: true\n"
       "  file: /dev/urandom\n",
       {command({"pollinate", "--server=http://local.pollinate.server"})}},
  };
  for (const auto& [yaml, actions] : examples) {
    EXPECT_TRUE(testing::validates_cleanly(yaml));
    testing::ModuleFixture f(yaml);
    f.system.programs = {"sh", "pollinate"};
    auto plan = f.plan("random_seed");
    EXPECT_TRUE(plan.diagnostics.empty()) << yaml << testing::formatted(plan.diagnostics);
    EXPECT_EQ(plan.actions, actions) << yaml;
  }
}

}  // namespace
}  // namespace amiboot
