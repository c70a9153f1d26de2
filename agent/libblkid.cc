// SPDX-License-Identifier: Apache-2.0
#include "agent/libblkid.h"

#include "agent/dlopen_note.h"
#include "agent/dynamic_library.h"

AMIBOOT_ELF_NOTE_DLOPEN("probe", "disk_setup and volumes: filesystems and labels on devices",
                        "required", "libblkid.so.1")

namespace amiboot {

Result<const Libblkid*> libblkid() {
  return library_table<Libblkid>(
      {"libblkid.so.1", "probing a device for a filesystem", "libblkid1 (Debian) or libblkid (RPM)",
       "blkid_", " (too old a util-linux)"},
      [](Libblkid& table, LibrarySymbols& symbol) {
        AMIBOOT_LIBBLKID_FUNCTIONS(AMIBOOT_LIBRARY_SYMBOL)
      });
}

}  // namespace amiboot
