// SPDX-License-Identifier: Apache-2.0
#include "agent/libcurl.h"

#include <string>

#include "agent/dlopen_note.h"
#include "agent/dynamic_library.h"

AMIBOOT_ELF_NOTE_DLOPEN("http", "IMDS, #include URLs, write_files sources, readiness callbacks",
                        "required", "libcurl.so.4")

namespace amiboot {

namespace {

Result<Libcurl> load_libcurl() {
  auto handle = open_library("libcurl.so.4", "an HTTP request (IMDS, #include, callbacks)",
                             "libcurl4 (Debian) or libcurl (RPM)");
  if (!handle) {
    return handle.error();
  }
  std::string missing;
  auto sym = [&](const char* name) { return library_symbol(*handle, name, missing); };
  Libcurl c{};
  // dlsym returns void*; each cast is to the exact type curl.h declares.
  c.easy_init = reinterpret_cast<decltype(c.easy_init)>(sym("curl_easy_init"));
  c.easy_cleanup = reinterpret_cast<decltype(c.easy_cleanup)>(sym("curl_easy_cleanup"));
  c.easy_reset = reinterpret_cast<decltype(c.easy_reset)>(sym("curl_easy_reset"));
  c.easy_setopt = reinterpret_cast<decltype(c.easy_setopt)>(sym("curl_easy_setopt"));
  c.easy_perform = reinterpret_cast<decltype(c.easy_perform)>(sym("curl_easy_perform"));
  c.easy_getinfo = reinterpret_cast<decltype(c.easy_getinfo)>(sym("curl_easy_getinfo"));
  c.easy_strerror = reinterpret_cast<decltype(c.easy_strerror)>(sym("curl_easy_strerror"));
  c.slist_append = reinterpret_cast<decltype(c.slist_append)>(sym("curl_slist_append"));
  c.slist_free_all = reinterpret_cast<decltype(c.slist_free_all)>(sym("curl_slist_free_all"));
  c.multi_init = reinterpret_cast<decltype(c.multi_init)>(sym("curl_multi_init"));
  c.multi_cleanup = reinterpret_cast<decltype(c.multi_cleanup)>(sym("curl_multi_cleanup"));
  c.multi_setopt = reinterpret_cast<decltype(c.multi_setopt)>(sym("curl_multi_setopt"));
  c.multi_add_handle = reinterpret_cast<decltype(c.multi_add_handle)>(sym("curl_multi_add_handle"));
  c.multi_remove_handle =
      reinterpret_cast<decltype(c.multi_remove_handle)>(sym("curl_multi_remove_handle"));
  c.multi_perform = reinterpret_cast<decltype(c.multi_perform)>(sym("curl_multi_perform"));
  c.multi_poll = reinterpret_cast<decltype(c.multi_poll)>(sym("curl_multi_poll"));
  c.multi_info_read = reinterpret_cast<decltype(c.multi_info_read)>(sym("curl_multi_info_read"));
  auto global_init = reinterpret_cast<decltype(&::curl_global_init)>(sym("curl_global_init"));
  if (!missing.empty()) {
    return error("libcurl.so.4 lacks " + missing + " (libcurl 7.66 or later is needed)");
  }
  if (CURLcode rc = global_init(CURL_GLOBAL_DEFAULT); rc != CURLE_OK) {
    return error(std::string("libcurl could not be initialised: ") + c.easy_strerror(rc));
  }
  return c;
}

}  // namespace

Result<const Libcurl*> libcurl() {
  // A function-local static: loaded exactly once, whichever thread asks
  // first (curl_global_init is not thread-safe on older libcurl). The
  // library stays loaded for the life of the process.
  static const Result<Libcurl> k_loaded = load_libcurl();
  if (!k_loaded) {
    return k_loaded.error();
  }
  return &*k_loaded;
}

}  // namespace amiboot
