// SPDX-License-Identifier: Apache-2.0
#include "agent/libfdisk.h"

#include "agent/dlopen_note.h"
#include "agent/dynamic_library.h"

AMIBOOT_ELF_NOTE_DLOPEN("partitions", "growpart, disk_setup and volumes: partition tables",
                        "required", "libfdisk.so.1")

namespace amiboot {

Result<const Libfdisk*> libfdisk() {
  return library_table<Libfdisk>(
      {"libfdisk.so.1", "reading or writing a partition table",
       "libfdisk1 (Debian) or libfdisk (RPM)", "fdisk_", " (too old a util-linux)"},
      [](Libfdisk& table, LibrarySymbols& symbol) {
        AMIBOOT_LIBFDISK_FUNCTIONS(AMIBOOT_LIBRARY_SYMBOL)
      });
}

}  // namespace amiboot
