// SPDX-License-Identifier: Apache-2.0
// libcurl, loaded on the first HTTP request (agent/dynamic_library.h).
// Callers include <curl/curl.h> for its types and call through the table.
#pragma once

#include <curl/curl.h>

#include "agent/core/result.h"

namespace amiboot {

// Every libcurl function amiboot calls through the table, without the
// "curl_" prefix.
#define AMIBOOT_LIBCURL_FUNCTIONS(X) \
  X(easy_init)                       \
  X(easy_cleanup)                    \
  X(easy_reset)                      \
  X(easy_setopt)                     \
  X(easy_perform)                    \
  X(easy_getinfo)                    \
  X(easy_strerror)                   \
  X(slist_append)                    \
  X(slist_free_all)                  \
  X(multi_init)                      \
  X(multi_cleanup)                   \
  X(multi_setopt)                    \
  X(multi_add_handle)                \
  X(multi_remove_handle)             \
  X(multi_perform)                   \
  X(multi_poll)                      \
  X(multi_info_read)

struct Libcurl {
  // decltype of the real declaration: a mismatch with curl.h is a compile
  // error.
#define AMIBOOT_LIBCURL_MEMBER(name) decltype(&::curl_##name) name;
  AMIBOOT_LIBCURL_FUNCTIONS(AMIBOOT_LIBCURL_MEMBER)
#undef AMIBOOT_LIBCURL_MEMBER
};

/// libcurl.so.4, loaded and initialised (curl_global_init) once, on the
/// first call from any thread. The error says what is missing and which
/// package provides it; the same error is returned on every later call.
Result<const Libcurl*> libcurl();

}  // namespace amiboot
