// SPDX-License-Identifier: Apache-2.0
#include "modules/disable_ec2_metadata.h"

namespace amiboot {

std::optional<DisableEc2MetadataConfig> decode_disable_ec2_metadata(const Value& config,
                                                                    Diagnostics& out) {
  const Value* v = config.get("disable_ec2_metadata");
  if (v == nullptr || v->is_null()) {
    return std::nullopt;
  }
  Decoder decoder(out);
  auto disable = decoder.boolean(*v, "disable_ec2_metadata");
  if (!disable || !*disable) {
    return std::nullopt;
  }
  return DisableEc2MetadataConfig{true};
}

PlanResult plan_disable_ec2_metadata(const DisableEc2MetadataConfig&, const Facts& facts) {
  PlanResult result;
  if (!facts.system.has_program("ip")) {
    result.diagnostics.push_back(Diagnostic{Diagnostic::Severity::Error,
                                            {},
                                            "disable_ec2_metadata",
                                            "ip (iproute2) is not installed; the metadata service "
                                            "stays reachable"});
    return result;
  }
  // `replace`, not cloud-init's `add`: a second run in the same boot finds
  // the route there and must not fail on it.
  RunCommand route{{"ip", "route", "replace", "prohibit", "169.254.169.254/32"},
                   "disable_ec2_metadata: route to 169.254.169.254 prohibited"};
  route.needs_host = true;  // the running machine's routes, never a sandbox's host
  result.actions.push_back(route);
  result.summary = "169.254.169.254 unreachable until the next boot";
  return result;
}

}  // namespace amiboot
