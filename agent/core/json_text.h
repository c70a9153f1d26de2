// SPDX-License-Identifier: Apache-2.0
// JSON as text, for every file and output amiboot writes.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace amiboot {

/// j.dump(indent) that never throws on bytes: strings from user data, IMDS or
/// file names need not be UTF-8, and nlohmann's dump throws (type_error 316)
/// on the first invalid byte. Invalid bytes become U+FFFD.
inline std::string json_text(const nlohmann::json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace amiboot
