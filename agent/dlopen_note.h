// SPDX-License-Identifier: Apache-2.0
// The ELF `.note.dlopen` note (systemd's ELF_DLOPEN_METADATA, the
// `ELF_NOTE_DLOPEN` macro in systemd's source): a library we dlopen() at run
// time instead of linking is named in the binary, so packagers' tools
// (dpkg-shlibdeps' successors, rpm's dependency generators, `systemd-analyze
// dlopen-metadata`) still see it. The note's owner is "FDO", its type
// 0x407c0c0a and its payload a JSON array of {feature, description,
// priority, soname}.
#pragma once

#include <cstdint>

#define AMIBOOT_DLOPEN_CONCAT2(a, b) a##b
#define AMIBOOT_DLOPEN_CONCAT(a, b) AMIBOOT_DLOPEN_CONCAT2(a, b)

/// One note per use; `json` is a string literal. The names carry a counter,
/// not the line, so that files joined in a unity build do not clash.
#define AMIBOOT_ELF_NOTE_DLOPEN_JSON(json) AMIBOOT_ELF_NOTE_DLOPEN_JSON_N(json, __COUNTER__)
#define AMIBOOT_ELF_NOTE_DLOPEN_JSON_N(json, n)                                                  \
  namespace {                                                                                    \
  struct alignas(4) AMIBOOT_DLOPEN_CONCAT(DlopenNote, n) {                                       \
    std::uint32_t n_namesz, n_descsz, n_type;                                                    \
    char name[4];                                                                                \
    alignas(4) char desc[sizeof(json)];                                                          \
  };                                                                                             \
  /* alignas on the variable too: GCC aligns large objects to 32 bytes                           \
     otherwise, and readelf refuses a note section so aligned. */                                \
  [[gnu::used, gnu::section(".note.dlopen")]] alignas(4) const                                   \
      AMIBOOT_DLOPEN_CONCAT(DlopenNote, n)                                                       \
          AMIBOOT_DLOPEN_CONCAT(k_dlopen_note_, n) = {4, sizeof(json), 0x407c0c0a, "FDO", json}; \
  }

/// A library that `feature` needs, loaded when that feature is first used.
#define AMIBOOT_ELF_NOTE_DLOPEN(feature, description, priority, soname)                       \
  AMIBOOT_ELF_NOTE_DLOPEN_JSON("[{\"feature\":\"" feature "\",\"description\":\"" description \
                               "\",\"priority\":\"" priority "\",\"soname\":[\"" soname "\"]}]")
