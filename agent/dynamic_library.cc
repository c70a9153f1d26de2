// SPDX-License-Identifier: Apache-2.0
#include "agent/dynamic_library.h"

#include <dlfcn.h>

namespace amiboot {

Result<void*> open_library(const char* soname, const std::string& needed_for,
                           const std::string& package) {
  // RTLD_LOCAL: nothing of the library's leaks into later lookups; RTLD_NOW:
  // a broken install fails here with a clear message, not later mid-request.
  void* handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return error(std::string(soname) + " could not be loaded (" +
                 (why != nullptr ? why : "unknown reason") + "), needed for " + needed_for +
                 ": install " + package);
  }
  return handle;
}

void* library_symbol(void* handle, const char* name, std::string& missing) {
  void* symbol = dlsym(handle, name);
  if (symbol == nullptr && missing.empty()) {
    missing = name;
  }
  return symbol;
}

}  // namespace amiboot
