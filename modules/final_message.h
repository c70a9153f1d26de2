// SPDX-License-Identifier: Apache-2.0
// final_message: a line on the console and in the journal when the final
// stage is done (cc_final_message), with cloud-init's substitutions.
#pragma once

#include "modules/module.h"

namespace amiboot {

struct FinalMessageConfig {
  std::optional<std::string> text;  // nullopt: amiboot's default message
};
inline void to_json(nlohmann::json& json, const FinalMessageConfig& config) {
  json = {{"text", config.text ? nlohmann::json(*config.text) : nlohmann::json(nullptr)}};
}
inline void from_json(const nlohmann::json& json, FinalMessageConfig& config) {
  const auto& text = json.at("text");
  config.text = text.is_null() ? std::nullopt : std::optional(text.get<std::string>());
}

FinalMessageConfig decode_final_message(const Value& config, Diagnostics& out);
PlanResult plan_final_message(const FinalMessageConfig& config, const Facts& facts);

}  // namespace amiboot
