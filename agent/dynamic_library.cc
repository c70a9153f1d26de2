// SPDX-License-Identifier: Apache-2.0
#include "agent/dynamic_library.h"

#include <dlfcn.h>

namespace amiboot {

Result<void*> open_library(const LibraryInfo& info) {
  // RTLD_LOCAL: nothing of the library's leaks into later lookups; RTLD_NOW:
  // a broken install fails here with a clear message, not later mid-request.
  void* handle = dlopen(info.soname, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return error(std::string(info.soname) + " could not be loaded (" +
                 (why != nullptr ? why : "unknown reason") + "), needed for " + info.needed_for +
                 ": install " + info.package);
  }
  return handle;
}

void* LibrarySymbols::find(const char* name) {
  std::string full = m_prefix + name;
  void* symbol = dlsym(m_handle, full.c_str());
  if (symbol == nullptr && m_missing.empty()) {
    m_missing = full;
  }
  return symbol;
}

}  // namespace amiboot
