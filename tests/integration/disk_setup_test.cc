// SPDX-License-Identifier: Apache-2.0
// disk_setup's partition tables written by libfdisk on image files, as the
// volumes plan lays them out, checked with sfdisk.
#include <gtest/gtest.h>

#include "agent/partitions.h"
#include "agent/system.h"
#include "modules/disk_setup.h"
#include "tests/support/test_util.h"

namespace amiboot::testing {
namespace {

constexpr unsigned long long kMiB = 1ull << 20;

class DiskSetupOnImages : public ::testing::Test {
 protected:
  void SetUp() override {
    if (run({"sh", "-c", "command -v sfdisk"}).exit_code != 0) {
      std::cout << "skipping: sfdisk (fdisk) is not installed\n";
      GTEST_SKIP() << "sfdisk (fdisk) is not installed";
    }
  }
  std::string blank(unsigned long long bytes) {
    std::string image = dir / "disk.img";
    EXPECT_EQ(run({"truncate", "-s", std::to_string(bytes), image}).exit_code, 0);
    return image;
  }
  MakePartitionTable request(const std::string& image, const std::string& yaml) {
    auto doc = parse_yaml(yaml, "user-data");
    EXPECT_TRUE(doc.ok());
    Diagnostics out;
    Decoder d(out);
    std::vector<DiskSetupRequest> r;
    decode_disk_setup(*doc, r, d);
    EXPECT_TRUE(out.empty());
    auto layout = layout_partitions(r.at(0), 64 * kMiB);
    EXPECT_TRUE(layout.ok());
    return MakePartitionTable{.disk = image,
                              .table = fdisk_label_name(r[0].table_type),
                              .partitions = *layout,
                              .label = "disk_setup test"};
  }
  std::string dump(const std::string& image) { return run({"sfdisk", "-d", image}).out; }

  TempDir dir;
  HostSystem system{"/"};
};

TEST_F(DiskSetupOnImages, AGptLayoutWithTypes) {
  std::string image = blank(64 * kMiB);
  auto done = system.make_partition_table(
      request(image, "disk_setup:\n  x: {table_type: gpt, layout: [25, [25, 82], [50, fd00]]}\n"));
  ASSERT_TRUE(done.ok()) << done.error().message;
  std::string d = dump(image);
  EXPECT_NE(d.find("label: gpt"), std::string::npos) << d;
  EXPECT_NE(d.find("img1 : start=        2048, size=       32768, "
                   "type=0FC63DAF-8483-4772-8E79-3D69D8477DE4"),
            std::string::npos)
      << d;
  EXPECT_NE(d.find("img2 : start=       34816, size=       32768, "
                   "type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F"),
            std::string::npos)
      << d;
  EXPECT_NE(d.find("img3 : start=       67584, size=       61440, "
                   "type=A19D880F-05FC-4D3B-A006-743F0F84911E"),
            std::string::npos)
      << d;
  auto verify = run({"sfdisk", "--verify", image});
  EXPECT_NE(verify.out.find("No errors detected"), std::string::npos) << verify.out;
}

TEST_F(DiskSetupOnImages, AnMbrLayoutAndTheOldFilesystemUnderItIsWiped) {
  std::string image = blank(64 * kMiB);
  // An old filesystem exactly where the first partition will start.
  ASSERT_EQ(run({"mkfs.ext4", "-q", "-E", "offset=1048576", image, "16M"}).exit_code, 0);
  auto done = system.make_partition_table(
      request(image, "disk_setup:\n  x: {table_type: mbr, layout: [[50, 82], 50]}\n"));
  ASSERT_TRUE(done.ok()) << done.error().message;
  std::string d = dump(image);
  EXPECT_NE(d.find("label: dos"), std::string::npos) << d;
  EXPECT_NE(d.find("img1 : start=        2048, size=       65536, type=82"), std::string::npos)
      << d;
  EXPECT_NE(d.find("img2 : start=       67584,"), std::string::npos) << d;
  EXPECT_NE(d.find("type=83"), std::string::npos) << d;
  // blkid finds nothing at the partition's start any more.
  auto probe = run({"blkid", "-p", "-O", "1048576", "-o", "value", "-s", "TYPE", image});
  EXPECT_EQ(probe.out, "");
}

}  // namespace
}  // namespace amiboot::testing
