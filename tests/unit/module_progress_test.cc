// SPDX-License-Identifier: Apache-2.0
// A module's progress record over a RecordingSystem: what it says at each
// point a kill could come, and what a later run makes of it.
#include "agent/module_progress.h"

#include <gtest/gtest.h>

#include "tests/support/fake_system.h"

namespace amiboot {
namespace {

using testing::RecordingSystem;

Action command(const std::string& label) {
  RunCommand run;
  run.argv = {"echo", label};
  run.label = label;
  return run;
}

Action file(const std::string& path) {
  return WriteFile{.path = path, .content = "x\n", .label = "write " + path};
}

constexpr const char* kProgressPath = "/var/lib/amiboot/instances/i-1/sem/scripts_user.progress";

/// scripts_user's record over a RecordingSystem that may write amiboot's
/// state, and two of its actions.
class ModuleProgressRecord : public ::testing::Test {
 protected:
  ModuleProgressRecord() { system.allow_writes("/var/lib/amiboot"); }
  RecordingSystem system;
  State state{system};
  ModuleSpec module{"scripts_user", {},      Stage::Final, Frequency::PerInstance,
                    false,          nullptr, nullptr,      nullptr};
  Action a = command("runcmd[0]");
  Action b = command("runcmd[1]");
};

nlohmann::json record(const RecordingSystem& system) {
  auto it = system.files.find(kProgressPath);
  return it == system.files.end() ? nlohmann::json(nullptr) : nlohmann::json::parse(it->second);
}

std::size_t saves(const RecordingSystem& system) {
  std::size_t n = 0;
  for (const auto& w : system.writes) {
    n += w.path.ends_with(".progress") ? 1 : 0;
  }
  return n;
}

TEST_F(ModuleProgressRecord, EachStartIsRecordedAndACompletedActionAtTheLatestWithTheNext) {
  std::string fa = action_fingerprint(a), fb = action_fingerprint(b);
  {
    ModuleProgress progress(state, module, "i-1");
    ASSERT_EQ(progress.before(0, a), ExecProgress::Before::Run);
    // Killed while a runs: a is under way.
    EXPECT_EQ(record(system)["running"], fa);
    EXPECT_EQ(record(system)["done"], nlohmann::json::array());
    progress.after(0, a);
    ASSERT_EQ(progress.before(1, b), ExecProgress::Before::Run);
    // Killed while b runs: a completed, b under way.
    EXPECT_EQ(record(system)["done"], nlohmann::json::array({fa}));
    EXPECT_EQ(record(system)["running"], fb);
    progress.after(1, b);
  }
  // The actions are over: both completed, none under way. One save per
  // action and one at the end.
  EXPECT_EQ(record(system)["done"], nlohmann::json::array({fa, fb}));
  EXPECT_TRUE(record(system)["running"].is_null());
  EXPECT_EQ(saves(system), 3u);
  // A later run (the semaphore never written: killed before mark_done)
  // runs neither again.
  ModuleProgress again(state, module, "i-1");
  EXPECT_EQ(again.before(0, a), ExecProgress::Before::AlreadyDone);
  EXPECT_EQ(again.before(1, b), ExecProgress::Before::AlreadyDone);
}

TEST_F(ModuleProgressRecord, AnActionUnderWayWhenTheRunDiedIsNotRunAgain) {
  std::string left;
  {
    ModuleProgress progress(state, module, "i-1");
    progress.before(0, a);
    progress.after(0, a);
    progress.before(1, b);
    // A kill here (while b runs) leaves this record: a killed process
    // runs no destructor, so it is put back after this one's.
    left = system.files.at(kProgressPath);
    progress.after(1, b);
  }
  system.files[kProgressPath] = left;
  ModuleProgress again(state, module, "i-1");
  EXPECT_EQ(again.before(0, a), ExecProgress::Before::AlreadyDone);
  EXPECT_EQ(again.before(1, b), ExecProgress::Before::Interrupted);
}

// Writing a whole file, removing one, making a folder: done again after a
// death, each leaves what doing it once leaves, so no record is written
// for them (a file create and a rename each, on every boot's writes).
TEST_F(ModuleProgressRecord, RedoSafeActionsWriteNoRecordAndAreDoneAgainAfterADeath) {
  Action w = file("/etc/a"), r = RemoveFile{"/etc/b", "remove /etc/b"};
  Action d = MakeDir{"/srv/c", 0755, "root", "folder /srv/c"};
  ASSERT_TRUE(redo_safe(w) && redo_safe(r) && redo_safe(d));
  {
    ModuleProgress progress(state, module, "i-1");
    std::size_t i = 0;
    for (const Action* x : {&w, &r, &d}) {
      ASSERT_EQ(progress.before(i, *x), ExecProgress::Before::Run);
      progress.after(i++, *x);
    }
  }
  EXPECT_EQ(saves(system), 0u);
  EXPECT_TRUE(record(system).is_null());
  // Killed before mark_done: the next run does them again.
  ModuleProgress again(state, module, "i-1");
  EXPECT_EQ(again.before(0, w), ExecProgress::Before::Run);
  // An appended line is not the same twice: recorded as a command is.
  WriteFile append = std::get<WriteFile>(file("/etc/log"));
  append.append = true;
  EXPECT_FALSE(redo_safe(append));
  EXPECT_FALSE(redo_safe(a));
}

TEST_F(ModuleProgressRecord, ACompletedCommandIsWrittenBeforeARedoSafeActionStarts) {
  Action w = file("/etc/a");
  std::string fa = action_fingerprint(a), fw = action_fingerprint(w), fb = action_fingerprint(b);
  std::string left;
  {
    ModuleProgress progress(state, module, "i-1");
    progress.before(0, a);
    progress.after(0, a);
    ASSERT_EQ(progress.before(1, w), ExecProgress::Before::Run);
    // Killed while the file is written: a completed, nothing under way (a
    // is not reported as interrupted).
    EXPECT_EQ(record(system)["done"], nlohmann::json::array({fa}));
    EXPECT_TRUE(record(system)["running"].is_null());
    progress.after(1, w);
    progress.before(2, b);
    // Killed while b runs: the file rode along with b's start.
    EXPECT_EQ(record(system)["done"], nlohmann::json::array({fa, fw}));
    EXPECT_EQ(record(system)["running"], fb);
    left = system.files.at(kProgressPath);
    progress.after(2, b);
  }
  system.files[kProgressPath] = left;
  ModuleProgress again(state, module, "i-1");
  std::vector<Action> actions = {a, w, b};
  EXPECT_EQ(again.settled(actions), (std::vector<bool>{true, true, true}));
  EXPECT_EQ(again.before(0, a), ExecProgress::Before::AlreadyDone);
  EXPECT_EQ(again.before(1, w), ExecProgress::Before::AlreadyDone);
  EXPECT_EQ(again.before(2, b), ExecProgress::Before::Interrupted);
}

// A record an earlier amiboot left with a whole-file write under way: the
// write is finished by doing it again, not reported as interrupted.
TEST_F(ModuleProgressRecord, ARedoSafeActionLeftUnderWayIsDoneAgain) {
  Action w = file("/etc/a");
  system.files[kProgressPath] = nlohmann::json{
      {"module", "scripts_user"},
      {"done", nlohmann::json::array()},
      {"running",
       action_fingerprint(w)}}.dump();
  ModuleProgress again(state, module, "i-1");
  EXPECT_EQ(again.settled({w}), std::vector<bool>{false});
  EXPECT_EQ(again.before(0, w), ExecProgress::Before::Run);
}

}  // namespace
}  // namespace amiboot
