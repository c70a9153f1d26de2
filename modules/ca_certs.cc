// SPDX-License-Identifier: Apache-2.0
#include "modules/ca_certs.h"

#include <cctype>
#include <sstream>

#include "agent/core/codecs.h"
#include "agent/core/strings.h"
#include "modules/image_program.h"
#include "modules/os_release.h"

namespace amiboot {

namespace {

// Where each family's trust store takes certificates, and what does the
// rest, as data (cloud-init's DISTRO_OVERRIDES in cc_ca_certs.py).
struct TrustStore {
  /// Ours go here as cloud-init-ca-cert-N.crt, N from 1 (cloud-init's
  /// ca_cert_filename). cloud-init puts the Red Hat and SUSE ones under
  /// /usr/share/pki/...; amiboot under /etc/pki/..., the folders
  /// update-ca-trust(8) and SUSE's update-ca-certificates(8) keep for the
  /// administrator, which a package update never touches.
  const char* anchors;
  const char* tool;     // run in the image, no arguments, as cloud-init runs it
  const char* package;  // that has the tool, for the error when it is missing
  /// remove_defaults on the Red Hat and SUSE families: the contents of these
  /// source folders go. cloud-init also empties /etc/pki/ca-trust/, the
  /// extracted bundles' folders included, which update-ca-trust does not
  /// create again; it does nothing at all on SUSE and Fedora. The effect
  /// here is what cloud-init means: only our certificates stay trusted.
  std::vector<const char*> default_sources;
  /// remove_defaults on Debian and Ubuntu: every entry of
  /// /etc/ca-certificates.conf deselected, and debconf told not to trust
  /// certificates a later ca-certificates upgrade brings.
  bool debian_conf;
};

const TrustStore kDebian{
    "/usr/local/share/ca-certificates", "update-ca-certificates", "ca-certificates", {}, true};
const TrustStore kRedHat{"/etc/pki/ca-trust/source/anchors",
                         "update-ca-trust",
                         "ca-certificates",
                         {"/usr/share/pki/ca-trust-source", "/etc/pki/ca-trust/source"},
                         false};
const TrustStore kSuse{"/etc/pki/trust/anchors",
                       "update-ca-certificates",
                       "ca-certificates",
                       {"/usr/share/pki/trust", "/etc/pki/trust"},
                       false};

constexpr const char* kCaCertificatesConf = "/etc/ca-certificates.conf";
// cloud-init's own header, so that an image that once ran cloud-init (or
// runs it again) finds one header, not two.
constexpr const char* kConfHeader = "# Modified by cloud-init to deselect certs due to user-data";
constexpr const char* kFilePrefix = "cloud-init-ca-cert-";

bool is_base64_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=';
}

// One DER SEQUENCE at `at`: where its contents start and where it ends.
bool der_sequence(const std::string& der, std::size_t at, std::size_t& content, std::size_t& end) {
  if (at + 2 > der.size() || static_cast<unsigned char>(der[at]) != 0x30) {
    return false;
  }
  std::size_t first = static_cast<unsigned char>(der[at + 1]);
  std::size_t length = first;
  std::size_t header = 2;
  if (first >= 0x80) {
    std::size_t bytes = first & 0x7f;
    if (bytes == 0 || bytes > 4 || at + 2 + bytes > der.size()) {
      return false;
    }
    length = 0;
    for (std::size_t i = 0; i < bytes; ++i) {
      length = (length << 8) | static_cast<unsigned char>(der[at + 2 + i]);
    }
    header += bytes;
  }
  content = at + header;
  end = content + length;
  return end <= der.size();
}

std::optional<std::string> check_der(const std::string& der) {
  std::size_t content = 0;
  std::size_t end = 0;
  if (!der_sequence(der, 0, content, end)) {
    return "its body is not a DER certificate (it does not start with a SEQUENCE of the length "
           "it says)";
  }
  if (end != der.size()) {
    return "its body is not one DER certificate (" + std::to_string(der.size() - end) +
           " byte(s) after the end of the SEQUENCE)";
  }
  std::size_t inner_content = 0;
  std::size_t inner_end = 0;
  if (!der_sequence(der, content, inner_content, inner_end) || inner_end > end) {
    return "its body is not a DER certificate (no tbsCertificate SEQUENCE inside)";
  }
  return std::nullopt;
}

std::string armour_label(const std::string& line, const char* kind) {
  std::string head = std::string("-----") + kind + " ";
  if (line.size() < head.size() + 5 || line.compare(0, head.size(), head) != 0 ||
      line.compare(line.size() - 5, 5, "-----") != 0) {
    return "";
  }
  return line.substr(head.size(), line.size() - head.size() - 5);
}

std::string ensure_newline(std::string text) {
  if (text.empty() || text.back() != '\n') {
    text += '\n';
  }
  return text;
}

bool our_file_beyond(const std::string& name, std::size_t count) {
  const std::string prefix = kFilePrefix;
  const std::string suffix = ".crt";
  if (name.size() <= prefix.size() + suffix.size() || name.rfind(prefix, 0) != 0 ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return false;
  }
  std::string number = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (number.size() > 6 || number.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  return std::stoul(number) > count;
}

Diagnostic plan_error(std::string message) {
  return {Diagnostic::Severity::Error, {}, "ca_certs", std::move(message)};
}

}  // namespace

std::optional<PemProblem> check_pem_certificates(std::string_view text) {
  std::vector<std::string> lines;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    lines.emplace_back(trim(line));
  }
  int certificates = 0;
  int begin_line = 0;  // inside a certificate since this line; 0 = outside
  std::string body;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    int number = static_cast<int>(i) + 1;
    std::string begin = armour_label(line, "BEGIN");
    std::string end = armour_label(line, "END");
    if (begin_line == 0) {
      if (line.empty()) {
        continue;
      }
      if (begin.find("PRIVATE KEY") != std::string::npos) {
        return PemProblem{number,
                          "a private key, not a certificate: a key never belongs in ca_certs"};
      }
      if (!begin.empty() && begin != "CERTIFICATE") {
        return PemProblem{number, "a BEGIN " + begin + " block, expected BEGIN CERTIFICATE"};
      }
      if (begin.empty()) {
        return PemProblem{number, "expected -----BEGIN CERTIFICATE-----, got other text"};
      }
      begin_line = number;
      body.clear();
      continue;
    }
    if (!begin.empty()) {
      return PemProblem{number, "BEGIN inside the certificate that began on line " +
                                    std::to_string(begin_line) + " (its END is missing)"};
    }
    if (!end.empty()) {
      if (end != "CERTIFICATE") {
        return PemProblem{number, "END " + end + " does not close BEGIN CERTIFICATE"};
      }
      if (body.empty()) {
        return PemProblem{begin_line, "the certificate has no body"};
      }
      auto der = base64_decode(body);
      if (!der) {
        return PemProblem{begin_line, "the certificate's body is not valid base64"};
      }
      if (auto why = check_der(*der)) {
        return PemProblem{begin_line, "the certificate is broken: " + *why};
      }
      ++certificates;
      begin_line = 0;
      continue;
    }
    for (std::size_t c = 0; c < line.size(); ++c) {
      if (!is_base64_char(line[c])) {
        return PemProblem{number, "a character that is not base64 at column " +
                                      std::to_string(c + 1) + " of the certificate's body"};
      }
    }
    body += line;
  }
  if (begin_line != 0) {
    return PemProblem{begin_line, "no -----END CERTIFICATE----- after this BEGIN"};
  }
  if (certificates == 0) {
    return PemProblem{1, "no certificate in it (expected -----BEGIN CERTIFICATE-----)"};
  }
  return std::nullopt;
}

std::string deselect_ca_certificates_conf(const std::string& conf) {
  std::vector<std::string> out;
  bool header = false;
  std::istringstream in(conf);
  for (std::string line; std::getline(in, line);) {
    if (line == kConfHeader) {
      header = true;
      out.push_back(line);
    } else if (line.empty() || line[0] == '#' || line[0] == '!') {
      out.push_back(line);
    } else {
      if (!header) {
        out.push_back(kConfHeader);
        header = true;
      }
      out.push_back("!" + line);
    }
  }
  return join_lines(out);
}

std::optional<CaCertsConfig> decode_ca_certs(const Value& doc, Diagnostics& out) {
  const Value* current = doc.get("ca_certs");
  const Value* deprecated = doc.get("ca-certs");
  if (current != nullptr && current->is_null()) {
    current = nullptr;
  }
  if (deprecated != nullptr && deprecated->is_null()) {
    deprecated = nullptr;
  }
  if (current == nullptr && deprecated == nullptr) {
    return std::nullopt;  // not configured: no plan
  }
  Decoder decoder(out);
  if (deprecated != nullptr) {
    decoder.warning(*deprecated, "ca-certs",
                    current != nullptr
                        ? "deprecated, and ca_certs is set too: ca-certs is ignored, as cloud-init "
                          "ignores it"
                        : "deprecated (cloud-init 22.1); use ca_certs instead");
  }
  const std::string key = current != nullptr ? "ca_certs" : "ca-certs";
  const Value& v = current != nullptr ? *current : *deprecated;
  if (!v.is_map()) {
    decoder.error(v, key, "expected a map with remove_defaults and trusted, got " + v.type_name());
    return std::nullopt;
  }
  decoder.unknown_keys(v, key, {"remove_defaults", "remove-defaults", "trusted"});
  CaCertsConfig cfg;
  if (const Value* old = v.get("remove-defaults"); old != nullptr) {
    decoder.warning(*old, key + ".remove-defaults",
                    "deprecated (cloud-init 22.1); use remove_defaults instead");
    cfg.remove_defaults = decoder.boolean(*old, key + ".remove-defaults").value_or(false);
  }
  if (const Value* flag = v.get("remove_defaults"); flag != nullptr) {
    cfg.remove_defaults = decoder.boolean(*flag, key + ".remove_defaults").value_or(false);
  }
  if (const Value* trusted = v.get("trusted"); trusted != nullptr && !trusted->is_null()) {
    // cloud-init reads it with get_cfg_option_list: one string is a list of one.
    std::vector<const Value*> items;
    if (trusted->is_scalar()) {
      items.push_back(trusted);
    } else if (decoder.list(*trusted, key + ".trusted") != nullptr) {
      for (const auto& item : trusted->items) {
        items.push_back(&item);
      }
    }
    for (std::size_t i = 0; i < items.size(); ++i) {
      std::string path =
          key + ".trusted" + (trusted->is_scalar() ? "" : "[" + std::to_string(i) + "]");
      if (!items[i]->is_scalar() || items[i]->binary) {
        decoder.error(*items[i], path,
                      "expected a PEM certificate (a string), got " + items[i]->type_name());
        continue;
      }
      if (auto problem = check_pem_certificates(items[i]->scalar)) {
        decoder.error(
            *items[i], path,
            "line " + std::to_string(problem->line) + " of the certificate: " + problem->message);
        continue;
      }
      cfg.trusted.push_back(items[i]->scalar);
    }
  }
  if (decoder.failed()) {
    return std::nullopt;
  }
  return cfg;
}

bool ca_certs_added(const SystemView& system) {
  for (const TrustStore* store : {&kDebian, &kRedHat, &kSuse}) {
    for (const auto& name : system.list(store->anchors)) {
      if (our_file_beyond(name, 0)) {
        return true;
      }
    }
  }
  return false;
}

PlanResult plan_ca_certs(const CaCertsConfig& config, const Facts& facts) {
  PlanResult result;
  auto os = read_os_release(facts.system);
  if (!os) {
    result.diagnostics.push_back(
        plan_error("neither /etc/os-release nor /usr/lib/os-release exists: cannot tell where "
                   "this image keeps its CA certificates; nothing was written"));
    return result;
  }
  const TrustStore* store = os->is_debian_family()   ? &kDebian
                            : os->is_redhat_family() ? &kRedHat
                            : os->is_suse_family()   ? &kSuse
                                                     : nullptr;
  if (store == nullptr) {
    result.diagnostics.push_back(plan_error(
        "no CA trust store known for ID=" + os->id +
        " (Debian and Ubuntu; Amazon Linux, RHEL and Fedora; openSUSE and SLES); nothing was "
        "written"));
    return result;
  }
  // Every tool is looked for before anything is planned: a missing one
  // leaves the trust store as it was.
  std::string tool = find_image_program(facts.system, store->tool);
  if (tool.empty()) {
    result.diagnostics.push_back(plan_error(std::string(store->tool) +
                                            " is not on this image (the " + store->package +
                                            " package has it); nothing was written"));
    return result;
  }
  std::string debconf;
  if (config.remove_defaults && store->debian_conf) {
    debconf = find_image_program(facts.system, "debconf-set-selections");
    if (debconf.empty()) {
      result.diagnostics.push_back(
          plan_error("debconf-set-selections is not on this image (the debconf package has "
                     "it), remove_defaults needs it; nothing was written"));
      return result;
    }
  }

  if (config.remove_defaults && store->debian_conf) {
    auto conf = facts.system.read_text(kCaCertificatesConf);
    if (conf && !conf->empty()) {
      std::string deselected = deselect_ca_certificates_conf(*conf);
      if (deselected != *conf) {
        result.actions.push_back(WriteFile{kCaCertificatesConf, deselected, 0644, "root:root",
                                           false,
                                           "ca_certs: remove_defaults: /etc/ca-certificates.conf"});
      }
    }
    RunCommand select = in_image({debconf}, "ca_certs: remove_defaults: debconf-set-selections");
    select.input = "ca-certificates ca-certificates/trust_new_crts select no\n";
    result.actions.push_back(select);
  } else if (config.remove_defaults) {
    for (const char* dir : store->default_sources) {
      for (const auto& name : facts.system.list(dir)) {
        result.actions.push_back(
            RemoveFile{std::string(dir) + "/" + name, "ca_certs: remove_defaults"});
      }
    }
  }
  for (std::size_t i = 0; i < config.trusted.size(); ++i) {
    result.actions.push_back(
        WriteFile{std::string(store->anchors) + "/" + kFilePrefix + std::to_string(i + 1) + ".crt",
                  ensure_newline(config.trusted[i]), 0644, "root:root", false,
                  "ca_certs: trusted[" + std::to_string(i) + "]"});
  }
  // Ours from an earlier instance's config that this one no longer lists.
  for (const auto& name : facts.system.list(store->anchors)) {
    if (our_file_beyond(name, config.trusted.size())) {
      result.actions.push_back(
          RemoveFile{std::string(store->anchors) + "/" + name, "ca_certs: no longer trusted"});
    }
  }
  result.actions.push_back(in_image({tool}, std::string("ca_certs: ") + store->tool));
  result.summary = std::to_string(config.trusted.size()) + " certificate(s) added" +
                   (config.remove_defaults ? ", the defaults removed" : "") + ", " + store->tool;
  return result;
}

}  // namespace amiboot
