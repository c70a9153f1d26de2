// SPDX-License-Identifier: Apache-2.0
#include "agent/journal.h"

#include <sys/uio.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "agent/libsystemd.h"

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

namespace {

// The journal's library, when there is a journal to write to; without it
// (libsystemd missing) entries go to stderr, after one line saying why.
const Libsystemd* journal_library() {
  if (!journal_available()) {
    return nullptr;
  }
  static const Libsystemd* const k_library = [] {
    auto lib = libsystemd();
    if (!lib) {
      std::string line =
          "amiboot: warning: " + lib.error().message + "; journal entries go to stderr\n";
      (void)!write(STDERR_FILENO, line.data(), line.size());
      return static_cast<const Libsystemd*>(nullptr);
    }
    return *lib;
  }();
  return k_library;
}

}  // namespace

void journal_send(int priority, std::string_view identifier, std::string_view message,
                  const JournalFields& fields) {
  const Libsystemd* systemd = journal_library();
  if (systemd == nullptr) {
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
  systemd->journal_sendv(iov.data(), static_cast<int>(iov.size()));
}

}  // namespace amiboot
