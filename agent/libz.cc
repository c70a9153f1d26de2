// SPDX-License-Identifier: Apache-2.0
// zlib, loaded when gzip data is first met (agent/core/zlib_functions.h):
// gzip user data, gz+b64 write_files content and gzip random_seed data are
// rare, so most commands and boots never pay for it.
#include "agent/core/zlib_functions.h"
#include "agent/dlopen_note.h"
#include "agent/dynamic_library.h"

AMIBOOT_ELF_NOTE_DLOPEN("gzip", "gzip user data, gz+b64 write_files content, random_seed data",
                        "required", "libz.so.1")

namespace amiboot {

Result<const Zlib*> zlib() {
  return library_table<Zlib>(
      {"libz.so.1", "gzip data", "zlib1g (Debian) or zlib (RPM)", "", ""},
      [](Zlib& table, LibrarySymbols& symbol) { AMIBOOT_ZLIB_FUNCTIONS(AMIBOOT_LIBRARY_SYMBOL) });
}

}  // namespace amiboot
