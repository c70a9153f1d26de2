// SPDX-License-Identifier: Apache-2.0
// Decoding shared by the readiness and phone_home keys: URLs and bounded counts.
#pragma once

#include <optional>
#include <string>

#include "agent/core/config.h"

namespace amiboot {

inline std::optional<std::string> http_url(const Value& v, const std::string& path, Decoder& d) {
  auto url = d.string(v, path);
  if (url && url->rfind("http://", 0) != 0 && url->rfind("https://", 0) != 0) {
    d.error(v, path, "expected an http:// or https:// URL");
    return std::nullopt;
  }
  return url;
}

inline std::optional<int> positive(const Value& v, const std::string& path, Decoder& d, int max) {
  auto n = d.integer(v, path);
  if (n && (*n < 1 || *n > max)) {
    d.error(v, path, "expected a number from 1 to " + std::to_string(max));
    return std::nullopt;
  }
  return n ? std::optional<int>(static_cast<int>(*n)) : std::nullopt;
}

}  // namespace amiboot
