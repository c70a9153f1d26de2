// SPDX-License-Identifier: Apache-2.0
// libcurl, loaded on the first HTTP request (agent/dynamic_library.h).
// Callers include <curl/curl.h> for its types and call through the table.
#pragma once

#include <curl/curl.h>

#include "agent/core/result.h"

namespace amiboot {

struct Libcurl {
  decltype(&::curl_easy_init) easy_init;
  decltype(&::curl_easy_cleanup) easy_cleanup;
  decltype(&::curl_easy_reset) easy_reset;
  decltype(&::curl_easy_setopt) easy_setopt;
  decltype(&::curl_easy_perform) easy_perform;
  decltype(&::curl_easy_getinfo) easy_getinfo;
  decltype(&::curl_easy_strerror) easy_strerror;
  decltype(&::curl_slist_append) slist_append;
  decltype(&::curl_slist_free_all) slist_free_all;
  decltype(&::curl_multi_init) multi_init;
  decltype(&::curl_multi_cleanup) multi_cleanup;
  decltype(&::curl_multi_setopt) multi_setopt;
  decltype(&::curl_multi_add_handle) multi_add_handle;
  decltype(&::curl_multi_remove_handle) multi_remove_handle;
  decltype(&::curl_multi_perform) multi_perform;
  decltype(&::curl_multi_poll) multi_poll;
  decltype(&::curl_multi_info_read) multi_info_read;
};

/// libcurl.so.4, loaded and initialised (curl_global_init) once, on the
/// first call from any thread. The error says what is missing and which
/// package provides it; the same error is returned on every later call.
Result<const Libcurl*> libcurl();

}  // namespace amiboot
