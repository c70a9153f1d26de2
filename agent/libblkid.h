// SPDX-License-Identifier: Apache-2.0
// libblkid, loaded when a device is first probed (agent/dynamic_library.h):
// only the disk modules probe devices, so no other command pays for it.
// Callers include <blkid/blkid.h> for its types and call through the table:
// blkid_do_safeprobe() is `table.do_safeprobe()`.
#pragma once

#include <blkid/blkid.h>

#include "agent/core/result.h"

namespace amiboot {

// Every libblkid function amiboot calls, without the "blkid_" prefix.
#define AMIBOOT_LIBBLKID_FUNCTIONS(X) \
  X(do_safeprobe)                     \
  X(free_probe)                       \
  X(new_probe_from_filename)          \
  X(probe_enable_partitions)          \
  X(probe_enable_superblocks)         \
  X(probe_lookup_value)               \
  X(probe_set_partitions_flags)       \
  X(probe_set_superblocks_flags)

struct Libblkid {
  // decltype of the real declaration: a mismatch with blkid.h is a compile
  // error.
#define AMIBOOT_LIBBLKID_MEMBER(name) decltype(&::blkid_##name) name;
  AMIBOOT_LIBBLKID_FUNCTIONS(AMIBOOT_LIBBLKID_MEMBER)
#undef AMIBOOT_LIBBLKID_MEMBER
};

/// libblkid.so.1, loaded once, on the first call from any thread; the error
/// says what is missing and which package provides it.
Result<const Libblkid*> libblkid();

}  // namespace amiboot
