// SPDX-License-Identifier: Apache-2.0
#include "agent/http.h"

#include <algorithm>
#include <cctype>

#include "agent/core/strings.h"
#include "agent/core/user_data.h"
#include "agent/libcurl.h"

namespace amiboot {

namespace {

struct Sink {
  std::string* body;
  std::size_t cap;
};

size_t collect(char* ptr, size_t size, size_t nmemb, void* userdata) {
  auto* sink = static_cast<Sink*>(userdata);
  if (sink->body->size() + size * nmemb > sink->cap) {
    return 0;  // aborts the transfer: over the cap
  }
  sink->body->append(ptr, size * nmemb);
  return size * nmemb;
}

bool is_http(const std::string& url) {
  std::string scheme = lowercase(url.substr(0, url.find("://") + 3));
  return scheme == "http://" || scheme == "https://";
}

struct Outcome {
  CURLcode rc;
  long status;
  std::string failure;  // the transport error or libcurl missing; empty on success
};

/// The options every request shares, then the transfer; `setup(c, curl)` adds the rest.
template <typename Setup>
Outcome perform(const std::string& url, Sink sink, Setup setup) {
  auto lib = libcurl();
  if (!lib) {
    return {CURLE_FAILED_INIT, 0, lib.error().message};
  }
  const Libcurl& c = **lib;
  CURL* curl = c.easy_init();
  if (curl == nullptr) {
    return {CURLE_FAILED_INIT, 0, c.easy_strerror(CURLE_FAILED_INIT)};
  }
  c.easy_setopt(curl, CURLOPT_URL, url.c_str());
  c.easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  c.easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  c.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  c.easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  c.easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  setup(c, curl);
  Outcome out{c.easy_perform(curl), 0, {}};
  if (out.rc != CURLE_OK) {
    out.failure = c.easy_strerror(out.rc);
  }
  c.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out.status);
  c.easy_cleanup(curl);
  return out;
}

}  // namespace

Result<std::string> fetch_url(const std::string& url, std::size_t max_bytes,
                              std::chrono::milliseconds timeout) {
  // The URL may carry a signature: errors name it without its query.
  std::string name = "#include " + redact_url(url);
  if (!is_http(url)) {
    return error(name + ": only http:// and https:// URLs are fetched");
  }
  std::string body;
  auto out = perform(url, Sink{&body, max_bytes}, [timeout](const Libcurl& c, CURL* curl) {
    c.easy_setopt(
        curl, CURLOPT_TIMEOUT_MS,
        static_cast<long>(std::max<long long>(1, static_cast<long long>(timeout.count()))));
    c.easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    c.easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
    c.easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  });
  if (out.rc == CURLE_WRITE_ERROR) {
    return error(name + ": larger than " + std::to_string(max_bytes) + " bytes");
  }
  if (out.rc != CURLE_OK) {
    return error(name + ": " + out.failure);
  }
  if (out.status != 200) {
    return error(name + ": HTTP " + std::to_string(out.status));
  }
  return body;
}

Result<std::string> http_get(const std::string& url,
                             const std::map<std::string, std::string>& headers,
                             std::size_t max_bytes) {
  if (!is_http(url)) {
    return error("only http:// and https:// URLs are fetched");
  }
  auto lib = libcurl();
  if (!lib) {
    return lib.error();
  }
  curl_slist* list = nullptr;
  for (const auto& [name, value] : headers) {
    // "Name;" is curl's way of sending a header with an empty value.
    list = (*lib)->slist_append(list, (value.empty() ? name + ";" : name + ": " + value).c_str());
  }
  std::string body;
  auto out = perform(url, Sink{&body, max_bytes}, [&](const Libcurl& c, CURL* curl) {
    c.easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    c.easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    c.easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
    c.easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    // Up to 64 MiB: no overall limit that a slow but steady mirror would
    // hit, but a stalled one is given up on.
    c.easy_setopt(curl, CURLOPT_TIMEOUT, 600L);
    c.easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    c.easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    c.easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 30L);
  });
  (*lib)->slist_free_all(list);
  if (out.rc == CURLE_WRITE_ERROR) {
    return error("larger than " + std::to_string(max_bytes) + " bytes");
  }
  if (out.rc != CURLE_OK) {
    return error(out.failure);
  }
  if (out.status < 200 || out.status >= 300) {
    return error("HTTP " + std::to_string(out.status));
  }
  return body;
}

Status http_send(const std::string& method, const std::string& url, const std::string& body,
                 const std::string& content_type) {
  if (!is_http(url)) {
    return error("only http:// and https:// URLs are supported");
  }
  auto lib = libcurl();
  if (!lib) {
    return lib.error();
  }
  curl_slist* headers = (*lib)->slist_append(nullptr, ("Content-Type: " + content_type).c_str());
  std::string reply;
  auto out = perform(url, Sink{&reply, 1 << 16}, [&](const Libcurl& c, CURL* curl) {
    c.easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    c.easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    c.easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    c.easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  });
  (*lib)->slist_free_all(headers);
  if (out.rc != CURLE_OK) {
    return error(out.failure);
  }
  if (out.status < 200 || out.status >= 300) {
    return error("HTTP " + std::to_string(out.status));
  }
  return {};
}

}  // namespace amiboot
