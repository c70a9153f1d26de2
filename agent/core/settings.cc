// SPDX-License-Identifier: Apache-2.0
#include "agent/core/settings.h"

namespace amiboot {

Settings decode_settings(const Value& image_config, Diagnostics& out) {
  Settings s;
  const Value* root = image_config.get("amiboot");
  Decoder d(out);
  if (root == nullptr || d.map(*root, "amiboot") == nullptr) {
    return s;
  }
  d.unknown_keys(*root, "amiboot",
                 {"imds", "off_ec2_deadline_seconds", "volumes", "firewall", "packages"});
  if (const Value* v = root->get("off_ec2_deadline_seconds")) {
    if (auto n = d.integer(*v, "amiboot.off_ec2_deadline_seconds")) {
      s.off_ec2_deadline = std::chrono::seconds(*n);
    }
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
