// SPDX-License-Identifier: Apache-2.0
// Partition tables through util-linux's libfdisk: reading one (the growpart
// plan's view), growing a partition in it (GPT's backup header moved to the
// end of the disk), and telling the running kernel about a partition through
// the BLKPG ioctl, since a disk whose partition is mounted cannot have its
// whole table re-read. Disks and image files alike: tests work on images.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/core/result.h"
#include "modules/actions.h"
#include "modules/block_devices.h"

namespace amiboot {

/// The table on a disk or image file; an error when libfdisk finds none.
/// For GPT, `last_usable` is where it will be once the backup header is at
/// the end of the disk (PartitionTable).
Result<PartitionTable> read_partition_table(const std::string& path);

/// Grows partition `number` of the table on `path` (of type `type`, "gpt" or
/// "dos") from `old_size` to `new_size` sectors, after checking that it
/// starts at `start` and has `old_size` (or already `new_size`: then the
/// table is left as it is). The table is written whole by libfdisk; a GPT
/// backup header that is not at the end of the disk is moved there. Returns
/// what libfdisk said (its warnings, one per line; may be empty).
Result<std::string> grow_partition_in_table(const std::string& path, const std::string& type,
                                            int number, std::uint64_t start, std::uint64_t old_size,
                                            std::uint64_t new_size);

/// A new partition table of `type` ("gpt" or "dos") on `path` with
/// `partitions` (bytes; a size of 0 runs to the end), written whole by
/// libfdisk: the old table's signatures, and any signature inside the new
/// partitions, wiped. Returns what libfdisk said.
Result<std::string> write_partition_table(const std::string& path, const std::string& type,
                                          const std::vector<PartitionSpec>& partitions);

/// The kernel made to see the partitions of the table on the disk at
/// `disk`: it re-reads the table (BLKRRPART); the partitions it then does
/// not have (a kernel without partition-table parsers) are added with
/// BLKPG_ADD_PARTITION. Waits up to 2 s for their device nodes.
Status show_partitions_to_kernel(const std::string& disk);

/// BLKPG_RESIZE_PARTITION: the kernel's partition `number` of the disk at
/// `disk` now starts at `start` and has `length` (bytes).
Status resize_kernel_partition(const std::string& disk, int number, std::uint64_t start,
                               std::uint64_t length);

/// BLKPG_ADD_PARTITION (bytes): a partition the kernel did not find itself
/// (a loop device on a kernel without partition-table parsers).
Status add_kernel_partition(const std::string& disk, int number, std::uint64_t start,
                            std::uint64_t length);

}  // namespace amiboot
