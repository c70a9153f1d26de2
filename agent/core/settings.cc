// SPDX-License-Identifier: Apache-2.0
#include "agent/core/settings.h"

#include <algorithm>

namespace amiboot {

namespace {

// `amiboot.limits`: each a positive integer.
void decode_limits(const Value& v, Limits& limits, Decoder& d) {
  if (d.map(v, "amiboot.limits") == nullptr) {
    return;
  }
  d.unknown_keys(v, "amiboot.limits",
                 {"yaml_nodes", "yaml_depth", "user_data_bytes", "write_files_bytes", "mime_parts",
                  "includes", "include_seconds"});
  auto positive = [&](const char* key) -> std::optional<long long> {
    const Value* n = v.get(key);
    if (n == nullptr) {
      return std::nullopt;
    }
    std::string path = limit_setting(key);
    auto i = d.integer(*n, path);
    if (i && *i <= 0) {
      d.error(*n, path, "expected a positive integer, got " + std::to_string(*i));
      return std::nullopt;
    }
    return i;
  };
  if (auto n = positive("yaml_nodes")) {
    limits.yaml_nodes = static_cast<std::size_t>(*n);
  }
  if (auto n = positive("yaml_depth")) {
    limits.yaml_depth = static_cast<int>(std::min<long long>(*n, 1000));
  }
  if (auto n = positive("user_data_bytes")) {
    limits.user_data_bytes = static_cast<std::size_t>(*n);
  }
  if (auto n = positive("write_files_bytes")) {
    limits.write_files_bytes = static_cast<std::size_t>(*n);
  }
  if (auto n = positive("mime_parts")) {
    limits.mime_parts = static_cast<int>(std::min<long long>(*n, 1 << 30));
  }
  if (auto n = positive("includes")) {
    limits.includes = static_cast<int>(std::min<long long>(*n, 1 << 30));
  }
  if (auto n = positive("include_seconds")) {
    limits.include_time = std::chrono::seconds(*n);
  }
}

}  // namespace

Settings decode_settings(const Value& image_config, Diagnostics& out) {
  Settings s;
  const Value* root = image_config.get("amiboot");
  Decoder d(out);
  if (root == nullptr || d.map(*root, "amiboot") == nullptr) {
    return s;
  }
  d.unknown_keys(
      *root, "amiboot",
      {"imds", "off_ec2_deadline_seconds", "limits", "volumes", "firewall", "packages", "http"});
  if (const Value* v = root->get("off_ec2_deadline_seconds")) {
    if (auto n = d.integer(*v, "amiboot.off_ec2_deadline_seconds")) {
      s.off_ec2_deadline = std::chrono::seconds(*n);
    }
  }
  if (const Value* http = root->get("http"); http != nullptr && d.map(*http, "amiboot.http")) {
    d.unknown_keys(*http, "amiboot.http", {"retry_deadline_seconds"});
    if (const Value* v = http->get("retry_deadline_seconds")) {
      if (auto n = d.integer(*v, "amiboot.http.retry_deadline_seconds")) {
        if (*n < 0 || *n > 86400) {
          d.error(*v, "amiboot.http.retry_deadline_seconds",
                  "expected 0 to 86400, got " + std::to_string(*n));
        } else {
          s.http_retry_deadline = std::chrono::seconds(*n);
        }
      }
    }
  }
  if (const Value* v = root->get("limits")) {
    decode_limits(*v, s.limits, d);
  }
  const Value* imds = root->get("imds");
  if (imds == nullptr || d.map(*imds, "amiboot.imds") == nullptr) {
    return s;
  }
  d.unknown_keys(*imds, "amiboot.imds",
                 {"endpoint", "deadline_seconds", "request_timeout_ms", "allow_imdsv1"});
  if (const Value* v = imds->get("endpoint")) {
    if (auto e = d.string(*v, "amiboot.imds.endpoint")) {
      if (*e == "ipv4") {
        s.imds_url = "http://169.254.169.254";
      } else if (*e == "ipv6") {
        s.imds_url = "http://[fd00:ec2::254]";
      } else if (e->rfind("http://", 0) == 0) {
        s.imds_url = *e;
      } else {
        d.error(*v, "amiboot.imds.endpoint",
                "expected ipv4, ipv6 or an http:// URL, got '" + *e + "'");
      }
    }
  }
  if (const Value* v = imds->get("deadline_seconds")) {
    if (auto n = d.integer(*v, "amiboot.imds.deadline_seconds")) {
      s.imds_deadline = std::chrono::seconds(*n);
    }
  }
  if (const Value* v = imds->get("request_timeout_ms")) {
    if (auto n = d.integer(*v, "amiboot.imds.request_timeout_ms")) {
      s.imds_request_timeout = std::chrono::milliseconds(*n);
    }
  }
  if (const Value* v = imds->get("allow_imdsv1")) {
    s.allow_imdsv1 = d.boolean(*v, "amiboot.imds.allow_imdsv1").value_or(false);
  }
  return s;
}

}  // namespace amiboot
