#include "agent/http.h"

#include <curl/curl.h>

namespace amiboot {

namespace {

size_t collect(char* ptr, size_t size, size_t nmemb, void* userdata) {
  auto* sink = static_cast<std::pair<std::string*, std::size_t>*>(userdata);
  if (sink->first->size() + size * nmemb > sink->second) {
    return 0;  // aborts the transfer: over the cap
  }
  sink->first->append(ptr, size * nmemb);
  return size * nmemb;
}

}  // namespace

Result<std::string> fetch_url(const std::string& url, std::size_t max_bytes) {
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return error("#include " + url + ": only http:// and https:// URLs are fetched");
  }
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    return error("curl_easy_init failed");
  }
  std::string body;
  std::pair<std::string*, std::size_t> sink{&body, max_bytes};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  if (rc == CURLE_WRITE_ERROR) {
    return error("#include " + url + ": larger than " + std::to_string(max_bytes) + " bytes");
  }
  if (rc != CURLE_OK) {
    return error("#include " + url + ": " + curl_easy_strerror(rc));
  }
  if (status != 200) {
    return error("#include " + url + ": HTTP " + std::to_string(status));
  }
  return body;
}

Status http_send(const std::string& method, const std::string& url, const std::string& body,
                 const std::string& content_type) {
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return error("only http:// and https:// URLs are supported");
  }
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    return error("curl_easy_init failed");
  }
  curl_slist* headers = curl_slist_append(nullptr, ("Content-Type: " + content_type).c_str());
  std::string reply;
  std::pair<std::string*, std::size_t> sink{&reply, 1 << 16};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    return error(curl_easy_strerror(rc));
  }
  if (status < 200 || status >= 300) {
    return error("HTTP " + std::to_string(status));
  }
  return {};
}

}  // namespace amiboot
