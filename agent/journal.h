// SPDX-License-Identifier: Apache-2.0
// Journal entries with amiboot's fields (README.md, Where things are); stderr when
// there is no journald, so a run on a laptop or in a test still shows them.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace amiboot {

using JournalFields = std::map<std::string, std::string>;

/// Fixed MESSAGE_IDs, so `journalctl MESSAGE_ID=...` finds every run's events.
inline constexpr const char* kMessageIdStart = "8b1f0a3e5c6d4e2f9a7b1c0d2e3f4a5b";
inline constexpr const char* kMessageIdModuleDone = "3c9e7d1a2b4f4c6e8d0a1b2c3d4e5f60";
inline constexpr const char* kMessageIdFinished = "e4d2c1b0a9f84e7d6c5b4a3928171605";
/// A module failed (instead of kMessageIdModuleDone), so that
/// `journalctl -x` explains what to do about it.
inline constexpr const char* kMessageIdModuleFailed = "e83429b1e4b840d4b57a1843b15fa3be";
// Each ID has an entry in packaging/amiboot.catalog (a test checks).

/// Where entries go: the journal when its socket exists, else stderr.
/// AMIBOOT_LOG=stderr|journal overrides the choice.
bool journal_available();

/// priority is a syslog level (LOG_INFO, LOG_ERR...). Field names are
/// upper case without the leading underscore ("AMIBOOT_MODULE").
void journal_send(int priority, std::string_view identifier, std::string_view message,
                  const JournalFields& fields = {});

}  // namespace amiboot
