// SPDX-License-Identifier: Apache-2.0
// RecordingSystem: a scripted, recording System for unit tests of the
// executor, the runner, state and the report. Files, folders and symlinks
// live in memory; a test scripts what may happen (the commands, in order;
// the HTTP answers and GET bodies; the folders writes may go to; the console) and every call
// is recorded. Any call the test did not script fails the test loudly
// (ADD_FAILURE naming the call) and returns an error; expectations left
// unused fail it when the fake is destroyed.
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "agent/system.h"
#include "modules/actions.h"

namespace amiboot::testing {

/// One write_file or make_owned_dir call, as System got it.
struct RecordedWrite {
  std::string kind;  // "write_file", "make_owned_dir"
  std::string path;
  std::string content;
  mode_t mode = 0;
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  bool durable = true;
};

/// One http_get call, as System got it.
struct RecordedGet {
  std::string url;
  std::map<std::string, std::string> headers;
  std::size_t max_bytes = 0;
};

class RecordingSystem : public System {
 public:
  explicit RecordingSystem(std::string root = "/") : m_root(std::move(root)) {}
  RecordingSystem(const RecordingSystem&) = delete;
  RecordingSystem& operator=(const RecordingSystem&) = delete;
  ~RecordingSystem() override { verify(); }

  // --- scripting -----------------------------------------------------------

  /// The instance filesystem as the test starts it (parent folders implied).
  void add_file(const std::string& path, const std::string& content) {
    files[path] = content;
    add_parents(path);
  }
  void add_dir(const std::string& path) {
    dirs.insert(path);
    add_parents(path);
  }
  /// A host file outside the root (seed folders, /sys/class/dmi/id/...).
  void add_host_file(const std::string& path, const std::string& content) {
    host_files[path] = content;
  }
  /// Writes (write_file, make_dirs, make_owned_dir, remove_all, symlink) to
  /// `prefix` or below are allowed and applied to the in-memory files.
  void allow_writes(const std::string& prefix) { m_writable.push_back(prefix); }
  /// The next command run must have this argv; it "exits" with exit_code.
  void expect_run(std::vector<std::string> argv, int exit_code = 0, std::string output = "") {
    m_runs.push_back({std::move(argv), exit_code, std::move(output)});
  }
  /// Requests to method+url get these answers, one per call, in order.
  void expect_http(const std::string& method, const std::string& url, std::vector<Status> answers) {
    auto& queue = m_http[method + " " + url];
    queue.insert(queue.end(), answers.begin(), answers.end());
  }
  /// GETs of url get these answers (a body or an error), one per call, in order.
  void expect_get(const std::string& url, std::vector<Result<std::string>> answers) {
    auto& queue = m_gets[url];
    queue.insert(queue.end(), answers.begin(), answers.end());
  }
  void allow_console() { m_console_allowed = true; }
  /// The next set_hostname call must name `name`; it gets `answer`.
  void expect_hostname(std::string name, Status answer = {}) {
    m_hostnames.push_back({std::move(name), std::move(answer)});
  }
  /// The next grow_partition call must ask for exactly `request`; it gets
  /// `answer` (a journal line or an error).
  void expect_grow(GrowPartition request, Result<std::string> answer) {
    m_grows.push_back({std::move(request), std::move(answer)});
  }
  /// The next make_partition_table call must ask for exactly `request`.
  void expect_table(MakePartitionTable request, Result<std::string> answer) {
    m_tables.push_back({std::move(request), std::move(answer)});
  }

  /// Fails the test for every expectation not used up (also on destruction).
  void verify() {
    for (const auto& r : m_runs) {
      ADD_FAILURE() << "RecordingSystem: expected command never ran: " << quote_argv(r.argv);
    }
    m_runs.clear();
    for (const auto& [request, answers] : m_http) {
      if (!answers.empty()) {
        ADD_FAILURE() << "RecordingSystem: " << answers.size()
                      << " scripted HTTP answer(s) never used: " << request;
      }
    }
    m_http.clear();
    for (const auto& [url, answers] : m_gets) {
      if (!answers.empty()) {
        ADD_FAILURE() << "RecordingSystem: " << answers.size()
                      << " scripted GET answer(s) never used: " << url;
      }
    }
    m_gets.clear();
    for (const auto& [request, answer] : m_grows) {
      ADD_FAILURE() << "RecordingSystem: expected partition growth never asked for: "
                    << describe(Action(request));
    }
    m_grows.clear();
    for (const auto& [request, answer] : m_tables) {
      ADD_FAILURE() << "RecordingSystem: expected partition table never asked for: "
                    << describe(Action(request));
    }
    m_tables.clear();
    for (const auto& [name, answer] : m_hostnames) {
      ADD_FAILURE() << "RecordingSystem: expected hostname never set: " << name;
    }
    m_hostnames.clear();
  }

  // --- state a test sets or reads ------------------------------------------

  std::map<std::string, std::string> files;  // instance path -> content
  std::set<std::string> dirs;
  std::map<std::string, std::string> symlinks;  // link -> target
  std::map<std::string, std::string> host_files;
  std::set<std::string> programs;                               // has_program
  std::map<std::string, std::vector<std::string>> executables;  // executables_in
  double uptime = 42.5;
  std::string cmdline = "BOOT_IMAGE=/vmlinuz root=/dev/nvme0n1p1";
  std::chrono::system_clock::time_point clock{std::chrono::seconds(1700000000)};

  std::vector<std::string> calls;  // every effect, described, in order
  std::vector<RecordedWrite> writes;
  std::vector<CommandSpec> commands;
  std::vector<RecordedGet> gets;
  std::vector<std::chrono::milliseconds> sleeps;
  std::vector<std::string> console_lines;
  std::vector<std::string> console_only_texts;

  // --- System --------------------------------------------------------------

  const std::string& root() const override { return m_root; }

  Result<std::string> resolve(const std::string& path, bool = true) const override {
    if (path.empty() || path[0] != '/') {
      return error("not an absolute path: " + path);
    }
    return under_root() ? m_root + path : path;
  }
  Result<std::string> read_file(const std::string& path,
                                std::size_t max_bytes = 64 << 20) const override {
    auto it = files.find(path);
    if (it == files.end()) {
      return error(path + ": No such file or directory");
    }
    return it->second.substr(0, max_bytes);
  }
  bool exists(const std::string& path) const override {
    return files.count(path) > 0 || dirs.count(path) > 0 || symlinks.count(path) > 0;
  }
  Status write_file(const std::string& path, std::string_view content,
                    const FileAttrs& attrs) override {
    std::string call = "write_file " + path +
                       (!attrs.durable      ? ""
                        : attrs.sync_folder ? " (durable)"
                                            : " (durable, its folder synced later)");
    if (!writable(path)) {
      return unscripted(call);
    }
    calls.push_back(call);
    if (attrs.check) {
      if (auto st = attrs.check(path + ".amiboot-tmp"); !st) {
        return st;
      }
    }
    writes.push_back({"write_file", path, std::string(content), attrs.mode, attrs.uid, attrs.gid,
                      attrs.durable});
    add_file(path, std::string(content));
    return {};
  }
  Status make_dirs(const std::string& path, mode_t mode) override {
    std::string call = "make_dirs " + path + " " + octal(mode);
    if (!writable(path)) {
      return unscripted(call);
    }
    calls.push_back(call);
    add_dir(path);
    return {};
  }
  Status make_owned_dir(const std::string& path, const FileAttrs& attrs) override {
    std::string call = "make_owned_dir " + path + " " + octal(attrs.mode);
    if (!writable(path)) {
      return unscripted(call);
    }
    calls.push_back(call);
    writes.push_back({"make_owned_dir", path, "", attrs.mode, attrs.uid, attrs.gid, true});
    add_dir(path);
    return {};
  }
  Status remove_all(const std::string& path) override {
    std::string call = "remove_all " + path;
    if (!writable(path)) {
      return unscripted(call);
    }
    calls.push_back(call);
    auto under = [&](const std::string& p) { return p == path || p.rfind(path + "/", 0) == 0; };
    std::erase_if(files, [&](const auto& e) { return under(e.first); });
    std::erase_if(dirs, under);
    std::erase_if(symlinks, [&](const auto& e) { return under(e.first); });
    return {};
  }
  Status symlink(const std::string& target, const std::string& link) override {
    std::string call = "symlink " + link + " -> " + target;
    if (!writable(link)) {
      return unscripted(call);
    }
    calls.push_back(call);
    symlinks[link] = target;
    add_parents(link);
    return {};
  }
  Status sync_folder(const std::string& path) override {
    calls.push_back("sync_folder " + path);
    return {};
  }
  Result<std::string> read_symlink(const std::string& path) const override {
    auto it = symlinks.find(path);
    if (it == symlinks.end()) {
      return error(path + ": not a symlink");
    }
    return it->second;
  }
  Result<std::vector<std::string>> list_dir(const std::string& path) const override {
    if (dirs.count(path) == 0) {
      return error(path + ": No such file or directory");
    }
    std::set<std::string> names;
    std::string prefix = path == "/" ? "/" : path + "/";
    auto take = [&](const std::string& p) {
      if (p.size() > prefix.size() && p.rfind(prefix, 0) == 0) {
        std::string rest = p.substr(prefix.size());
        names.insert(rest.substr(0, rest.find('/')));
      }
    };
    for (const auto& [p, c] : files) {
      take(p);
    }
    for (const auto& p : dirs) {
      take(p);
    }
    for (const auto& [p, t] : symlinks) {
      take(p);
    }
    return std::vector<std::string>(names.begin(), names.end());
  }
  std::vector<std::string> executables_in(const std::string& dir) const override {
    auto it = executables.find(dir);
    return it == executables.end() ? std::vector<std::string>{} : it->second;
  }
  std::optional<std::string> read_text(const std::string& path) const override {
    auto text = read_file(path);
    return text ? std::optional<std::string>(*text) : std::nullopt;
  }
  bool path_exists(const std::string& path) const override { return exists(path); }
  std::vector<std::string> list(const std::string& dir) const override {
    auto names = list_dir(dir);
    return names ? *names : std::vector<std::string>{};
  }
  bool has_program(const std::string& name) const override { return programs.count(name) > 0; }

  Result<CommandOutcome> run(const CommandSpec& spec) override {
    std::string call = "run " + quote_argv(spec.argv);
    commands.push_back(spec);
    if (m_runs.empty()) {
      return unscripted(call);
    }
    ExpectedRun next = m_runs.front();
    if (next.argv != spec.argv) {
      return unscripted(call + " (the next scripted command is " + quote_argv(next.argv) + ")");
    }
    m_runs.pop_front();
    calls.push_back(call);
    // A command whose stdout is kept apart "prints" the scripted output there.
    if (spec.capture_stdout) {
      return CommandOutcome{next.exit_code, "", next.output};
    }
    return CommandOutcome{next.exit_code, next.output, ""};
  }
  Status http_send(const std::string& method, const std::string& url, const std::string&,
                   const std::string&) override {
    std::string call = "http " + method + " " + url;
    auto it = m_http.find(method + " " + url);
    if (it == m_http.end() || it->second.empty()) {
      return unscripted(call);
    }
    calls.push_back(call);
    Status answer = it->second.front();
    it->second.erase(it->second.begin());
    return answer;
  }
  Result<std::string> http_get(const std::string& url,
                               const std::map<std::string, std::string>& headers,
                               std::size_t max_bytes) override {
    std::string call = "http GET " + url;
    auto it = m_gets.find(url);
    if (it == m_gets.end() || it->second.empty()) {
      return unscripted(call);
    }
    calls.push_back(call);
    gets.push_back({url, headers, max_bytes});
    Result<std::string> answer = it->second.front();
    it->second.erase(it->second.begin());
    if (answer && answer->size() > max_bytes) {
      return error("larger than " + std::to_string(max_bytes) + " bytes");
    }
    return answer;
  }
  void console(const std::string& text) override {
    if (!m_console_allowed) {
      (void)unscripted("console " + text);
      return;
    }
    calls.push_back("console " + text);
    console_lines.push_back(text);
  }
  /// Recorded apart, and never in `calls`, as the real one keeps it out of
  /// the journal; false (shown nowhere) when set_no_console() was called.
  bool console_only(const std::string& text) override {
    if (!m_console_allowed) {
      (void)unscripted("console_only");
      return false;
    }
    if (m_no_console) {
      return false;
    }
    console_only_texts.push_back(text);
    return true;
  }
  void set_no_console() { m_no_console = true; }
  Result<std::string> grow_partition(const GrowPartition& request) override {
    std::string call = describe(Action(request));
    if (m_grows.empty()) {
      return unscripted(call);
    }
    auto [expected, answer] = m_grows.front();
    m_grows.pop_front();
    EXPECT_EQ(call, describe(Action(expected)));
    EXPECT_TRUE(request == expected) << "label " << request.label << ", start " << request.start;
    calls.push_back(call);
    return answer;
  }
  Result<std::string> make_partition_table(const MakePartitionTable& request) override {
    std::string call = describe(Action(request));
    if (m_tables.empty()) {
      return unscripted(call);
    }
    auto [expected, answer] = m_tables.front();
    m_tables.pop_front();
    EXPECT_EQ(call, describe(Action(expected)));
    EXPECT_TRUE(request == expected) << request.label;
    calls.push_back(call);
    return answer;
  }
  Status set_hostname(const std::string& name) override {
    std::string call = "set_hostname " + name;
    if (m_hostnames.empty()) {
      return unscripted(call);
    }
    auto [expected, answer] = m_hostnames.front();
    m_hostnames.pop_front();
    EXPECT_EQ(name, expected);
    calls.push_back(call);
    return answer;
  }
  std::chrono::system_clock::time_point now() const override { return clock; }
  /// Takes no time: recorded, and the fake clock moves on.
  void sleep_for(std::chrono::milliseconds delay) override {
    sleeps.push_back(delay);
    clock += delay;
  }
  double uptime_seconds() const override { return uptime; }
  std::string kernel_cmdline() const override { return cmdline; }
  std::optional<std::string> read_host_file(const std::string& host_path) const override {
    auto it = host_files.find(host_path);
    return it == host_files.end() ? std::nullopt : std::optional<std::string>(it->second);
  }

 private:
  struct ExpectedRun {
    std::vector<std::string> argv;
    int exit_code;
    std::string output;
  };

  static std::string octal(mode_t mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode));
    return buf;
  }
  void add_parents(const std::string& path) {
    for (auto at = path.rfind('/'); at != std::string::npos && at > 0;
         at = path.rfind('/', at - 1)) {
      dirs.insert(path.substr(0, at));
    }
    dirs.insert("/");
  }
  bool writable(const std::string& path) const {
    return std::any_of(m_writable.begin(), m_writable.end(), [&](const std::string& prefix) {
      return path == prefix || path.rfind(prefix == "/" ? prefix : prefix + "/", 0) == 0;
    });
  }
  Error unscripted(const std::string& call) {
    ADD_FAILURE() << "RecordingSystem: unscripted call: " << call;
    calls.push_back("UNSCRIPTED " + call);
    return Error{"unscripted call: " + call};
  }

  std::string m_root;
  std::vector<std::string> m_writable;
  std::deque<ExpectedRun> m_runs;
  std::map<std::string, std::vector<Status>> m_http;
  std::map<std::string, std::vector<Result<std::string>>> m_gets;
  std::deque<std::pair<GrowPartition, Result<std::string>>> m_grows;
  std::deque<std::pair<MakePartitionTable, Result<std::string>>> m_tables;
  std::deque<std::pair<std::string, Status>> m_hostnames;
  bool m_console_allowed = false;
  bool m_no_console = false;
};

}  // namespace amiboot::testing
