// SPDX-License-Identifier: Apache-2.0
// growpart and resize_rootfs plans against a scripted view of the block
// devices: what grows, by how much, and that nothing is read or done when
// there is nothing to gain.
#include "modules/growpart.h"

#include <gtest/gtest.h>

#include "agent/core/config.h"
#include "agent/core/strings.h"
#include "tests/support/fake_block_devices.h"
#include "tests/support/module_fixture.h"

namespace amiboot {
namespace {

using testing::FakeBlockDevices;

constexpr std::uint64_t kSector = 512;
constexpr std::uint64_t kGiB = 1ull << 30;
// An 8 GiB image (16777216 sectors) with one GPT partition from sector 2048
// to the last usable one, on a volume enlarged to 50 GiB.
constexpr std::uint64_t kImagePartSectors = 16777216 - 34 - 2048 + 1;
constexpr std::uint64_t kDiskSectors = 50 * kGiB / kSector;
constexpr std::uint64_t kGrownSectors = kDiskSectors - 34 - 2048 + 1;

struct Fixture : testing::ModuleFixture {
  explicit Fixture(const std::string& yaml = "") : ModuleFixture(yaml) {
    system.programs = {"resize2fs", "xfs_growfs", "btrfs", "cryptsetup", "pvresize"};
  }
  Facts facts() const {
    Facts with = ModuleFixture::facts();
    with.blocks = &blocks;
    return with;
  }
  PlanResult plan() const { return ModuleFixture::plan("growpart", facts()); }

  /// A Nitro root: nvme0n1p1 (ext4 on /) on a disk of `disk_sectors`.
  void nitro_root(std::uint64_t disk_sectors = kDiskSectors, const std::string& fstype = "ext4") {
    blocks.disk("nvme0n1", "259:0", disk_sectors * kSector);
    blocks.partition_of("nvme0n1", "nvme0n1p1", "259:1", 1, 2048 * kSector,
                        kImagePartSectors * kSector);
    blocks.filesystems["/"] = MountedFs{"259:1", "/dev/nvme0n1p1", "/", fstype};
    blocks.superblocks["/dev/nvme0n1p1"] = kImagePartSectors * kSector / 4096 * 4096;
    blocks.tables["/dev/nvme0n1"] = gpt(disk_sectors, {{1, 2048, kImagePartSectors}});
  }
  static PartitionTable gpt(std::uint64_t sectors, std::vector<PartitionTable::Entry> entries) {
    PartitionTable t;
    t.type = "gpt";
    t.sectors = sectors;
    t.first_usable = 34;
    t.last_usable = sectors - 34;
    t.partitions = std::move(entries);
    return t;
  }

  FakeBlockDevices blocks;
};

GrowPartition growth(const std::string& disk, int number, std::uint64_t start,
                     std::uint64_t old_size, std::uint64_t new_size, const std::string& spec = "/",
                     const std::string& table = "gpt") {
  return GrowPartition{.disk = disk,
                       .number = number,
                       .table = table,
                       .sector_size = kSector,
                       .start = start,
                       .old_size = old_size,
                       .new_size = new_size,
                       .label = "growpart " + spec};
}

RunCommand command(std::vector<std::string> argv, std::string label, bool on_target = false) {
  RunCommand r{std::move(argv), std::move(label)};
  if (on_target) {
    r.target_paths = {r.argv.size() - 1};
  }
  // Growing a filesystem acts on the host kernel's view of it.
  r.needs_mounted_root = r.argv[0] == "resize2fs" || r.argv[0] == "xfs_growfs" ||
                         r.argv[0] == "btrfs" || r.argv[0] == "cryptsetup" ||
                         r.argv[0] == "pvresize";
  return r;
}

std::vector<std::string> messages(const PlanResult& r) {
  std::vector<std::string> out;
  for (const auto& d : r.diagnostics) {
    out.push_back(d.format());
  }
  return out;
}

TEST(Growpart, GrowsTheNitroRootPartitionToTheEndOfTheDiskThenExt4Online) {
  Fixture f;
  f.nitro_root();
  auto plan = f.plan();
  EXPECT_TRUE(plan.diagnostics.empty()) << messages(plan).front();
  EXPECT_EQ(plan.actions,
            (std::vector<Action>{
                growth("/dev/nvme0n1", 1, 2048, kImagePartSectors, kGrownSectors),
                command({"resize2fs", "/dev/nvme0n1p1"},
                        "resize2fs /dev/nvme0n1p1 (ext4 on /, /dev/nvme0n1p1: 50.0 GiB)")}));
  EXPECT_EQ(plan.summary,
            "/: nvme0n1p1 grown from 8.0 GiB to 50.0 GiB, ext4 grown online to fill 50.0 GiB");
  EXPECT_EQ(f.blocks.tables_read, std::vector<std::string>{"/dev/nvme0n1"});
}

TEST(Growpart, NothingToGainReadsNoPartitionTableAndDoesNothing) {
  Fixture f;
  f.nitro_root(16777216);  // the volume has the image's size
  auto plan = f.plan();
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_TRUE(plan.diagnostics.empty());
  EXPECT_TRUE(f.blocks.tables_read.empty());
}

TEST(Growpart, LessThanOneMebibyteToGainIsNothing) {
  // The kernel's numbers say less than 1 MiB after the partition (the GPT
  // backup's 33 sectors included): the disk is not even opened.
  Fixture f;
  f.nitro_root(16777216 + 2047 - 33);
  EXPECT_TRUE(f.plan().actions.empty());
  EXPECT_TRUE(f.blocks.tables_read.empty());
  // They say 1 MiB more; the table (its 256 entries take 64 sectors), less.
  Fixture g;
  g.nitro_root(16777216 + 2048);
  g.blocks.tables["/dev/nvme0n1"].last_usable = 16777216 + 2048 - 66;
  auto plan = g.plan();
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_TRUE(plan.diagnostics.empty());
  EXPECT_EQ(g.blocks.tables_read.size(), 1u);
}

TEST(Growpart, APartitionThatIsNotLastGrowsUpToTheNextOne) {
  Fixture f;
  f.nitro_root();
  std::uint64_t next = 20 * kGiB / kSector;
  f.blocks.partition_of("nvme0n1", "nvme0n1p2", "259:2", 2, next * kSector, kGiB);
  f.blocks.tables["/dev/nvme0n1"] =
      Fixture::gpt(kDiskSectors, {{1, 2048, kImagePartSectors}, {2, next, kGiB / kSector}});
  auto plan = f.plan();
  ASSERT_EQ(plan.actions.size(), 2u);
  EXPECT_EQ(plan.actions[0],
            Action(growth("/dev/nvme0n1", 1, 2048, kImagePartSectors, next - 2048)));
}

TEST(Growpart, APartitionRightBeforeTheNextOneHasNothingToGain) {
  Fixture f;
  f.nitro_root();
  std::uint64_t next = 2048 + kImagePartSectors;
  f.blocks.partition_of("nvme0n1", "nvme0n1p2", "259:2", 2, next * kSector, kGiB);
  EXPECT_TRUE(f.plan().actions.empty());
  EXPECT_TRUE(f.blocks.tables_read.empty());
}

TEST(Growpart, AnMbrPartitionStopsAtTwoTebibytes) {
  Fixture f;
  std::uint64_t disk = 4 * 1024 * kGiB / kSector;
  f.nitro_root(disk);
  PartitionTable dos;
  dos.type = "dos";
  dos.sectors = disk;
  dos.first_usable = 2048;
  dos.last_usable = 0xffffffffull;
  dos.partitions = {{1, 2048, kImagePartSectors}};
  f.blocks.tables["/dev/nvme0n1"] = dos;
  auto plan = f.plan();
  ASSERT_FALSE(plan.actions.empty());
  EXPECT_EQ(plan.actions[0], Action(growth("/dev/nvme0n1", 1, 2048, kImagePartSectors,
                                           0xffffffffull - 2048 + 1, "/", "dos")));
}

TEST(Growpart, ALogicalMbrPartitionIsAWarning) {
  Fixture f;
  f.nitro_root();
  f.blocks.sysfs["nvme0n1p1"].partition = 5;
  PartitionTable dos;
  dos.type = "dos";
  dos.sectors = kDiskSectors;
  dos.last_usable = kDiskSectors - 1;
  dos.partitions = {{5, 2048, kImagePartSectors}};
  f.blocks.tables["/dev/nvme0n1"] = dos;
  auto plan = f.plan();
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_EQ(messages(plan),
            std::vector<std::string>{
                "warning: growpart: /: nvme0n1p1 (partition 5 of /dev/nvme0n1) is an extended or "
                "logical MBR partition; amiboot grows primary partitions only"});
}

TEST(Growpart, XenXfsRootGrowsWithXfsGrowfsOnTheMountPoint) {
  Fixture f;
  f.blocks.disk("xvda", "202:0", kDiskSectors * kSector);
  f.blocks.partition_of("xvda", "xvda1", "202:1", 1, 2048 * kSector, kImagePartSectors * kSector);
  f.blocks.filesystems["/"] = MountedFs{"202:1", "/dev/xvda1", "/", "xfs"};
  f.blocks.tables["/dev/xvda"] = Fixture::gpt(kDiskSectors, {{1, 2048, kImagePartSectors}});
  auto plan = f.plan();
  EXPECT_EQ(plan.actions,
            (std::vector<Action>{growth("/dev/xvda", 1, 2048, kImagePartSectors, kGrownSectors),
                                 command({"xfs_growfs", "-d", "/"},
                                         "xfs_growfs / (xfs on /, /dev/xvda1: 50.0 GiB)", true)}));
}

TEST(Growpart, BtrfsGrowsToItsMaximum) {
  Fixture f;
  f.nitro_root(kDiskSectors, "btrfs");
  auto plan = f.plan();
  ASSERT_EQ(plan.actions.size(), 2u);
  EXPECT_EQ(plan.actions[1],
            Action(command({"btrfs", "filesystem", "resize", "max", "/"},
                           "btrfs / (btrfs on /, /dev/nvme0n1p1: 50.0 GiB)", true)));
}

TEST(Growpart, AnUnknownFilesystemIsAWarningAndItsPartitionStillGrows) {
  Fixture f;
  f.nitro_root(kDiskSectors, "f2fs");
  auto plan = f.plan();
  EXPECT_EQ(
      plan.actions,
      (std::vector<Action>{growth("/dev/nvme0n1", 1, 2048, kImagePartSectors, kGrownSectors)}));
  EXPECT_EQ(messages(plan),
            std::vector<std::string>{
                "warning: resize_rootfs: /: cannot grow f2fs on / (amiboot grows ext2, ext3, ext4, "
                "xfs and btrfs); it keeps its size"});
}

TEST(Growpart, AMissingResizeToolIsAWarning) {
  Fixture f;
  f.nitro_root();
  f.system.programs.erase("resize2fs");
  auto plan = f.plan();
  EXPECT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(messages(plan), std::vector<std::string>{
                                "warning: resize_rootfs: /: resize2fs is not installed; ext4 on / "
                                "keeps its size"});
}

TEST(Growpart, LuksOnAPartitionGrowsThePartitionTheMappingAndTheFilesystem) {
  Fixture f;
  f.nitro_root();
  f.blocks.filesystems["/"] = MountedFs{"253:0", "/dev/mapper/cryptroot", "/", "ext4"};
  SysBlock& dm = f.blocks.disk("dm-0", "253:0", kImagePartSectors * kSector - (16 << 20));
  dm.slaves = {"nvme0n1p1"};
  dm.dm_name = "cryptroot";
  dm.dm_uuid = "CRYPT-LUKS2-0123456789abcdef0123456789abcdef-cryptroot";
  f.blocks.superblocks["/dev/dm-0"] = dm.size;
  auto plan = f.plan();
  std::uint64_t gain = (kGrownSectors - kImagePartSectors) * kSector;
  EXPECT_TRUE(plan.diagnostics.empty());
  EXPECT_EQ(plan.actions,
            (std::vector<Action>{
                growth("/dev/nvme0n1", 1, 2048, kImagePartSectors, kGrownSectors),
                command({"cryptsetup", "resize", "cryptroot"},
                        "cryptsetup resize cryptroot (/dev/mapper/cryptroot on nvme0n1p1)"),
                command({"resize2fs", "/dev/dm-0"}, "resize2fs /dev/dm-0 (ext4 on /, /dev/dm-0: " +
                                                        size_text(dm.size + gain) + ")")}));
}

TEST(Growpart, LvmOnAPartitionGrowsThePhysicalVolumeAndSaysTheLogicalOnesDoNot) {
  Fixture f;
  f.nitro_root();
  f.blocks.filesystems["/"] = MountedFs{"253:0", "/dev/mapper/vg-root", "/", "ext4"};
  SysBlock& dm = f.blocks.disk("dm-0", "253:0", 6 * kGiB);
  dm.slaves = {"nvme0n1p1"};
  dm.dm_name = "vg-root";
  dm.dm_uuid = "LVM-abcdef";
  f.blocks.superblocks["/dev/dm-0"] = dm.size;
  auto plan = f.plan();
  EXPECT_EQ(plan.actions, (std::vector<Action>{
                              growth("/dev/nvme0n1", 1, 2048, kImagePartSectors, kGrownSectors),
                              command({"pvresize", "/dev/nvme0n1p1"}, "pvresize /dev/nvme0n1p1")}));
  EXPECT_EQ(messages(plan),
            std::vector<std::string>{
                "warning: growpart: /: the LVM physical volume /dev/nvme0n1p1 grew; its logical "
                "volumes (/dev/mapper/vg-root) keep their size: extend them with lvextend"});
}

TEST(Growpart, GrowrootDisabledKeepsThePartitionUnlessIgnored) {
  Fixture f;
  f.nitro_root();
  f.system.files["/etc/growroot-disabled"] = "";
  EXPECT_TRUE(f.plan().actions.empty());
  EXPECT_TRUE(f.blocks.tables_read.empty());

  Fixture ignoring("growpart: {ignore_growroot_disabled: true}\n");
  ignoring.nitro_root();
  ignoring.system.files["/etc/growroot-disabled"] = "";
  EXPECT_EQ(ignoring.plan().actions.size(), 2u);
}

TEST(Growpart, ModeOffGrowsNoPartitionButTheRootFilesystemStillFillsItsDevice) {
  Fixture f("growpart: {mode: off}\n");
  f.nitro_root();
  EXPECT_TRUE(f.plan().actions.empty());
  // A partition grown by hand, its filesystem left behind: resize_rootfs.
  f.blocks.superblocks["/dev/nvme0n1p1"] = 4 * kGiB;
  EXPECT_EQ(f.plan().actions,
            (std::vector<Action>{command({"resize2fs", "/dev/nvme0n1p1"},
                                         "resize2fs /dev/nvme0n1p1 (ext4 on /, /dev/nvme0n1p1: " +
                                             size_text(kImagePartSectors * kSector) + ")")}));
}

TEST(Growpart, ResizeRootfsFalseGrowsThePartitionOnly) {
  Fixture f("resize_rootfs: false\n");
  f.nitro_root();
  auto plan = f.plan();
  EXPECT_EQ(
      plan.actions,
      (std::vector<Action>{growth("/dev/nvme0n1", 1, 2048, kImagePartSectors, kGrownSectors)}));
  EXPECT_EQ(plan.summary,
            "/: nvme0n1p1 grown from 8.0 GiB to 50.0 GiB, the filesystem keeps its size "
            "(resize_rootfs: false)");
}

TEST(Growpart, AFilesystemOnAWholeDiskGrowsToFillIt) {
  Fixture f;
  f.blocks.disk("xvda", "202:0", kDiskSectors * kSector);
  f.blocks.filesystems["/"] = MountedFs{"202:0", "/dev/xvda", "/", "ext4"};
  f.blocks.superblocks["/dev/xvda"] = 8 * kGiB;
  auto plan = f.plan();
  EXPECT_EQ(plan.actions,
            (std::vector<Action>{command({"resize2fs", "/dev/xvda"},
                                         "resize2fs /dev/xvda (ext4 on /, /dev/xvda: 50 GiB)")}));
  EXPECT_EQ(plan.summary, "/: ext4 grown online to fill 50 GiB");
}

TEST(Growpart, AnOverlayRootIsNothingToGrowAndNoWarning) {
  Fixture f;
  f.blocks.filesystems["/"] = MountedFs{"0:31", "overlay", "/", "overlay"};
  auto plan = f.plan();
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_TRUE(plan.diagnostics.empty());
}

TEST(Growpart, ATableThatDisagreesWithTheKernelIsAWarning) {
  Fixture f;
  f.nitro_root();
  f.blocks.tables["/dev/nvme0n1"] = Fixture::gpt(kDiskSectors, {{1, 4096, kImagePartSectors}});
  auto plan = f.plan();
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_EQ(messages(plan),
            std::vector<std::string>{
                "warning: growpart: /: the partition table of /dev/nvme0n1 does not match what "
                "the kernel uses for nvme0n1p1; nvme0n1p1 (partition 1 of /dev/nvme0n1) not "
                "grown"});
}

TEST(Growpart, ATableGrownEarlierIsToldToTheKernel) {
  Fixture f;
  f.nitro_root();
  f.blocks.tables["/dev/nvme0n1"] = Fixture::gpt(kDiskSectors, {{1, 2048, kGrownSectors}});
  auto plan = f.plan();
  ASSERT_EQ(plan.actions.size(), 2u);
  EXPECT_EQ(plan.actions[0], Action(growth("/dev/nvme0n1", 1, 2048, kGrownSectors, kGrownSectors)));
}

TEST(Growpart, AListedDeviceGrowsItsPartitionAndAMountedOneItsFilesystem) {
  Fixture f("growpart: {devices: [/, /dev/vdb1, /srv]}\n");
  f.nitro_root(16777216);  // nothing to gain on /
  f.blocks.nodes["/dev/vdb1"] = "/dev/vdb1";
  f.blocks.disk("vdb", "254:16", 10 * kGiB);
  f.blocks.partition_of("vdb", "vdb1", "254:17", 1, 2048 * kSector, kGiB);
  f.blocks.tables["/dev/vdb"] = Fixture::gpt(10 * kGiB / kSector, {{1, 2048, kGiB / kSector}});
  f.blocks.disk("vdc", "254:32", 10 * kGiB);
  f.blocks.partition_of("vdc", "vdc1", "254:33", 1, 2048 * kSector, kGiB);
  f.blocks.tables["/dev/vdc"] = Fixture::gpt(10 * kGiB / kSector, {{1, 2048, kGiB / kSector}});
  f.blocks.filesystems["/srv"] = MountedFs{"254:33", "/dev/vdc1", "/srv", "xfs"};
  std::uint64_t grown = 10 * kGiB / kSector - 34 - 2048 + 1;
  auto plan = f.plan();
  EXPECT_TRUE(plan.diagnostics.empty()) << messages(plan).front();
  EXPECT_EQ(
      plan.actions,
      (std::vector<Action>{
          growth("/dev/vdb", 1, 2048, kGiB / kSector, grown, "/dev/vdb1"),
          growth("/dev/vdc", 1, 2048, kGiB / kSector, grown, "/srv"),
          command({"xfs_growfs", "-d", "/srv"},
                  "xfs_growfs /srv (xfs on /srv, /dev/vdc1: " + size_text(grown * kSector) + ")",
                  true)}));
}

TEST(Growpart, AListedDeviceThatDoesNotExistIsAWarning) {
  Fixture f("growpart: {devices: [/dev/xvdz1]}\n");
  f.nitro_root(16777216);
  EXPECT_EQ(messages(f.plan()),
            std::vector<std::string>{"warning: growpart: /dev/xvdz1 does not exist; not grown"});
}

TEST(Growpart, DecodesCloudInitsSpellings) {
  for (const char* yaml :
       {"growpart: {mode: auto}\n", "growpart: {mode: growpart, devices: [/]}\n",
        "growpart: {mode: off}\n", "growpart: {mode: false}\n", "resize_rootfs: noblock\n",
        "resize_rootfs: false\n", "growpart: {devices: []}\n"}) {
    Diagnostics out;
    Fixture f(yaml);
    f.check("growpart", out);
    EXPECT_TRUE(out.empty()) << yaml << out.front().format();
  }
}

TEST(Growpart, BadValuesAreErrorsWithTheirPositions) {
  Fixture f(
      "growpart:\n  mode: sideways\n  devices: [data]\n  ignore_growroot_disabled: maybe\n"
      "resize_rootfs: later\n");
  Diagnostics out;
  f.check("growpart", out);
  std::vector<std::string> got;
  for (const auto& d : out) {
    got.push_back(d.format());
  }
  EXPECT_EQ(got,
            (std::vector<std::string>{
                "user-data:2:9: growpart.mode: expected auto, growpart or off, got 'sideways'",
                "user-data:3:13: growpart.devices[0]: expected a mount point such as / or a "
                "device such as /dev/xvdb1, got 'data'",
                "user-data:4:29: growpart.ignore_growroot_disabled: expected a boolean (true "
                "or false), got a string",
                "user-data:5:16: resize_rootfs: expected true, false or noblock, got 'later'"}));
}

TEST(Growpart, GpartIsFreeBsdsAndGrowsNothing) {
  Fixture f("growpart: {mode: gpart}\n");
  f.nitro_root();
  auto plan = f.plan();
  EXPECT_EQ(messages(plan),
            std::vector<std::string>{
                "user-data:1:18: warning: growpart.mode: gpart is FreeBSD's partition tool; on "
                "Linux cloud-init grows nothing with it, and neither does amiboot (use auto)"});
  EXPECT_TRUE(plan.actions.empty());
}

TEST(Growpart, RunsWithoutKeysEveryBootEarlyInTheInitStage) {
  const ModuleSpec* row = find_module("growpart");
  ASSERT_NE(row, nullptr);
  EXPECT_TRUE(row->runs_without_keys);
  EXPECT_EQ(row->stage, Stage::Init);
  EXPECT_EQ(row->frequency, Frequency::PerBoot);
  // boothooks, bootcmd, the firewall (whose rules are applied beside the
  // rows after it: modules/lanes.cc), then growpart.
  EXPECT_EQ(module_table()[1].name, "bootcmd");
  EXPECT_EQ(module_table()[2].name, "firewall");
  EXPECT_EQ(module_table()[3].name, "growpart");
}

}  // namespace
}  // namespace amiboot
