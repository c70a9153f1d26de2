// SPDX-License-Identifier: Apache-2.0
// The init stage's lanes (modules/lanes.h): rows applied on a thread of
// their own while the rows after them go on. A System that may be used from
// two threads (a RecordingSystem behind one lock) and commands that meet:
// each lane's command waits until the other lane's has started, so the test
// fails, not hangs, when the lanes are serialised.
#include "modules/lanes.h"

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>

#include <gtest/gtest.h>

#include "agent/runner.h"
#include "agent/system.h"
#include "tests/support/fake_system.h"

namespace amiboot {
namespace {

using testing::RecordingSystem;

// Every call goes to the RecordingSystem under one lock, but for
// `meet NAME OTHER`: NAME has started; it waits, without the lock, up to
// 10 s (or the wait given) for OTHER to start, and exits 0 when it did, 1
// when not.
class ConcurrentSystem final : public System {
 public:
  /// `wait`: how long a meeting waits for the other side.
  explicit ConcurrentSystem(RecordingSystem& inner,
                            std::chrono::milliseconds wait = std::chrono::seconds(10))
      : m_inner(inner), m_wait(wait) {}

  bool concurrent_use() const override { return true; }
  const std::string& root() const override { return m_inner.root(); }
  Result<std::string> resolve(const std::string& path, bool follow_last) const override {
    std::lock_guard lock(m_mutex);
    return m_inner.resolve(path, follow_last);
  }
  Result<std::string> read_file(const std::string& path, std::size_t max_bytes) const override {
    std::lock_guard lock(m_mutex);
    return m_inner.read_file(path, max_bytes);
  }
  bool exists(const std::string& path) const override {
    std::lock_guard lock(m_mutex);
    return m_inner.exists(path);
  }
  Status write_file(const std::string& path, std::string_view content,
                    const FileAttrs& attrs) override {
    std::lock_guard lock(m_mutex);
    return m_inner.write_file(path, content, attrs);
  }
  Status make_dirs(const std::string& path, mode_t mode) override {
    std::lock_guard lock(m_mutex);
    return m_inner.make_dirs(path, mode);
  }
  Status make_owned_dir(const std::string& path, const FileAttrs& attrs) override {
    std::lock_guard lock(m_mutex);
    return m_inner.make_owned_dir(path, attrs);
  }
  Status remove_all(const std::string& path) override {
    std::lock_guard lock(m_mutex);
    return m_inner.remove_all(path);
  }
  Status symlink(const std::string& target, const std::string& link) override {
    std::lock_guard lock(m_mutex);
    return m_inner.symlink(target, link);
  }
  Result<std::string> read_symlink(const std::string& path) const override {
    std::lock_guard lock(m_mutex);
    return m_inner.read_symlink(path);
  }
  Result<std::vector<std::string>> list_dir(const std::string& path) const override {
    std::lock_guard lock(m_mutex);
    return m_inner.list_dir(path);
  }
  std::vector<std::string> executables_in(const std::string& dir) const override {
    std::lock_guard lock(m_mutex);
    return m_inner.executables_in(dir);
  }
  std::optional<std::string> read_text(const std::string& path) const override {
    std::lock_guard lock(m_mutex);
    return m_inner.read_text(path);
  }
  bool path_exists(const std::string& path) const override {
    std::lock_guard lock(m_mutex);
    return m_inner.path_exists(path);
  }
  std::vector<std::string> list(const std::string& dir) const override {
    std::lock_guard lock(m_mutex);
    return m_inner.list(dir);
  }
  bool has_program(const std::string& name) const override {
    std::lock_guard lock(m_mutex);
    return m_inner.has_program(name);
  }
  Result<CommandOutcome> run(const CommandSpec& spec) override {
    if (spec.argv.size() == 3 && spec.argv[0] == "meet") {
      return meet(spec.argv[1], spec.argv[2]);
    }
    std::lock_guard lock(m_mutex);
    return m_inner.run(spec);
  }
  Status http_send(const std::string& method, const std::string& url, const std::string& body,
                   const std::string& content_type) override {
    std::lock_guard lock(m_mutex);
    return m_inner.http_send(method, url, body, content_type);
  }
  Result<std::string> http_get(const std::string& url,
                               const std::map<std::string, std::string>& headers,
                               std::size_t max_bytes) override {
    std::lock_guard lock(m_mutex);
    return m_inner.http_get(url, headers, max_bytes);
  }
  void console(const std::string& text) override {
    std::lock_guard lock(m_mutex);
    m_inner.console(text);
  }
  bool console_only(const std::string& text) override {
    std::lock_guard lock(m_mutex);
    return m_inner.console_only(text);
  }
  Result<std::string> grow_partition(const GrowPartition& request) override {
    std::lock_guard lock(m_mutex);
    return m_inner.grow_partition(request);
  }
  Result<std::string> make_partition_table(const MakePartitionTable& request) override {
    std::lock_guard lock(m_mutex);
    return m_inner.make_partition_table(request);
  }
  Status set_hostname(const std::string& name) override {
    std::lock_guard lock(m_mutex);
    return m_inner.set_hostname(name);
  }
  std::chrono::system_clock::time_point now() const override {
    std::lock_guard lock(m_mutex);
    return m_inner.now();
  }
  void sleep_for(std::chrono::milliseconds delay) override {
    std::lock_guard lock(m_mutex);
    m_inner.sleep_for(delay);
  }
  double uptime_seconds() const override {
    std::lock_guard lock(m_mutex);
    return m_inner.uptime_seconds();
  }
  std::string kernel_cmdline() const override {
    std::lock_guard lock(m_mutex);
    return m_inner.kernel_cmdline();
  }
  std::optional<std::string> read_host_file(const std::string& host_path) const override {
    std::lock_guard lock(m_mutex);
    return m_inner.read_host_file(host_path);
  }

 private:
  CommandOutcome meet(const std::string& name, const std::string& other) {
    std::unique_lock lock(m_meet_mutex);
    m_started.insert(name);
    m_met.notify_all();
    bool met = m_met.wait_for(lock, m_wait, [&] { return m_started.count(other) > 0; });
    return CommandOutcome{met ? 0 : 1, "", ""};
  }

  RecordingSystem& m_inner;
  std::chrono::milliseconds m_wait;
  mutable std::mutex m_mutex;
  std::mutex m_meet_mutex;
  std::condition_variable m_met;
  std::set<std::string> m_started;
};

PlanResult plan_meet_b(const NoKeys&, const Facts&) {
  return PlanResult{.actions = {RunCommand{.argv = {"meet", "a", "b"}, .label = "meet"}},
                    .summary = "met b"};
}
PlanResult plan_meet_a(const NoKeys&, const Facts&) {
  return PlanResult{.actions = {RunCommand{.argv = {"meet", "b", "a"}, .label = "meet"}},
                    .summary = "met a"};
}
PlanResult plan_fails(const NoKeys&, const Facts&) {
  return PlanResult{.actions = {RunCommand{.argv = {"false"}, .label = "a command that fails"}}};
}
PlanResult plan_console(const NoKeys&, const Facts&) {
  return PlanResult{.actions = {ConsoleMessage{"in sequence"}}};
}

template <auto Plan>
ModuleSpec row(std::string_view name) {
  return module_row<decode_no_keys, Plan>(name, {}, Stage::Init, Frequency::PerBoot, true);
}

std::unique_ptr<RecordingSystem> sandbox() {
  auto system = std::make_unique<RecordingSystem>("/sandbox");
  system->allow_writes("/");
  system->allow_console();
  system->add_host_file("/seed/meta-data", "instance-id: i-1\nlocal-hostname: web\n");
  system->add_host_file("/seed/user-data", "");
  return system;
}

int run_init(System& system, const std::vector<ModuleSpec>& table,
             const std::vector<ModuleLane>& lanes) {
  RunOptions options;
  options.root = system.root();
  options.seed_dir = "/seed";
  options.stage = StageSelection::Init;
  options.modules = &table;
  options.lanes = &lanes;
  return run_stages(options, system);
}

nlohmann::json init_rows(const RecordingSystem& system) {
  return nlohmann::json::parse(
      system.files.at("/run/amiboot/status.json"))["stages"]["init"]["modules"];
}

std::vector<std::string> names(const nlohmann::json& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) {
    out.push_back(r["name"]);
  }
  return out;
}

const std::vector<ModuleSpec>& meeting_table() {
  static const std::vector<ModuleSpec> table = {
      row<plan_meet_b>("lane_a"),
      row<plan_meet_a>("lane_b"),
      row<plan_console>("middle"),
      row<plan_console>("last"),
  };
  return table;
}

const std::vector<ModuleLane> kMeetingLanes = {
    {"lane_a", {"lane_b", "middle"}},
    {"lane_b", {"middle"}},
};

TEST(Lanes, TwoLanesRunAtTheSameTimeAndTheirRowsComeInTableOrderAtTheirJoin) {
  auto recording = sandbox();
  ConcurrentSystem system(*recording);
  ASSERT_EQ(run_init(system, meeting_table(), kMeetingLanes), 0);
  auto rows = init_rows(*recording);
  // lane_a and lane_b each waited for the other to start: both ok means they
  // overlapped. Their rows are reported where "last" waits for them, in the
  // order they started; "middle" ran alongside and came first.
  EXPECT_EQ(names(rows), (std::vector<std::string>{"middle", "lane_a", "lane_b", "last"}));
  for (const auto& r : rows) {
    EXPECT_EQ(r["result"], "ok") << r.dump();
  }
  EXPECT_EQ(rows[1]["summary"], "met b");
  EXPECT_EQ(rows[1]["concurrent"], true);
  EXPECT_FALSE(rows[0].contains("concurrent"));
  // Each row keeps its own start and duration: the lanes started before middle.
  EXPECT_LE(rows[1]["start_ms"].get<long long>(), rows[0]["start_ms"].get<long long>());
  EXPECT_LE(rows[2]["start_ms"].get<long long>(), rows[0]["start_ms"].get<long long>());
  EXPECT_EQ(recording->console_lines, (std::vector<std::string>{"in sequence", "in sequence"}));
  auto doc = nlohmann::json::parse(recording->files.at("/run/amiboot/status.json"));
  EXPECT_EQ(doc["stages"]["init"]["status"], "done");
  EXPECT_FALSE(doc["stages"]["init"].contains("concurrent"));
  EXPECT_FALSE(doc["stages"]["init"].contains("running"));
}

TEST(Lanes, TheRowOrderIsTheSameRunAfterRun) {
  for (int i = 0; i < 20; ++i) {
    auto recording = sandbox();
    ConcurrentSystem system(*recording);
    ASSERT_EQ(run_init(system, meeting_table(), kMeetingLanes), 0);
    EXPECT_EQ(names(init_rows(*recording)),
              (std::vector<std::string>{"middle", "lane_a", "lane_b", "last"}));
  }
}

TEST(Lanes, ARowNotAlongsideALaneWaitsForIt) {
  // lane_b is not alongside lane_a: it starts only once lane_a is over, so
  // lane_a's meeting never happens and it fails after its wait.
  const std::vector<ModuleLane> lanes = {{"lane_a", {"middle"}}, {"lane_b", {"middle"}}};
  auto recording = sandbox();
  ConcurrentSystem system(*recording, std::chrono::milliseconds(300));
  EXPECT_EQ(run_init(system, meeting_table(), lanes), 1);
  auto rows = init_rows(*recording);
  EXPECT_EQ(names(rows), (std::vector<std::string>{"lane_a", "middle", "lane_b", "last"}));
  EXPECT_EQ(rows[0]["result"], "failed");
  EXPECT_EQ(rows[2]["result"], "ok");  // lane_a had started: met at once
}

TEST(Lanes, AFailureInALaneIsReportedAsInSequence) {
  const std::vector<ModuleSpec> table = {
      row<plan_fails>("failing"),
      row<plan_console>("middle"),
      row<plan_console>("last"),
  };
  const std::vector<ModuleLane> lanes = {{"failing", {"middle"}}};
  auto run = [&](bool concurrent) {
    auto recording = sandbox();
    recording->expect_run({"false"}, 1);
    ConcurrentSystem locked(*recording);
    System& system = concurrent ? static_cast<System&>(locked) : *recording;
    EXPECT_EQ(run_init(system, table, lanes), 1);
    auto doc = nlohmann::json::parse(recording->files.at("/run/amiboot/status.json"));
    return doc;
  };
  auto in_sequence = run(false);
  auto in_lane = run(true);
  auto row_of = [](const nlohmann::json& doc) {
    for (auto r : doc["stages"]["init"]["modules"]) {
      if (r["name"] == "failing") {
        return r;
      }
    }
    return nlohmann::json();
  };
  auto seq_row = row_of(in_sequence);
  auto lane_row = row_of(in_lane);
  EXPECT_EQ(lane_row["result"], "failed");
  EXPECT_EQ(lane_row["concurrent"], true);
  EXPECT_EQ(lane_row["errors"], seq_row["errors"]);
  EXPECT_FALSE(lane_row["errors"].empty());
  EXPECT_EQ(in_lane["errors"], in_sequence["errors"]);
  EXPECT_EQ(in_lane["stages"]["init"]["status"], "error");
  EXPECT_EQ(in_sequence["stages"]["init"]["status"], "error");
  EXPECT_EQ(in_lane["status"], in_sequence["status"]);
}

TEST(Lanes, EveryLaneIsAnInitRowAfterTheUsersCommandsAndRunsAlongsideLaterRowsOnly) {
  auto index = [](std::string_view name) {
    const auto& table = module_table();
    for (std::size_t i = 0; i < table.size(); ++i) {
      if (table[i].name == name) {
        return i;
      }
    }
    ADD_FAILURE() << "no row " << name;
    return table.size();
  };
  for (const auto& lane : init_lanes()) {
    const ModuleSpec* m = find_module(lane.module);
    ASSERT_NE(m, nullptr) << lane.module;
    EXPECT_EQ(m->stage, Stage::Init) << lane.module;
    // boothooks and bootcmd may prepare anything: a lane starts after them.
    EXPECT_GT(index(lane.module), index("bootcmd")) << lane.module;
    EXPECT_GT(index(lane.module), index("boothooks")) << lane.module;
    for (auto other : lane.alongside) {
      EXPECT_GT(index(other), index(lane.module)) << lane.module << " alongside " << other;
      EXPECT_EQ(find_module(other)->stage, Stage::Init) << other;
      // No row that runs the user's commands or writes arbitrary files.
      EXPECT_NE(other, "write_files");
      EXPECT_NE(other, "bootcmd");
      EXPECT_NE(other, "boothooks");
    }
  }
  EXPECT_NE(find_lane(init_lanes(), "firewall"), nullptr);
  EXPECT_NE(find_lane(init_lanes(), "growpart"), nullptr);
  EXPECT_EQ(find_lane(init_lanes(), "users"), nullptr);
  // The lanes decided by plan: only rows that say where they act.
  ASSERT_NE(find_lane(init_lanes(), "volumes"), nullptr);
  EXPECT_TRUE(find_lane(init_lanes(), "volumes")->by_plan);
  ASSERT_NE(find_lane(init_lanes(), "ssh_host_keys"), nullptr);
  EXPECT_TRUE(find_lane(init_lanes(), "ssh_host_keys")->by_plan);
  // mounts follows volumes in its lane: the next row, with a reach.
  for (const auto& lane : init_lanes()) {
    EXPECT_EQ(lane.follower.has_value(), lane.module == "volumes") << lane.module;
  }
  const auto& follower = find_lane(init_lanes(), "volumes")->follower;
  ASSERT_TRUE(follower.has_value());
  EXPECT_EQ(follower->module, "mounts");
  EXPECT_NE(follower->reach, nullptr);
  EXPECT_EQ(index("mounts"), index("volumes") + 1);
}

// --- lanes decided by plan ------------------------------------------------------------

TEST(LanesByPlan, PathsOverlapAtComponentBoundariesOnly) {
  EXPECT_TRUE(paths_overlap("/home", "/home"));
  EXPECT_TRUE(paths_overlap("/home", "/home/admin/.ssh"));
  EXPECT_TRUE(paths_overlap("/home/admin/.ssh", "/home/"));
  EXPECT_TRUE(paths_overlap("/", "/etc/passwd"));
  EXPECT_FALSE(paths_overlap("/home", "/homes"));
  EXPECT_FALSE(paths_overlap("/etc/passwd", "/etc/passwd-"));
  EXPECT_FALSE(paths_overlap("/etc/ssh", "/etc/fstab"));
}

TEST(LanesByPlan, APlanIsWithinItsReachWhenEachPathIsOneOfItsOrBelowOne) {
  PlanFootprint reach{{"/etc/fstab"}, {"/etc/fstab", "/data", "/swap.img"}, {"/data/"}};
  EXPECT_EQ(
      beyond_reach(PlanFootprint{{"/etc/fstab"}, {"/data/logs", "/swap.img"}, {"/data"}}, reach),
      "");
  EXPECT_EQ(beyond_reach(PlanFootprint{}, reach), "");
  // A parent, a sibling that shares a prefix, and a path in the wrong list.
  EXPECT_EQ(beyond_reach(PlanFootprint{{}, {}, {"/"}}, reach), "/");
  EXPECT_EQ(beyond_reach(PlanFootprint{{}, {"/datax"}, {}}, reach), "/datax");
  EXPECT_EQ(beyond_reach(PlanFootprint{{}, {}, {"/swap.img"}}, reach), "/swap.img");
  EXPECT_EQ(beyond_reach(PlanFootprint{{"/data"}, {}, {}}, reach), "/data");
}

TEST(LanesByPlan, AMountOverAHomeFolderOrItsParentMakesUsersWait) {
  PlanFootprint users{{"/etc/passwd"}, {"/etc/passwd", "/home/admin", "/root"}, {}};
  for (std::string dir : {"/home", "/home/admin", "/home/admin/data", "/", "/root/.ssh"}) {
    PlanFootprint volumes{{"/etc/fstab"}, {"/etc/fstab", dir}, {dir}};
    std::string why = lane_conflict("volumes", volumes, "users", users);
    EXPECT_NE(why, "") << dir;
    EXPECT_NE(why.find("volumes mounts over what users touches"), std::string::npos) << why;
  }
  for (std::string dir : {"/data", "/homes", "/mnt", "/srv/www"}) {
    PlanFootprint volumes{{"/etc/fstab"}, {"/etc/fstab", dir}, {dir}};
    EXPECT_EQ(lane_conflict("volumes", volumes, "users", users), "") << dir;
  }
}

TEST(LanesByPlan, ARowThatDoesNotSayWhereItActsWaits) {
  PlanFootprint volumes{{}, {"/data"}, {"/data"}};
  EXPECT_EQ(lane_conflict("volumes", volumes, "rsyslog", std::nullopt),
            "rsyslog's plan does not say which paths it touches");
  EXPECT_NE(lane_refusal(std::nullopt), "");
}

TEST(LanesByPlan, AMountOverTheAgentsOwnFoldersKeepsTheRowInSequence) {
  for (std::string dir : {"/var", "/var/lib", "/var/lib/amiboot", "/run", "/"}) {
    EXPECT_NE(lane_refusal(PlanFootprint{{}, {dir}, {dir}}), "") << dir;
  }
  EXPECT_EQ(lane_refusal(PlanFootprint{{}, {"/data", "/etc/fstab"}, {"/data"}}), "");
}

TEST(LanesByPlan, TheKeysWaitForAMountOverEtcAndForAnSshdConfigWrittenByBoth) {
  PlanFootprint keys{{"/etc/ssh", "/etc/group"},
                     {"/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_ed25519_key.pub"},
                     {}};
  EXPECT_NE(lane_conflict("ssh_host_keys", keys, "volumes",
                          PlanFootprint{{"/etc/fstab"}, {"/etc"}, {"/etc"}}),
            "");
  EXPECT_EQ(lane_conflict("ssh_host_keys", keys, "volumes",
                          PlanFootprint{{"/etc/fstab"}, {"/etc/fstab", "/data"}, {"/data"}}),
            "");
  // users writes /etc/group, which the keys' plan read before the lane began.
  EXPECT_EQ(lane_conflict("ssh_host_keys", keys, "users",
                          PlanFootprint{{"/etc/passwd"}, {"/etc/group", "/home/admin"}, {}}),
            "");
  // ssh_pwauth in the drop-in runs beside the keys; in sshd_config it
  // waits when the keys' certificates change that file too.
  PlanFootprint pwauth{{"/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d"},
                       {"/etc/shadow", "/etc/ssh/sshd_config.d/50-amiboot.conf"},
                       {}};
  EXPECT_EQ(lane_conflict("ssh_host_keys", keys, "set_passwords", pwauth), "");
  keys.applied.push_back("/etc/ssh/sshd_config");
  EXPECT_EQ(lane_conflict("ssh_host_keys", keys, "set_passwords", pwauth),
            "both touch /etc/ssh/sshd_config");
}

// A lane "vol" that mounts over g_mount and a row "homes" that writes
// /home/admin; each meets the other, so both ok means they overlapped.
std::string g_mount;
int g_homes_plans = 0;

PlanResult plan_vol(const NoKeys&, const Facts&) {
  PlanResult r{.actions = {RunCommand{.argv = {"meet", "vol", "homes"}, .label = "meet"}},
               .summary = "mounted"};
  r.footprint = PlanFootprint{{"/etc/fstab"}, {"/etc/fstab", g_mount}, {g_mount}};
  return r;
}
PlanResult plan_homes(const NoKeys&, const Facts&) {
  ++g_homes_plans;
  PlanResult r{.actions = {RunCommand{.argv = {"meet", "homes", "vol"}, .label = "meet"}},
               .summary = "homes made"};
  r.footprint = PlanFootprint{{"/etc/passwd"}, {"/etc/passwd", "/home/admin"}, {}};
  return r;
}
PlanResult plan_anywhere(const NoKeys&, const Facts&) {
  return PlanResult{.actions = {RunCommand{.argv = {"meet", "homes", "vol"}, .label = "meet"}}};
}

const std::vector<ModuleLane> kByPlan = {{"vol", {"homes"}, true}};

/// A by-plan lane "vol", a row "homes" that may run beside it, then "last".
std::vector<ModuleSpec> vol_homes_last() {
  return {row<plan_vol>("vol"), row<plan_homes>("homes"), row<plan_console>("last")};
}

std::vector<std::string> run_by_plan(const std::vector<ModuleSpec>& table,
                                     std::chrono::milliseconds wait, nlohmann::json* rows_out) {
  g_homes_plans = 0;
  auto recording = sandbox();
  ConcurrentSystem system(*recording, wait);
  run_init(system, table, kByPlan);
  auto rows = init_rows(*recording);
  if (rows_out != nullptr) {
    *rows_out = rows;
  }
  return names(rows);
}

TEST(LanesByPlan, AnUnrelatedMountRunsBesideTheHomes) {
  const std::vector<ModuleSpec> table = vol_homes_last();
  g_mount = "/data";
  nlohmann::json rows;
  // The row beside the lane is reported first, the lane where "last" waits.
  EXPECT_EQ(run_by_plan(table, std::chrono::seconds(10), &rows),
            (std::vector<std::string>{"homes", "vol", "last"}));
  for (const auto& r : rows) {
    EXPECT_EQ(r["result"], "ok") << r.dump();
  }
  EXPECT_EQ(rows[1]["concurrent"], true);
  EXPECT_EQ(g_homes_plans, 1);
}

TEST(LanesByPlan, AMountOverHomeKeepsTheHomesAfterIt) {
  const std::vector<ModuleSpec> table = vol_homes_last();
  g_mount = "/home";
  nlohmann::json rows;
  // homes waits for vol: vol's meeting never happens (it fails after its
  // wait), homes' does at once; homes was planned again after the wait.
  EXPECT_EQ(run_by_plan(table, std::chrono::milliseconds(300), &rows),
            (std::vector<std::string>{"vol", "homes", "last"}));
  EXPECT_EQ(rows[0]["result"], "failed");
  EXPECT_EQ(rows[1]["result"], "ok");
  EXPECT_EQ(g_homes_plans, 2);
}

TEST(LanesByPlan, ARowWithoutAFootprintWaitsAndALaneWithoutOneIsInSequence) {
  const std::vector<ModuleSpec> table = {row<plan_vol>("vol"), row<plan_anywhere>("homes"),
                                         row<plan_console>("last")};
  g_mount = "/data";
  nlohmann::json rows;
  EXPECT_EQ(run_by_plan(table, std::chrono::milliseconds(300), &rows),
            (std::vector<std::string>{"vol", "homes", "last"}));
  EXPECT_EQ(rows[0]["result"], "failed");
  // A by-plan lane whose own plan says nothing is applied in sequence.
  const std::vector<ModuleSpec> unsaid = {row<plan_anywhere>("vol"), row<plan_vol>("homes"),
                                          row<plan_console>("last")};
  EXPECT_EQ(run_by_plan(unsaid, std::chrono::milliseconds(300), &rows),
            (std::vector<std::string>{"vol", "homes", "last"}));
  EXPECT_FALSE(rows[0].contains("concurrent"));
}

TEST(LanesByPlan, TheRowOrderIsTheSameRunAfterRun) {
  const std::vector<ModuleSpec> table = vol_homes_last();
  g_mount = "/data";
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(run_by_plan(table, std::chrono::seconds(10), nullptr),
              (std::vector<std::string>{"homes", "vol", "last"}));
  }
}

// --- a row that follows its lane -------------------------------------------------------

// "vol" writes /etc/fstab and mounts over /data; "mnt" follows it in its
// lane (it reads the fstab vol writes) and may mount over g_reach; "homes"
// meets vol, as above.
std::string g_reach;
bool g_mnt_saw_fstab = false;
int g_mnt_plans = 0;

PlanResult plan_vol_fstab(const NoKeys&, const Facts&) {
  PlanResult r{
      .actions = {WriteFile{"/etc/fstab", "# amiboot: ebs1\n", 0644, "root", false, "fstab"},
                  RunCommand{.argv = {"meet", "vol", "homes"}, .label = "meet"}},
      .summary = "mounted"};
  r.footprint = PlanFootprint{{"/etc/fstab"}, {"/etc/fstab", "/data"}, {"/data"}};
  return r;
}
PlanResult plan_mnt(const NoKeys&, const Facts& facts) {
  ++g_mnt_plans;
  g_mnt_saw_fstab = facts.system.read_text("/etc/fstab") == "# amiboot: ebs1\n";
  PlanResult r{.actions = {ConsoleMessage{"mnt"}}, .summary = "mnt done"};
  r.footprint = PlanFootprint{{"/etc/fstab"}, {g_reach}, {g_reach}};
  return r;
}
PlanFootprint reach_mnt(const std::vector<Action>& lane_actions, const Facts&) {
  // Known before mnt's plan, from what vol will write.
  EXPECT_EQ(lane_actions.size(), 2u);
  return PlanFootprint{{"/etc/fstab"}, {"/etc/fstab", g_reach}, {g_reach}};
}

const std::vector<ModuleLane> kFollowed = {
    {"vol", {"homes"}, true, LaneFollower{"mnt", reach_mnt}}};

std::vector<ModuleSpec> vol_mnt_homes_last() {
  return {row<plan_vol_fstab>("vol"), row<plan_mnt>("mnt"), row<plan_homes>("homes"),
          row<plan_console>("last")};
}

std::vector<std::string> run_followed(const std::vector<ModuleSpec>& table,
                                      std::chrono::milliseconds wait, nlohmann::json* rows_out,
                                      std::vector<std::string>* console = nullptr) {
  g_homes_plans = 0;
  g_mnt_plans = 0;
  g_mnt_saw_fstab = false;
  auto recording = sandbox();
  ConcurrentSystem system(*recording, wait);
  run_init(system, table, kFollowed);
  auto rows = init_rows(*recording);
  if (rows_out != nullptr) {
    *rows_out = rows;
  }
  if (console != nullptr) {
    *console = recording->console_lines;
  }
  return names(rows);
}

TEST(LanesByPlan, AFollowerRunsInItsLaneAfterItAndTheRowsAfterRunBesideBoth) {
  g_reach = "/srv";
  nlohmann::json rows;
  std::vector<std::string> console;
  // homes met vol: it ran beside the lane, though mnt (which reads what vol
  // writes) came between them in the table; mnt was planned once, after
  // vol's fstab was written, and is reported right after vol.
  EXPECT_EQ(run_followed(vol_mnt_homes_last(), std::chrono::seconds(10), &rows, &console),
            (std::vector<std::string>{"homes", "vol", "mnt", "last"}));
  for (const auto& r : rows) {
    EXPECT_EQ(r["result"], "ok") << r.dump();
  }
  EXPECT_EQ(g_homes_plans, 1);
  EXPECT_EQ(g_mnt_plans, 1);
  EXPECT_TRUE(g_mnt_saw_fstab);
  EXPECT_EQ(rows[2]["concurrent"], true);
  EXPECT_EQ(rows[2]["summary"], "mnt done");
  EXPECT_GE(rows[2]["start_ms"].get<long long>(), rows[1]["start_ms"].get<long long>());
  EXPECT_EQ(console, (std::vector<std::string>{"mnt", "in sequence"}));
}

TEST(LanesByPlan, WhatTheFollowerMayMountOverHomeKeepsTheHomesAfterBoth) {
  // vol's own mount (/data) is clear of the homes; what mnt may mount is not.
  for (std::string reach : {"/home", "/home/admin"}) {
    g_reach = reach;
    nlohmann::json rows;
    EXPECT_EQ(run_followed(vol_mnt_homes_last(), std::chrono::milliseconds(300), &rows),
              (std::vector<std::string>{"vol", "mnt", "homes", "last"}))
        << reach;
    EXPECT_EQ(rows[0]["result"], "failed");  // its meeting never happened
    EXPECT_EQ(rows[1]["result"], "ok");
    EXPECT_EQ(rows[2]["result"], "ok");  // vol had started: met at once
    EXPECT_EQ(g_homes_plans, 2);
    EXPECT_TRUE(g_mnt_saw_fstab);
  }
}

TEST(LanesByPlan, AFollowerThatIsNotTheNextRowOrDoesNotRunJoinsTheLaneAsBefore) {
  g_reach = "/srv";
  nlohmann::json rows;
  // homes between vol and mnt: mnt is no follower, and waits for vol at its
  // row (not alongside it), after homes ran beside it.
  const std::vector<ModuleSpec> apart = {row<plan_vol_fstab>("vol"), row<plan_homes>("homes"),
                                         row<plan_mnt>("mnt"), row<plan_console>("last")};
  EXPECT_EQ(run_followed(apart, std::chrono::seconds(10), &rows),
            (std::vector<std::string>{"homes", "vol", "mnt", "last"}));
  EXPECT_EQ(rows[2].value("concurrent", false), false);
  EXPECT_TRUE(g_mnt_saw_fstab);
  // A follower that is not configured is passed by, and said so in order.
  auto unconfigured = vol_mnt_homes_last();
  unconfigured[1].runs_without_keys = false;
  EXPECT_EQ(run_followed(unconfigured, std::chrono::seconds(10), &rows),
            (std::vector<std::string>{"mnt", "homes", "vol", "last"}));
  EXPECT_EQ(rows[0]["reason"], "not configured");
  EXPECT_EQ(g_mnt_plans, 0);
}

PlanResult plan_keys(const NoKeys&, const Facts&) {
  PlanResult r{.actions = {ConsoleMessage{"keys"}}};
  r.footprint = PlanFootprint{{"/etc/ssh"}, {"/etc/ssh/ssh_host_ed25519_key"}, {}};
  return r;
}

TEST(LanesByPlan, AFollowerWhoseReachMeetsAnotherLaneIsAppliedAtItsRow) {
  // mnt may mount over /etc/ssh, where the keys lane writes: it does not
  // follow vol, and at its row waits for vol (not alongside) and the keys.
  const std::vector<ModuleLane> lanes = {
      {"keys", {"vol", "mnt", "homes"}, true},
      {"vol", {"homes"}, true, LaneFollower{"mnt", reach_mnt}},
  };
  const std::vector<ModuleSpec> table = {row<plan_keys>("keys"), row<plan_vol_fstab>("vol"),
                                         row<plan_mnt>("mnt"), row<plan_homes>("homes"),
                                         row<plan_console>("last")};
  for (std::string reach : {"/etc/ssh", "/srv"}) {
    g_reach = reach;
    g_mnt_plans = 0;
    auto recording = sandbox();
    ConcurrentSystem system(*recording, std::chrono::milliseconds(300));
    run_init(system, table, lanes);
    auto rows = init_rows(*recording);
    auto mnt =
        std::find_if(rows.begin(), rows.end(), [](const auto& r) { return r["name"] == "mnt"; });
    ASSERT_NE(mnt, rows.end());
    EXPECT_EQ(mnt->value("concurrent", false), reach == "/srv") << reach;
    EXPECT_EQ((*mnt)["result"], "ok");
    // At its row, planned again once it had waited for the keys.
    EXPECT_EQ(g_mnt_plans, reach == "/srv" ? 1 : 2) << reach;
  }
}

TEST(LanesByPlan, TheRowOrderWithAFollowerIsTheSameRunAfterRun) {
  g_reach = "/srv";
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(run_followed(vol_mnt_homes_last(), std::chrono::seconds(10), nullptr),
              (std::vector<std::string>{"homes", "vol", "mnt", "last"}));
  }
}

// --- a row planned in its lane ----------------------------------------------------------

// "grow", a lane of the table, meets "homes", then leaves /grown. "pvol" is
// planned in its own lane once grow is over: its plan notes whether it saw
// /grown and mounts over g_pvol_mount, its reach says g_pvol_reach. "homes"
// meets grow: both meetings ok means homes ran while grow was under way, so
// pvol's plan, which waited for grow, was not made on the main thread.
std::string g_pvol_reach;
std::string g_pvol_mount;
int g_pvol_plans = 0;
bool g_pvol_saw_grown = false;

PlanResult plan_grow(const NoKeys&, const Facts&) {
  PlanResult r{.actions = {RunCommand{.argv = {"meet", "grow", "homes"}, .label = "meet"},
                           WriteFile{"/grown", "yes", 0644, "root", false, "grown"}},
               .summary = "grown"};
  r.footprint = PlanFootprint{{}, {"/grown"}, {}};
  return r;
}
PlanResult plan_pvol(const NoKeys&, const Facts& facts) {
  ++g_pvol_plans;
  g_pvol_saw_grown = facts.system.read_text("/grown").has_value();
  PlanResult r{
      .actions = {WriteFile{"/etc/fstab", "# amiboot: ebs1\n", 0644, "root", false, "fstab"}},
      .summary = "pvol done"};
  r.footprint = PlanFootprint{{"/etc/fstab"}, {"/etc/fstab", g_pvol_mount}, {g_pvol_mount}};
  return r;
}
std::optional<PlanFootprint> reach_pvol(const NoKeys&, const Facts&) {
  return PlanFootprint{{"/etc/fstab"}, {"/etc/fstab", g_pvol_reach}, {g_pvol_reach}};
}
PlanResult plan_homes_meeting_grow(const NoKeys&, const Facts&) {
  ++g_homes_plans;
  PlanResult r{.actions = {RunCommand{.argv = {"meet", "homes", "grow"}, .label = "meet"}},
               .summary = "homes made"};
  r.footprint = PlanFootprint{{"/etc/passwd"}, {"/etc/passwd", "/home/admin"}, {}};
  return r;
}

const std::vector<ModuleLane> kPlannedAfterGrow = {
    {"grow", {"pvol", "homes"}},
    {"pvol", {"homes"}, true, std::nullopt, reach_of<decode_no_keys, reach_pvol>, {"grow"}},
};

struct PlannedRun {
  nlohmann::json rows;
  std::unique_ptr<RecordingSystem> recording;
  const nlohmann::json& row(const std::string& name) const {
    for (const auto& r : rows) {
      if (r["name"] == name) {
        return r;
      }
    }
    static const nlohmann::json none;
    ADD_FAILURE() << "no row " << name;
    return none;
  }
};

PlannedRun run_planned(const std::string& reach, const std::string& mount,
                       std::chrono::milliseconds wait,
                       const std::vector<ModuleLane>& lanes = kPlannedAfterGrow,
                       std::vector<ModuleSpec> table = {}) {
  g_pvol_reach = reach;
  g_pvol_mount = mount;
  g_pvol_plans = 0;
  g_pvol_saw_grown = false;
  g_homes_plans = 0;
  if (table.empty()) {
    table = {row<plan_grow>("grow"), row<plan_pvol>("pvol"), row<plan_homes_meeting_grow>("homes"),
             row<plan_console>("last")};
  }
  PlannedRun run;
  run.recording = sandbox();
  ConcurrentSystem system(*run.recording, wait);
  run_init(system, table, lanes);
  run.rows = init_rows(*run.recording);
  return run;
}

TEST(LanesByPlan, ARowPlannedInItsLaneWaitsThereForTheLaneItPlansAfterWhileTheRowsAfterGoOn) {
  auto run = run_planned("/data", "/data", std::chrono::seconds(10));
  EXPECT_EQ(names(run.rows), (std::vector<std::string>{"homes", "grow", "pvol", "last"}));
  for (const auto& r : run.rows) {
    EXPECT_EQ(r["result"], "ok") << r.dump();
  }
  // Planned once, after grow's actions were applied, and applied.
  EXPECT_EQ(g_pvol_plans, 1);
  EXPECT_TRUE(g_pvol_saw_grown);
  EXPECT_EQ(g_homes_plans, 1);
  EXPECT_EQ(run.row("pvol")["concurrent"], true);
  EXPECT_EQ(run.row("pvol")["summary"], "pvol done");
  EXPECT_EQ(run.recording->files.at("/etc/fstab"), "# amiboot: ebs1\n");
}

PlanResult plan_nothing(const NoKeys&, const Facts&) {
  return PlanResult{.summary = "no devices"};
}

TEST(LanesByPlan, ARowPlannedInItsLaneThatHasNothingToDoIsReportedSoInOrder) {
  auto run = run_planned("/data", "/data", std::chrono::seconds(10), kPlannedAfterGrow,
                         {row<plan_grow>("grow"), row<plan_nothing>("pvol"),
                          row<plan_homes_meeting_grow>("homes"), row<plan_console>("last")});
  EXPECT_EQ(names(run.rows), (std::vector<std::string>{"homes", "grow", "pvol", "last"}));
  EXPECT_EQ(run.row("pvol")["result"], "skipped");
  EXPECT_EQ(run.row("pvol")["reason"], "nothing to do");
  EXPECT_EQ(run.row("pvol")["summary"], "no devices");
  EXPECT_EQ(run.row("homes")["result"], "ok");
}

std::optional<PlanFootprint> reach_nothing(const NoKeys&, const Facts&) {
  return std::nullopt;
}

TEST(LanesByPlan, ARowWhosePlanHasNothingToLookAtIsPlannedAtItsRowWithoutWaiting) {
  // No reach: planned at once at its row, beside grow, which still meets homes.
  const std::vector<ModuleLane> lanes = {
      {"grow", {"pvol", "homes"}},
      {"pvol", {"homes"}, true, std::nullopt, reach_of<decode_no_keys, reach_nothing>, {"grow"}},
  };
  auto run = run_planned("/data", "/data", std::chrono::seconds(10), lanes,
                         {row<plan_grow>("grow"), row<plan_nothing>("pvol"),
                          row<plan_homes_meeting_grow>("homes"), row<plan_console>("last")});
  EXPECT_EQ(names(run.rows), (std::vector<std::string>{"pvol", "homes", "grow", "last"}));
  EXPECT_EQ(run.row("pvol")["reason"], "nothing to do");
  EXPECT_FALSE(run.row("pvol").contains("concurrent"));
  EXPECT_EQ(run.row("grow")["result"], "ok");
  EXPECT_EQ(run.row("homes")["result"], "ok");
}

TEST(LanesByPlan, WhatARowPlannedInItsLaneMayMountOverHomeKeepsTheHomesAfterIt) {
  // The reach names /home: homes waits for pvol, which waits for grow,
  // whose meeting with homes never happens (it fails after its wait).
  auto run = run_planned("/home", "/home", std::chrono::milliseconds(300));
  EXPECT_EQ(run.row("grow")["result"], "failed");
  EXPECT_EQ(run.row("pvol")["result"], "ok");
  EXPECT_EQ(run.row("homes")["result"], "ok");  // grow had started: met at once
  EXPECT_TRUE(g_pvol_saw_grown);
  auto names_seen = names(run.rows);
  auto at = [&](const std::string& n) {
    return std::find(names_seen.begin(), names_seen.end(), n) - names_seen.begin();
  };
  EXPECT_LT(at("pvol"), at("homes"));
  EXPECT_EQ(g_homes_plans, 2);  // planned again after the wait
}

TEST(LanesByPlan, APlanBeyondItsReachIsNotAppliedAndSaysWhy) {
  // The reach said /data; the plan mounts over /home, where homes was let
  // run beside it.
  auto run = run_planned("/data", "/home", std::chrono::seconds(10));
  const auto& pvol = run.row("pvol");
  EXPECT_EQ(pvol["result"], "failed");
  ASSERT_EQ(pvol["errors"].size(), 1u) << pvol.dump();
  EXPECT_NE(pvol["errors"][0].get<std::string>().find(
                "its plan reaches /home, beyond what the rows beside it were checked against"),
            std::string::npos)
      << pvol.dump();
  EXPECT_EQ(run.recording->files.count("/etc/fstab"), 0u);
  EXPECT_EQ(run.row("homes")["result"], "ok");
  EXPECT_EQ(run.row("grow")["result"], "ok");
}

TEST(LanesByPlan, ARowWhoseReachMeetsALaneUnderWayIsPlannedAtItsRowAfterWhatItPlansAfter) {
  // The keys lane writes under /etc/ssh; pvol's reach may mount over it:
  // pvol is planned at its row, once grow is over, and waits for the keys.
  const std::vector<ModuleLane> lanes = {
      {"keys", {"grow", "pvol", "homes"}, true},
      {"grow", {"pvol", "homes"}},
      {"pvol", {"homes"}, true, std::nullopt, reach_of<decode_no_keys, reach_pvol>, {"grow"}},
  };
  const std::vector<ModuleSpec> table = {
      row<plan_keys>("keys"), row<plan_grow>("grow"), row<plan_pvol>("pvol"),
      row<plan_homes_meeting_grow>("homes"), row<plan_console>("last")};
  auto run = run_planned("/etc/ssh", "/etc/ssh", std::chrono::milliseconds(300), lanes, table);
  EXPECT_TRUE(g_pvol_saw_grown);
  EXPECT_EQ(g_pvol_plans, 2);  // at its row, then again once the keys were over
  EXPECT_EQ(run.row("pvol")["result"], "ok");
  // grow was over before pvol's row went on, so before homes started.
  EXPECT_EQ(run.row("grow")["result"], "failed");
}

TEST(LanesByPlan, TheRowOrderWithARowPlannedInItsLaneIsTheSameRunAfterRun) {
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(names(run_planned("/data", "/data", std::chrono::seconds(10)).rows),
              (std::vector<std::string>{"homes", "grow", "pvol", "last"}));
  }
}

}  // namespace
}  // namespace amiboot
