// SPDX-License-Identifier: Apache-2.0
// ca_certs: CA certificates the instance trusts (cloud-init's cc_ca_certs):
// `ca_certs: {remove_defaults, trusted: [PEM, ...]}`, and the deprecated
// `ca-certs` spelling. Every certificate is checked as PEM when the config
// is decoded, so one broken certificate rejects the config before anything
// is written. The plan writes them where the image's trust store takes
// them (cloud-init-ca-cert-N.crt) and runs the image's update tool.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "modules/module.h"

namespace amiboot {

struct CaCertsConfig {
  bool remove_defaults = false;
  std::vector<std::string> trusted;  // PEM text, each one checked
  bool operator==(const CaCertsConfig&) const = default;
};
// Stored for the final stage, where the row runs.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(CaCertsConfig, remove_defaults, trusted)

std::optional<CaCertsConfig> decode_ca_certs(const Value& doc, Diagnostics& out);
PlanResult plan_ca_certs(const CaCertsConfig& config, const Facts& facts);

/// What is wrong with a PEM text that should hold one or more certificates:
/// the line of the text (1-based) and why; nullopt when it is fine. Checked:
/// only blank lines outside the armour, BEGIN/END CERTIFICATE pairs, a
/// base64 body, and DER that is one SEQUENCE (its length exact) starting
/// with a SEQUENCE (the tbsCertificate). Messages never quote the text.
struct PemProblem {
  int line = 0;
  std::string message;
  bool operator==(const PemProblem&) const = default;
};
std::optional<PemProblem> check_pem_certificates(std::string_view text);

/// Whether the trust store holds a certificate ca_certs added (a
/// cloud-init-ca-cert-N.crt in any of the known anchor folders): a service
/// that read the store before the final stage has a reason to read it again.
bool ca_certs_added(const SystemView& system);

/// cloud-init's disable_system_ca_certs: every entry of Debian's
/// /etc/ca-certificates.conf deselected with '!', under its header line.
std::string deselect_ca_certificates_conf(const std::string& conf);

}  // namespace amiboot
