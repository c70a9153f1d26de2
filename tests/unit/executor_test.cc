// SPDX-License-Identifier: Apache-2.0
// The executor against a RecordingSystem: owners, required and skipped
// actions, root mapping, HTTP retries on the fake clock, the console.
#include "agent/executor.h"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include "tests/support/fake_system.h"

namespace amiboot {
namespace {

using testing::RecordingSystem;
using namespace std::chrono_literals;

ExecOutcome run_actions(RecordingSystem& system, const std::vector<Action>& actions) {
  ExecContext ctx{system, "i-0123456789abcdef0", {{"AMIBOOT_MODULE", "test"}}};
  return execute(actions, ctx);
}

void run_unscripted_command() {
  RecordingSystem system;
  CommandSpec spec;
  spec.argv = {"useradd", "bob"};
  auto outcome = system.run(spec);
  EXPECT_FALSE(outcome);
}

void write_unscripted_file() {
  RecordingSystem system;
  EXPECT_FALSE(system.write_file("/etc/hosts", "x", FileAttrs{}));
}

void leave_an_expectation_unused() {
  RecordingSystem system;
  system.expect_run({"hostname", "web"});
}

TEST(RecordingSystem, FailsAnUnscriptedCallLoudly) {
  EXPECT_NONFATAL_FAILURE(run_unscripted_command(), "unscripted call: run useradd bob");
  EXPECT_NONFATAL_FAILURE(write_unscripted_file(), "unscripted call: write_file /etc/hosts");
  EXPECT_NONFATAL_FAILURE(leave_an_expectation_unused(),
                          "expected command never ran: hostname web");
}

TEST(Executor, WritesWithTheOwnerFromPasswdAndGroup) {
  RecordingSystem system;
  system.add_file("/etc/passwd",
                  "root:x:0:0::/root:/bin/sh\nalice:x:1001:1001::/home/alice:/bin/sh\n");
  system.add_file("/etc/group", "root:x:0:\nstaff:x:50:alice\n");
  system.allow_writes("/home/alice");
  auto outcome = run_actions(
      system,
      {WriteFile{.path = "/home/alice/notes",
                 .content = "hi",
                 .mode = 0600,
                 .owner = "alice:staff",
                 .label = "write_files[0]"},
       MakeDir{.path = "/home/alice/.ssh", .mode = 0700, .owner = "alice", .label = "ssh dir"},
       WriteFile{.path = "/home/alice/root-owned",
                 .content = "x",
                 .owner = "root:root",
                 .label = "write_files[1]"}});
  ASSERT_TRUE(outcome.ok()) << outcome.errors.front();
  ASSERT_EQ(system.writes.size(), 3u);
  EXPECT_EQ(system.writes[0].uid, 1001u);
  EXPECT_EQ(system.writes[0].gid, 50u);
  EXPECT_EQ(system.writes[0].mode, 0600u);
  EXPECT_EQ(system.writes[1].kind, "make_owned_dir");
  EXPECT_EQ(system.writes[1].uid, 1001u);
  EXPECT_EQ(system.writes[1].gid, 1001u);
  EXPECT_EQ(system.writes[2].uid, 0u);
  EXPECT_EQ(system.writes[2].gid, 0u);
  EXPECT_EQ(system.files["/home/alice/notes"], "hi");
}

TEST(Executor, AFileIsFsyncedUnlessItsActionSaysNot) {
  RecordingSystem system;
  system.allow_writes("/var/lib/amiboot");
  WriteFile script{.path = "/var/lib/amiboot/scripts/runcmd",
                   .content = "#!/bin/sh\n",
                   .mode = 0700,
                   .label = "runcmd"};
  WriteFile record = script;
  record.path = "/var/lib/amiboot/record";
  script.durable = false;
  ASSERT_TRUE(run_actions(system, {script, record}).ok());
  ASSERT_EQ(system.writes.size(), 2u);
  EXPECT_FALSE(system.writes[0].durable);
  EXPECT_TRUE(system.writes[1].durable);
}

TEST(Executor, AnUnknownOwnerIsAnErrorNamingIt) {
  RecordingSystem system;
  system.add_file("/etc/passwd", "root:x:0:0::/root:/bin/sh\n");
  system.add_file("/etc/group", "root:x:0:\n");
  auto outcome = run_actions(
      system,
      {WriteFile{.path = "/etc/x", .content = "x", .owner = "bob", .label = "write_files[0]"},
       MakeDir{.path = "/srv/d", .owner = "root:nogroup", .label = "folder"}});
  ASSERT_EQ(outcome.errors.size(), 2u);
  EXPECT_EQ(outcome.errors[0], "write_files[0]: no user 'bob' in /etc/passwd");
  EXPECT_EQ(outcome.errors[1], "folder: no group 'nogroup' in /etc/group");
  EXPECT_TRUE(system.writes.empty());
}

TEST(Executor, ARequiredFailureSkipsTheRest) {
  RecordingSystem system;
  system.expect_run({"nft", "-c", "-f", "/etc/nftables.conf"}, 1);
  auto outcome = run_actions(
      system, {RunCommand{.argv = {"nft", "-c", "-f", "/etc/nftables.conf"},
                          .label = "nft check",
                          .required = true},
               RunCommand{.argv = {"nft", "-f", "/etc/nftables.conf"}, .label = "nft load"},
               ConsoleMessage{"never"}});
  EXPECT_EQ(outcome.errors,
            (std::vector<std::string>{"nft check exited with status 1",
                                      "skipped the remaining 2 action(s) of this module"}));
}

GrowPartition root_growth() {
  return GrowPartition{.disk = "/dev/nvme0n1",
                       .number = 1,
                       .table = "gpt",
                       .start = 2048,
                       .old_size = 16775135,
                       .new_size = 104855519,
                       .label = "growpart /"};
}

TEST(Executor, GrowsAPartitionThroughTheSystemThenTheFilesystem) {
  RecordingSystem system;
  system.expect_grow(root_growth(), std::string("grew partition 1 of /dev/nvme0n1"));
  system.expect_run({"resize2fs", "/dev/nvme0n1p1"});
  auto outcome =
      run_actions(system, {root_growth(), RunCommand{.argv = {"resize2fs", "/dev/nvme0n1p1"},
                                                     .label = "resize2fs /dev/nvme0n1p1"}});
  EXPECT_TRUE(outcome.errors.empty());
  EXPECT_EQ(system.calls.front(),
            "grow partition 1 of /dev/nvme0n1 (gpt) from 16775135 to 104855519 sectors (8.0 GiB "
            "to 50.0 GiB)");
}

TEST(Executor, AFailedPartitionGrowthSkipsTheFilesystemGrowth) {
  RecordingSystem system;
  system.expect_grow(root_growth(),
                     error("partition 1 of /dev/nvme0n1 has changed since the plan"));
  auto outcome =
      run_actions(system, {root_growth(), RunCommand{.argv = {"resize2fs", "/dev/nvme0n1p1"},
                                                     .label = "resize2fs /dev/nvme0n1p1"}});
  EXPECT_EQ(outcome.errors,
            (std::vector<std::string>{
                "growpart /: partition 1 of /dev/nvme0n1 has changed since the plan",
                "skipped the remaining 1 action(s) of this module"}));
}

TEST(Executor, AnOptionalFailureDoesNotStopTheRest) {
  RecordingSystem system;
  system.expect_run({"false"}, 1);
  system.expect_run({"true"}, 0);
  auto outcome = run_actions(system, {RunCommand{.argv = {"false"}, .label = "runcmd[0]"},
                                      RunCommand{.argv = {"true"}, .label = "runcmd[1]"}});
  EXPECT_EQ(outcome.errors, std::vector<std::string>{"runcmd[0] exited with status 1"});
}

TEST(Executor, SkipUnderRootCommandsRunOnlyOnTheInstance) {
  Action hostname =
      RunCommand{.argv = {"hostname", "web"}, .label = "hostname", .needs_host = true};
  {
    RecordingSystem sandbox("/sandbox");
    EXPECT_TRUE(run_actions(sandbox, {hostname}).ok());
    EXPECT_TRUE(sandbox.commands.empty());
  }
  RecordingSystem instance;
  instance.expect_run({"hostname", "web"});
  EXPECT_TRUE(run_actions(instance, {hostname}).ok());
  ASSERT_EQ(instance.commands.size(), 1u);
  EXPECT_EQ(instance.commands[0].env.at("INSTANCE_ID"), "i-0123456789abcdef0");
  EXPECT_EQ(instance.commands[0].env.at("AMIBOOT_ROOT"), "");
}

TEST(Executor, TheRunningHostnameIsSetWithoutAProcessAndNeverUnderARoot) {
  Action hostname = SetHostname{"web", "hostname: set the running hostname"};
  {
    RecordingSystem sandbox("/sandbox");
    EXPECT_TRUE(run_actions(sandbox, {hostname}).ok());  // an unscripted call would fail
    EXPECT_TRUE(sandbox.calls.empty());
  }
  RecordingSystem instance;
  instance.expect_hostname("web");
  EXPECT_TRUE(run_actions(instance, {hostname}).ok());
  EXPECT_TRUE(instance.commands.empty());
  EXPECT_EQ(instance.calls, std::vector<std::string>{"set_hostname web"});

  RecordingSystem refused;
  refused.expect_hostname("web", Error{"sethostname: Operation not permitted"});
  EXPECT_EQ(run_actions(refused, {hostname}).errors,
            std::vector<std::string>{
                "hostname: set the running hostname: sethostname: Operation not permitted"});
}

TEST(Executor, MapsTargetPathsUnderTheRootAndAddsTheToolsRootOption) {
  // "{root}" in an argument is text like any other: only target_paths map.
  Action keygen = RunCommand{.argv = {"ssh-keygen", "-f", "/etc/ssh/key", "{root}"},
                             .label = "ssh-keygen",
                             .target_paths = {2},
                             .root_option = "--root",
                             .root_extra_args = {"--quiet"}};
  RecordingSystem sandbox("/sandbox");
  sandbox.expect_run(
      {"ssh-keygen", "--root", "/sandbox", "--quiet", "-f", "/sandbox/etc/ssh/key", "{root}"});
  EXPECT_TRUE(run_actions(sandbox, {keygen}).ok());
  ASSERT_EQ(sandbox.commands.size(), 1u);
  EXPECT_EQ(sandbox.commands[0].env.at("AMIBOOT_ROOT"), "/sandbox");

  RecordingSystem instance;
  instance.expect_run({"ssh-keygen", "-f", "/etc/ssh/key", "{root}"});
  EXPECT_TRUE(run_actions(instance, {keygen}).ok());
}

TEST(Executor, InstanceProgramsAreResolvedUnderTheRoot) {
  RecordingSystem sandbox("/sandbox");
  sandbox.expect_run({"/sandbox/var/lib/amiboot/scripts/part-001"});
  EXPECT_TRUE(run_actions(sandbox, {RunCommand{.argv = {"/var/lib/amiboot/scripts/part-001"},
                                               .label = "script part-001",
                                               .instance_program = true}})
                  .ok());
}

TEST(Executor, HttpRetriesOnTheSystemClock) {
  RecordingSystem system;
  system.expect_http("PUT", "https://example.com/signal",
                     {error("HTTP 503"), error("HTTP 503"), Status{}});
  auto outcome = run_actions(system, {HttpRequest{.method = "PUT",
                                                  .url = "https://example.com/signal",
                                                  .attempts = 5,
                                                  .retry_delay_ms = 2000,
                                                  .label = "readiness"}});
  EXPECT_TRUE(outcome.ok());
  EXPECT_EQ(
      std::count(system.calls.begin(), system.calls.end(), "http PUT https://example.com/signal"),
      3);
  // Linear backoff, taken on the fake clock: no real sleeping.
  EXPECT_EQ(system.sleeps, (std::vector<std::chrono::milliseconds>{2000ms, 4000ms}));
}

TEST(Executor, HttpGivesUpAfterTheLastAttempt) {
  RecordingSystem system;
  system.expect_http("POST", "https://example.com/cb", {error("HTTP 500"), error("timed out")});
  auto outcome = run_actions(system, {HttpRequest{.method = "POST",
                                                  .url = "https://example.com/cb",
                                                  .attempts = 2,
                                                  .retry_delay_ms = 10,
                                                  .label = "callback"}});
  EXPECT_EQ(outcome.errors,
            std::vector<std::string>{"callback: gave up after 2 attempts: timed out"});
  EXPECT_EQ(system.sleeps, std::vector<std::chrono::milliseconds>{10ms});
}

// A callback that always fails, with more attempts than its deadline
// allows: the retries stop at the deadline (the fake clock), not the count.
TEST(Executor, HttpRetriesStopAtTheirDeadline) {
  RecordingSystem system;
  system.expect_http("PUT", "https://example.com/signal",
                     {error("HTTP 503"), error("HTTP 503"), error("HTTP 503"), error("HTTP 503")});
  ExecContext ctx{system, "i-0123456789abcdef0", {{"AMIBOOT_MODULE", "test"}}, 15s};
  auto outcome = execute({HttpRequest{.method = "PUT",
                                      .url = "https://example.com/signal",
                                      .attempts = 50,
                                      .retry_delay_ms = 2000,
                                      .label = "readiness"}},
                         ctx);
  // Delays 2, 4, 6 s: tries at 0, 2, 6 and 12 s; the next would be at 20 s.
  EXPECT_EQ(system.sleeps, (std::vector<std::chrono::milliseconds>{2000ms, 4000ms, 6000ms}));
  EXPECT_EQ(outcome.errors,
            std::vector<std::string>{"readiness: gave up after 4 attempts, no more before the 15 s "
                                     "retry deadline: HTTP 503"});
}

TEST(Executor, ConsoleMessagesGoThroughTheSystem) {
  RecordingSystem system;
  system.allow_console();
  EXPECT_TRUE(run_actions(system, {ConsoleMessage{"amiboot finished in 1.2 s"}}).ok());
  EXPECT_EQ(system.console_lines, std::vector<std::string>{"amiboot finished in 1.2 s"});
}

TEST(Executor, APowerChangeIsOnlyHandedBackForTheRunnerToMakeAfterTheStage) {
  RecordingSystem system;  // nothing scripted: nothing may run now
  ExecContext ctx{system, "i-1", {}};
  RunCommand shutdown{{"shutdown", "-r", "now"}, "power_state"};
  shutdown.needs_host = true;
  ChangePowerState change{.mode = "reboot", .command = shutdown};
  auto outcome = execute({change}, ctx);
  EXPECT_TRUE(outcome.ok());
  ASSERT_TRUE(outcome.power_change.has_value());
  EXPECT_EQ(*outcome.power_change, change);
  EXPECT_TRUE(system.calls.empty());
}

TEST(Executor, RemovesOnlyWhatExists) {
  RecordingSystem system;
  system.add_file("/etc/motd", "hello");
  system.allow_writes("/etc/motd");
  EXPECT_TRUE(
      run_actions(system, {RemoveFile{"/etc/motd", "motd"}, RemoveFile{"/etc/absent", "absent"}})
          .ok());
  EXPECT_EQ(system.calls, std::vector<std::string>{"remove_all /etc/motd"});
  EXPECT_FALSE(system.exists("/etc/motd"));
}

TEST(Executor, ACheckCommandRejectingTheFileLeavesItAlone) {
  RecordingSystem system;
  system.allow_writes("/etc/sudoers.d");
  system.expect_run({"visudo", "-cf", "/etc/sudoers.d/90-users.amiboot-tmp"}, 1);
  auto outcome = run_actions(system, {WriteFile{.path = "/etc/sudoers.d/90-users",
                                                .content = "bad",
                                                .label = "sudoers",
                                                .check_argv = {"visudo", "-cf", "{}"},
                                                .required = true},
                                      RunCommand{.argv = {"useradd", "bob"}, .label = "useradd"}});
  ASSERT_EQ(outcome.errors.size(), 2u);
  EXPECT_EQ(outcome.errors[0],
            "sudoers: visudo rejected the new /etc/sudoers.d/90-users (exit status 1); the old "
            "file is unchanged");
  EXPECT_EQ(outcome.errors[1], "skipped the remaining 1 action(s) of this module");
  EXPECT_FALSE(system.exists("/etc/sudoers.d/90-users"));
}

TEST(Executor, OneCheckOfTheWholeFileNamesTheSourceOfTheLineItRejected) {
  WriteFile sudoers{.path = "/etc/sudoers.d/90-users",
                    .content = "# header\nalice ALL=(ALL) ALL\nbob ALL=(ALL NOPASSWD:ALL\n",
                    .label = "sudoers",
                    .check_argv = {"visudo", "-cf", "{}"},
                    .check_line_sources = {{2, "users[0].sudo (user-data:3:11)"},
                                           {3, "users[1].sudo (user-data:5:11)"}},
                    .required = true};
  const std::string temp = "/etc/sudoers.d/90-users.amiboot-tmp";
  // sudo 1.9's words, and sudo 1.8's (Amazon Linux 2, RHEL 8).
  for (const std::string& said :
       {temp + ":3:16: syntax error\nbob ALL=(ALL NOPASSWD:ALL\n               ^~~~\n",
        ">>> " + temp + ": syntax error near line 3 <<<\nparse error in " + temp +
            " near line 3\n"}) {
    RecordingSystem system;
    system.allow_writes("/etc/sudoers.d");
    system.expect_run({"visudo", "-cf", temp}, 1, said);
    auto outcome = run_actions(system, {sudoers});
    ASSERT_EQ(system.commands.size(), 1u);  // one visudo, however many users
    EXPECT_TRUE(system.commands[0].capture_output);
    ASSERT_EQ(outcome.errors.size(), 1u);
    EXPECT_EQ(outcome.errors[0],
              "sudoers: visudo rejected line 3 of the new /etc/sudoers.d/90-users, from "
              "users[1].sudo (user-data:5:11) (exit status 1); the old file is unchanged");
    EXPECT_FALSE(system.exists("/etc/sudoers.d/90-users"));
  }
  // A line no rule came from (or none named): the file, as before.
  RecordingSystem system;
  system.allow_writes("/etc/sudoers.d");
  system.expect_run({"visudo", "-cf", temp}, 1, temp + ":1:1: syntax error\n");
  auto outcome = run_actions(system, {sudoers});
  ASSERT_EQ(outcome.errors.size(), 1u);
  EXPECT_EQ(outcome.errors[0],
            "sudoers: visudo rejected the new /etc/sudoers.d/90-users (exit status 1); the old "
            "file is unchanged");
}

// write_files `source`: the URL as the test scripts it; the errors and the
// plan never show its query.
const std::string kSourceUrl = "https://bucket.example.com/app.conf?X-Amz-Signature=s3cr3t";

FetchFile fetch_app_conf() {
  return FetchFile{.path = "/etc/app.conf",
                   .url = kSourceUrl,
                   .headers = {{"Authorization", "Bearer t0ken"}},
                   .mode = 0600,
                   .owner = "root:root",
                   .label = "write_files[0]"};
}

TEST(Executor, FetchFileWritesTheFetchedContentAfterSendingTheHeaders) {
  RecordingSystem system;
  system.add_file("/etc/app.conf", "old");
  system.allow_writes("/etc/app.conf");
  system.expect_get(kSourceUrl, {std::string("fetched\n")});
  FetchFile fetch = fetch_app_conf();
  fetch.fallback = "fallback";
  auto outcome = run_actions(system, {fetch});
  EXPECT_TRUE(outcome.ok()) << outcome.errors[0];
  ASSERT_EQ(system.gets.size(), 1u);
  EXPECT_EQ(system.gets[0].headers,
            (std::map<std::string, std::string>{{"Authorization", "Bearer t0ken"}}));
  EXPECT_EQ(system.gets[0].max_bytes, std::size_t{64} << 20);
  ASSERT_EQ(system.writes.size(), 1u);
  EXPECT_EQ(system.writes[0].path, "/etc/app.conf");
  EXPECT_EQ(system.writes[0].content, "fetched\n");
  EXPECT_EQ(system.writes[0].mode, 0600u);
  EXPECT_EQ(system.writes[0].uid, 0u);
}

TEST(Executor, FetchFileAppendsTheFetchedContent) {
  RecordingSystem system;
  system.add_file("/etc/hosts", "127.0.0.1 localhost\n");
  system.allow_writes("/etc/hosts");
  system.expect_get("http://10.0.0.1/hosts", {std::string("10.0.0.2 db\n")});
  auto outcome = run_actions(system, {FetchFile{.path = "/etc/hosts",
                                                .url = "http://10.0.0.1/hosts",
                                                .append = true,
                                                .label = "write_files[0]"}});
  EXPECT_TRUE(outcome.ok());
  EXPECT_EQ(system.files["/etc/hosts"], "127.0.0.1 localhost\n10.0.0.2 db\n");
}

TEST(Executor, AFailedFetchIsRetriedThenFallsBackToTheContentGiven) {
  RecordingSystem system;
  system.allow_writes("/etc/app.conf");
  system.expect_get(kSourceUrl, {error("HTTP 503"), error("HTTP 503"), error("Timeout was reached"),
                                 error("HTTP 404")});
  FetchFile fetch = fetch_app_conf();
  fetch.fallback = "fallback\n";
  auto outcome = run_actions(system, {fetch});
  EXPECT_TRUE(outcome.ok()) << outcome.errors[0];
  // cloud-init's three retries, 3 s apart, on the fake clock.
  EXPECT_EQ(system.sleeps, (std::vector<std::chrono::milliseconds>{3000ms, 3000ms, 3000ms}));
  EXPECT_EQ(system.files["/etc/app.conf"], "fallback\n");
}

TEST(Executor, AFailedFetchWithoutContentIsAnErrorAndLeavesTheFileAlone) {
  RecordingSystem system;
  system.add_file("/etc/app.conf", "old");
  // No allow_writes: any write would fail the test.
  system.expect_get(kSourceUrl, {error("HTTP 403")});
  FetchFile fetch = fetch_app_conf();
  fetch.attempts = 1;
  auto outcome = run_actions(system, {fetch});
  ASSERT_EQ(outcome.errors.size(), 1u);
  EXPECT_EQ(outcome.errors[0],
            "write_files[0]: could not fetch from bucket.example.com (1 attempts): HTTP 403; no "
            "content to fall back to, /etc/app.conf left unchanged");
  EXPECT_EQ(system.files["/etc/app.conf"], "old");
  EXPECT_TRUE(system.writes.empty());
  EXPECT_TRUE(system.sleeps.empty());
}

TEST(Executor, AnEmptyFallbackIsWrittenWhenGivenButNeverInvented) {
  // `content: ''` with a source: cloud-init writes the empty file, and so do we.
  RecordingSystem system;
  system.allow_writes("/etc/app.conf");
  system.expect_get(kSourceUrl, {error("HTTP 500")});
  FetchFile fetch = fetch_app_conf();
  fetch.attempts = 1;
  fetch.fallback = "";
  EXPECT_TRUE(run_actions(system, {fetch}).ok());
  ASSERT_EQ(system.writes.size(), 1u);
  EXPECT_EQ(system.writes[0].content, "");
}

TEST(Executor, AFileSourceIsReadOnTheTargetUnderTheRoot) {
  RecordingSystem system("/sandbox");
  system.add_file("/srv/seed/app.conf", "local\n");
  system.allow_writes("/etc/app.conf");
  auto outcome = run_actions(system, {FetchFile{.path = "/etc/app.conf",
                                                .url = "file:///srv/seed/app.conf",
                                                .label = "write_files[0]"}});
  EXPECT_TRUE(outcome.ok()) << outcome.errors[0];
  EXPECT_EQ(system.files["/etc/app.conf"], "local\n");
  // A missing file is the same failure as a failed download.
  RecordingSystem missing;
  outcome = run_actions(
      missing,
      {FetchFile{.path = "/etc/app.conf", .url = "file:///srv/absent", .label = "write_files[1]"}});
  ASSERT_EQ(outcome.errors.size(), 1u);
  EXPECT_NE(outcome.errors[0].find("/etc/app.conf left unchanged"), std::string::npos)
      << outcome.errors[0];
}

TEST(Executor, AnUnknownOwnerFailsTheFetchBeforeDownloading) {
  RecordingSystem system;
  system.add_file("/etc/passwd", "root:x:0:0::/root:/bin/sh\n");
  system.add_file("/etc/group", "root:x:0:\n");
  FetchFile fetch = fetch_app_conf();
  fetch.owner = "nobody-here";
  auto outcome = run_actions(system, {fetch});
  ASSERT_EQ(outcome.errors.size(), 1u);
  EXPECT_TRUE(system.gets.empty());
}

TEST(Executor, FetchErrorsNeverShowTheQueryOrTheHeaders) {
  RecordingSystem system;
  system.expect_get(kSourceUrl, {error("HTTP 401")});
  FetchFile fetch = fetch_app_conf();
  fetch.attempts = 1;
  auto outcome = run_actions(system, {fetch});
  ASSERT_EQ(outcome.errors.size(), 1u);
  for (const char* secret : {"s3cr3t", "t0ken", "app.conf?", "X-Amz"}) {
    EXPECT_EQ(outcome.errors[0].find(secret), std::string::npos) << outcome.errors[0];
  }
}

TEST(Executor, UnderARootAptRunsInAChrootAndDnfAndZypperWithTheirRootOption) {
  RecordingSystem sandbox("/sandbox");
  sandbox.expect_run({"chroot", "/sandbox", "apt-get", "--assume-yes", "--quiet", "-o",
                      "DPkg::Lock::Timeout=300", "-o", "Dpkg::Options::=--force-confdef", "-o",
                      "Dpkg::Options::=--force-confold", "update"});
  sandbox.expect_run({"dnf", "--installroot=/sandbox", "--assumeyes", "--setopt=exit_on_lock=True",
                      "makecache", "--refresh"});
  sandbox.expect_run({"zypper", "--root", "/sandbox", "--non-interactive", "refresh"});
  auto outcome = run_actions(sandbox, {ManagePackages{.manager = "apt", .update = true},
                                       ManagePackages{.manager = "dnf", .update = true},
                                       ManagePackages{.manager = "zypper", .update = true}});
  EXPECT_TRUE(outcome.errors.empty()) << outcome.errors.front();
}

TEST(Executor, AnUnknownPackageManagerIsAnError) {
  RecordingSystem sandbox("/sandbox");
  ManagePackages request{.manager = "nosuch", .packages = {{"nginx", ""}}};
  auto outcome = run_actions(sandbox, {request});
  EXPECT_EQ(outcome.errors, std::vector<std::string>{"packages: unknown package manager nosuch"});
}

}  // namespace
}  // namespace amiboot
