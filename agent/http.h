// SPDX-License-Identifier: Apache-2.0
// Plain HTTP(S) outside IMDS: #include URLs, write_files sources and
// readiness callbacks.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "agent/core/result.h"

namespace amiboot {

/// GET of an #include URL (http/https, redirects followed, size-capped),
/// given up after `timeout`.
Result<std::string> fetch_url(const std::string& url, std::size_t max_bytes,
                              std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// GET with headers (write_files `source`): the body of a 2xx answer, at
/// most max_bytes; redirects followed to http(s) only. The error names the
/// HTTP status or the transport failure, never the URL or the headers.
Result<std::string> http_get(const std::string& url,
                             const std::map<std::string, std::string>& headers,
                             std::size_t max_bytes);

/// One request (PUT, POST); the error names the HTTP status or the transport
/// failure, never the URL (a pre-signed URL is a credential).
Status http_send(const std::string& method, const std::string& url, const std::string& body,
                 const std::string& content_type);

}  // namespace amiboot
