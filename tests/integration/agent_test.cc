// SPDX-License-Identifier: Apache-2.0
// The real amiboot binary against the fake IMDS over loopback, in a sandbox
// root: what an instance sees on its first boot, its second, and as a copy.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string_view>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/fake_imds.h"
#include "tests/support/test_util.h"

namespace amiboot::testing {
namespace {

namespace fs = std::filesystem;

bool wait_for_file(const std::string& path);

class Agent : public ::testing::Test {
 protected:
  CommandResult amiboot(std::vector<std::string> args, std::map<std::string, std::string> env = {},
                        const std::string& input = "") {
    args.insert(args.begin(), amiboot_binary());
    env.emplace("AMIBOOT_LOG", "stderr");
    return run(args, env, input);
  }
  CommandResult run_agent(std::vector<std::string> extra = {},
                          std::map<std::string, std::string> env = {}) {
    std::vector<std::string> args = {"run", "--root", root.path(), "--imds", imds.url()};
    args.insert(args.end(), extra.begin(), extra.end());
    return amiboot(args, env);
  }
  nlohmann::json status() {
    return nlohmann::json::parse(read_file(root / "run/amiboot/status.json"));
  }
  nlohmann::json module(const std::string& stage, const std::string& name) {
    auto doc = status();  // keep it alive while we walk it
    for (const auto& m : doc["stages"][stage]["modules"]) {
      if (m["name"] == name) {
        return m;
      }
    }
    return nullptr;
  }
  // A reboot: /run is a tmpfs, so per-boot state is gone.
  void reboot() { fs::remove_all(root / "run"); }
  int lines(const std::string& rel) {
    std::string text = read_file(root / rel);
    return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  }

  FakeImds imds;
  TempDir root;
  // A first run that holds the run lock while its runcmd sleeps `seconds`;
  // returns once its pid is in the lock file.
  void hold_the_lock(int seconds, TempDir& logs, pid_t& first) {
    imds.set_user_data(
        "#cloud-config\nruncmd:\n  - echo ran >> \"$AMIBOOT_ROOT/runcmd.log\"; sleep " +
        std::to_string(seconds) + "\n");
    first = start_agent(root.path(), imds.url(), logs / "first");
    ASSERT_TRUE(wait_for_file(root / "run/amiboot/run.lock")) << read_file(logs / "first");
    ASSERT_EQ(read_file(root / "run/amiboot/run.lock"), std::to_string(first) + "\n");
  }
};

constexpr const char* kUserData = R"(#cloud-config
bootcmd:
  - echo boot >> "$AMIBOOT_ROOT/bootcmd.log"
write_files:
  - path: /etc/app.conf
    content: "port: 8080\n"
runcmd:
  - echo "$INSTANCE_ID" >> "$AMIBOOT_ROOT/runcmd.log"
)";

TEST_F(Agent, FirstBootRunsEverythingAndReportsDone) {
  imds.set_user_data(kUserData);
  auto r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(root / "etc/app.conf"), "port: 8080\n");
  EXPECT_EQ(read_file(root / "runcmd.log"), "i-0123456789abcdef0\n");
  EXPECT_EQ(lines("bootcmd.log"), 1);
  auto s = status();
  EXPECT_EQ(s["status"], "done");
  EXPECT_EQ(s["instance_id"], "i-0123456789abcdef0");
  EXPECT_EQ(module("init", "write_files")["result"], "ok");
  EXPECT_EQ(module("final", "scripts_user")["result"], "ok");
  auto st = amiboot({"status", "--root", root.path()});
  EXPECT_EQ(st.exit_code, 0);
  EXPECT_EQ(st.out, "status: done\n");
  // State is root-only.
  EXPECT_EQ(fs::status(root / "var/lib/amiboot").permissions() & fs::perms::all,
            fs::perms::owner_all);
  EXPECT_EQ(
      fs::status(root / "var/lib/amiboot/instances/i-0123456789abcdef0/user-data").permissions() &
          fs::perms::all,
      fs::perms::owner_read | fs::perms::owner_write);
}

TEST_F(Agent, SecondBootOfTheSameInstanceRunsOnlyPerBootModules) {
  imds.set_user_data(kUserData);
  ASSERT_EQ(run_agent().exit_code, 0);
  fs::remove(root / "etc/app.conf");
  reboot();
  auto r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(lines("bootcmd.log"), 2);  // per boot
  EXPECT_EQ(lines("runcmd.log"), 1);   // per instance: not again
  EXPECT_FALSE(exists(root / "etc/app.conf"));
  EXPECT_EQ(module("init", "write_files")["reason"], "already ran for this instance");
  EXPECT_EQ(module("final", "scripts_user")["result"], "skipped");
  // Within one boot even per-boot work is not repeated.
  ASSERT_EQ(run_agent().exit_code, 0);
  EXPECT_EQ(lines("bootcmd.log"), 2);
}

TEST_F(Agent, NewInstanceIdRunsPerInstanceModulesAgain) {
  imds.set_user_data(kUserData);
  ASSERT_EQ(run_agent().exit_code, 0);
  reboot();
  imds.set_instance_id("i-0fedcba9876543210");
  auto r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(root / "runcmd.log"), "i-0123456789abcdef0\ni-0fedcba9876543210\n");
  EXPECT_EQ(fs::read_symlink(root / "var/lib/amiboot/instance"), "instances/i-0fedcba9876543210");
  EXPECT_NE(r.err.find("new instance i-0fedcba9876543210 (was i-0123456789abcdef0)"),
            std::string::npos)
      << r.err;
}

TEST_F(Agent, FailingModuleDoesNotStopTheOthersAndStatusSaysWhy) {
  imds.set_user_data(R"(#cloud-config
bootcmd:
  - exit 3
write_files:
  - path: /etc/still-written
    content: yes
runcmd:
  - [touch, /nonexistent-dir/x]
  - echo ran >> "$AMIBOOT_ROOT/after-failure"
  - [sh, -c, "exit 4"]
)");
  auto r = run_agent();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(exists(root / "etc/still-written"));
  // runcmd is one script, as in cloud-init: a failing item does not stop
  // the next, and the script's status is its last command's.
  EXPECT_EQ(read_file(root / "after-failure"), "ran\n");
  auto boot = module("init", "bootcmd");
  EXPECT_EQ(boot["result"], "failed");
  EXPECT_EQ(boot["errors"][0], "bootcmd exited with status 3");
  EXPECT_EQ(module("final", "scripts_user")["errors"][0], "runcmd exited with status 4");
  EXPECT_EQ(status()["status"], "error");
  auto st = amiboot({"status", "--root", root.path()});
  EXPECT_EQ(st.exit_code, 1);
  EXPECT_NE(st.out.find("error: bootcmd: bootcmd exited with status 3"), std::string::npos)
      << st.out;
}

TEST_F(Agent, BootcmdAndRuncmdAreEachOneShScriptAsInCloudInit) {
  // What cloud-init user data relies on: a cd or an export carries over to
  // the items after it, in either form of item; a failing item in the
  // middle does not stop the rest.
  imds.set_user_data(R"(#cloud-config
bootcmd:
  - mkdir -p "$AMIBOOT_ROOT/srv/app"
  - cd "$AMIBOOT_ROOT/srv/app"
  - export STAGE=boot
  - false
  - [sh, -c, 'echo "$STAGE $INSTANCE_ID" > here']
runcmd:
  - cd "$AMIBOOT_ROOT/srv/app" && greeting="it's"
  - [sh, -c, 'echo "$1" > quoted', sh, "it's $HOME; `true`"]
  - echo "$greeting" > carried
)");
  auto r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(root / "srv/app/here"), "boot i-0123456789abcdef0\n");
  // A list item's words reach the command as they are, quotes and all.
  EXPECT_EQ(read_file(root / "srv/app/quoted"), "it's $HOME; `true`\n");
  EXPECT_EQ(read_file(root / "srv/app/carried"), "it's\n");
  EXPECT_EQ(module("init", "bootcmd")["result"], "ok");
  EXPECT_EQ(module("final", "scripts_user")["result"], "ok");
  // runcmd's script is where cloud-init keeps it, root's alone.
  auto script = root / "var/lib/amiboot/instances/i-0123456789abcdef0/scripts/runcmd";
  EXPECT_EQ(read_file(script).rfind("#!/bin/sh\ncd ", 0), 0u) << read_file(script);
  EXPECT_EQ(fs::status(script).permissions() & fs::perms::all, fs::perms::owner_all);
}

TEST_F(Agent, WriteFilesEscapeRejectsTheWholeConfigAndWritesNothing) {
  imds.set_user_data(R"(#cloud-config
write_files:
  - path: /etc/fine
    content: fine
  - path: /etc/../../escape
    content: bad
runcmd:
  - touch "$AMIBOOT_ROOT/runcmd-ran"
)");
  auto r = run_agent();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(exists(root / "etc/fine"));
  EXPECT_FALSE(exists(root / "runcmd-ran"));
  EXPECT_FALSE(exists(fs::path(root.path()).parent_path() / "escape"));
  EXPECT_NE(r.err.find("user-data:5:11: write_files[1].path: '/etc/../../escape' contains '..'"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("cloud-config rejected whole"), std::string::npos);
}

TEST_F(Agent, EmptyOrMissingUserDataIsNothingToDo) {
  imds.set_user_data("");
  auto r = run_agent();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(status()["status"], "done");
  reboot();
  imds.set_user_data(std::nullopt);  // IMDS answers 404
  imds.set_instance_id("i-0000000000000000b");
  r = run_agent();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(status()["status"], "done");
  EXPECT_TRUE(status()["errors"].empty());
}

/// Whether process `pid` is alive (a zombie is not).
bool alive(pid_t pid) {
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

/// Waits up to 10 s for `path` to be non-empty.
bool wait_for_file(const std::string& path) {
  for (int i = 0; i < 200; ++i) {
    if (!read_file(path).empty()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

TEST_F(Agent, KilledMidRuncmdDoesNotRunItsScriptAgainAndLeavesNoChild) {
  imds.set_user_data(R"(#cloud-config
write_files:
  - path: /etc/written-once
    content: x
runcmd:
  - echo start >> "$AMIBOOT_ROOT/runcmd.log"
  - if [ -e "$AMIBOOT_ROOT/slow" ]; then sleep 60 & echo $! > "$AMIBOOT_ROOT/child.pid"; wait; fi
  - echo end >> "$AMIBOOT_ROOT/runcmd.log"
)");
  write_file(root / "slow", "");
  TempDir logs;
  pid_t pid = start_agent(root.path(), imds.url(), logs / "err");
  // Wait until runcmd is inside its slow command.
  ASSERT_TRUE(wait_for_file(root / "child.pid")) << read_file(logs / "err");
  ASSERT_EQ(read_file(root / "runcmd.log"), "start\n");
  pid_t child = std::stoi(read_file(root / "child.pid"));
  kill(pid, SIGKILL);  // amiboot alone, as the OOM killer would
  int wstatus = 0;
  waitpid(pid, &wstatus, 0);
  ASSERT_TRUE(WIFSIGNALED(wstatus));
  // The command's child dies with amiboot (its keeper kills the group).
  for (int i = 0; i < 100 && alive(child); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_FALSE(alive(child)) << "the killed command's child outlived amiboot";
  if (alive(child)) {
    kill(child, SIGKILL);
  }
  // The status file still says running; status sees the process is gone,
  // says so and what was running, and --wait returns instead of waiting forever.
  for (std::vector<std::string> args :
       {std::vector<std::string>{"status"}, std::vector<std::string>{"status", "--wait"}}) {
    args.insert(args.begin(), {"timeout", "20", amiboot_binary()});
    args.insert(args.end(), {"--root", root.path()});
    auto s = run(args);
    EXPECT_EQ(s.exit_code, 1) << s.out << s.err;
    EXPECT_NE(s.out.find("status: error"), std::string::npos) << s.out;
    EXPECT_NE(s.out.find("the final stage stopped before it finished, while module scripts_user "
                         "was running: its process (pid " +
                         std::to_string(pid) + ") is gone"),
              std::string::npos)
        << s.out;
  }
  // The same in the document, for tools: where the run died.
  auto json = run({"timeout", "20", amiboot_binary(), "status", "--json", "--root", root.path()});
  auto doc = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << json.out;
  EXPECT_EQ(doc["died_in"], (nlohmann::json{{"stage", "final"}, {"module", "scripts_user"}}))
      << json.out;
  fs::remove(root / "etc/written-once");
  fs::remove(root / "slow");
  auto r = run_agent();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  // runcmd's script is one command: interrupted, it is not run again (its
  // first line would append a second time), and it is named.
  EXPECT_EQ(read_file(root / "runcmd.log"), "start\n");
  EXPECT_FALSE(exists(root / "etc/written-once"));  // write_files was done before the kill
  EXPECT_EQ(module("init", "write_files")["reason"], "already ran for this instance");
  auto scripts = module("final", "scripts_user");
  EXPECT_EQ(scripts["result"], "failed");
  ASSERT_EQ(scripts["errors"].size(), 1u) << scripts.dump();
  EXPECT_NE(scripts["errors"][0].get<std::string>().find(
                "runcmd: was under way when an earlier run of amiboot died"),
            std::string::npos)
      << scripts.dump();
  // A third run: everything is done.
  r = run_agent();
  EXPECT_EQ(read_file(root / "runcmd.log"), "start\n");
}

TEST_F(Agent, KilledMidAppendAppendsAtMostOnceAndLeavesNoTemporaryFile) {
  // 60 MiB of zeros behind a marker, so that the write takes long enough
  // for the kill to land in it even on a loaded machine (the limits are
  // raised to let it through: one entry may be 64 MiB).
  auto blob =
      run({"sh", "-c", "{ printf MARK; head -c 62914560 /dev/zero; } | gzip -1 | base64 -w0"});
  ASSERT_EQ(blob.exit_code, 0);
  write_file(root / "etc/amiboot/amiboot.yaml",
             "amiboot:\n  limits:\n    write_files_bytes: 67108864\n");
  imds.set_user_data(
      "#cloud-config\nwrite_files:\n  - path: /etc/app.log\n    append: true\n"
      "    encoding: gz+b64\n    content: " +
      blob.out + "\n");
  write_file(root / "etc/app.log", "first\n");
  // The kernel reports the temporary file's creation, so a busy machine
  // delays the kill but cannot make the test miss the file (polling the
  // folder did, once, under load).
  int watch = inotify_init1(IN_CLOEXEC);
  ASSERT_GE(watch, 0);
  ASSERT_GE(inotify_add_watch(watch, (root / "etc").c_str(), IN_CREATE), 0);
  TempDir logs;
  pid_t pid = start_agent(root.path(), imds.url(), logs / "err");
  bool seen = false;
  alignas(inotify_event) char events[4096];
  pollfd ready{watch, POLLIN, 0};
  while (!seen && poll(&ready, 1, 60000) == 1) {
    ssize_t n = read(watch, events, sizeof events);
    for (ssize_t at = 0; at < n;) {
      const auto* e = reinterpret_cast<const inotify_event*>(events + at);
      if (e->len > 0 && std::string_view(e->name).starts_with(".app.log.amiboot-")) {
        seen = true;
      }
      at += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
    }
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  close(watch);
  ASSERT_TRUE(seen) << "the append's temporary file never appeared: " << read_file(logs / "err");
  auto r = run_agent();
  std::string log = read_file(root / "etc/app.log");
  std::size_t marks = 0;
  for (auto at = log.find("MARK"); at != std::string::npos; at = log.find("MARK", at + 1)) {
    ++marks;
  }
  EXPECT_LE(marks, 1u) << "appended twice";
  EXPECT_EQ(log.rfind("first\n", 0), 0u);
  for (const auto& e : fs::directory_iterator(root / "etc")) {
    EXPECT_EQ(e.path().filename().string().find(".amiboot-"), std::string::npos)
        << "left behind: " << e.path();
  }
  auto files = module("init", "write_files");
  ASSERT_FALSE(files["errors"].empty()) << files.dump();
  EXPECT_NE(files["errors"][0].get<std::string>().find("write_files[0]"), std::string::npos)
      << files.dump();
}

TEST_F(Agent, TwoRunsAtOnceRunEachModuleOnce) {
  imds.set_user_data(R"(#cloud-config
runcmd:
  - echo ran >> "$AMIBOOT_ROOT/runcmd.log"; sleep 1
)");
  TempDir logs;
  pid_t first = start_agent(root.path(), imds.url(), logs / "first");
  pid_t second = start_agent(root.path(), imds.url(), logs / "second");
  int a = 0, b = 0;
  waitpid(first, &a, 0);
  waitpid(second, &b, 0);
  EXPECT_EQ(WEXITSTATUS(a), 0) << read_file(logs / "first");
  EXPECT_EQ(WEXITSTATUS(b), 0) << read_file(logs / "second");
  EXPECT_EQ(read_file(root / "runcmd.log"), "ran\n");
  std::string both = read_file(logs / "first") + read_file(logs / "second");
  EXPECT_NE(both.find("holds /run/amiboot/run.lock; waiting up to"), std::string::npos) << both;
}

// --lock-wait 0: a second run (or one a runcmd starts) fails at once,
// naming the run that holds the lock, and runs nothing.
TEST_F(Agent, LockWaitZeroFailsAtOnceNamingTheHolder) {
  TempDir logs;
  pid_t first = 0;
  ASSERT_NO_FATAL_FAILURE(hold_the_lock(4, logs, first));
  auto started = std::chrono::steady_clock::now();
  auto second = run_agent({"--lock-wait", "0"});
  auto took = std::chrono::steady_clock::now() - started;
  int status = 0;
  waitpid(first, &status, 0);
  EXPECT_EQ(WEXITSTATUS(status), 0) << read_file(logs / "first");
  EXPECT_EQ(second.exit_code, 1) << second.err;
  EXPECT_NE(second.err.find("another amiboot run (pid " + std::to_string(first) +
                            ") holds /run/amiboot/run.lock; not running, and not waiting"),
            std::string::npos)
      << second.err;
  EXPECT_EQ(second.err.find("waiting up to"), std::string::npos) << second.err;
  // At once: well before the first run's 4 s command is over.
  EXPECT_LT(took, std::chrono::seconds(3));
  EXPECT_EQ(read_file(root / "runcmd.log"), "ran\n");
}

// A wait that runs out says so, names the holder, and runs nothing.
TEST_F(Agent, ALockWaitThatRunsOutFailsNamingTheHolder) {
  TempDir logs;
  pid_t first = 0;
  ASSERT_NO_FATAL_FAILURE(hold_the_lock(6, logs, first));
  auto second = run_agent({"--lock-wait", "1"});
  int status = 0;
  waitpid(first, &status, 0);
  EXPECT_EQ(WEXITSTATUS(status), 0) << read_file(logs / "first");
  EXPECT_EQ(second.exit_code, 1) << second.err;
  EXPECT_NE(second.err.find("another amiboot run (pid " + std::to_string(first) +
                            ") still holds /run/amiboot/run.lock after 1 s of waiting; not "
                            "running"),
            std::string::npos)
      << second.err;
  EXPECT_EQ(read_file(root / "runcmd.log"), "ran\n");
}

TEST_F(Agent, LockWaitTakesWholeSeconds) {
  for (const char* bad : {"-1", "soon", "1.5", ""}) {
    auto r = run_agent({"--lock-wait", bad});
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
    EXPECT_NE(r.err.find("--lock-wait takes whole seconds"), std::string::npos) << r.err;
  }
}

TEST_F(Agent, NotifiesSystemdWithStatusLinesAndReady) {
  imds.set_user_data(kUserData);
  TempDir sock_dir;
  std::string sock_path = sock_dir / "notify";
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock_path.c_str());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  // Read while the agent runs: a full datagram queue would block its sd_notify().
  std::vector<std::string> messages;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    char buf[4096];
    while (!done) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 50) > 0) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
          messages.emplace_back(buf, static_cast<std::size_t>(n));
        }
      }
    }
  });
  auto r = run_agent({}, {{"NOTIFY_SOCKET", sock_path}});
  done = true;
  reader.join();
  close(fd);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto index = [&](const std::string& m) {
    return std::find(messages.begin(), messages.end(), m) - messages.begin();
  };
  ASSERT_LT(index("READY=1"), static_cast<long>(messages.size()));
  ASSERT_LT(index("STATUS=init: running write_files"), static_cast<long>(messages.size()));
  ASSERT_LT(index("STATUS=final: running scripts_user"), static_cast<long>(messages.size()));
  // Ready once the init modules are done, before the final stage works.
  EXPECT_LT(index("STATUS=init: running write_files"), index("READY=1"));
  EXPECT_LT(index("READY=1"), index("STATUS=final: running scripts_user"));
}

TEST_F(Agent, TokenNeverAppearsInOutputOrFiles) {
  imds.set_user_data(kUserData);
  imds.fail_next("meta-data/local-hostname", 401, 1);  // forces a second token
  auto r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto tokens = imds.issued_tokens();
  ASSERT_EQ(tokens.size(), 2u);
  std::string everything = r.out + r.err;
  for (const auto& entry : fs::recursive_directory_iterator(root.path())) {
    if (entry.is_regular_file()) {
      everything += read_file(entry.path());
    }
  }
  for (const auto& t : tokens) {
    EXPECT_EQ(everything.find(t), std::string::npos);
  }
  EXPECT_NE(r.err.find("token"), std::string::npos) << "the refresh should be logged: " << r.err;
}

TEST_F(Agent, ImdsTurnedOffIsAClearErrorAndTheBootGoesOn) {
  imds.set_token_status(403);
  auto r = run_agent();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(imds.request_count(), 1);
  EXPECT_NE(r.err.find("403"), std::string::npos) << r.err;
  EXPECT_EQ(status()["status"], "error");
}

TEST_F(Agent, DryRunPrintsThePlanAsJsonAndChangesNothing) {
  imds.set_user_data(kUserData);
  auto r = run_agent({"--dry-run", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::is_empty(root.path()));
  auto plan = nlohmann::json::parse(r.out);
  EXPECT_EQ(plan["version"], 1);
  EXPECT_EQ(plan["instance_id"], "i-0123456789abcdef0");
  EXPECT_EQ(plan["new_instance"], true);
  bool found = false;
  for (const auto& m : plan["stages"][0]["modules"]) {
    if (m["name"] == "write_files") {
      found = true;
      EXPECT_EQ(m["run"], true);
      EXPECT_EQ(m["actions"][0]["action"], "write");
      EXPECT_EQ(m["actions"][0]["path"], "/etc/app.conf");
      EXPECT_EQ(m["actions"][0]["bytes"], 11);
      EXPECT_FALSE(m["actions"][0].contains("content"));  // user data stays out of output
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(Agent, ImageConfigIsTheBaseThatUserDataOverrides) {
  write_file(root / "etc/amiboot/amiboot.yaml",
             "final_message: from image\nruncmd: [echo image]\n");
  write_file(root / "etc/amiboot/amiboot.yaml.d/50-more.yaml", "final_message: from drop-in\n");
  auto r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "from drop-in\n");
  reboot();
  imds.set_instance_id("i-0000000000000000c");
  imds.set_user_data("#cloud-config\nfinal_message: from user data\n");
  r = run_agent();
  EXPECT_EQ(r.out, "from user data\n");
}

TEST_F(Agent, DisabledDoesNothingAndStatusSaysSo) {
  imds.set_user_data(kUserData);
  write_file(root / "etc/amiboot/disabled", "");
  auto r = run_agent();
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(imds.request_count(), 0);
  EXPECT_FALSE(exists(root / "etc/app.conf"));
  EXPECT_EQ(amiboot({"status", "--root", root.path()}).exit_code, 3);
}

TEST_F(Agent, StagesRunSeparatelyAsTheUnitsDo) {
  imds.set_user_data(kUserData);
  auto r = run_agent({"--stage", "init"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(exists(root / "runcmd.log"));
  EXPECT_EQ(amiboot({"status", "--root", root.path()}).exit_code, 2);  // still running
  int before = imds.request_count();
  r = amiboot({"run", "--stage", "final", "--root", root.path()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(imds.request_count(), before);  // the final stage reads the cache
  EXPECT_TRUE(exists(root / "runcmd.log"));
  EXPECT_EQ(amiboot({"status", "--root", root.path(), "--wait"}).exit_code, 0);
}

TEST_F(Agent, QueryCleanAndAnalyze) {
  imds.set_user_data(kUserData);
  ASSERT_EQ(run_agent().exit_code, 0);
  auto q = amiboot({"query", "instance_id", "--root", root.path()});
  EXPECT_EQ(q.out, "i-0123456789abcdef0\n");
  q = amiboot({"query", "block_device_mapping.root", "--root", root.path()});
  EXPECT_EQ(q.out, "/dev/xvda\n");
  q = amiboot({"query", "user_data", "--root", root.path()});
  EXPECT_EQ(q.out, kUserData);
  EXPECT_EQ(read_file(root / "run/amiboot/instance-data.json").find("runcmd"), std::string::npos);
  auto a = amiboot({"analyze", "--root", root.path()});
  EXPECT_NE(a.out.find("write_files (ok)"), std::string::npos) << a.out;
  EXPECT_EQ(amiboot({"clean", "--root", root.path()}).exit_code, 0);
  EXPECT_FALSE(exists(root / "var/lib/amiboot/instances"));
  reboot();
  ASSERT_EQ(run_agent().exit_code, 0);
  EXPECT_EQ(lines("runcmd.log"), 2);  // after clean the same id is a first boot again
}

TEST_F(Agent, SeedDirectoryIsASource) {
  TempDir seed;
  write_file(seed / "meta-data", "instance-id: i-seed\nlocal-hostname: seeded\n");
  write_file(seed / "user-data", kUserData);
  auto r = amiboot({"run", "--root", root.path(), "--seed", seed.path()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(root / "runcmd.log"), "i-seed\n");
  EXPECT_EQ(status()["source"], "seed:" + seed.path());
}

}  // namespace
}  // namespace amiboot::testing

namespace amiboot::testing {
namespace {

TEST(AgentOffEc2, GivesUpSoonAndSaysNotOnEc2) {
  std::string vendor = read_file("/sys/class/dmi/id/sys_vendor");
  if (vendor.rfind("Amazon EC2", 0) == 0) {
    GTEST_SKIP() << "this host is an EC2 instance; the off-EC2 path cannot be shown here";
  }
  TempDir root;
  // Nothing listens on port 1; without --imds the image config's endpoint is used.
  write_file(root / "etc/amiboot/amiboot.yaml",
             "amiboot:\n  imds: {endpoint: 'http://127.0.0.1:1', deadline_seconds: 120}\n"
             "  off_ec2_deadline_seconds: 1\n");
  auto started = std::chrono::steady_clock::now();
  auto r = run({amiboot_binary(), "run", "--root", root.path()}, {{"AMIBOOT_LOG", "stderr"}});
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_LT(took, std::chrono::seconds(10));  // not the 120 s EC2 deadline
  EXPECT_NE(r.err.find("does not look like an EC2 instance"), std::string::npos) << r.err;
  auto st = run({amiboot_binary(), "status", "--root", root.path()});
  EXPECT_EQ(st.out.rfind("status: not-on-ec2\n", 0), 0u) << st.out;
  EXPECT_EQ(st.exit_code, 3);
}

}  // namespace
}  // namespace amiboot::testing
