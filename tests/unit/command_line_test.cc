// SPDX-License-Identifier: Apache-2.0
// parse_options (getopt_long) and the usage errors of amiboot's and
// cloud-init's commands.
#include "agent/command_line.h"

#include <gtest/gtest.h>

#include "agent/cli.h"
#include "agent/cloud_init_compat.h"

namespace amiboot {
namespace {

const OptionSpec kSpecs[] = {{"root", 0, true}, {"json"}, {"long", 'l'}, {"format", 'f', true}};

TEST(CommandLine, TakesValuesInEveryGnuSpellingAndPositionalsAnywhere) {
  auto p = parse_options({"KEY", "--root", "/r", "--json", "-lfX"}, kSpecs, 1);
  EXPECT_EQ(p.value("root"), "/r");
  EXPECT_TRUE(p.has("json"));
  EXPECT_TRUE(p.has("long"));
  EXPECT_EQ(p.value("format"), "X");
  EXPECT_EQ(p.positionals, std::vector<std::string>{"KEY"});
  EXPECT_FALSE(p.help);

  auto q = parse_options({"--root=/a", "--root=/b", "-f", "Y", "--", "-dash"}, kSpecs, 1);
  EXPECT_EQ(q.value("root"), "/b");  // the last one wins
  EXPECT_EQ(q.value("format"), "Y");
  EXPECT_EQ(q.positionals, std::vector<std::string>{"-dash"});
  EXPECT_FALSE(q.has("json"));
}

TEST(CommandLine, HelpEverywhere) {
  EXPECT_TRUE(parse_options({"-h"}, kSpecs, 0).help);
  EXPECT_TRUE(parse_options({"--json", "--help"}, kSpecs, 0).help);
}

TEST(CommandLine, UsageErrorsSayWhatWasWrong) {
  auto message = [](std::vector<std::string> args, std::size_t max = 0) -> std::string {
    try {
      parse_options(args, kSpecs, max);
    } catch (const UsageError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(message({"--bogus"}), "unknown option --bogus");
  EXPECT_EQ(message({"--bogus=1"}), "unknown option --bogus");
  EXPECT_EQ(message({"-x"}), "unknown option -x");
  EXPECT_EQ(message({"--root"}), "option --root needs a value");
  EXPECT_EQ(message({"-f"}), "option -f needs a value");
  EXPECT_EQ(message({"--json=yes"}), "option --json takes no value");
  EXPECT_EQ(message({"extra"}), "unexpected argument 'extra'");
  EXPECT_EQ(message({"a", "b"}, 1), "unexpected argument 'b'");
}

TEST(CommandLine, OptionsFirstStopsAtTheCommand) {
  const OptionSpec top[] = {{"version", 'v'}};
  auto p = parse_options({"-v", "status", "--wait", "-v"}, top, kAnyPositionals, true);
  EXPECT_TRUE(p.has("version"));
  EXPECT_EQ(p.positionals, (std::vector<std::string>{"status", "--wait", "-v"}));
}

// Exit 2, the error and the usage on stderr, nothing on stdout.
void expect_usage_error(int (*main)(const std::vector<std::string>&),
                        const std::vector<std::string>& args, const std::string& error) {
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  int rc = main(args);
  std::string out = ::testing::internal::GetCapturedStdout();
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(rc, 2) << err;
  EXPECT_EQ(out, "");
  EXPECT_NE(err.find(error), std::string::npos) << err;
  EXPECT_NE(err.find("usage:"), std::string::npos) << err;
}

TEST(CommandLine, EveryAmibootCommandRefusesUnknownOptionsAndExtraArguments) {
  for (const char* command :
       {"run", "status", "query", "validate", "analyze", "clean", "modules", "version"}) {
    SCOPED_TRACE(command);
    expect_usage_error(cli_main, {command, "--no-such-option"},
                       std::string("amiboot ") + command + ": unknown option --no-such-option");
    expect_usage_error(cli_main, {command, "one", "two"},
                       std::string("amiboot ") + command + ": unexpected argument");
    ::testing::internal::CaptureStdout();
    EXPECT_EQ(cli_main({command, "-h"}), 0);
    EXPECT_EQ(
        ::testing::internal::GetCapturedStdout().rfind(std::string("usage: amiboot ") + command, 0),
        0u);
  }
  expect_usage_error(cli_main, {"--bogus"}, "amiboot: unknown option --bogus");
  expect_usage_error(cli_main, {"run", "--stage"}, "amiboot run: option --stage needs a value");
}

TEST(CommandLine, CloudInitCommandsRefuseUnknownOptionsUnderCloudInitsNames) {
  for (const char* command : {"status", "query", "schema", "clean", "analyze"}) {
    SCOPED_TRACE(command);
    expect_usage_error(cloud_init_main, {command, "--no-such-option"},
                       std::string("cloud-init ") + command + ": unknown option --no-such-option");
  }
  expect_usage_error(cloud_init_main, {"status", "extra"}, "unexpected argument 'extra'");
  expect_usage_error(cloud_init_main, {"--bogus", "status"}, "cloud-init: unknown option --bogus");
}

}  // namespace
}  // namespace amiboot
