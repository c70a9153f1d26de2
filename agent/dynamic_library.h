// SPDX-License-Identifier: Apache-2.0
// Libraries loaded when first needed (dlopen), so that commands which never
// make an HTTP request or write to the journal (validate, status, query,
// version) do not pay for loading and relocating them and their dozens of
// dependencies. Each loader's .cc names its library in a `.note.dlopen`.
#pragma once

#include <string>

#include "agent/core/result.h"

namespace amiboot {

/// dlopen(soname); the error names the library, what needs it and the
/// package that provides it.
Result<void*> open_library(const char* soname, const std::string& needed_for,
                           const std::string& package);

/// dlsym that records the first missing name in `missing`.
void* library_symbol(void* handle, const char* name, std::string& missing);

}  // namespace amiboot
