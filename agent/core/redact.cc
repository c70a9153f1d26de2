// SPDX-License-Identifier: Apache-2.0
#include "agent/core/redact.h"

#include <string>
#include <string_view>

namespace amiboot {

namespace {

bool is_secret_key(std::string_view key, std::string_view parent) {
  for (std::string_view name : {"password", "passwd", "hashed_passwd", "plain_text_passwd",
                                "content", "headers", "url", "data"}) {
    if (key == name) {
      return true;
    }
  }
  return key.find("private") != std::string_view::npos ||
         key.find("secret") != std::string_view::npos ||
         key.find("token") != std::string_view::npos || (parent == "chpasswd" && key == "list");
}

nlohmann::json redact(const nlohmann::json& node, std::string_view parent) {
  if (node.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, value] : node.items()) {
      out[key] = is_secret_key(key, parent) && !value.is_null() ? nlohmann::json(kRedacted)
                                                                : redact(value, key);
    }
    return out;
  }
  if (node.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : node) {
      out.push_back(redact(item, parent));
    }
    return out;
  }
  return node;
}

}  // namespace

nlohmann::json redact_secrets(const nlohmann::json& config) {
  return redact(config, "");
}

}  // namespace amiboot
