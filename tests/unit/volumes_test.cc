// SPDX-License-Identifier: Apache-2.0
#include "modules/volumes.h"

#include <gtest/gtest.h>

#include "agent/core/config.h"
#include "modules/lanes.h"
#include "modules/mounts.h"
#include "modules/volumes_config.h"
#include "tests/support/fake_block_devices.h"
#include "tests/support/module_fixture.h"

namespace amiboot {
namespace {

using namespace std::chrono_literals;
using testing::FakeBlockDevices;
using testing::identify_page;

const std::string kOpts = "defaults,nofail,x-systemd.device-timeout=30s";

struct Fixture : testing::ModuleFixture {
  explicit Fixture(const std::string& yaml = "") : ModuleFixture(yaml) {
    metadata.block_device_mapping = {{"ami", "xvda"}, {"root", "/dev/xvda"}, {"ebs1", "sdf"}};
    system.programs = {"mkfs.ext4", "mkfs.xfs", "mkswap"};
  }
  Facts facts() const {
    Facts with = ModuleFixture::facts();
    with.blocks = &blocks;
    return with;
  }
  PlanResult plan() const { return ModuleFixture::plan("volumes", facts()); }
  PlanResult plan_boot() const { return ModuleFixture::plan("mounts", facts()); }
  DeviceResolver resolver() const {
    static const std::map<std::string, std::string> none;
    return DeviceResolver(metadata, aliases.empty() ? none : aliases, blocks);
  }
  std::optional<std::string> resolve_now(const std::string& spec, int partition = 0) {
    auto r = resolver();
    auto found = r.resolve(spec, partition, blocks.now());
    EXPECT_TRUE(found.ok()) << (found.ok() ? "" : found.error().message);
    return found ? *found : std::nullopt;
  }

  FakeBlockDevices blocks;
  std::map<std::string, std::string> aliases;
};

// `on_target`: the last argument is a path on the target system.
RunCommand command(std::vector<std::string> argv, std::string label, bool on_target = false,
                   bool required = false) {
  RunCommand r{std::move(argv), std::move(label)};
  if (on_target) {
    r.target_paths = {r.argv.size() - 1};
  }
  r.required = required;
  // Mounts and file systems on devices act on the host kernel; mkswap on a
  // swap file (a target path) does not.
  r.needs_mounted_root = r.argv[0] == "mount" || r.argv[0].rfind("mkfs.", 0) == 0 ||
                         (r.argv[0] == "mkswap" && !on_target);
  return r;
}

std::vector<Action> mount_at(const std::string& node, const std::string& dir,
                             const std::string& name, const std::string& opts = kOpts,
                             const std::string& type = "") {
  std::vector<std::string> argv = {"mount"};
  if (!type.empty()) {
    argv.insert(argv.end(), {"-t", type});
  }
  argv.insert(argv.end(), {"-o", opts, node, dir});
  return {MakeDir{dir, 0755, "root", "mkdir " + dir + " for " + name, true},
          command(argv, "mount " + name + " (" + node + ") at " + dir, true)};
}

WriteFile fstab(const std::string& content) {
  return WriteFile{"/etc/fstab", content, 0644, "root", false, "fstab"};
}

std::vector<std::string> errors(const PlanResult& r) {
  std::vector<std::string> out;
  for (const auto& d : r.diagnostics) {
    if (d.severity == Diagnostic::Severity::Error) {
      out.push_back(d.format());
    }
  }
  return out;
}

std::vector<std::string> warnings(const PlanResult& r) {
  std::vector<std::string> out;
  for (const auto& d : r.diagnostics) {
    if (d.severity == Diagnostic::Severity::Warning) {
      out.push_back(d.format());
    }
  }
  return out;
}

const std::string kPendingPath = "/var/lib/amiboot/instances/i-abc/volumes-pending.json";

// The UUID the plan gave mkfs (after -U or -m uuid=).
std::string planned_uuid(const Action& a) {
  const auto& argv = std::get<RunCommand>(a).argv;
  for (std::size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == "-U") {
      return argv[i + 1];
    }
    if (argv[i] == "-m" && argv[i + 1].rfind("uuid=", 0) == 0) {
      return argv[i + 1].substr(5);
    }
  }
  return "";
}

const char* kDataVolume = R"(fs_setup:
  - {device: ebs1, filesystem: ext4, label: data}
mounts:
  - [ebs1, /data]
)";

// The init stage's lanes decided by plan (modules/lanes.h), from the real
// plans: the users row waits for a volume mounted over a home folder or its
// parent, and runs beside any other.
TEST(Volumes, AMountOverTheHomesMakesUsersWaitAndAnyOtherMountDoesNot) {
  for (auto [dir, waits] : std::vector<std::pair<std::string, bool>>{{"/home", true},
                                                                     {"/home/admin", true},
                                                                     {"/home/admin/data", true},
                                                                     {"/data", false},
                                                                     {"/homes", false}}) {
    Fixture f("fs_setup:\n  - {device: ebs1, filesystem: ext4, label: data}\nmounts:\n  - [ebs1, " +
              dir + "]\nusers:\n  - name: admin\n");
    f.blocks.nodes["/dev/sdf"] = "/dev/nvme1n1";
    f.system.files["/etc/passwd"] = "root:x:0:0:root:/root:/bin/bash\n";
    auto volumes = f.plan();
    ASSERT_TRUE(errors(volumes).empty()) << errors(volumes)[0];
    ASSERT_TRUE(volumes.footprint.has_value());
    EXPECT_EQ(volumes.footprint->mounts, std::vector<std::string>{dir});
    EXPECT_EQ(lane_refusal(volumes.footprint), "") << dir;
    auto users = f.ModuleFixture::plan("users", f.facts());
    ASSERT_TRUE(users.footprint.has_value());
    std::string why = lane_conflict("volumes", *volumes.footprint, "users", users.footprint);
    EXPECT_EQ(!why.empty(), waits) << dir << ": " << why;
  }
}

// Every path a plan's footprint names is one `reach` names, or below one.
void expect_within(const PlanFootprint& actual, const PlanFootprint& reach) {
  EXPECT_EQ(beyond_reach(actual, reach), "");
}

// mounts follows volumes in its lane (modules/lanes.h): what it may mount
// once the volumes row's actions are applied (every amiboot entry of the
// fstab they leave) is known before its plan, and users waits for a home
// folder among them: mounts mounts an entry whose mount failed or that an
// earlier boot left.
TEST(Volumes, TheMountsReachIsEveryEntryTheVolumesLeaveAndUsersWaitsForAHomeAmongThem) {
  for (auto [dir, waits] : std::vector<std::pair<std::string, bool>>{
           {"/home", true}, {"/home/admin", true}, {"/data", false}, {"/homes", false}}) {
    Fixture f("mounts:\n  - [ebs1, /srv]\n  - [ebs2, " + dir + "]\nusers:\n  - name: admin\n");
    f.metadata.block_device_mapping["ebs2"] = "sdg";
    f.blocks.nodes["/dev/sdf"] = "/dev/sdf";
    f.blocks.filesystem("/dev/sdf", "ext4", "u-srv");
    f.blocks.filesystem("/dev/sdg", "ext4", "u-two");  // in fstab, not mounted below
    f.blocks.nodes["/dev/sdg"] = "/dev/sdg";
    f.system.files["/etc/passwd"] = "root:x:0:0:root:/root:/bin/bash\n";
    f.system.files["/etc/fstab"] = "/dev/root / ext4 defaults 0 1\n";
    auto volumes = f.plan();
    ASSERT_TRUE(errors(volumes).empty()) << errors(volumes)[0];
    Facts facts = f.facts();
    facts.new_instance = true;
    PlanFootprint reach = mounts_reach(volumes.actions, facts);
    EXPECT_EQ(reach.mounts, (std::vector<std::string>{"/srv", dir}));
    auto users = f.ModuleFixture::plan("users", f.facts());
    std::string why = lane_conflict("mounts", reach, "users", users.footprint);
    EXPECT_EQ(!why.empty(), waits) << dir << ": " << why;

    // What mounts then plans is within its reach: the fstab written, /srv
    // mounted, the other entry not (its mount failed, say).
    for (const auto& a : volumes.actions) {
      if (const auto* w = std::get_if<WriteFile>(&a)) {
        f.system.files[w->path] = w->content;
      }
    }
    f.blocks.mounted = {{"8:80", "/dev/sdf", "/srv", "ext4"}};
    auto mounts = testing::plan_module("mounts", f.config, facts);
    ASSERT_TRUE(mounts.footprint.has_value());
    EXPECT_EQ(mounts.footprint->mounts, std::vector<std::string>{dir});
    expect_within(*mounts.footprint, reach);
  }
}

// The volumes row is planned in its lane (modules/lanes.h): its reach,
// known from the config before any device is looked at, is what the rows
// after it are checked against, and holds whatever its plan then touches.
TEST(Volumes, TheVolumesReachIsKnownBeforeAnyDeviceAndHoldsWhatItsPlanTouches) {
  Fixture f(
      "fs_setup:\n  - {device: ebs1, filesystem: ext4}\nmounts:\n  - [ebs1, /data]\n"
      "  - [/dev/sdh, /srv/www/]\n  - [/dev/sdi, none, swap, sw]\n  - [ebs2, /home]\n"
      "swap: {filename: /var/swapfile, size: 64M}\n");
  f.config.set("amiboot", *parse_yaml("volumes: {device_timeout_seconds: 1}", "image"));
  f.metadata.block_device_mapping["ephemeral0"] = "sdb";
  f.metadata.block_device_mapping["ebs2"] = "sdg";
  f.system.files["/etc/fstab"] = "# amiboot: ebs9\nUUID=u9\t/old\tauto\tdefaults\t0\t2\n";
  Facts facts = f.facts();
  facts.new_instance = true;
  const ModuleLane* lane = find_lane(init_lanes(), "volumes");
  ASSERT_NE(lane, nullptr);
  ASSERT_NE(lane->plan_reach, nullptr);
  EXPECT_EQ(lane->plans_after, std::vector<std::string_view>{"growpart"});
  Diagnostics decoded;
  DecodedConfig config = find_module("volumes")->decode(f.config, decoded);
  ASSERT_FALSE(has_errors(decoded));
  // No device yet: the reach comes from the config and the fstab alone.
  ASSERT_TRUE(lane->plan_reach(config.get(), facts).has_value());
  PlanFootprint reach = *lane->plan_reach(config.get(), facts);
  EXPECT_EQ(reach.mounts,
            (std::vector<std::string>{"/old", "/data", "/srv/www/", "/home", "/mnt"}));
  for (const std::string& path :
       std::vector<std::string>{"/etc/fstab", kPendingPath, "/var/swapfile", "/mnt", "/old"}) {
    EXPECT_NE(std::find(reach.applied.begin(), reach.applied.end(), path), reach.applied.end())
        << path;
  }
  EXPECT_EQ(reach.read, (std::vector<std::string>{"/etc/fstab", kPendingPath}));
  // A home folder among the mount points keeps users after the lane.
  f.system.files["/etc/passwd"] = "root:x:0:0:root:/root:/bin/bash\n";
  auto users = testing::plan_module("users", *parse_yaml("users: [{name: admin}]", "u"), f.facts());
  EXPECT_NE(lane_conflict("volumes", reach, "users", users.footprint), "");

  // The devices appear (ebs1 blank, ephemeral0 formatted; sdh and ebs2
  // never do): what the plan touches is within that reach.
  f.blocks.nodes["/dev/sdf"] = "/dev/sdf";
  f.blocks.nodes["/dev/vdb"] = "/dev/vdb";
  f.blocks.filesystem("/dev/vdb", "ext4", "e0");
  auto plan = f.plan();
  ASSERT_TRUE(errors(plan).empty()) << errors(plan)[0];
  ASSERT_TRUE(plan.footprint.has_value());
  EXPECT_EQ(plan.footprint->mounts, (std::vector<std::string>{"/data", "/mnt"}));
  expect_within(*plan.footprint, reach);
  // A plan beyond it is caught: it would mount where the reach did not say.
  PlanFootprint beyond = *plan.footprint;
  beyond.mounts.push_back("/var");
  EXPECT_EQ(beyond_reach(beyond, reach), "/var");
}

TEST(Volumes, WithNothingToLookAtTheVolumesRowIsPlannedAtItsRow) {
  Fixture f;
  f.system.files["/etc/fstab"] = "/dev/root / ext4 defaults 0 1\n";
  Diagnostics decoded;
  DecodedConfig config = find_module("volumes")->decode(f.config, decoded);
  const ModuleLane* lane = find_lane(init_lanes(), "volumes");
  ASSERT_NE(lane, nullptr);
  EXPECT_FALSE(lane->plan_reach(config.get(), f.facts()).has_value());
  EXPECT_TRUE(f.plan().actions.empty());
  // A default entry from the mapping is something to look at.
  f.metadata.block_device_mapping["ephemeral0"] = "sdb";
  EXPECT_TRUE(lane->plan_reach(config.get(), f.facts()).has_value());
}

TEST(Volumes, AfterTheFirstBootTheMountsReachHasThePendingVolumes) {
  Fixture f;
  f.system.files["/etc/fstab"] = "/dev/root / ext4 defaults 0 1\n";
  PendingVolumes pending;
  MountRequest logs;
  logs.spec = "ebs2";
  logs.fields.file = "/home";
  pending.mounts.push_back(logs);
  std::vector<Action> earlier = {
      WriteFile{kPendingPath, pending_volumes_json(pending), 0600, "root", false, "pending"}};
  Facts facts = f.facts();
  facts.new_instance = false;
  PlanFootprint reach = mounts_reach(earlier, facts);
  EXPECT_EQ(reach.mounts, std::vector<std::string>{"/home"});
  EXPECT_NE(std::find(reach.applied.begin(), reach.applied.end(), "/dev"), reach.applied.end());
  // Its first boot does not look at what is pending (the volumes row just did).
  facts.new_instance = true;
  EXPECT_TRUE(mounts_reach(earlier, facts).mounts.empty());
  // Removed by the volumes row: nothing pending.
  facts.new_instance = false;
  f.system.files[kPendingPath] = pending_volumes_json(pending);
  EXPECT_EQ(mounts_reach({}, facts).mounts, std::vector<std::string>{"/home"});
  EXPECT_TRUE(mounts_reach({RemoveFile{kPendingPath, "pending"}}, facts).mounts.empty());
}

// --- name resolution -----------------------------------------------------------------

TEST(VolumeNames, MappingNamesFindTheXenOrKvmSpellingOfTheirDevice) {
  Fixture f;
  f.metadata.block_device_mapping["ephemeral0"] = "sdb";
  f.blocks.nodes = {{"/dev/xvdf", "/dev/xvdf"}, {"/dev/vdb", "/dev/vdb"}};
  EXPECT_EQ(f.resolve_now("ebs1"), "/dev/xvdf");
  EXPECT_EQ(f.resolve_now("ephemeral0"), "/dev/vdb");
  EXPECT_EQ(f.resolve_now("ephemeral"), "/dev/vdb");  // cloud-init's shorthand
  EXPECT_EQ(f.resolve_now("sdf"), "/dev/xvdf");
  EXPECT_EQ(f.resolve_now("/dev/sdf"), "/dev/xvdf");
  EXPECT_EQ(f.resolve_now("xvdb"), "/dev/vdb");
  EXPECT_EQ(f.resolve_now("sdq"), std::nullopt);
  // The name as written comes first.
  f.blocks.nodes["/dev/sdf"] = "/dev/sdf";
  EXPECT_EQ(f.resolve_now("ebs1"), "/dev/sdf");
}

TEST(VolumeNames, NitroVolumesAreFoundByTheirNvmeIdentifyName) {
  Fixture f;
  f.metadata.block_device_mapping["ebs2"] = "/dev/xvdg";
  f.blocks.namespaces = {"/dev/nvme0n1", "/dev/nvme1n1", "/dev/nvme2n1", "/dev/nvme3n1"};
  f.blocks.identify_pages = {
      {"/dev/nvme0n1", identify_page(0x1d0f, "vol0aaa", "Amazon Elastic Block Store", "xvda")},
      {"/dev/nvme1n1", identify_page(0x1d0f, "vol0bbb", "Amazon Elastic Block Store", "/dev/sdg")},
      {"/dev/nvme2n1", identify_page(0x1d0f, "vol0ccc", "Amazon Elastic Block Store", "sdf")},
      {"/dev/nvme3n1", identify_page(0x1b36, "qemu", "QEMU NVMe Ctrl", "sdh")}};
  f.blocks.partitions[{"/dev/nvme1n1", 1}] = "/dev/nvme1n1p1";
  EXPECT_EQ(f.resolve_now("ebs1"), "/dev/nvme2n1");       // mapping sdf, launch-time "sdf"
  EXPECT_EQ(f.resolve_now("ebs2"), "/dev/nvme1n1");       // mapping xvdg, hot-plugged "/dev/sdg"
  EXPECT_EQ(f.resolve_now("xvdf"), "/dev/nvme2n1");       // sdX and xvdX alike
  EXPECT_EQ(f.resolve_now("root"), "/dev/nvme0n1");       // /dev/xvda
  EXPECT_EQ(f.resolve_now("sdg1"), "/dev/nvme1n1p1");     // a partition of sdg
  EXPECT_EQ(f.resolve_now("ebs2", 1), "/dev/nvme1n1p1");  // fs_setup partition: 1
  EXPECT_EQ(f.resolve_now("ebs2.1"), "/dev/nvme1n1p1");   // cloud-init's dotted form
  EXPECT_EQ(f.resolve_now("sdh"), std::nullopt);          // not an Amazon volume
}

TEST(VolumeNames, BlankIdentifyNameIsAskedAgainLater) {
  Fixture f;
  f.blocks.namespaces = {"/dev/nvme1n1"};
  f.blocks.identify_pages["/dev/nvme1n1"] =
      identify_page(0x1d0f, "vol0bbb", "Amazon Elastic Block Store", "");
  auto r = f.resolver();
  auto deadline = f.blocks.now();
  EXPECT_EQ(*r.resolve("ebs1", 0, deadline), std::nullopt);
  f.blocks.identify_pages["/dev/nvme1n1"] =
      identify_page(0x1d0f, "vol0bbb", "Amazon Elastic Block Store", "sdf");
  EXPECT_EQ(*r.resolve("ebs1", 0, deadline), "/dev/nvme1n1");
}

TEST(VolumeNames, EphemeralDisksNotInTheMappingAreNvmeInstanceStore) {
  Fixture f;
  f.blocks.namespaces = {"/dev/nvme0n1", "/dev/nvme1n1", "/dev/nvme2n1"};
  f.blocks.identify_pages = {
      {"/dev/nvme0n1", identify_page(0x1d0f, "vol0aaa", "Amazon Elastic Block Store", "xvda")},
      {"/dev/nvme1n1", identify_page(0x1d0f, "AWS11", "Amazon EC2 NVMe Instance Storage", "")},
      {"/dev/nvme2n1", identify_page(0x1d0f, "AWS22", "Amazon EC2 NVMe Instance Storage", "")}};
  EXPECT_EQ(f.resolve_now("ephemeral0"), "/dev/nvme1n1");
  EXPECT_EQ(f.resolve_now("ephemeral1"), "/dev/nvme2n1");
  EXPECT_EQ(f.resolve_now("ephemeral2"), std::nullopt);
  // A virtual name in the identify data wins over the order.
  f.blocks.identify_pages["/dev/nvme1n1"] =
      identify_page(0x1d0f, "AWS11", "Amazon EC2 NVMe Instance Storage", "ephemeral1:none");
  f.blocks.identify_pages["/dev/nvme2n1"] =
      identify_page(0x1d0f, "AWS22", "Amazon EC2 NVMe Instance Storage", "ephemeral0:none");
  EXPECT_EQ(f.resolve_now("ephemeral0"), "/dev/nvme2n1");
}

TEST(VolumeNames, NameMissingFromTheMappingIsAnErrorWithoutWaiting) {
  Fixture f;
  auto r = f.resolver();
  auto found = r.resolve("ebs3", 0, f.blocks.now() + 30s);
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().message,
            "ebs3 is not in the instance's block-device-mapping (it lists ami, ebs1, root)");
  EXPECT_EQ(f.blocks.slept, 0ms);
}

TEST(VolumeNames, LateDeviceIsWaitedForUntilTheDeadline) {
  Fixture f;
  f.blocks.late["/dev/sdf"] = {3000ms, "/dev/loop7"};
  auto r = f.resolver();
  auto found = r.resolve("ebs1", 0, f.blocks.now() + 5s);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, "/dev/loop7");
  EXPECT_GE(f.blocks.slept, 3000ms);
  EXPECT_LT(f.blocks.slept, 3200ms);

  Fixture never;
  std::string looked_for;
  auto r2 = never.resolver();
  auto missing = r2.resolve("ebs1", 0, never.blocks.now() + 2s, &looked_for);
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(*missing, std::nullopt);
  EXPECT_GE(never.blocks.slept, 2000ms);
  EXPECT_LT(never.blocks.slept, 2200ms);
  EXPECT_EQ(looked_for,
            "/dev/sdf, /dev/xvdf, /dev/vdf and NVMe volumes named sdf (ebs1 is sdf in the "
            "block-device-mapping)");
}

TEST(VolumeNames, AliasesAndPlainPaths) {
  Fixture f;
  f.aliases = {{"data", "ebs1"}};
  f.blocks.nodes = {{"/dev/sdf", "/dev/sdf"}, {"/dev/md0", "/dev/md0"}};
  EXPECT_EQ(f.resolve_now("data"), "/dev/sdf");
  EXPECT_EQ(f.resolve_now("/dev/md0"), "/dev/md0");
  auto r = f.resolver();
  EXPECT_TRUE(r.is_device("data"));
  EXPECT_TRUE(r.is_device("ephemeral0.1"));
  EXPECT_TRUE(r.is_device("/dev/disk/by-label/x"));
  EXPECT_FALSE(r.is_device("LABEL=data"));
  EXPECT_FALSE(r.is_device("server:/export"));
  EXPECT_FALSE(r.is_device("tmpfs"));
}

// --- plans ---------------------------------------------------------------------------

TEST(Volumes, BlankVolumeGetsAFilesystemAnFstabEntryByUuidAndAMount) {
  Fixture f(kDataVolume);
  f.blocks.nodes["/dev/sdf"] = "/dev/nvme1n1";
  auto plan = f.plan();
  EXPECT_TRUE(errors(plan).empty()) << errors(plan)[0];
  ASSERT_EQ(plan.actions.size(), 4u);
  std::string uuid = planned_uuid(plan.actions[0]);
  EXPECT_EQ(uuid.size(), 36u);
  std::vector<Action> expected = {
      command({"mkfs.ext4", "-L", "data", "-E", "nodiscard", "-U", uuid, "/dev/nvme1n1"},
              "mkfs.ext4 on ebs1 (/dev/nvme1n1)", false, true),
      fstab("# amiboot: ebs1\nUUID=" + uuid + "\t/data\tauto\t" + kOpts + "\t0\t2\n")};
  auto mount = mount_at("/dev/nvme1n1", "/data", "ebs1");
  expected.insert(expected.end(), mount.begin(), mount.end());
  EXPECT_EQ(plan.actions, expected);
  // The UUID is a function of the plan's inputs, different per instance.
  EXPECT_EQ(planned_uuid(f.plan().actions[0]), uuid);
  f.metadata.instance_id = "i-def";
  EXPECT_NE(planned_uuid(f.plan().actions[0]), uuid);
}

TEST(Volumes, XfsGetsItsUuidOptionAndTheTypeReachesFstabAndMount) {
  Fixture f(R"(fs_setup:
  - {device: ebs1, filesystem: xfs, extra_opts: "-s size=4096  -i maxpct=10"}
mounts:
  - [ebs1, /srv/data, xfs, "defaults,noatime"]
)");
  f.blocks.nodes["/dev/sdf"] = "/dev/sdf";
  auto plan = f.plan();
  ASSERT_TRUE(errors(plan).empty()) << errors(plan)[0];
  ASSERT_EQ(plan.actions.size(), 4u);
  std::string uuid = planned_uuid(plan.actions[0]);
  EXPECT_EQ(std::get<RunCommand>(plan.actions[0]).argv,
            (std::vector<std::string>{"mkfs.xfs", "-K", "-m", "uuid=" + uuid, "-s", "size=4096",
                                      "-i", "maxpct=10", "/dev/sdf"}));
  const std::string opts = "defaults,noatime,nofail,x-systemd.device-timeout=30s";
  EXPECT_EQ(plan.actions[1], Action(fstab("# amiboot: ebs1\nUUID=" + uuid + "\t/srv/data\txfs\t" +
                                          opts + "\t0\t2\n")));
  EXPECT_EQ(plan.actions[3], mount_at("/dev/sdf", "/srv/data", "ebs1", opts, "xfs")[1]);
}

TEST(Volumes, ExistingFilesystemIsMountedAndNeverFormatted) {
  Fixture f(kDataVolume);
  f.blocks.nodes["/dev/sdf"] = "/dev/sdf";
  f.blocks.filesystem("/dev/sdf", "ext4", "0b5e7c1e-0000-4000-8000-000000000001", "data");
  auto plan = f.plan();
  ASSERT_TRUE(errors(plan).empty()) << errors(plan)[0];
  std::vector<Action> expected = {
      fstab("# amiboot: ebs1\nUUID=0b5e7c1e-0000-4000-8000-000000000001\t/data\tauto\t" + kOpts +
            "\t0\t2\n")};
  auto mount = mount_at("/dev/sdf", "/data", "ebs1");
  expected.insert(expected.end(), mount.begin(), mount.end());
  EXPECT_EQ(plan.actions, expected);
}

TEST(Volumes, AnySignatureMeansNoMkfs) {
  struct Case {
    DeviceProbe probe;
    std::string carries;
  };
  std::vector<Case> cases = {
      {{false, "", "", "", "", "dos", false, "7:0"}, "a partition table (dos)"},
      {{false, "", "", "", "", "gpt", false, "7:0"}, "a partition table (gpt)"},
      {{false, "xfs", "filesystem", "u1", "logs", "", false, "7:0"},
       "a filesystem (xfs, label 'logs')"},
      {{false, "ext4", "filesystem", "u2", "other", "", false, "7:0"},
       "a filesystem (ext4, label 'other')"},
      {{false, "linux_raid_member", "raid", "u3", "", "", false, "7:0"},
       "a RAID or LVM member signature (linux_raid_member)"},
      {{false, "LVM2_member", "raid", "u4", "", "", false, "7:0"},
       "a RAID or LVM member signature (LVM2_member)"},
      {{false, "swap", "other", "u5", "", "", false, "7:0"}, "a swap area"},
      {{false, "crypto_LUKS", "crypto", "u6", "", "", false, "7:0"}, "a crypto_LUKS signature"},
      {{false, "", "", "", "", "", true, "7:0"}, "several conflicting signatures"},
  };
  for (const auto& c : cases) {
    Fixture f("fs_setup:\n  - {device: ebs1, filesystem: ext4, label: data, partition: none}\n");
    f.blocks.nodes["/dev/sdf"] = "/dev/loop0";
    f.blocks.probes["/dev/loop0"] = c.probe;
    auto plan = f.plan();
    EXPECT_TRUE(plan.actions.empty()) << c.carries;
    ASSERT_EQ(errors(plan).size(), 1u) << c.carries;
    EXPECT_EQ(errors(plan)[0],
              "user-data:2:5: fs_setup[0]: refusing to create ext4 on ebs1 "
              "(/dev/loop0): it carries " +
                  c.carries + "; set overwrite: true to destroy it");
  }
}

TEST(Volumes, PartitionTableIsRefusedAndNothingIsWrittenForThatVolume) {
  Fixture f(kDataVolume);
  f.blocks.nodes["/dev/sdf"] = "/dev/loop3";
  f.blocks.probes["/dev/loop3"] = DeviceProbe{false, "", "", "", "", "dos", false, "7:3"};
  auto plan = f.plan();
  EXPECT_TRUE(plan.actions.empty());
  auto e = errors(plan);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0],
            "user-data:2:5: fs_setup[0]: refusing to create ext4 on ebs1 (/dev/loop3): it carries "
            "a partition table (dos); amiboot does not create partitions (name one with partition: "
            "N), and overwrite: true destroys the whole disk");
  EXPECT_EQ(e[1],
            "user-data:4:5: mounts[0]: ebs1 (/dev/loop3) carries a partition table (dos), not a "
            "filesystem amiboot can mount; name a partition instead (ebs1.1)");
}

TEST(Volumes, OverwriteFormatsWithForceButNeverWhatIsMounted) {
  Fixture f("fs_setup:\n  - {device: ebs1, filesystem: ext4, overwrite: true}\n");
  f.blocks.nodes["/dev/sdf"] = "/dev/loop0";
  f.blocks.filesystem("/dev/loop0", "xfs", "u1");
  f.blocks.probes["/dev/loop0"].devno = "7:0";
  auto plan = f.plan();
  ASSERT_TRUE(errors(plan).empty()) << errors(plan)[0];
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(std::get<RunCommand>(plan.actions[0]).argv,
            (std::vector<std::string>{"mkfs.ext4", "-F", "-E", "nodiscard", "-U",
                                      planned_uuid(plan.actions[0]), "/dev/loop0"}));
  f.blocks.mounted = {{"7:0", "/dev/loop0", "/srv", "xfs"}};
  plan = f.plan();
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_EQ(errors(plan).size(), 1u);
  EXPECT_EQ(errors(plan)[0],
            "user-data:2:5: fs_setup[0]: refusing to create ext4 on ebs1 "
            "(/dev/loop0): it is mounted at /srv");
}

TEST(Volumes, MissingMkfsProgramIsAnError) {
  Fixture f(kDataVolume);
  f.system.programs.clear();
  f.blocks.nodes["/dev/sdf"] = "/dev/sdf";
  auto plan = f.plan();
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_EQ(errors(plan).size(), 2u);
  EXPECT_EQ(errors(plan)[0],
            "user-data:2:5: fs_setup[0]: cannot create ext4 on ebs1 (/dev/sdf): "
            "mkfs.ext4 is not installed");
}

TEST(Volumes, DeviceThatNeverAppearsIsAWarningLeftPendingAndTheOthersAreStillDone) {
  Fixture f(R"(fs_setup:
  - {device: ebs1, filesystem: ext4}
  - {device: ebs2, filesystem: ext4}
mounts:
  - [ebs2, /logs]
  - [ebs1, /data]
)");
  f.config.set("amiboot", *parse_yaml("volumes: {device_timeout_seconds: 2}", "image"));
  f.metadata.block_device_mapping["ebs2"] = "sdg";
  f.blocks.nodes["/dev/sdf"] = "/dev/sdf";
  auto plan = f.plan();
  EXPECT_TRUE(errors(plan).empty()) << errors(plan).front();
  auto w = warnings(plan);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0],
            "user-data:3:5: warning: fs_setup[1]: ebs2 did not appear within 2 s (looked for "
            "/dev/sdg, /dev/xvdg, /dev/vdg and NVMe volumes named sdg (ebs2 is sdg in the "
            "block-device-mapping)); left pending, looked at again on every boot");
  EXPECT_EQ(w[1].substr(0, 58), "user-data:5:5: warning: mounts[0]: ebs2 did not appear wit");
  EXPECT_NE(w[1].find("left pending"), std::string::npos);
  // One deadline for the whole plan, not one per entry.
  EXPECT_GE(f.blocks.slept, 2000ms);
  EXPECT_LT(f.blocks.slept, 2200ms);
  ASSERT_EQ(plan.actions.size(), 5u);
  // What is left to do, in the instance's state folder, first.
  const auto& state = std::get<WriteFile>(plan.actions[0]);
  EXPECT_EQ(state.path, kPendingPath);
  EXPECT_EQ(state.mode, 0600u);
  auto pending = parse_pending_volumes(state.content);
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->fs_setup.size(), 1u);
  EXPECT_EQ(pending->fs_setup[0].device, "ebs2");
  EXPECT_EQ(pending->fs_setup[0].path, "fs_setup[1]");
  EXPECT_EQ(pending->fs_setup[0].pos.line, 3);
  ASSERT_EQ(pending->mounts.size(), 1u);
  EXPECT_EQ(pending->mounts[0].spec, "ebs2");
  EXPECT_EQ(pending->mounts[0].fields.file, "/logs");
  std::string uuid = planned_uuid(plan.actions[1]);
  EXPECT_EQ(plan.actions[2],
            Action(fstab("# amiboot: ebs1\nUUID=" + uuid +
                         "\t/data\tauto\tdefaults,nofail,x-systemd.device-timeout=2s\t0\t2\n")));
  EXPECT_EQ(plan.actions[4], mount_at("/dev/sdf", "/data", "ebs1",
                                      "defaults,nofail,x-systemd.device-timeout=2s")[1]);
  EXPECT_EQ(plan.summary,
            "waited 2.0 s for devices (at most 2 s); not attached: ebs2; pending until they are: "
            "fs_setup[1], mounts[0]");
}

TEST(Volumes, AnAbsentDevicePathGetsItsFstabLineAsCloudInitWritesIt) {
  Fixture f("mounts:\n  - [/dev/sdh, /data]\n  - [/dev/sdi, none, swap, sw]\n");
  f.config.set("amiboot", *parse_yaml("volumes: {device_timeout_seconds: 1}", "image"));
  auto plan = f.plan();
  EXPECT_TRUE(errors(plan).empty());
  ASSERT_EQ(warnings(plan).size(), 2u);
  EXPECT_EQ(warnings(plan)[0],
            "user-data:2:5: warning: mounts[0]: /dev/sdh did not appear within 1 s (looked for "
            "/dev/sdh, /dev/xvdh, /dev/vdh and NVMe volumes named sdh); its fstab line names "
            "/dev/sdh (nofail), so it is mounted when it is attached");
  EXPECT_EQ(plan.actions,
            std::vector<Action>{fstab(
                "# amiboot: /dev/sdh\n/dev/sdh\t/data\tauto\tdefaults,nofail,x-systemd.device-"
                "timeout=1s\t0\t2\n# amiboot: /dev/sdi\n/dev/sdi\tnone\tswap\tsw,nofail,x-systemd."
                "device-timeout=1s\t0\t2\n")});
  // ... unless a filesystem must be made on it first: then it is pending.
  Fixture g("fs_setup:\n  - {device: /dev/sdh, filesystem: xfs}\nmounts:\n  - [/dev/sdh, /data]\n");
  g.config.set("amiboot", *parse_yaml("volumes: {device_timeout_seconds: 1}", "image"));
  plan = g.plan();
  ASSERT_EQ(plan.actions.size(), 1u);
  auto pending = parse_pending_volumes(std::get<WriteFile>(plan.actions[0]).content);
  ASSERT_TRUE(pending);
  EXPECT_EQ(pending->fs_setup.size(), 1u);
  EXPECT_EQ(pending->mounts.size(), 1u);
}

TEST(Volumes, EntryOfAVolumeSeenBeforeIsKeptWhileItIsMissing) {
  Fixture f("mounts:\n  - [ebs1, /data]\n");
  f.config.set("amiboot", *parse_yaml("volumes: {device_timeout_seconds: 1}", "image"));
  std::string ours = "# amiboot: ebs1\nUUID=u-old\t/data\tauto\t" + kOpts + "\t0\t2\n";
  f.system.files["/etc/fstab"] = "/dev/root / ext4 defaults 0 1\n" + ours;
  auto plan = f.plan();
  EXPECT_TRUE(errors(plan).empty());
  ASSERT_EQ(warnings(plan).size(), 1u);
  // fstab stays as it is; the entry is pending.
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(std::get<WriteFile>(plan.actions[0]).path, kPendingPath);
}

TEST(Volumes, PendingVolumesAreFormattedAndMountedOnTheBootTheyAppear) {
  Fixture f(R"(fs_setup:
  - {device: ebs2, filesystem: ext4, label: logs}
mounts:
  - [ebs2, /logs]
  - [ebs1, /data]
)");
  f.config.set("amiboot", *parse_yaml("volumes: {device_timeout_seconds: 2}", "image"));
  f.metadata.block_device_mapping["ebs2"] = "sdg";
  f.blocks.nodes["/dev/sdf"] = "/dev/sdf";
  f.blocks.filesystem("/dev/sdf", "ext4", "u-data");
  f.system.files["/etc/fstab"] = "/dev/root / ext4 defaults 0 1\n";
  auto first = f.plan();
  ASSERT_EQ(first.actions.size(), 4u);  // pending state, fstab, mkdir, mount
  const auto& state = std::get<WriteFile>(first.actions[0]);
  f.system.files[state.path] = state.content;
  f.system.files["/etc/fstab"] = std::get<WriteFile>(first.actions[1]).content;
  f.blocks.mounted = {{"8:80", "/dev/sdf", "/data", "ext4"}};

  // The next boot, ebs2 still missing: a warning, nothing else.
  f.blocks.slept = 0ms;
  auto boot2 = f.plan_boot();
  EXPECT_TRUE(errors(boot2).empty());
  EXPECT_EQ(warnings(boot2).size(), 2u);
  EXPECT_TRUE(boot2.actions.empty()) << describe(boot2.actions[0]);
  EXPECT_LT(f.blocks.slept, 2200ms);

  // Attached before the boot after: made, in fstab, mounted, no longer pending.
  f.blocks.nodes["/dev/sdg"] = "/dev/nvme2n1";
  auto boot3 = f.plan_boot();
  EXPECT_TRUE(boot3.diagnostics.empty()) << boot3.diagnostics.front().format();
  ASSERT_EQ(boot3.actions.size(), 5u);
  EXPECT_EQ(boot3.actions[0], Action(RemoveFile{kPendingPath, "pending volumes"}));
  std::string uuid = planned_uuid(boot3.actions[1]);
  EXPECT_EQ(std::get<RunCommand>(boot3.actions[1]).argv.back(), "/dev/nvme2n1");
  EXPECT_EQ(
      boot3.actions[2],
      Action(fstab("/dev/root / ext4 defaults 0 1\n# amiboot: ebs1\nUUID=u-data\t/data\tauto\t"
                   "defaults,nofail,x-systemd.device-timeout=2s\t0\t2\n# amiboot: ebs2\nUUID=" +
                   uuid + "\t/logs\tauto\tdefaults,nofail,x-systemd.device-timeout=2s\t0\t2\n")));
  EXPECT_EQ(boot3.actions[4], mount_at("/dev/nvme2n1", "/logs", "ebs2",
                                       "defaults,nofail,x-systemd.device-timeout=2s")[1]);
}

TEST(Volumes, TheFirstBootOfAnInstanceWaitsOnceForAllRows) {
  Fixture f;
  f.config.set("amiboot", *parse_yaml("volumes: {device_timeout_seconds: 5}", "image"));
  f.system.files["/etc/fstab"] = "# amiboot: ebs1\nUUID=u1\t/data\tauto\t" + kOpts + "\t0\t2\n";
  Facts facts = f.facts();
  facts.new_instance = true;  // the volumes row waited already
  auto plan = testing::plan_module("mounts", f.config, facts);
  EXPECT_EQ(f.blocks.slept, 0ms);
  EXPECT_EQ(warnings(plan).size(), 1u);
}

TEST(Volumes, SecondRunWritesNothingAndMountsNothing) {
  Fixture f(kDataVolume);
  f.system.files["/etc/fstab"] = "# image\n/dev/root / ext4 defaults 0 1\n";
  f.blocks.nodes["/dev/sdf"] = "/dev/nvme1n1";
  auto first = f.plan();
  ASSERT_EQ(first.actions.size(), 4u);
  std::string uuid = planned_uuid(first.actions[0]);
  // What the executor did: the filesystem exists, fstab is written, it is mounted.
  f.blocks.filesystem("/dev/nvme1n1", "ext4", uuid, "data");
  f.system.files["/etc/fstab"] = std::get<WriteFile>(first.actions[1]).content;
  EXPECT_EQ(f.system.files["/etc/fstab"],
            "# image\n/dev/root / ext4 defaults 0 1\n# amiboot: ebs1\nUUID=" + uuid +
                "\t/data\tauto\t" + kOpts + "\t0\t2\n");
  f.blocks.mounted = {{"259:1", "/dev/nvme1n1", "/data", "ext4"}};
  auto second = f.plan();
  EXPECT_TRUE(errors(second).empty());
  EXPECT_TRUE(second.actions.empty());
  EXPECT_TRUE(f.plan_boot().actions.empty());
}

TEST(Volumes, BlankVolumeWithoutFsSetupIsAnErrorNotAnEntry) {
  Fixture f("mounts:\n  - [ebs1, /data]\n  - [tmpfs, /scratch, tmpfs, size=1g]\n");
  f.blocks.nodes["/dev/sdf"] = "/dev/sdf";
  // The image's own tmpfs is another mount: "tmpfs" names no device.
  f.system.files["/etc/fstab"] = "tmpfs /tmp tmpfs defaults 0 0\n";
  auto plan = f.plan();
  ASSERT_EQ(errors(plan).size(), 1u);
  EXPECT_EQ(errors(plan)[0],
            "user-data:2:5: mounts[0]: ebs1 (/dev/sdf) has no filesystem to "
            "mount; add an fs_setup entry for it (device: ebs1)");
  // The other entry is a plain fstab line: taken as written.
  std::vector<Action> expected = {fstab(
      "tmpfs /tmp tmpfs defaults 0 0\n# amiboot: tmpfs\ntmpfs\t/scratch\ttmpfs\tsize=1g\t0\t2\n")};
  auto mount = mount_at("tmpfs", "/scratch", "tmpfs", "size=1g", "tmpfs");
  expected.insert(expected.end(), mount.begin(), mount.end());
  EXPECT_EQ(plan.actions, expected);
}

TEST(Volumes, DefaultEphemeral0IsFormattedWhenBlankAndMountedAtMnt) {
  Fixture f;
  f.metadata.block_device_mapping["ephemeral0"] = "sdb";
  f.blocks.nodes["/dev/vdb"] = "/dev/vdb";
  auto plan = f.plan();
  ASSERT_TRUE(errors(plan).empty()) << errors(plan)[0];
  ASSERT_EQ(plan.actions.size(), 4u);
  std::string uuid = planned_uuid(plan.actions[0]);
  EXPECT_EQ(
      plan.actions[0],
      Action(command({"mkfs.ext4", "-L", "ephemeral0", "-E", "nodiscard", "-U", uuid, "/dev/vdb"},
                     "mkfs.ext4 on ephemeral0 (/dev/vdb)", false, true)));
  EXPECT_EQ(plan.actions[1], Action(fstab("# amiboot: ephemeral0\nUUID=" + uuid + "\t/mnt\tauto\t" +
                                          kOpts + "\t0\t2\n")));
  EXPECT_EQ(plan.actions[3], mount_at("/dev/vdb", "/mnt", "ephemeral0")[1]);

  // Pre-formatted (as AWS ships them): mounted as it is.
  f.blocks.filesystem("/dev/vdb", "ext3", "e3");
  plan = f.plan();
  ASSERT_EQ(plan.actions.size(), 3u);
  EXPECT_EQ(plan.actions[0],
            Action(fstab("# amiboot: ephemeral0\nUUID=e3\t/mnt\tauto\t" + kOpts + "\t0\t2\n")));
}

TEST(Volumes, DefaultEphemeral0CanBeTurnedOff) {
  Fixture removed("mounts:\n  - [ephemeral0]\n");
  removed.metadata.block_device_mapping["ephemeral0"] = "sdb";
  removed.blocks.nodes["/dev/sdb"] = "/dev/sdb";
  EXPECT_TRUE(removed.plan().actions.empty());

  Fixture unformatted;
  unformatted.config.set("amiboot", *parse_yaml("volumes: {ephemeral_filesystem: none}", "image"));
  unformatted.metadata.block_device_mapping["ephemeral0"] = "sdb";
  unformatted.blocks.nodes["/dev/sdb"] = "/dev/sdb";
  auto plan = unformatted.plan();
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_TRUE(plan.diagnostics.empty());

  // The image already mounts /mnt: its line wins.
  Fixture image;
  image.metadata.block_device_mapping["ephemeral0"] = "sdb";
  image.blocks.nodes["/dev/sdb"] = "/dev/sdb";
  image.blocks.filesystem("/dev/sdb", "ext3", "e3");
  image.system.files["/etc/fstab"] = "/dev/xvdb /mnt auto defaults,nofail 0 2\n";
  plan = image.plan();
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_EQ(plan.diagnostics.size(), 1u);
  EXPECT_EQ(plan.diagnostics[0].message,
            "/etc/fstab line 1 already has /mnt; leaving it to that entry");
}

TEST(Volumes, NoConfigAndNoDefaultsLooksAtNothing) {
  Fixture f;
  f.blocks.nodes["/dev/sdf"] = "/dev/sdf";
  auto plan = f.plan();
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_TRUE(plan.diagnostics.empty());
  EXPECT_TRUE(f.blocks.probed.empty());
  // A new instance whose config dropped the volume drops our entry too.
  f.system.files["/etc/fstab"] =
      "/dev/root / ext4 defaults 0 1\n# amiboot: ebs1\nUUID=u\t/data\tauto\tdefaults\t0\t2\n";
  plan = f.plan();
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(plan.actions[0], Action(fstab("/dev/root / ext4 defaults 0 1\n")));
}

TEST(Volumes, SwapFileIsCreatedPrivateThenFormattedAndEnabled) {
  Fixture f("swap: {filename: /swapfile, size: 512M}\n");
  auto plan = f.plan();
  ASSERT_TRUE(errors(plan).empty()) << errors(plan)[0];
  RunCommand swapon{{"swapon", "/swapfile"}, "swapon swap file (/swapfile)"};
  swapon.needs_host = true;
  WriteFile file{"/swapfile", "", 0600, "root", false, "swap file"};
  file.required = true;
  std::vector<Action> expected = {
      fstab("# amiboot: swap file\n/swapfile\tnone\tswap\tsw,nofail\t0\t0\n"), file,
      command({"fallocate", "-l", "512M", "/swapfile"}, "fallocate swap file /swapfile", true,
              true),
      command({"mkswap", "/swapfile"}, "mkswap /swapfile", true, true), swapon};
  EXPECT_EQ(plan.actions, expected);
  // There already (an earlier run): only the entry and swapon when it is off.
  f.system.files["/swapfile"] = "";
  f.system.files["/etc/fstab"] = std::get<WriteFile>(expected[0]).content;
  EXPECT_EQ(f.plan().actions, std::vector<Action>{swapon});
  f.blocks.swaps = {"/swapfile"};
  EXPECT_TRUE(f.plan().actions.empty());
}

TEST(Volumes, AutoSwapSizeFollowsCloudInit) {
  Fixture f("swap: {size: auto, maxsize: 1G}\n");
  f.blocks.memory = 2ull << 30;
  f.blocks.free = 100ull << 30;
  auto plan = f.plan();
  ASSERT_GE(plan.actions.size(), 3u);
  EXPECT_EQ(std::get<RunCommand>(plan.actions[2]).argv[2], "1024M");
  EXPECT_EQ(suggested_swap_size(2ull << 30, std::nullopt, std::nullopt), 2ull << 30);
  EXPECT_EQ(suggested_swap_size(8ull << 30, std::nullopt, 8ull << 30), 2ull << 30);  // a quarter
  EXPECT_EQ(suggested_swap_size(64ull << 30, std::nullopt, std::nullopt), 8ull << 30);
  EXPECT_EQ(parse_size("1.5G"), 3ull << 29);
  EXPECT_EQ(parse_size("512MB"), 512ull << 20);
  EXPECT_EQ(parse_size("4096"), 4096u);
  EXPECT_EQ(parse_size("lots"), std::nullopt);
}

TEST(Volumes, MountsEveryBootWaitsForOurEntriesThatAreNotMounted) {
  Fixture f;
  f.config.set("amiboot", *parse_yaml("volumes: {device_timeout_seconds: 5}", "image"));
  f.system.files["/etc/fstab"] =
      "/dev/root / ext4 defaults 0 1\n"
      "UUID=foreign /foreign auto defaults 0 2\n"
      "# amiboot: ebs1\nUUID=u1\t/data\tauto\t" +
      kOpts +
      "\t0\t2\n"
      "# amiboot: ebs2\nUUID=u2\t/logs\txfs\t" +
      kOpts +
      "\t0\t2\n"
      "# amiboot: swap file\n/swapfile\tnone\tswap\tsw,nofail\t0\t0\n";
  f.blocks.filesystem("/dev/nvme2n1", "ext4", "u1");
  f.blocks.filesystem("/dev/nvme1n1", "xfs", "u2");
  f.blocks.late["/dev/nvme1n1"] = {1500ms, "/dev/nvme1n1"};
  f.blocks.mounted = {{"259:2", "/dev/nvme2n1", "/data", "ext4"}};
  auto plan = f.plan_boot();
  ASSERT_TRUE(errors(plan).empty()) << errors(plan)[0];
  RunCommand swapon{{"swapon", "/swapfile"}, "swapon swap file (/swapfile)"};
  swapon.needs_host = true;
  std::vector<Action> expected = mount_at("/dev/nvme1n1", "/logs", "ebs2", kOpts, "xfs");
  expected.push_back(swapon);
  EXPECT_EQ(plan.actions, expected);
  EXPECT_GE(f.blocks.slept, 1500ms);

  // systemd's unit for the line mounts it as soon as it appears: not twice.
  Fixture raced;
  raced.config = f.config;
  raced.system.files = f.system.files;
  raced.blocks = f.blocks;
  raced.blocks.slept = 0ms;
  raced.blocks.late_mounted = {{1800ms, {"259:1", "/dev/nvme1n1", "/logs", "xfs"}}};
  EXPECT_EQ(raced.plan_boot().actions, std::vector<Action>{swapon});

  Fixture gone;
  gone.config = f.config;
  gone.system.files = f.system.files;
  plan = gone.plan_boot();
  EXPECT_TRUE(errors(plan).empty());
  ASSERT_EQ(warnings(plan).size(), 2u);
  EXPECT_EQ(warnings(plan)[0],
            "/etc/fstab: warning: ebs1: no device with filesystem UUID u1 (for /data) "
            "appeared within 5 s; not mounted");
  EXPECT_EQ(plan.summary, "waited 5.0 s for devices (at most 5 s); not attached: ebs1, ebs2");
  EXPECT_LT(gone.blocks.slept, 5200ms);
}

// --- decoding ------------------------------------------------------------------------

TEST(Volumes, BadConfigIsRejectedWithKeyPathsAndPositions) {
  struct Case {
    std::string yaml;
    std::string error;
  };
  std::vector<Case> cases = {
      {"mounts: 5\n", "user-data:1:9: mounts: expected a list, got an integer"},
      {"mounts:\n  - /dev/sdb\n",
       "user-data:2:5: mounts[0]: expected a list such as [ephemeral0, /mnt, auto, defaults, "
       "\"0\", \"2\"], got a string"},
      {"mounts:\n  - [sdb, mnt]\n",
       "user-data:2:11: mounts[0][1]: expected an absolute mount point or none, got 'mnt'"},
      {"mounts:\n  - [a, /b, c, d, \"0\", \"2\", x]\n",
       "user-data:2:5: mounts[0]: expected 1 to 6 fields (device, mount point, type, options, "
       "freq, passno), got 7"},
      {"fs_setup:\n  - {device: ebs1, filesystem: ntfs}\n",
       "user-data:2:32: fs_setup[0].filesystem: expected one of ext2, ext3, ext4, xfs, btrfs, "
       "swap; got 'ntfs'"},
      {"fs_setup:\n  - {device: ebs1}\n",
       "user-data:2:5: fs_setup[0]: missing required key 'filesystem'"},
      {"fs_setup:\n  - {device: ebs1, filesystem: ext4, cmd: 'mkfs -t %(filesystem)s'}\n",
       "user-data:2:43: fs_setup[0].cmd: refused: cloud-init runs it through a shell with the "
       "device and label filled in (shell=True), and amiboot runs commands as argvs only, never a "
       "shell string it built; use filesystem and extra_opts"},
      {"fs_setup:\n  - {device: ebs1, filesystem: xfs, label: thirteen-char}\n",
       "user-data:2:44: fs_setup[0].label: xfs labels hold at most 12 bytes, got 13"},
      {"fs_setup:\n  - {device: ebs1, filesystem: ext4, partition: first}\n",
       "user-data:2:49: fs_setup[0].partition: expected auto, any, none or a partition number, got "
       "'first'"},
      {"fs_setup:\n  - {device: ebs1, filesystem: ext4, extra_opts: [-U, abc]}\n",
       "user-data:2:50: fs_setup[0].extra_opts: amiboot sets the filesystem UUID itself (its fstab "
       "entry names it); remove '-U'"},
      {"swap:\n  size: huge\n",
       "user-data:2:9: swap.size: expected a size such as 2147483648, \"2G\" or \"512M\", got "
       "'huge'"},
      {"swap:\n  filename: swapfile\n  size: 1G\n",
       "user-data:2:13: swap.filename: expected an absolute file path, got 'swapfile'"},
  };
  for (const auto& c : cases) {
    auto parsed = parse_yaml(c.yaml, "user-data");
    ASSERT_TRUE(parsed.ok()) << c.yaml;
    Diagnostics out;
    decode_volumes(*parsed, out);
    ASSERT_TRUE(has_errors(out)) << c.yaml;
    EXPECT_EQ(out[0].format(), c.error) << c.yaml;
  }
}

TEST(Volumes, CloudInitShapesDecode) {
  auto parsed = parse_yaml(R"(mount_default_fields: [None, None, auto, "defaults,nofail", "0", "2"]
mounts:
  - [ephemeral0, /mnt, auto, "defaults,noexec"]
  - [sdc, /opt/data]
  - [xvdh, /opt/data2, auto, "defaults,nofail", "0", "0"]
  - [swap]
  - [ebs1, null]
fs_setup:
  - label: data
    filesystem: ext4
    device: /dev/sdc
    partition: auto
    overwrite: false
    replace_fs: ntfs
swap:
  filename: /swap.img
  size: auto
  maxsize: 10485760
device_aliases: {my_data: /dev/sdc}
)",
                           "user-data");
  ASSERT_TRUE(parsed.ok());
  Diagnostics out;
  auto cfg = decode_volumes(*parsed, out);
  ASSERT_TRUE(cfg) << out[0].format();
  ASSERT_EQ(cfg->mounts.size(), 5u);
  EXPECT_EQ(cfg->mounts[0].fields, (FstabEntry{"", "/mnt", "auto", "defaults,noexec", "0", "2"}));
  // Missing fields come from mount_default_fields ("None" is a string there,
  // as in cloud-init's own example).
  EXPECT_EQ(cfg->mounts[1].fields,
            (FstabEntry{"", "/opt/data", "auto", "defaults,nofail", "0", "2"}));
  EXPECT_EQ(cfg->mounts[2].fields.passno, "0");
  EXPECT_TRUE(cfg->mounts[3].remove);
  EXPECT_TRUE(cfg->mounts[4].remove);
  ASSERT_EQ(cfg->fs_setup.size(), 1u);
  EXPECT_EQ(cfg->fs_setup[0].partition, "auto");
  ASSERT_TRUE(cfg->swap);
  EXPECT_TRUE(cfg->swap->auto_size);
  EXPECT_EQ(cfg->swap->maxsize, 10485760u);
  EXPECT_EQ(cfg->aliases.at("my_data"), "/dev/sdc");
  ASSERT_EQ(out.size(), 1u);  // replace_fs: a warning
  EXPECT_EQ(out[0].severity, Diagnostic::Severity::Warning);
}

}  // namespace
}  // namespace amiboot
