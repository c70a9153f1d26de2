// SPDX-License-Identifier: Apache-2.0
// disk_setup: decoding, partition types, layouts in bytes, and the volumes
// plan that partitions only blank disks (or, told to, overwrites them).
#include "modules/disk_setup.h"

#include <gtest/gtest.h>

#include "agent/core/config.h"
#include "modules/volumes.h"
#include "tests/support/fake_block_devices.h"
#include "tests/support/module_fixture.h"

namespace amiboot {
namespace {

using namespace std::chrono_literals;
using testing::FakeBlockDevices;

constexpr std::uint64_t kMiB = 1ull << 20;
constexpr std::uint64_t kGiB = 1ull << 30;
const char* kLinuxGuid = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";
const char* kSwapGuid = "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F";

struct Fixture : testing::ModuleFixture {
  explicit Fixture(const std::string& yaml) : ModuleFixture(yaml) {
    metadata.block_device_mapping = {{"ami", "xvda"}, {"ebs1", "sdf"}};
    system.programs = {"mkfs.ext4", "mkfs.xfs", "mkswap"};
    blocks.nodes["/dev/sdf"] = "/dev/nvme1n1";
    blocks.disk("nvme1n1", "259:4", 10 * kGiB);
  }
  Facts facts() const {
    Facts with = ModuleFixture::facts();
    with.blocks = &blocks;
    return with;
  }
  PlanResult plan() const { return ModuleFixture::plan("volumes", facts()); }
  std::vector<DiskSetupRequest> decoded() {
    Diagnostics out;
    Decoder d(out);
    std::vector<DiskSetupRequest> r;
    decode_disk_setup(config, r, d);
    diagnostics = out;
    return r;
  }

  FakeBlockDevices blocks;
  Diagnostics diagnostics;
};

std::vector<std::string> messages(const Diagnostics& diags) {
  std::vector<std::string> out;
  for (const auto& d : diags) {
    out.push_back(d.format());
  }
  return out;
}

MakePartitionTable table(const std::string& disk, const std::string& type,
                         std::vector<PartitionSpec> parts, bool overwrite = false) {
  return MakePartitionTable{.disk = disk,
                            .table = type,
                            .partitions = std::move(parts),
                            .overwrite = overwrite,
                            .label = "disk_setup ebs1"};
}

TEST(DiskSetup, DecodesCloudInitsDocumentedExample) {
  Fixture f(R"(device_aliases: {my_alias: /dev/sdb, swap_disk: /dev/sdc}
disk_setup:
  /dev/sdd: {layout: true, overwrite: true, table_type: mbr}
  my_alias:
    layout: [50, 50]
    overwrite: true
    table_type: gpt
  swap_disk:
    layout:
    - [100, 82]
    overwrite: true
    table_type: gpt
)");
  auto r = f.decoded();
  EXPECT_TRUE(f.diagnostics.empty()) << messages(f.diagnostics).front();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].device, "/dev/sdd");
  EXPECT_EQ(r[0].table_type, "mbr");
  EXPECT_EQ(r[0].layout, (std::vector<DiskSetupRequest::Part>{{100, "83"}}));
  EXPECT_TRUE(r[0].overwrite);
  EXPECT_EQ(r[1].layout, (std::vector<DiskSetupRequest::Part>{{50, kLinuxGuid}, {50, kLinuxGuid}}));
  EXPECT_EQ(r[2].layout, (std::vector<DiskSetupRequest::Part>{{100, kSwapGuid}}));
  EXPECT_EQ(r[2].path, "disk_setup.swap_disk");
}

TEST(DiskSetup, LayoutFalseAndTheDefaultLeaveTheDiskAlone) {
  Fixture f("disk_setup:\n  ebs1: {layout: false}\n  /dev/sdg: {table_type: gpt}\n");
  auto r = f.decoded();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TRUE(r[0].layout.empty());
  EXPECT_TRUE(r[1].layout.empty());
  EXPECT_TRUE(f.plan().actions.empty());
}

TEST(DiskSetup, BadValuesAreErrorsWithTheirPositions) {
  Fixture f(R"(disk_setup:
  ebs1: {table_type: apm}
  ebs2: {layout: [0, 50]}
  ebs3: {layout: [60, 50]}
  ebs4: {layout: [10, 10, 10, 10, 10]}
  ebs5: {table_type: gpt, layout: [[50, 9999], [50, 83]]}
  ebs6: {layout: [[50, linux]]}
  ebs7: {layout: remove}
  ebs8: {layout: yes please}
)");
  f.decoded();
  EXPECT_EQ(messages(f.diagnostics),
            (std::vector<std::string>{
                "user-data:2:22: disk_setup.ebs1.table_type: expected mbr or gpt, got apm",
                "user-data:3:19: disk_setup.ebs2.layout[0]: expected a percentage from 1 to 100, "
                "got 0",
                "user-data:4:18: disk_setup.ebs3.layout: the percentages add up to 110, more "
                "than 100",
                "user-data:5:18: disk_setup.ebs4.layout: an MBR table holds 4 primary partitions, "
                "not 5 (use table_type: gpt)",
                "user-data:6:41: disk_setup.ebs5.layout[0][1]: expected a GPT partition type GUID "
                "or one of the codes 8300 (Linux), 8200 (swap), 8E00 (LVM), FD00 (RAID), 8309 "
                "(LUKS), 0700, 8302, 8304, 8306, EF00, EF02 (or their MBR codes 83, 82, 8e, fd), "
                "got '9999'",
                "user-data:7:24: disk_setup.ebs6.layout[0][1]: expected an MBR partition type in "
                "hex such as 83 (Linux) or 82 (swap), got 'linux'",
                "user-data:8:18: warning: disk_setup.ebs7.layout: layout: remove is not "
                "supported: amiboot never removes a partition table on its own; the disk is left "
                "as it is",
                "user-data:9:18: disk_setup.ebs8.layout: expected true, false or a list of "
                "percentages such as [50, [50, 82]], got a string"}));
}

TEST(DiskSetup, PartitionTypesAsCloudInitGivesThem) {
  std::string why;
  EXPECT_EQ(partition_type("mbr", "83", why), "83");
  EXPECT_EQ(partition_type("mbr", "8E", why), "8e");
  EXPECT_EQ(partition_type("mbr", "7", why), "07");
  EXPECT_EQ(partition_type("gpt", "82", why), kSwapGuid);
  EXPECT_EQ(partition_type("gpt", "8300", why), kLinuxGuid);
  EXPECT_EQ(partition_type("gpt", "fd00", why), "A19D880F-05FC-4D3B-A006-743F0F84911E");
  EXPECT_EQ(partition_type("gpt", "0fc63daf-8483-4772-8e79-3d69d8477de4", why), kLinuxGuid);
  EXPECT_EQ(partition_type("mbr", "8300", why), std::nullopt);
}

TEST(DiskSetup, LayoutsArePercentagesOfTheDiskInWholeMebibytesTheLastTakingTheRest) {
  DiskSetupRequest r;
  r.table_type = "gpt";
  r.layout = {{33, "A"}, {33, "B"}, {34, "C"}};
  auto parts = layout_partitions(r, 10 * kGiB);
  ASSERT_TRUE(parts.ok());
  std::uint64_t third = 10 * kGiB * 33 / 100 / kMiB * kMiB;
  EXPECT_EQ(*parts,
            (std::vector<PartitionSpec>{
                {kMiB, third, "A"}, {kMiB + third, third, "B"}, {kMiB + 2 * third, 0, "C"}}));
  r.layout = {{99, "A"}, {1, "B"}};
  EXPECT_FALSE(layout_partitions(r, 8 * kMiB).ok());
}

TEST(DiskSetup, ABlankDiskIsPartitionedThenItsPartitionsGetFilesystemsAndMounts) {
  Fixture f(R"(disk_setup:
  ebs1: {table_type: gpt, layout: [50, [50, 82]]}
fs_setup:
  - {device: ebs1.1, filesystem: ext4, label: data}
  - {device: ebs1, partition: 2, filesystem: swap}
mounts:
  - [ebs1.1, /data]
  - [ebs1.2, none, swap, sw]
)");
  auto plan = f.plan();
  EXPECT_TRUE(plan.diagnostics.empty()) << messages(plan.diagnostics).front();
  ASSERT_EQ(plan.actions.size(), 7u);  // and mkdir, mount, swapon
  EXPECT_EQ(plan.actions[0],
            Action(table("/dev/nvme1n1", "gpt",
                         {{kMiB, 5 * kGiB, kLinuxGuid}, {kMiB + 5 * kGiB, 0, kSwapGuid}})));
  EXPECT_EQ(std::get<RunCommand>(plan.actions[1]).argv.back(), "/dev/nvme1n1p1");
  EXPECT_EQ(std::get<RunCommand>(plan.actions[1]).argv[0], "mkfs.ext4");
  EXPECT_EQ(std::get<RunCommand>(plan.actions[2]).argv.back(), "/dev/nvme1n1p2");
  EXPECT_EQ(std::get<RunCommand>(plan.actions[2]).argv[0], "mkswap");
  const auto& fstab = std::get<WriteFile>(plan.actions[3]).content;
  EXPECT_NE(fstab.find("# amiboot: ebs1.1\nUUID="), std::string::npos) << fstab;
  EXPECT_NE(fstab.find("# amiboot: ebs1.2\nUUID="), std::string::npos) << fstab;
  EXPECT_EQ(std::get<RunCommand>(plan.actions[5]).argv[3], "/dev/nvme1n1p1");  // mount
  EXPECT_TRUE(f.blocks.probed == std::vector<std::string>{"/dev/nvme1n1"});
}

TEST(DiskSetup, AutoMeansTheFirstNewPartitionAndNoneIsRefused) {
  Fixture f(R"(disk_setup:
  ebs1: {layout: true}
fs_setup:
  - {device: ebs1, partition: auto, filesystem: xfs}
  - {device: ebs1, partition: none, filesystem: ext4}
)");
  auto plan = f.plan();
  ASSERT_EQ(plan.actions.size(), 2u);
  EXPECT_EQ(plan.actions[0], Action(table("/dev/nvme1n1", "dos", {{kMiB, 0, "83"}})));
  EXPECT_EQ(std::get<RunCommand>(plan.actions[1]).argv.back(), "/dev/nvme1n1p1");
  EXPECT_EQ(messages(plan.diagnostics),
            std::vector<std::string>{
                "user-data:5:5: fs_setup[1]: disk_setup partitions ebs1; partition: none would "
                "make the filesystem on the whole disk, over its new partition table"});
}

TEST(DiskSetup, ADiskWithASignatureIsLeftAloneWithoutOverwrite) {
  Fixture f(R"(disk_setup:
  ebs1: {table_type: gpt, layout: true}
fs_setup:
  - {device: ebs1.1, filesystem: ext4}
)");
  f.blocks.filesystem("/dev/nvme1n1", "ext4", "u-old", "old");
  auto plan = f.plan();
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_EQ(messages(plan.diagnostics),
            (std::vector<std::string>{
                "user-data:2:9: warning: disk_setup.ebs1: left ebs1 (/dev/nvme1n1) as it is: it "
                "carries a filesystem (ext4, label 'old'); overwrite: true destroys it",
                "user-data:4:5: fs_setup[0]: ebs1.1: partition 1 of /dev/nvme1n1 does not exist "
                "(disk_setup left the disk as it is)"}));
  EXPECT_EQ(f.blocks.slept, 0ms);  // the disk is here: its partitions are not waited for
}

TEST(DiskSetup, OverwriteDestroysWhatIsThereButNeverWhatIsInUse) {
  Fixture f("disk_setup:\n  ebs1: {table_type: gpt, layout: true, overwrite: true}\n");
  f.blocks.filesystem("/dev/nvme1n1", "ext4", "u-old");
  auto plan = f.plan();
  EXPECT_EQ(plan.actions,
            std::vector<Action>{table("/dev/nvme1n1", "gpt", {{kMiB, 0, kLinuxGuid}}, true)});
  // A partition of it mounted: refused.
  f.blocks.probes["/dev/nvme1n1"].pttype = "gpt";
  f.blocks.partition_of("nvme1n1", "nvme1n1p1", "259:5", 1, kMiB, kGiB);
  f.blocks.mounted = {{"259:5", "/dev/nvme1n1p1", "/srv", "ext4"}};
  plan = f.plan();
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_EQ(messages(plan.diagnostics),
            std::vector<std::string>{"user-data:2:9: disk_setup.ebs1: refusing to partition ebs1 "
                                     "(/dev/nvme1n1): its partition nvme1n1p1 is mounted at /srv"});
}

TEST(DiskSetup, TheLayoutAskedForAlreadyThereIsLeftAloneSilently) {
  Fixture f(R"(disk_setup:
  ebs1: {table_type: gpt, layout: [50, 50]}
fs_setup:
  - {device: ebs1.2, filesystem: ext4}
)");
  f.blocks.probes["/dev/nvme1n1"] = DeviceProbe{false, "", "", "", "", "gpt", false, "259:4"};
  PartitionTable t;
  t.type = "gpt";
  t.sectors = 10 * kGiB / 512;
  t.partitions = {{1, 2048, 5 * kGiB / 512}, {2, 2048 + 5 * kGiB / 512, 5 * kGiB / 512 - 4096}};
  f.blocks.tables["/dev/nvme1n1"] = t;
  f.blocks.partitions[{"/dev/nvme1n1", 2}] = "/dev/nvme1n1p2";
  auto plan = f.plan();
  EXPECT_TRUE(plan.diagnostics.empty()) << messages(plan.diagnostics).front();
  ASSERT_EQ(plan.actions.size(), 1u);  // the filesystem on the existing partition
  EXPECT_EQ(std::get<RunCommand>(plan.actions[0]).argv.back(), "/dev/nvme1n1p2");
}

TEST(DiskSetup, ADiskNotAttachedYetIsPartitionedOnTheBootItComes) {
  Fixture f(R"(disk_setup:
  ebs2: {layout: true}
fs_setup:
  - {device: ebs2.1, filesystem: ext4}
mounts:
  - [ebs2.1, /data]
)");
  f.config.set("amiboot", *parse_yaml("volumes: {device_timeout_seconds: 1}", "image"));
  f.metadata.block_device_mapping["ebs2"] = "sdg";
  auto first = f.plan();
  EXPECT_FALSE(has_errors(first.diagnostics));
  ASSERT_EQ(first.actions.size(), 1u);
  const auto& state = std::get<WriteFile>(first.actions[0]);
  auto pending = parse_pending_volumes(state.content);
  ASSERT_TRUE(pending);
  EXPECT_EQ(pending->disk_setup.size(), 1u);
  EXPECT_EQ(pending->fs_setup.size(), 1u);
  EXPECT_EQ(pending->mounts.size(), 1u);
  f.system.files[state.path] = state.content;

  f.blocks.nodes["/dev/sdg"] = "/dev/xvdg";
  f.blocks.disk("xvdg", "202:96", 4 * kGiB);
  auto later = testing::plan_module("mounts", f.config, f.facts());
  EXPECT_TRUE(later.diagnostics.empty()) << messages(later.diagnostics).front();
  ASSERT_EQ(later.actions.size(), 6u);
  EXPECT_EQ(later.actions[0], Action(RemoveFile{state.path, "pending volumes"}));
  MakePartitionTable made = table("/dev/xvdg", "dos", {{kMiB, 0, "83"}});
  made.label = "disk_setup ebs2";
  EXPECT_EQ(later.actions[1], Action(made));
  EXPECT_EQ(std::get<RunCommand>(later.actions[2]).argv.back(), "/dev/xvdg1");
}

}  // namespace
}  // namespace amiboot
