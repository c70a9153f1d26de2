// SPDX-License-Identifier: Apache-2.0
#include "agent/libfdisk.h"

#include <string>

#include "agent/dlopen_note.h"
#include "agent/dynamic_library.h"

AMIBOOT_ELF_NOTE_DLOPEN("partitions", "growpart, disk_setup and volumes: partition tables",
                        "required", "libfdisk.so.1")

namespace amiboot {

namespace {

Result<Libfdisk> load_libfdisk() {
  auto handle = open_library("libfdisk.so.1", "reading or writing a partition table",
                             "libfdisk1 (Debian) or libfdisk (RPM)");
  if (!handle) {
    return handle.error();
  }
  std::string missing;
  Libfdisk f{};
  // dlsym returns void*; each cast is to the exact type libfdisk.h declares.
#define AMIBOOT_LIBFDISK_LOAD(name) \
  f.name = reinterpret_cast<decltype(f.name)>(library_symbol(*handle, "fdisk_" #name, missing));
  AMIBOOT_LIBFDISK_FUNCTIONS(AMIBOOT_LIBFDISK_LOAD)
#undef AMIBOOT_LIBFDISK_LOAD
  if (!missing.empty()) {
    return error("libfdisk.so.1 lacks " + missing + " (too old a util-linux)");
  }
  return f;
}

}  // namespace

Result<const Libfdisk*> libfdisk() {
  // Loaded exactly once, whichever thread asks first; it stays loaded.
  static const Result<Libfdisk> k_loaded = load_libfdisk();
  if (!k_loaded) {
    return k_loaded.error();
  }
  return &*k_loaded;
}

}  // namespace amiboot
