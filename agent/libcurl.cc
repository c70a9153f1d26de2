// SPDX-License-Identifier: Apache-2.0
#include "agent/libcurl.h"

#include <string>

#include "agent/dlopen_note.h"
#include "agent/dynamic_library.h"

AMIBOOT_ELF_NOTE_DLOPEN("http", "#include URLs, write_files sources, readiness callbacks",
                        "required", "libcurl.so.4")

namespace amiboot {

namespace {

Result<Libcurl> load_libcurl() {
  decltype(&::curl_global_init) global_init = nullptr;
  auto c = load_library<Libcurl>(
      {"libcurl.so.4", "an HTTP(S) request (#include, write_files source, callbacks)",
       "libcurl4 (Debian) or libcurl (RPM)", "curl_", " (libcurl 7.66 or later is needed)"},
      [&](Libcurl& table, LibrarySymbols& symbol) {
        AMIBOOT_LIBCURL_FUNCTIONS(AMIBOOT_LIBRARY_SYMBOL)
        symbol(global_init, "global_init");
      });
  if (!c) {
    return c;
  }
  if (CURLcode rc = global_init(CURL_GLOBAL_DEFAULT); rc != CURLE_OK) {
    return error(std::string("libcurl could not be initialised: ") + c->easy_strerror(rc));
  }
  return c;
}

}  // namespace

Result<const Libcurl*> libcurl() {
  // Loaded once, whichever thread asks first: curl_global_init is not
  // thread-safe on older libcurl.
  static const Result<Libcurl> k_loaded = load_libcurl();
  return loaded_table(k_loaded);
}

}  // namespace amiboot
