// SPDX-License-Identifier: Apache-2.0
#include "agent/libsystemd.h"

#include <type_traits>

#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#include "agent/dlopen_note.h"
#include "agent/dynamic_library.h"

AMIBOOT_ELF_NOTE_DLOPEN("journal", "journal entries with fields and the readiness notification",
                        "required", "libsystemd.so.0")

namespace amiboot {

// The header spells the types out so that its callers need no systemd
// headers; these check them against sd-journal.h and sd-daemon.h.
static_assert(std::is_same_v<decltype(Libsystemd::journal_sendv), decltype(&::sd_journal_sendv)>);
static_assert(std::is_same_v<decltype(Libsystemd::notify), decltype(&::sd_notify)>);

Result<const Libsystemd*> libsystemd() {
  return library_table<Libsystemd>({"libsystemd.so.0", "the journal and the notify socket",
                                    "libsystemd0 (Debian) or systemd-libs (RPM)", "sd_", ""},
                                   [](Libsystemd& table, LibrarySymbols& symbol) {
                                     symbol(table.journal_sendv, "journal_sendv");
                                     symbol(table.notify, "notify");
                                   });
}

}  // namespace amiboot
