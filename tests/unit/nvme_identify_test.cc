// SPDX-License-Identifier: Apache-2.0
#include "modules/nvme_identify.h"

#include <gtest/gtest.h>

#include "tests/support/fake_block_devices.h"

namespace amiboot {
namespace {

using testing::identify_page;

TEST(NvmeIdentify, LaunchTimeEbsVolumeNamesItsDeviceWithoutDev) {
  auto id = parse_nvme_identify(
      identify_page(0x1d0f, "vol0123456789abcdef0", "Amazon Elastic Block Store", "sdf"));
  ASSERT_TRUE(id);
  EXPECT_EQ(id->vendor_id, 0x1d0f);
  EXPECT_EQ(id->serial, "vol0123456789abcdef0");
  EXPECT_EQ(id->model, "Amazon Elastic Block Store");
  EXPECT_EQ(id->kind, NvmeKind::Ebs);
  EXPECT_EQ(id->device_name, "sdf");
  EXPECT_EQ(id->virtual_name, "");
}

TEST(NvmeIdentify, HotPluggedEbsVolumeNamesItsDeviceWithDev) {
  auto id = parse_nvme_identify(
      identify_page(0x1d0f, "vol0fedcba9876543210", "Amazon Elastic Block Store", "/dev/sdf"));
  ASSERT_TRUE(id);
  EXPECT_EQ(id->kind, NvmeKind::Ebs);
  EXPECT_EQ(id->device_name, "sdf");
}

TEST(NvmeIdentify, BlankVendorFieldGivesNoName) {
  // Right after an attach the field can still be all spaces.
  auto id = parse_nvme_identify(
      identify_page(0x1d0f, "vol0123456789abcdef0", "Amazon Elastic Block Store", ""));
  ASSERT_TRUE(id);
  EXPECT_EQ(id->kind, NvmeKind::Ebs);
  EXPECT_EQ(id->device_name, "");
  // NUL padding (unwritten) reads the same.
  std::string page =
      identify_page(0x1d0f, "vol0123456789abcdef0", "Amazon Elastic Block Store", "");
  page.replace(3072, 32, std::string(32, '\0'));
  EXPECT_EQ(parse_nvme_identify(page)->device_name, "");
}

TEST(NvmeIdentify, InstanceStoreIsKnownByItsModel) {
  auto id = parse_nvme_identify(identify_page(
      0x1d0f, "AWS1234567890ABCDEF", "Amazon EC2 NVMe Instance Storage", "ephemeral0:none"));
  ASSERT_TRUE(id);
  EXPECT_EQ(id->kind, NvmeKind::InstanceStore);
  EXPECT_EQ(id->virtual_name, "ephemeral0");
  EXPECT_EQ(id->device_name, "");
  auto mapped = parse_nvme_identify(identify_page(
      0x1d0f, "AWS1234567890ABCDEF", "Amazon EC2 NVMe Instance Storage", "ephemeral1:/dev/sdc"));
  EXPECT_EQ(mapped->virtual_name, "ephemeral1");
  EXPECT_EQ(mapped->device_name, "sdc");
  auto bare = parse_nvme_identify(
      identify_page(0x1d0f, "AWS1234567890ABCDEF", "Amazon EC2 NVMe Instance Storage", ""));
  EXPECT_EQ(bare->kind, NvmeKind::InstanceStore);
}

TEST(NvmeIdentify, OtherVendorsAndShortBuffersAreNotAmazonVolumes) {
  auto qemu = parse_nvme_identify(identify_page(0x1b36, "deadbeef", "QEMU NVMe Ctrl", "sdf"));
  ASSERT_TRUE(qemu);
  EXPECT_EQ(qemu->kind, NvmeKind::Other);
  // The right model from another vendor id is not an EBS volume either.
  EXPECT_EQ(
      parse_nvme_identify(identify_page(0x8086, "x", "Amazon Elastic Block Store", "sdf"))->kind,
      NvmeKind::Other);
  EXPECT_FALSE(parse_nvme_identify(std::string(4095, ' ')));
}

TEST(NvmeIdentify, SdAndXvdNamesCompareAlike) {
  EXPECT_EQ(canonical_device_name("/dev/xvdf"), "sdf");
  EXPECT_EQ(canonical_device_name("xvdf"), "sdf");
  EXPECT_EQ(canonical_device_name("/dev/sdf"), "sdf");
  EXPECT_EQ(canonical_device_name("sda1"), "sda1");
  EXPECT_EQ(canonical_device_name("xvda1"), "sda1");
  EXPECT_EQ(canonical_device_name("/dev/vdb"), "vdb");
  EXPECT_EQ(canonical_device_name("nvme1n1"), "nvme1n1");
}

}  // namespace
}  // namespace amiboot
