// SPDX-License-Identifier: Apache-2.0
#include "agent/libsystemd.h"

#include <string>

#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#include "agent/dlopen_note.h"
#include "agent/dynamic_library.h"

AMIBOOT_ELF_NOTE_DLOPEN("journal", "journal entries with fields and the readiness notification",
                        "required", "libsystemd.so.0")

namespace amiboot {

namespace {

Result<Libsystemd> load_libsystemd() {
  auto handle = open_library("libsystemd.so.0", "the journal and the notify socket",
                             "libsystemd0 (Debian) or systemd-libs (RPM)");
  if (!handle) {
    return handle.error();
  }
  std::string missing;
  Libsystemd s{};
  // Assigning through decltype checks the table against sd-journal.h and
  // sd-daemon.h: a mismatch is a compile error.
  decltype(&::sd_journal_sendv) journal_sendv = reinterpret_cast<decltype(&::sd_journal_sendv)>(
      library_symbol(*handle, "sd_journal_sendv", missing));
  decltype(&::sd_notify) notify =
      reinterpret_cast<decltype(&::sd_notify)>(library_symbol(*handle, "sd_notify", missing));
  if (!missing.empty()) {
    return error("libsystemd.so.0 lacks " + missing);
  }
  s.journal_sendv = journal_sendv;
  s.notify = notify;
  return s;
}

}  // namespace

Result<const Libsystemd*> libsystemd() {
  static const Result<Libsystemd> k_loaded = load_libsystemd();
  if (!k_loaded) {
    return k_loaded.error();
  }
  return &*k_loaded;
}

}  // namespace amiboot
