// SPDX-License-Identifier: Apache-2.0
#include "agent/libblkid.h"

#include <string>

#include "agent/dlopen_note.h"
#include "agent/dynamic_library.h"

AMIBOOT_ELF_NOTE_DLOPEN("probe", "disk_setup and volumes: filesystems and labels on devices",
                        "required", "libblkid.so.1")

namespace amiboot {

namespace {

Result<Libblkid> load_libblkid() {
  auto handle = open_library("libblkid.so.1", "probing a device for a filesystem",
                             "libblkid1 (Debian) or libblkid (RPM)");
  if (!handle) {
    return handle.error();
  }
  std::string missing;
  Libblkid f{};
  // dlsym returns void*; each cast is to the exact type libblkid.h declares.
#define AMIBOOT_LIBBLKID_LOAD(name) \
  f.name = reinterpret_cast<decltype(f.name)>(library_symbol(*handle, "blkid_" #name, missing));
  AMIBOOT_LIBBLKID_FUNCTIONS(AMIBOOT_LIBBLKID_LOAD)
#undef AMIBOOT_LIBBLKID_LOAD
  if (!missing.empty()) {
    return error("libblkid.so.1 lacks " + missing + " (too old a util-linux)");
  }
  return f;
}

}  // namespace

Result<const Libblkid*> libblkid() {
  // Loaded exactly once, whichever thread asks first; it stays loaded.
  static const Result<Libblkid> k_loaded = load_libblkid();
  if (!k_loaded) {
    return k_loaded.error();
  }
  return &*k_loaded;
}

}  // namespace amiboot
