// SPDX-License-Identifier: Apache-2.0
#include "modules/final_message.h"
#include "agent/core/strings.h"

#include <cctype>
#include <cstdio>

namespace amiboot {

namespace {

constexpr const char* kDefault =
    "amiboot $VERSION finished at $TIMESTAMP. Datasource $DATASOURCE. Up $UPTIME seconds";

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

}  // namespace

FinalMessageConfig decode_final_message(const Value& config, Diagnostics& out) {
  FinalMessageConfig cfg;
  if (const Value* v = config.get("final_message"); v != nullptr && !v->is_null()) {
    Decoder decoder(out);
    cfg.text = decoder.string(*v, "final_message");
  }
  return cfg;
}

PlanResult plan_final_message(const FinalMessageConfig& config, const Facts& input) {
  PlanResult result;
  std::string text = config.text.value_or(kDefault);
  char uptime[32];
  std::snprintf(uptime, sizeof uptime, "%.2f", input.uptime_seconds);
  // Both spellings: cloud-init documents $UPTIME and the jinja-style {{uptime}}.
  for (const auto& [name, value] : {std::pair<std::string, std::string>{"UPTIME", uptime},
                                    {"TIMESTAMP", input.timestamp},
                                    {"DATASOURCE", input.metadata.source},
                                    {"VERSION", AMIBOOT_VERSION},
                                    {"INSTANCE_ID", input.metadata.instance_id}}) {
    std::string lower = lowercase(name);
    replace_all(text, "$" + name, value);
    replace_all(text, "{{" + lower + "}}", value);
    replace_all(text, "{{ " + lower + " }}", value);
  }
  result.actions.push_back(ConsoleMessage{text});
  return result;
}

}  // namespace amiboot
