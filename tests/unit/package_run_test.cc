// SPDX-License-Identifier: Apache-2.0
// The package conversation (modules/package_run.*) over a scripted runner:
// which commands run, in which order, with which waits, and when a reboot
// is asked for. No package manager runs here.
#include "modules/package_run.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <set>

namespace amiboot {
namespace {

/// Answers each command from a script, in order; an unscripted command
/// fails the test.
class ScriptedCommands : public PackageCommands {
 public:
  void answer(std::vector<std::string> argv, int exit_code, std::string output = "") {
    m_script.push_back({std::move(argv), {exit_code, std::move(output)}});
  }
  Outcome run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
              const std::string& identifier, const std::vector<std::string>&) override {
    ran.push_back(argv);
    environments.push_back(env);
    identifiers.push_back(identifier);
    if (m_script.empty() || m_script.front().first != argv) {
      ADD_FAILURE() << "unscripted command: " << quote_argv(argv);
      return {127, "unscripted"};
    }
    Outcome outcome = m_script.front().second;
    m_script.pop_front();
    return outcome;
  }
  bool exists(const std::string& path) override { return files.count(path) > 0; }
  std::chrono::milliseconds backoff(int retry) override {
    return std::chrono::milliseconds(1000 * retry);
  }
  void sleep_for(std::chrono::milliseconds delay) override {
    slept.push_back(delay);
    clock += delay;
  }
  std::chrono::system_clock::time_point now() override { return clock; }
  std::chrono::system_clock::time_point clock{};
  void log(int, const std::string& line) override { lines.push_back(line); }
  ~ScriptedCommands() override {
    EXPECT_TRUE(m_script.empty()) << m_script.size() << " scripted command(s) never ran";
  }

  std::vector<std::vector<std::string>> ran;
  std::vector<std::map<std::string, std::string>> environments;
  std::vector<std::string> identifiers;
  std::vector<std::chrono::milliseconds> slept;
  std::vector<std::string> lines;
  std::set<std::string> files;

 private:
  std::deque<std::pair<std::vector<std::string>, Outcome>> m_script;
};

const std::vector<std::string> kInstallJq = {"apt-get",
                                             "--assume-yes",
                                             "--quiet",
                                             "-o",
                                             "DPkg::Lock::Timeout=300",
                                             "-o",
                                             "Dpkg::Options::=--force-confdef",
                                             "-o",
                                             "Dpkg::Options::=--force-confold",
                                             "install",
                                             "jq"};

ManagePackages apt_install_jq() {
  return ManagePackages{.manager = "apt", .packages = {{"jq", ""}}};
}

TEST(PackageRun, ALockedInstallIsTriedAgainAfterTheBackoffThenSucceeds) {
  ScriptedCommands commands;
  commands.answer(kInstallJq, 100, "E: Could not get lock /var/lib/dpkg/lock-frontend");
  commands.answer(kInstallJq, 0);
  auto outcome = run_packages(apt_install_jq(), commands);
  EXPECT_TRUE(outcome.errors.empty()) << outcome.errors[0];
  EXPECT_EQ(commands.slept, std::vector<std::chrono::milliseconds>{std::chrono::seconds(1)});
  ASSERT_EQ(commands.environments.size(), 2u);
  EXPECT_EQ(commands.environments[0].at("DEBIAN_FRONTEND"), "noninteractive");
  EXPECT_EQ(commands.identifiers[0], "apt-get");
  EXPECT_FALSE(outcome.reboot_required) << "no reboot was asked for";
}

// A manager that always fails (a lock never let go): the retries stop at
// the deadline, long before the count would; the first retry says so.
TEST(PackageRun, RetriesStopAtTheirDeadlineAndTheFirstRetrySaysWhen) {
  ScriptedCommands commands;
  auto request = apt_install_jq();
  request.attempts = 20;
  request.retry_deadline_seconds = 9;
  // Backoff 1 s, 2 s, 3 s: tries at 0, 1, 3 and 6 s; the next would start
  // at 10 s, past the deadline.
  for (int i = 0; i < 4; ++i) {
    commands.answer(kInstallJq, 100, "E: Could not get lock /var/lib/dpkg/lock-frontend");
  }
  auto outcome = run_packages(request, commands);
  EXPECT_EQ(commands.slept,
            (std::vector<std::chrono::milliseconds>{
                std::chrono::seconds(1), std::chrono::seconds(2), std::chrono::seconds(3)}));
  EXPECT_LE(commands.clock - std::chrono::system_clock::time_point{}, std::chrono::seconds(9));
  ASSERT_EQ(outcome.errors.size(), 1u);
  EXPECT_NE(outcome.errors[0].find("installing jq failed after 4 tries"), std::string::npos)
      << outcome.errors[0];
  EXPECT_NE(outcome.errors[0].find("9 s retry deadline"), std::string::npos) << outcome.errors[0];
  EXPECT_NE(outcome.errors[0].find("Could not get lock"), std::string::npos) << outcome.errors[0];
  std::vector<std::string> told;
  for (const auto& line : commands.lines) {
    if (line.find("will try for up to") != std::string::npos) {
      told.push_back(line);
    }
  }
  EXPECT_EQ(told,
            std::vector<std::string>{"packages: try 2 of 20 in 1000 ms (will try for up to 9 s)"});
}

const std::vector<std::string> kDnfInstallJq = {"dnf", "--assumeyes", "--setopt=exit_on_lock=True",
                                                "install", "jq"};
const std::string kDnfLocked =
    "RPMDB already locked by 4242\n  The application with PID 4242 is: dnf\n";

ManagePackages dnf_install_jq(int lock_timeout_seconds) {
  return ManagePackages{
      .manager = "dnf", .packages = {{"jq", ""}}, .lock_timeout_seconds = lock_timeout_seconds};
}

std::vector<std::chrono::milliseconds> seconds(std::vector<int> list) {
  std::vector<std::chrono::milliseconds> out;
  for (int s : list) {
    out.push_back(std::chrono::seconds(s));
  }
  return out;
}

// dnf gives up at once (exit_on_lock): amiboot waits for the lock, trying
// every second, as apt-get waits DPkg::Lock::Timeout inside; no attempt is
// used up while it waits.
TEST(PackageRun, DnfsHeldLockIsWaitedForEverySecondWithoutUsingAnAttempt) {
  ScriptedCommands commands;
  auto request = dnf_install_jq(60);
  request.attempts = 1;
  commands.answer(kDnfInstallJq, 200, kDnfLocked);
  commands.answer(kDnfInstallJq, 200, kDnfLocked);
  commands.answer(kDnfInstallJq, 0, "Complete!\n");
  auto outcome = run_packages(request, commands);
  EXPECT_TRUE(outcome.errors.empty()) << outcome.errors[0];
  EXPECT_EQ(commands.slept, seconds({1, 1}));
  EXPECT_NE(std::find(commands.lines.begin(), commands.lines.end(),
                      "packages: dnf is locked by another process (RPMDB already locked by "
                      "4242); waiting up to 60 s (lock_timeout_seconds)"),
            commands.lines.end());
}

// A lock never let go: after lock_timeout_seconds the wait ends, and the
// lock is a transient failure tried again after the backoff (as apt-get's
// "Could not get lock" after its own wait); each try waits again.
TEST(PackageRun, DnfsLockWaitEndsAtLockTimeoutThenTheTryIsATransientFailure) {
  ScriptedCommands commands;
  auto request = dnf_install_jq(3);
  request.attempts = 2;
  for (int i = 0; i < 8; ++i) {  // 1 + 3 polls, a backoff, 1 + 3 polls
    commands.answer(kDnfInstallJq, 200, kDnfLocked);
  }
  auto outcome = run_packages(request, commands);
  EXPECT_EQ(commands.slept, seconds({1, 1, 1, 1, 1, 1, 1}));  // the 4th is the backoff
  ASSERT_EQ(outcome.errors.size(), 1u);
  EXPECT_EQ(outcome.errors[0],
            "installing jq failed after 2 tries (dnf exited with status 200: RPMDB already "
            "locked by 4242)");
  EXPECT_NE(std::find(commands.lines.begin(), commands.lines.end(),
                      "packages: dnf still locked after 3 s (RPMDB already locked by 4242)"),
            commands.lines.end());
}

TEST(PackageRun, LockTimeoutZeroMeansDnfsLockIsNotWaitedFor) {
  ScriptedCommands commands;
  auto request = dnf_install_jq(0);
  request.attempts = 1;
  commands.answer(kDnfInstallJq, 200, kDnfLocked);
  auto outcome = run_packages(request, commands);
  EXPECT_TRUE(commands.slept.empty());
  ASSERT_EQ(outcome.errors.size(), 1u);
}

TEST(PackageRun, AMissingPackageIsAnErrorThatNamesIt) {
  ScriptedCommands commands;
  auto request = apt_install_jq();
  request.attempts = 1;
  commands.answer(kInstallJq, 100, "E: Unable to locate package jq");
  // A stale index first: one update, then the install again.
  commands.answer(
      {"apt-get", "--assume-yes", "--quiet", "-o", "DPkg::Lock::Timeout=300", "-o",
       "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold", "update"},
      0);
  commands.answer(kInstallJq, 100, "E: Unable to locate package jq");
  auto outcome = run_packages(request, commands);
  ASSERT_EQ(outcome.errors.size(), 1u);
  EXPECT_NE(outcome.errors[0].find("jq"), std::string::npos) << outcome.errors[0];
}

TEST(PackageRun, ARebootIsAskedForOnlyWhenWantedAndTheManagerSaysSo) {
  auto request = apt_install_jq();
  request.reboot_if_required = true;
  {
    ScriptedCommands commands;
    commands.answer(kInstallJq, 0);
    EXPECT_FALSE(run_packages(request, commands).reboot_required);
  }
  ScriptedCommands commands;
  commands.answer(kInstallJq, 0);
  commands.files.insert("/var/run/reboot-required");
  EXPECT_TRUE(run_packages(request, commands).reboot_required);
  request.reboot_if_required = false;
  ScriptedCommands unwanted;
  unwanted.answer(kInstallJq, 0);
  unwanted.files.insert("/var/run/reboot-required");
  EXPECT_FALSE(run_packages(request, unwanted).reboot_required);
}

TEST(PackageRun, AnUnknownManagerRunsNothing) {
  ScriptedCommands commands;
  auto outcome = run_packages(ManagePackages{.manager = "pacman"}, commands);
  EXPECT_EQ(outcome.errors, std::vector<std::string>{"packages: unknown package manager pacman"});
  EXPECT_TRUE(commands.ran.empty());
}

}  // namespace
}  // namespace amiboot
