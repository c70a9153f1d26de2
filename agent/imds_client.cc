// SPDX-License-Identifier: Apache-2.0
#include "agent/imds_client.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <thread>
#include <utility>
#include <vector>

#include <curl/curl.h>

#include "agent/core/strings.h"

namespace amiboot {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

constexpr const char* k_token_path = "api/token";
constexpr const char* k_user_data_path = "user-data";
constexpr const char* k_identity_path = "dynamic/instance-identity/document";
constexpr const char* k_hostname_path = "meta-data/local-hostname";
constexpr const char* k_public_keys_path = "meta-data/public-keys/";
constexpr const char* k_bdm_path = "meta-data/block-device-mapping/";

void init_curl_once() {
  // curl_global_init is not thread-safe on older libcurl; a function-local
  // static runs it exactly once, whichever thread makes the first client.
  static const CURLcode k_init = curl_global_init(CURL_GLOBAL_DEFAULT);
  (void)k_init;
}

struct Response {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  std::string detail;  // CURLOPT_ERRORBUFFER text, more precise than curl_easy_strerror
  bool too_large = false;
};

struct Sink {
  std::string* body;
  std::size_t cap;
  bool* too_large;
};

std::size_t write_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t n = size * count;
  if (sink->body->size() + n > sink->cap) {
    // Returning short makes libcurl abort the transfer with CURLE_WRITE_ERROR,
    // so an endless or hostile body never lands in memory.
    *sink->too_large = true;
    return n == 0 ? 1 : 0;
  }
  sink->body->append(data, n);
  return n;
}

bool transient_status(long status) {
  return status == 429 || (status >= 500 && status <= 599);
}

// Errors that more tries cannot fix: a bad URL or option is a configuration
// error; everything else on the wire (refused, reset, timed out, empty reply)
// is what a slow first-boot IMDS looks like and is retried.
bool transient_transport(const Response& r) {
  switch (r.code) {
    case CURLE_OK:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_FAILED_INIT:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_UNKNOWN_OPTION:
      return false;
    case CURLE_WRITE_ERROR:
      return !r.too_large;
    default:
      return true;
  }
}

bool is_transient(const Response& r) {
  return r.code == CURLE_OK ? transient_status(r.status) : transient_transport(r);
}

std::string describe(const Response& r) {
  if (r.code == CURLE_OK) {
    return "HTTP " + std::to_string(r.status);
  }
  std::string text = curl_easy_strerror(r.code);
  if (!r.detail.empty() && r.detail != text) {
    text += " (" + r.detail + ")";
  }
  return text;
}

std::string attempts_text(int attempts) {
  return std::to_string(attempts) + (attempts == 1 ? " attempt" : " attempts");
}

std::vector<std::string> listing_entries(const std::string& body) {
  std::vector<std::string> entries;
  std::size_t pos = 0;
  while (pos <= body.size()) {
    std::size_t end = body.find('\n', pos);
    if (end == std::string::npos) {
      end = body.size();
    }
    std::string line(trim(std::string_view(body).substr(pos, end - pos)));
    if (!line.empty()) {
      entries.push_back(std::move(line));
    }
    pos = end + 1;
  }
  return entries;
}

}  // namespace

struct ImdsClient::Impl {
  explicit Impl(ImdsOptions o) : options(std::move(o)), backoff(options.retry) {
    init_curl_once();
    curl = curl_easy_init();
    // A trailing slash would double up with "/latest/"; IMDS answers "//" with 404.
    while (!options.base_url.empty() && options.base_url.back() == '/') {
      options.base_url.pop_back();
    }
  }
  ~Impl() {
    if (curl != nullptr) {
      curl_easy_cleanup(curl);
    }
  }

  void log(const std::string& line) const {
    if (options.log) {
      options.log(line);
    }
  }

  Response perform(bool put, const std::string& path, std::size_t cap, milliseconds timeout);
  Result<Response> send(bool put, const std::string& path, std::size_t cap,
                        Clock::time_point deadline, int& attempts);
  Status fetch_token(Clock::time_point deadline);
  Result<std::optional<std::string>> get(const std::string& path);

  ImdsOptions options;
  Backoff backoff;
  CURL* curl = nullptr;
  std::string token;       // empty until the first PUT succeeds
  bool tokenless = false;  // IMDSv1 fallback, only when options.allow_imdsv1
  int requests = 0;
  char error_buffer[CURL_ERROR_SIZE] = {};
};

Response ImdsClient::Impl::perform(bool put, const std::string& path, std::size_t cap,
                                   milliseconds timeout) {
  Response r;
  ++requests;
  if (curl == nullptr) {
    r.code = CURLE_FAILED_INIT;
    return r;
  }
  // Reset drops the previous request's options (method, headers) but keeps
  // the open connection, so the whole run can use one keep-alive socket.
  curl_easy_reset(curl);
  error_buffer[0] = '\0';
  const std::string url = options.base_url + "/latest/" + path;
  Sink sink{&r.body, cap, &r.too_large};
  const long timeout_ms = std::max<long>(1, static_cast<long>(timeout.count()));

  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  // An image built behind a proxy keeps http_proxy in its environment; IMDS
  // is link-local and must never be asked through it.
  curl_easy_setopt(curl, CURLOPT_PROXY, "");
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS);
#endif
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);

  curl_slist* headers = nullptr;
  if (put) {
    headers = curl_slist_append(headers, "X-aws-ec2-metadata-token-ttl-seconds: 21600");
    // POSTFIELDS would add a form Content-Type; a token PUT has no body type.
    headers = curl_slist_append(headers, "Content-Type:");
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "PUT");
    // An explicit empty body gives "Content-Length: 0"; servers (cpp-httplib
    // among them) answer 400 to a PUT without one.
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
  } else {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    if (!tokenless && !token.empty()) {
      headers = curl_slist_append(headers, ("X-aws-ec2-metadata-token: " + token).c_str());
    }
  }
  if (headers != nullptr) {
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  }

  r.code = curl_easy_perform(curl);
  if (r.code == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  } else {
    r.detail = error_buffer;
    while (!r.detail.empty() && r.detail.back() == '\n') {
      r.detail.pop_back();
    }
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(headers);
  return r;
}

// One logical request: retries transport errors, 429 and 5xx until the
// deadline. Returns the first response that retrying cannot change.
Result<Response> ImdsClient::Impl::send(bool put, const std::string& path, std::size_t cap,
                                        Clock::time_point deadline, int& attempts) {
  const std::string what = std::string("IMDS ") + (put ? "PUT " : "GET ") + path;
  std::string last;  // why the previous try failed: the cause the error names
  for (int retry = 0;; ++retry) {
    const auto remaining = duration_cast<milliseconds>(deadline - Clock::now());
    if (remaining.count() <= 0) {
      // A sleep can overrun the deadline by a little: still name the cause.
      return error(what + ": " + (last.empty() ? std::string() : last + "; ") +
                   "no time left before the " + std::to_string(options.retry.deadline.count()) +
                   " ms deadline after " + attempts_text(attempts));
    }
    Response r = perform(put, path, cap, std::min(options.request_timeout, remaining));
    ++attempts;
    if (!is_transient(r)) {
      return r;
    }
    last = describe(r);
    const milliseconds wait = backoff.delay(retry);
    // Never sleep past the deadline: if the next try could not start in time,
    // say so now rather than after a pointless wait.
    if (Clock::now() + wait >= deadline) {
      return error(what + ": " + describe(r) + " after " + attempts_text(attempts) +
                   ", giving up at the " + std::to_string(options.retry.deadline.count()) +
                   " ms deadline");
    }
    log(what + ": " + describe(r) + ", retrying in " + std::to_string(wait.count()) +
        " ms (attempt " + std::to_string(attempts + 1) + ")");
    std::this_thread::sleep_for(wait);
  }
}

Status ImdsClient::Impl::fetch_token(Clock::time_point deadline) {
  token.clear();
  int attempts = 0;
  auto sent = send(true, k_token_path, options.max_response_bytes, deadline, attempts);
  if (!sent) {
    return sent.error();
  }
  const Response& r = *sent;
  const std::string what = std::string("IMDS PUT ") + k_token_path;
  if (r.too_large) {
    return error(what + ": response is larger than the " +
                 std::to_string(options.max_response_bytes) + "-byte cap");
  }
  if (r.code != CURLE_OK) {
    return error(what + ": " + describe(r) + " after " + attempts_text(attempts));
  }
  if (r.status == 200) {
    std::string body(trim(r.body));
    if (body.empty()) {
      return error(what + ": HTTP 200 with an empty token");
    }
    token = std::move(body);
    tokenless = false;
    return {};
  }
  if (r.status == 403) {
    // IMDS is turned off (or this client is blocked): no amount of retrying helps.
    return error(
        "IMDS refused a token (403): the instance metadata service is turned off or this client "
        "is not allowed");
  }
  if (options.allow_imdsv1) {
    log(what + ": " + describe(r) + ", reading without a token (IMDSv1 allowed by configuration)");
    tokenless = true;
    return {};
  }
  std::string hint;
  if (r.status >= 300 && r.status <= 399) {
    hint = " (redirects are not followed)";
  } else {
    hint = " (IMDSv2 token not available and IMDSv1 fallback is not allowed)";
  }
  return error(what + ": " + describe(r) + hint + " after " + attempts_text(attempts));
}

Result<std::optional<std::string>> ImdsClient::Impl::get(const std::string& path) {
  if (!tokenless && token.empty()) {
    if (Status s = fetch_token(Clock::now() + options.retry.deadline); !s) {
      return s.error();
    }
  }
  const std::size_t cap =
      path == k_user_data_path ? options.max_user_data_bytes : options.max_response_bytes;
  const std::string what = "IMDS GET " + path;
  const Clock::time_point deadline = Clock::now() + options.retry.deadline;
  int attempts = 0;
  bool refreshed = false;
  while (true) {
    auto sent = send(false, path, cap, deadline, attempts);
    if (!sent) {
      return sent.error();
    }
    Response& r = *sent;
    if (r.too_large) {
      return error(what + ": response is larger than the " + std::to_string(cap) + "-byte cap");
    }
    if (r.code != CURLE_OK) {
      return error(what + ": " + describe(r) + " after " + attempts_text(attempts));
    }
    if (r.status >= 200 && r.status <= 299) {
      return std::optional<std::string>(std::move(r.body));
    }
    if (r.status == 404) {
      return std::optional<std::string>();
    }
    if (r.status == 401 && tokenless) {
      return error(what + ": HTTP 401 without a token (this IMDS requires IMDSv2) after " +
                   attempts_text(attempts));
    }
    if (r.status == 401 && !refreshed) {
      // Tokens expire (TTL) or die with a restarted IMDS; one fresh token is
      // worth a try, a second 401 means something else is wrong.
      log("IMDS token rejected (401), fetching a new one");
      refreshed = true;
      if (Status s = fetch_token(deadline); !s) {
        return error(what + ": token rejected (401) and no new one: " + s.error().message);
      }
      continue;
    }
    if (r.status == 401) {
      return error(what + ": HTTP 401 even with a fresh token after " + attempts_text(attempts));
    }
    std::string hint;
    if (r.status >= 300 && r.status <= 399) {
      hint = " (redirects are not followed)";
    }
    return error(what + ": " + describe(r) + hint + " after " + attempts_text(attempts));
  }
}

ImdsClient::ImdsClient(ImdsOptions options) : m_impl(std::make_unique<Impl>(std::move(options))) {}

ImdsClient::~ImdsClient() = default;

Result<std::optional<std::string>> ImdsClient::get(const std::string& path) {
  return m_impl->get(path);
}

int ImdsClient::request_count() const {
  return m_impl->requests;
}

Result<SourceData> ImdsClient::fetch_all() {
  SourceData out;
  Metadata& md = out.metadata;

  auto document = get(k_identity_path);
  if (!document) {
    return document.error();
  }
  if (!*document) {
    return error(std::string("IMDS GET ") + k_identity_path +
                 ": HTTP 404; the identity document is required");
  }
  if (Status s = apply_identity_document(**document, md); !s) {
    return error(std::string("IMDS ") + s.error().message);
  }

  auto hostname = get(k_hostname_path);
  if (!hostname) {
    return hostname.error();
  }
  md.local_hostname = hostname->has_value() ? std::string(trim(**hostname)) : "";

  auto keys = get(k_public_keys_path);
  if (!keys) {
    return keys.error();
  }
  if (keys->has_value()) {
    // Entries are "N=key-name"; the key itself is one level down. Fetching
    // N/openssh-key directly saves listing N/ for every key.
    for (const std::string& entry : listing_entries(**keys)) {
      const std::string index = entry.substr(0, entry.find_first_of("=/"));
      if (!all_digits(index)) {
        m_impl->log(std::string("IMDS GET ") + k_public_keys_path + ": ignoring entry \"" + entry +
                    "\"");
        continue;
      }
      auto key = get(std::string(k_public_keys_path) + index + "/openssh-key");
      if (!key) {
        return key.error();
      }
      if (key->has_value()) {
        std::string line(trim(**key));
        if (!line.empty()) {
          md.public_keys.push_back(std::move(line));
        }
      }
    }
  }

  auto devices = get(k_bdm_path);
  if (!devices) {
    return devices.error();
  }
  if (devices->has_value()) {
    for (const std::string& name : listing_entries(**devices)) {
      if (name.back() == '/') {
        continue;  // no sub-directories in a real mapping; do not crawl one
      }
      auto device = get(std::string(k_bdm_path) + name);
      if (!device) {
        return device.error();
      }
      if (device->has_value()) {
        md.block_device_mapping[name] = std::string(trim(**device));
      }
    }
  }

  auto user_data = get(k_user_data_path);
  if (!user_data) {
    return user_data.error();
  }
  out.user_data = std::move(*user_data);
  md.source = "imds";
  return out;
}

}  // namespace amiboot
