// SPDX-License-Identifier: Apache-2.0
#include "agent/journal.h"

#include <syslog.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <systemd/sd-journal.h>

namespace amiboot {

bool journal_available() {
  static const bool available = [] {
    const char* mode = std::getenv("AMIBOOT_LOG");
    if (mode != nullptr && std::strcmp(mode, "stderr") == 0) {
      return false;
    }
    if (mode != nullptr && std::strcmp(mode, "journal") == 0) {
      return true;
    }
    // sd_journal_send() reports success even when nobody listens on some
    // hosts, so look for journald's socket instead of trusting its result.
    return access("/run/systemd/journal/socket", W_OK) == 0;
  }();
  return available;
}

void journal_send(int priority, std::string_view identifier, std::string_view message,
                  const JournalFields& fields) {
  if (!journal_available()) {
    std::string line(identifier);
    auto module = fields.find("AMIBOOT_MODULE");
    if (module != fields.end()) {
      line += "[" + module->second + "]";
    }
    line += priority <= LOG_ERR ? ": error: " : priority == LOG_WARNING ? ": warning: " : ": ";
    line += message;
    line += '\n';
    (void)!write(STDERR_FILENO, line.data(), line.size());
    return;
  }
  std::vector<std::string> entries;
  entries.push_back("MESSAGE=" + std::string(message));
  entries.push_back("PRIORITY=" + std::to_string(priority));
  entries.push_back("SYSLOG_IDENTIFIER=" + std::string(identifier));
  for (const auto& [key, value] : fields) {
    if (!value.empty()) {
      entries.push_back(key + "=" + value);
    }
  }
  std::vector<iovec> iov;
  for (auto& e : entries) {
    iov.push_back(iovec{e.data(), e.size()});
  }
  sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
}

}  // namespace amiboot
