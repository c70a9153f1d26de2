// SPDX-License-Identifier: Apache-2.0
// Parsing of NVMe Identify Controller data as Nitro instances present it:
// which EBS volume or instance-store disk an /dev/nvmeNn1 is, and the device
// name the block device mapping gave it. Pure: the ioctl lives in
// agent/block_devices.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace amiboot {

inline constexpr std::size_t kNvmeIdentifySize = 4096;
inline constexpr std::uint16_t kAmazonNvmeVendorId = 0x1D0F;
inline constexpr std::string_view kEbsModel = "Amazon Elastic Block Store";
inline constexpr std::string_view kInstanceStoreModel = "Amazon EC2 NVMe Instance Storage";

enum class NvmeKind { Other, Ebs, InstanceStore };

struct NvmeIdentity {
  std::uint16_t vendor_id = 0;
  std::string serial;  // EBS: the volume id without its dash ("vol0123...")
  std::string model;
  NvmeKind kind = NvmeKind::Other;
  /// The block-device-mapping name, without "/dev/" ("sdf", "xvdb"); empty
  /// when the field is blank (for a moment after attach) or says "none".
  std::string device_name;
  /// Instance store only: "ephemeral0" from "ephemeral0:sdb".
  std::string virtual_name;
  bool operator==(const NvmeIdentity&) const = default;
};

/// nullopt when `data` is shorter than an Identify Controller page.
std::optional<NvmeIdentity> parse_nvme_identify(std::string_view data);

/// A device name reduced to one spelling so that the mapping's name and the
/// NVMe field compare: "/dev/xvdf" -> "sdf", "sdf" -> "sdf", "xvda1" -> "sda1".
/// Other names ("nvme1n1", "vdb") are only stripped of "/dev/".
std::string canonical_device_name(std::string_view name);

}  // namespace amiboot
