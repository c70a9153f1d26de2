// SPDX-License-Identifier: Apache-2.0
// disk_setup: cloud-init's partition tables for data volumes (cc_disk_setup's
// `disk_setup` key), decoded and laid out here; the volumes plan decides
// whether a disk may be partitioned (blank, or `overwrite: true`) and the
// executor writes the table through libfdisk (MakePartitionTable).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/config.h"
#include "modules/actions.h"

namespace amiboot {

struct DiskSetupRequest {
  std::string device;              // as written: "ebs1", "/dev/sdd", a device_aliases name
  std::string table_type = "mbr";  // "mbr" or "gpt"; cloud-init's default is mbr
  /// The partitions asked for (layout: true is one for the whole disk);
  /// empty for layout: false, cloud-init's default: the disk is left alone.
  struct Part {
    int percent = 100;
    std::string type;  // MBR: a hex code ("83"); GPT: a type GUID
    bool operator==(const Part&) const = default;
  };
  std::vector<Part> layout;
  bool overwrite = false;
  Position pos;
  std::string path;  // "disk_setup./dev/sdd"
  bool operator==(const DiskSetupRequest&) const = default;
};

/// `disk_setup` of one document, appended to `out`; errors and warnings to `d`.
void decode_disk_setup(const Value& doc, std::vector<DiskSetupRequest>& out, Decoder& d);

/// A partition type as a table stores it: for "mbr" a two-digit hex code
/// ("83", "82"; cloud-init's numbers are hex, as sfdisk reads them); for
/// "gpt" a type GUID, from a GUID, an sgdisk code ("8300") or an MBR code
/// ("82" is 8200, as sgdisk takes it). nullopt, with `why`, when unknown.
std::optional<std::string> partition_type(const std::string& table, const std::string& text,
                                          std::string& why);

/// The partitions of `r`'s layout on a disk of `disk_bytes`: each a
/// percentage of the disk, rounded down to whole MiB, the first at 1 MiB,
/// the last taking the rest (size 0), as cloud-init lays them out. An error
/// when a partition would be empty.
Result<std::vector<PartitionSpec>> layout_partitions(const DiskSetupRequest& r,
                                                     std::uint64_t disk_bytes);

/// libfdisk's name of a table type: "dos" for mbr, "gpt".
std::string fdisk_label_name(const std::string& table_type);

}  // namespace amiboot
