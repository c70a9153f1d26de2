// SPDX-License-Identifier: Apache-2.0
// growpart for real. The host kernel may have no partition-table parsers,
// so partitions are exercised two ways: libfdisk on image files (GPT and
// MBR, checked with `sfdisk --verify`), and the whole agent on a loop device
// whose partitions the test adds with BLKPG_ADD_PARTITION, mounted as the
// sandbox root; the image is then enlarged (losetup -c) and the agent grows
// the partition (libfdisk, BLKPG_RESIZE_PARTITION) and the mounted
// filesystem online.
#include <sys/statvfs.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "agent/block_devices.h"
#include "agent/core/strings.h"
#include "agent/partitions.h"
#include "agent/system.h"
#include "tests/support/agent_on_loop_devices.h"
#include "tests/support/fake_imds.h"
#include "tests/support/loop_device.h"
#include "tests/support/test_util.h"

namespace amiboot::testing {
namespace {

namespace fs = std::filesystem;

constexpr unsigned long long kMiB = 1ull << 20;

bool have(const char* program) {
  return run({"sh", "-c", std::string("command -v ") + program}).exit_code == 0;
}

/// A sparse image of `bytes` with the table sfdisk makes from `script`.
void make_image(const std::string& path, unsigned long long bytes, const std::string& script) {
  ASSERT_EQ(run({"truncate", "-s", std::to_string(bytes), path}).exit_code, 0);
  auto r = run({"sfdisk", "-q", path}, {}, script);
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

void enlarge(const std::string& path, unsigned long long bytes) {
  ASSERT_EQ(run({"truncate", "-s", std::to_string(bytes), path}).exit_code, 0);
}

/// `sfdisk --verify`: empty when clean, else what it said (it exits 0
/// either way).
std::string verify(const std::string& path) {
  auto r = run({"sfdisk", "--verify", path});
  std::string said = r.out + r.err;
  static const std::regex counted("[0-9]+ errors? detected");
  bool clean = r.exit_code == 0 && said.find("No errors detected") != std::string::npos &&
               !std::regex_search(said, counted) &&
               said.find("not on the end") == std::string::npos &&
               said.find("mismatch") == std::string::npos;
  return clean ? "" : said;
}

/// The image's bytes, hashed: compared without printing megabytes.
std::size_t image_hash(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  std::string data(static_cast<std::size_t>(in.tellg()), '\0');
  in.seekg(0);
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  return std::hash<std::string>{}(data);
}

/// ext4 grows online through EXT4_IOC_RESIZE_FS, which needs
/// CAP_SYS_RESOURCE; containers often drop it (xfs_growfs needs
/// CAP_SYS_ADMIN only).
bool can_grow_ext4_online() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("CapEff:", 0) == 0) {
      unsigned long long caps = std::stoull(line.substr(7), nullptr, 16);
      return (caps & (1ull << 24)) != 0;  // CAP_SYS_RESOURCE
    }
  }
  return false;
}

std::string read_at(const std::string& path, unsigned long long offset, std::size_t bytes) {
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset));
  std::string data(bytes, '\0');
  in.read(data.data(), static_cast<std::streamsize>(bytes));
  return data;
}

unsigned long long le64(const std::string& s, std::size_t at) {
  unsigned long long v = 0;
  for (int i = 7; i >= 0; --i) {
    v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  }
  return v;
}

GrowPartition growth(const std::string& disk, const PartitionTable& t, int number,
                     unsigned long long new_size) {
  const auto& e = t.partitions.at(number - 1);
  return GrowPartition{.disk = disk,
                       .number = number,
                       .table = t.type,
                       .sector_size = t.sector_size,
                       .start = e.start,
                       .old_size = e.size,
                       .new_size = new_size,
                       .label = "growpart test"};
}

class GrowpartOnImages : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have("sfdisk")) {
      std::cout << "skipping: sfdisk (fdisk) is not installed\n";
      GTEST_SKIP() << "sfdisk (fdisk) is not installed";
    }
  }
  TempDir dir;
  HostSystem system{"/"};
};

TEST_F(GrowpartOnImages, TheLastGptPartitionGrowsToTheEndAndTheBackupHeaderMovesThere) {
  std::string image = dir / "gpt.img";
  make_image(image, 32 * kMiB, "label: gpt\n,8M\n,\n");
  enlarge(image, 64 * kMiB);     // the volume is larger than its snapshot
  EXPECT_NE(verify(image), "");  // sfdisk sees the backup header in the middle
  auto before = read_partition_table(image);
  ASSERT_TRUE(before.ok()) << before.error().message;
  EXPECT_EQ(before->type, "gpt");
  EXPECT_EQ(before->sectors, 131072u);
  EXPECT_EQ(before->last_usable, 131072u - 34);  // once the backup is at the end
  ASSERT_EQ(before->partitions.size(), 2u);
  const auto& p2 = before->partitions[1];
  EXPECT_LE(p2.start + p2.size - 1, 65536u - 34);  // within the image's usable sectors

  auto done = system.grow_partition(growth(image, *before, 2, 131038 - p2.start + 1));
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_NE(done->find("grew partition 2 of " + image + " (gpt) from " + std::to_string(p2.size) +
                       " to " + std::to_string(131038 - p2.start + 1) + " sectors"),
            std::string::npos)
      << *done;
  EXPECT_EQ(verify(image), "");
  auto after = read_partition_table(image);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->partitions[1].start + after->partitions[1].size - 1, 131038u);
  EXPECT_EQ(after->partitions[0], before->partitions[0]);
  // The backup header is in the last sector, and the primary says so.
  EXPECT_EQ(read_at(image, 64 * kMiB - 512, 8), "EFI PART");
  EXPECT_EQ(le64(read_at(image, 512, 512), 32), 131071u);  // AlternateLBA
  EXPECT_EQ(le64(read_at(image, 512, 512), 48), 131038u);  // LastUsableLBA

  // Again: the table already has the size; nothing changes.
  std::size_t bytes = image_hash(image);
  auto again = system.grow_partition(growth(image, *before, 2, 131038 - p2.start + 1));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(image_hash(image), bytes);
}

TEST_F(GrowpartOnImages, TheLastMbrPartitionGrowsToTheEnd) {
  std::string image = dir / "mbr.img";
  make_image(image, 32 * kMiB, "label: dos\n,8M,83\n,,83\n");
  enlarge(image, 64 * kMiB);
  auto before = read_partition_table(image);
  ASSERT_TRUE(before.ok()) << before.error().message;
  EXPECT_EQ(before->type, "dos");
  EXPECT_EQ(before->last_usable, 131071u);
  const auto& p2 = before->partitions.at(1);
  auto done = system.grow_partition(growth(image, *before, 2, 131071 - p2.start + 1));
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(verify(image), "");
  auto after = read_partition_table(image);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->partitions[1].start, p2.start);
  EXPECT_EQ(after->partitions[1].start + after->partitions[1].size, 131072u);
  EXPECT_EQ(after->partitions[0], before->partitions[0]);
}

TEST_F(GrowpartOnImages, ATableThatChangedSinceThePlanIsLeftAlone) {
  std::string image = dir / "gpt.img";
  make_image(image, 32 * kMiB, "label: gpt\n,8M\n,\n");
  enlarge(image, 64 * kMiB);
  auto table = read_partition_table(image);
  ASSERT_TRUE(table.ok());
  GrowPartition g = growth(image, *table, 2, 131038 - table->partitions[1].start + 1);
  g.old_size -= 8;  // what the plan saw is not what is there now
  std::size_t bytes = image_hash(image);
  auto done = system.grow_partition(g);
  ASSERT_FALSE(done.ok());
  EXPECT_NE(done.error().message.find("has changed since the plan"), std::string::npos);
  EXPECT_EQ(image_hash(image), bytes);
  // A table that is not the type planned for, likewise.
  g = growth(image, *table, 2, 131038 - table->partitions[1].start + 1);
  g.table = "dos";
  EXPECT_FALSE(system.grow_partition(g).ok());
  EXPECT_EQ(image_hash(image), bytes);
}

TEST_F(GrowpartOnImages, SuperblockSizesAreRead) {
  std::string image = dir / "fs.img";
  ASSERT_EQ(run({"truncate", "-s", std::to_string(40 * kMiB), image}).exit_code, 0);
  ASSERT_EQ(run({"mkfs.ext4", "-q", "-b", "4096", image, "8192"}).exit_code, 0);  // 32 MiB
  EXPECT_EQ(superblock_bytes(image, "ext4"), 32 * kMiB);
  EXPECT_EQ(superblock_bytes(image, "xfs"), std::nullopt);
  EXPECT_EQ(superblock_bytes(image, "vfat"), std::nullopt);
  if (have("mkfs.xfs")) {
    std::string xfs = dir / "xfs.img";
    ASSERT_EQ(run({"truncate", "-s", std::to_string(320 * kMiB), xfs}).exit_code, 0);
    ASSERT_EQ(run({"mkfs.xfs", "-q", "-d", "size=300m", xfs}).exit_code, 0);
    EXPECT_EQ(superblock_bytes(xfs, "xfs"), 300 * kMiB);
  }
}

// The whole agent, its root a partition of a loop device.
class GrowpartOnLoopDevices : public AgentOnLoopDevices {
 protected:
  void SetUp() override {
    AgentOnLoopDevices::SetUp();
    if (IsSkipped()) {
      return;
    }
    if (!have("sfdisk") || !have("resize2fs")) {
      std::cout << "skipping: sfdisk or resize2fs is not installed\n";
      GTEST_SKIP() << "sfdisk or resize2fs is not installed";
    }
  }
  void TearDown() override {
    AgentOnLoopDevices::TearDown();
    loop.reset();
  }

  /// The image attached with its partitions (added with BLKPG where the
  /// kernel did not find them); partition `root_number` gets `fstype` and
  /// is mounted as the sandbox root.
  void boot_disk(const std::string& image, unsigned long long bytes, const std::string& script,
                 const std::string& fstype, int root_number = 1) {
    make_image(image, bytes, script);
    loop = std::make_unique<LoopDevice>(image, bytes, true);
    ASSERT_TRUE(loop->ok()) << loop->error();
    auto table = read_partition_table(image);
    ASSERT_TRUE(table.ok()) << table.error().message;
    for (const auto& p : table->partitions) {
      std::string node = partition_node(p.number);
      if (!exists("/sys/class/block/" + node.substr(5))) {
        auto added = add_kernel_partition(loop->path(), p.number, p.start * 512, p.size * 512);
        ASSERT_TRUE(added.ok()) << added.error().message;
      }
      for (int i = 0; i < 50 && !exists(node); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      ASSERT_TRUE(exists(node)) << node;
    }
    std::string node = partition_node(root_number);
    auto mkfs = run({"mkfs." + fstype, "-q", node});
    ASSERT_EQ(mkfs.exit_code, 0) << mkfs.err;
    ASSERT_EQ(run({"mount", node, root.path()}).exit_code, 0);
    write_file(root / "kept", "from the image\n");
  }
  std::string partition_node(int number) { return loop->path() + "p" + std::to_string(number); }
  /// The volume made larger while the instance was stopped.
  void enlarge_disk(const std::string& image, unsigned long long bytes) {
    enlarge(image, bytes);
    ASSERT_EQ(run({"losetup", "-c", loop->path()}).exit_code, 0);
  }
  unsigned long long sysfs_sectors(const std::string& name) {
    std::ifstream in("/sys/class/block/" + name + "/size");
    unsigned long long n = 0;
    in >> n;
    return n;
  }
  unsigned long long root_bytes() {
    struct statvfs st;
    EXPECT_EQ(statvfs(root.path().c_str(), &st), 0);
    return static_cast<unsigned long long>(st.f_blocks) * st.f_frsize;
  }

  std::unique_ptr<LoopDevice> loop;
};

TEST_F(GrowpartOnLoopDevices, TheGptRootPartitionAndItsExt4GrowOnlineThenNothingOnTheNextBoot) {
  std::string image = images / "disk.img";
  boot_disk(image, 64 * kMiB, "label: gpt\n,,\n", "ext4");
  std::string part = partition_node(1).substr(5);
  unsigned long long before_sectors = sysfs_sectors(part);
  unsigned long long before_bytes = root_bytes();
  enlarge_disk(image, 128 * kMiB);
  bool ext4_online = can_grow_ext4_online();
  if (!ext4_online) {
    std::cout << "note: no CAP_SYS_RESOURCE here: ext4's online growth is not exercised "
                 "(resize_rootfs: false); xfs's is, in TheMbrRootPartitionAndItsXfsGrowOnline\n";
    imds.set_user_data("#cloud-config\nresize_rootfs: false\n");
  }

  auto r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto m = module("growpart");
  EXPECT_EQ(m["result"], "ok") << m.dump();
  unsigned long long grown = 262144 - 34 - 2048 + 1;  // to the last usable sector
  EXPECT_EQ(sysfs_sectors(part), grown);
  EXPECT_GT(before_sectors, 0u);
  EXPECT_LT(before_sectors, grown);
  if (ext4_online) {
    EXPECT_GT(root_bytes(), before_bytes + 50 * kMiB);
  }
  EXPECT_EQ(read_file(root / "kept"), "from the image\n");
  EXPECT_EQ(verify(loop->path()), "");
  EXPECT_EQ(read_at(image, 128 * kMiB - 512, 8), "EFI PART");
  // The sizes before and after, in the journal and in status --long.
  EXPECT_NE(
      r.err.find("grew partition 1 of " + loop->path() + " (gpt) from " +
                 std::to_string(before_sectors) + " to " + std::to_string(grown) + " sectors (" +
                 size_text(before_sectors * 512) + " to " + size_text(grown * 512) + ")"),
      std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("the kernel uses the new size"), std::string::npos) << r.err;
  std::string summary = part + " grown from " + size_text(before_sectors * 512) + " to " +
                        size_text(grown * 512) +
                        (ext4_online ? ", ext4 grown online to fill " + size_text(grown * 512)
                                     : ", the filesystem keeps its size (resize_rootfs: false)");
  if (ext4_online) {
    EXPECT_NE(r.err.find("running resize2fs " + partition_node(1)), std::string::npos) << r.err;
  }
  EXPECT_EQ(m["summary"], "/: " + summary);
  auto st = run({amiboot_binary(), "status", "--long", "--root", root.path()});
  EXPECT_NE(st.out.find(summary), std::string::npos) << st.out;

  // The next boot: nothing to gain, nothing done, the disk not even opened.
  reboot();
  r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  m = module("growpart");
  EXPECT_EQ(m["result"], "skipped");
  EXPECT_EQ(m["reason"], "nothing to do");
  EXPECT_LT(m["duration_ms"].get<long long>(), 50);
  EXPECT_EQ(r.err.find("grew partition"), std::string::npos) << r.err;
  EXPECT_EQ(sysfs_sectors(part), grown);
}

TEST_F(GrowpartOnLoopDevices, TheMbrRootPartitionAndItsXfsGrowOnline) {
  if (!have("mkfs.xfs") || !have("xfs_growfs")) {
    std::cout << "skipping: xfsprogs is not installed\n";
    GTEST_SKIP() << "xfsprogs is not installed";
  }
  std::string image = images / "disk.img";
  boot_disk(image, 320 * kMiB, "label: dos\n,,83\n", "xfs");  // mkfs.xfs wants 300 MB
  std::string part = partition_node(1).substr(5);
  unsigned long long before_bytes = root_bytes();
  enlarge_disk(image, 640 * kMiB);
  auto r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(module("growpart")["result"], "ok");
  EXPECT_EQ(sysfs_sectors(part), 640 * 2048 - 2048);  // to the last sector
  EXPECT_GT(root_bytes(), before_bytes + 250 * kMiB);
  EXPECT_EQ(verify(loop->path()), "");
  EXPECT_NE(r.err.find("running xfs_growfs " + std::string("/")), std::string::npos) << r.err;
  EXPECT_EQ(read_file(root / "kept"), "from the image\n");
}

TEST_F(GrowpartOnLoopDevices, APartitionThatIsNotLastGrowsOnlyUpToTheNextOne) {
  std::string image = images / "disk.img";
  // The root partition, 8 MiB free after it, then another partition.
  boot_disk(image, 64 * kMiB, "label: gpt\nstart=2048, size=16M\nstart=40960, size=8M\n", "ext4");
  unsigned long long before_bytes = root_bytes();
  enlarge_disk(image, 128 * kMiB);
  bool ext4_online = can_grow_ext4_online();
  if (!ext4_online) {
    imds.set_user_data("#cloud-config\nresize_rootfs: false\n");
  }
  auto r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(module("growpart")["result"], "ok");
  EXPECT_EQ(sysfs_sectors(partition_node(1).substr(5)), 40960u - 2048);
  EXPECT_EQ(sysfs_sectors(partition_node(2).substr(5)), 8u * 2048);
  auto table = read_partition_table(loop->path());
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->partitions[0].start + table->partitions[0].size, 40960u);
  EXPECT_EQ(table->partitions[1].start, 40960u);
  EXPECT_EQ(verify(loop->path()), "");
  if (ext4_online) {
    EXPECT_GT(root_bytes(), before_bytes + 6 * kMiB);
  }
}

TEST_F(GrowpartOnLoopDevices, NothingToGainDoesNothingAndOffMeansOff) {
  std::string image = images / "disk.img";
  boot_disk(image, 64 * kMiB, "label: gpt\n,,\n", "ext4");
  auto table = read_partition_table(image);
  ASSERT_TRUE(table.ok());
  auto r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(module("growpart")["reason"], "nothing to do");
  // mode: off, on an enlarged disk: the partition keeps its size.
  reboot();
  enlarge_disk(image, 128 * kMiB);
  imds.set_user_data("#cloud-config\ngrowpart: {mode: 'off'}\n");
  unsigned long long sectors = sysfs_sectors(partition_node(1).substr(5));
  r = run_agent();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(module("growpart")["reason"], "nothing to do");
  EXPECT_EQ(sysfs_sectors(partition_node(1).substr(5)), sectors);
  auto after = read_partition_table(image);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->partitions, table->partitions);
}

}  // namespace
}  // namespace amiboot::testing
