// SPDX-License-Identifier: Apache-2.0
#include "modules/nvme_identify.h"

#include "agent/core/strings.h"

namespace amiboot {

namespace {

constexpr std::size_t kSerialAt = 4, kSerialLen = 20;
constexpr std::size_t kModelAt = 24, kModelLen = 40;
constexpr std::size_t kVendorSpecificAt = 3072, kVendorNameLen = 32;
// Identify strings are ASCII padded with spaces (some firmware pads with NUL).
constexpr std::string_view kIdentifyPadding{" \0", 2};

std::string without_dev(std::string_view name) {
  if (name.substr(0, 5) == "/dev/") {
    name.remove_prefix(5);
  }
  return std::string(name);
}

}  // namespace

std::optional<NvmeIdentity> parse_nvme_identify(std::string_view data) {
  if (data.size() < kNvmeIdentifySize) {
    return std::nullopt;
  }
  NvmeIdentity id;
  id.vendor_id = static_cast<std::uint16_t>(static_cast<unsigned char>(data[0]) |
                                            (static_cast<unsigned char>(data[1]) << 8));
  id.serial = std::string(trim(data.substr(kSerialAt, kSerialLen), kIdentifyPadding));
  id.model = std::string(trim(data.substr(kModelAt, kModelLen), kIdentifyPadding));
  if (id.vendor_id == kAmazonNvmeVendorId && id.model == kEbsModel) {
    id.kind = NvmeKind::Ebs;
  } else if (id.vendor_id == kAmazonNvmeVendorId && id.model == kInstanceStoreModel) {
    id.kind = NvmeKind::InstanceStore;
  }
  // The name ends at the first space or NUL of the 32-byte field.
  std::string_view field = data.substr(kVendorSpecificAt, kVendorNameLen);
  std::size_t end = field.find_first_of(std::string_view(" \0", 2));
  field = field.substr(0, end);
  // Instance store writes "ephemeral0:sdb", or "ephemeral0:none" when the
  // mapping does not list the disk; EBS writes the bare device name.
  if (std::size_t colon = field.find(':'); colon != std::string_view::npos) {
    id.virtual_name = without_dev(field.substr(0, colon));
    id.device_name = without_dev(field.substr(colon + 1));
    if (id.device_name == "none") {
      id.device_name.clear();
    }
  } else {
    id.device_name = without_dev(field);
  }
  return id;
}

std::string canonical_device_name(std::string_view name) {
  std::string n = without_dev(name);
  // Xen's xvdX and the mapping's sdX name the same slot; Nitro reports
  // whichever the launcher wrote.
  if (n.rfind("xvd", 0) == 0 && n.size() > 3) {
    return "sd" + n.substr(3);
  }
  return n;
}

}  // namespace amiboot
