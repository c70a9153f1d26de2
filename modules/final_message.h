// final_message: a line on the console and in the journal when the final
// stage is done (cc_final_message), with cloud-init's substitutions.
#pragma once

#include "modules/module.h"

namespace amiboot {

struct FinalMessageConfig {
  std::optional<std::string> text;  // nullopt: amiboot's default message
};

FinalMessageConfig decode_final_message(const Value& config, Diagnostics& out);
PlanResult plan_final_message(const FinalMessageConfig& config, const Facts& facts);

}  // namespace amiboot
