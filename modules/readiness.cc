// SPDX-License-Identifier: Apache-2.0
#include "modules/readiness.h"

#include <nlohmann/json.hpp>

#include "agent/core/json_text.h"
#include "modules/callback_keys.h"

namespace amiboot {

std::optional<ReadinessConfig> decode_readiness(const Value& config, Diagnostics& out) {
  const Value* v = config.get("readiness");
  if (v == nullptr || v->is_null()) {
    return std::nullopt;
  }
  Decoder d(out);
  if (d.map(*v, "readiness") == nullptr) {
    return std::nullopt;
  }
  d.unknown_keys(*v, "readiness", {"url", "unique_id", "data", "attempts", "retry_delay_ms"});
  ReadinessConfig cfg;
  if (const Value* url = v->get("url")) {
    cfg.url = http_url(*url, "readiness.url", d).value_or("");
  } else {
    d.error(*v, "readiness", "missing required key 'url' (the WaitCondition handle URL)");
  }
  if (const Value* id = v->get("unique_id")) {
    cfg.unique_id = d.string(*id, "readiness.unique_id").value_or("");
  }
  if (const Value* data = v->get("data")) {
    cfg.data = d.string(*data, "readiness.data").value_or("");
  }
  if (const Value* a = v->get("attempts")) {
    cfg.attempts = positive(*a, "readiness.attempts", d, 100).value_or(cfg.attempts);
  }
  if (const Value* r = v->get("retry_delay_ms")) {
    cfg.retry_delay_ms = positive(*r, "readiness.retry_delay_ms", d, 600000).value_or(0);
  }
  if (d.failed()) {
    return std::nullopt;
  }
  return cfg;
}

PlanResult plan_readiness(const ReadinessConfig& config, const Facts& input) {
  PlanResult result;
  const ReadinessConfig* cfg = &config;
  bool ok = input.failed_modules.empty();
  std::string reason = "amiboot: all modules succeeded";
  if (!ok) {
    reason = "amiboot: modules failed:";
    for (const auto& m : input.failed_modules) {
      reason += " " + m;
    }
  }
  nlohmann::json body = {
      {"Status", ok ? "SUCCESS" : "FAILURE"},
      {"Reason", reason},
      {"UniqueId", cfg->unique_id.empty() ? input.metadata.instance_id : cfg->unique_id},
      {"Data", cfg->data}};
  result.actions.push_back(HttpRequest{"PUT", cfg->url, json_text(body), "", cfg->attempts,
                                       cfg->retry_delay_ms, "readiness signal"});
  return result;
}

}  // namespace amiboot
