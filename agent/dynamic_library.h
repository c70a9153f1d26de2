// SPDX-License-Identifier: Apache-2.0
// Libraries loaded when first needed (dlopen), so that commands which never
// make an HTTP request or write to the journal (validate, status, query,
// version) do not pay for loading and relocating them and their dozens of
// dependencies. Each loader's .cc names its library in a `.note.dlopen`
// and fills its table of functions through load_library().
#pragma once

#include <string>
#include <utility>

#include "agent/core/result.h"

namespace amiboot {

/// What a library's errors say about it.
struct LibraryInfo {
  const char* soname;      // "libfdisk.so.1"
  const char* needed_for;  // "reading or writing a partition table"
  const char* package;     // "libfdisk1 (Debian) or libfdisk (RPM)"
  const char* prefix;      // of the functions' names: "fdisk_"
  const char* too_old;     // after "lacks NAME": " (too old a util-linux)", or ""
};

/// dlopen(soname); the error names the library, what needs it and the
/// package that provides it.
Result<void*> open_library(const LibraryInfo& info);

/// Looks up a library's functions: `symbol(table.name, "name")` stores
/// dlsym's result for the prefixed name ("fdisk_name") cast to the member's
/// own type (declared with decltype of the library's header, so a mismatch
/// is a compile error) and remembers the first name that is missing.
class LibrarySymbols {
 public:
  LibrarySymbols(void* handle, std::string prefix)
      : m_handle(handle), m_prefix(std::move(prefix)) {}
  template <typename Function>
  void operator()(Function& slot, const char* name) {
    slot = reinterpret_cast<Function>(find(name));
  }
  const std::string& missing() const { return m_missing; }

 private:
  void* find(const char* name);

  void* m_handle;
  std::string m_prefix;
  std::string m_missing;
};

/// For a table's X-macro list of function names (AMIBOOT_LIBFDISK_FUNCTIONS),
/// in a resolve function whose parameters are `table` and `symbol`.
#define AMIBOOT_LIBRARY_SYMBOL(name) symbol(table.name, #name);

/// The library opened and `resolve(table, symbols)` run to fill a Table;
/// an error when it cannot be opened or lacks a function.
template <typename Table, typename Resolve>
Result<Table> load_library(const LibraryInfo& info, Resolve resolve) {
  auto handle = open_library(info);
  if (!handle) {
    return handle.error();
  }
  LibrarySymbols symbols(*handle, info.prefix);
  Table table{};
  resolve(table, symbols);
  if (!symbols.missing().empty()) {
    return error(std::string(info.soname) + " lacks " + symbols.missing() + info.too_old);
  }
  return table;
}

/// What a library's accessor returns from the table it loaded once (a
/// function-local static: loaded on the first call from any thread, kept
/// for the life of the process): the same error on every call when it
/// could not be loaded.
template <typename Table>
Result<const Table*> loaded_table(const Result<Table>& loaded) {
  if (!loaded) {
    return loaded.error();
  }
  return &*loaded;
}

/// load_library() once per call site (each `resolve` lambda is a type of
/// its own, so each gets its own static), as loaded_table() returns it.
template <typename Table, typename Resolve>
Result<const Table*> library_table(const LibraryInfo& info, Resolve resolve) {
  static const Result<Table> k_loaded = load_library<Table>(info, resolve);
  return loaded_table(k_loaded);
}

}  // namespace amiboot
