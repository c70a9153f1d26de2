// SPDX-License-Identifier: Apache-2.0
// libfdisk, loaded when a partition table is first read or written
// (agent/dynamic_library.h): only growpart, disk_setup and the volumes
// module touch partition tables, so no other command pays for loading it.
// Callers include <libfdisk/libfdisk.h> for its types and call through the
// table: fdisk_new_context() is `table.new_context()`.
#pragma once

#include <libfdisk/libfdisk.h>

#include "agent/core/result.h"

namespace amiboot {

// Every libfdisk function amiboot calls, without the "fdisk_" prefix.
#define AMIBOOT_LIBFDISK_FUNCTIONS(X) \
  X(add_partition)                    \
  X(ask_get_type)                     \
  X(ask_print_get_mesg)               \
  X(assign_device)                    \
  X(create_disklabel)                 \
  X(deassign_device)                  \
  X(enable_wipe)                      \
  X(free_iter)                        \
  X(get_disklabel_item)               \
  X(get_first_lba)                    \
  X(get_label)                        \
  X(get_last_lba)                     \
  X(get_nsectors)                     \
  X(get_partition)                    \
  X(get_partitions)                   \
  X(get_sector_size)                  \
  X(has_label)                        \
  X(is_labeltype)                     \
  X(label_get_parttype_from_code)     \
  X(label_get_parttype_from_string)   \
  X(label_is_changed)                 \
  X(labelitem_get_data_u64)           \
  X(new_context)                      \
  X(new_iter)                         \
  X(new_labelitem)                    \
  X(new_partition)                    \
  X(new_unknown_parttype)             \
  X(partition_end_follow_default)     \
  X(partition_get_partno)             \
  X(partition_get_size)               \
  X(partition_get_start)              \
  X(partition_has_partno)             \
  X(partition_has_size)               \
  X(partition_has_start)              \
  X(partition_is_container)           \
  X(partition_is_used)                \
  X(partition_set_partno)             \
  X(partition_set_size)               \
  X(partition_set_start)              \
  X(partition_set_type)               \
  X(set_ask)                          \
  X(set_partition)                    \
  X(table_next_partition)             \
  X(unref_context)                    \
  X(unref_labelitem)                  \
  X(unref_partition)                  \
  X(unref_parttype)                   \
  X(unref_table)                      \
  X(wipe_partition)                   \
  X(write_disklabel)

struct Libfdisk {
  // decltype of the real declaration: a mismatch with libfdisk.h is a
  // compile error.
#define AMIBOOT_LIBFDISK_MEMBER(name) decltype(&::fdisk_##name) name;
  AMIBOOT_LIBFDISK_FUNCTIONS(AMIBOOT_LIBFDISK_MEMBER)
#undef AMIBOOT_LIBFDISK_MEMBER
};

/// libfdisk.so.1, loaded once, on the first call from any thread. The error
/// says what is missing and which package provides it; the same error is
/// returned on every later call.
Result<const Libfdisk*> libfdisk();

}  // namespace amiboot
