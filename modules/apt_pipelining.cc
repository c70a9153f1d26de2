// SPDX-License-Identifier: Apache-2.0
#include "modules/apt_pipelining.h"

#include "agent/core/strings.h"
#include "modules/os_release.h"

namespace amiboot {

namespace {

constexpr const char* kPipeliningFile = "/etc/apt/apt.conf.d/90cloud-init-pipelining";

}  // namespace

std::optional<AptPipeliningConfig> decode_apt_pipelining(const Value& doc, Diagnostics& out) {
  const Value* v = doc.get("apt_pipelining");
  if (v == nullptr || v->is_null()) {
    return std::nullopt;
  }
  Decoder decoder(out);
  if (auto b = v->as_bool()) {
    if (*b) {
      return std::nullopt;  // APT's default pipelines; cloud-init also writes nothing
    }
    return AptPipeliningConfig{0};
  }
  auto s = decoder.string(*v, "apt_pipelining");
  if (!s) {
    return std::nullopt;
  }
  // cloud-init compares str(value).lower().strip().
  std::string word = lowercase(trim(*s));
  if (word == "os") {
    return std::nullopt;
  }
  if (word == "none" || word == "unchanged") {
    decoder.warning(*v, "apt_pipelining", "'" + *s + "' is deprecated; use os");
    return std::nullopt;
  }
  if (word == "false") {
    return AptPipeliningConfig{0};
  }
  std::optional<long long> depth = v->as_int();
  if (!depth && all_digits(word) && word.size() < 10) {
    depth = std::stoll(word);  // a quoted number, which cloud-init reads the same
  }
  if (depth) {
    if (*depth >= 0 && *depth <= 5) {
      return AptPipeliningConfig{static_cast<int>(*depth)};
    }
    // cloud-init's schema takes any integer; cloud-init itself writes only
    // 0 to 5 and warns about the rest.
    decoder.warning(*v, "apt_pipelining",
                    "depth " + std::to_string(*depth) +
                        " is not between 0 and 5; APT is left alone, as cloud-init leaves it");
    return std::nullopt;
  }
  decoder.error(*v, "apt_pipelining",
                "expected os, true, false or a pipeline depth from 0 to 5, got '" + *s + "'");
  return std::nullopt;
}

PlanResult plan_apt_pipelining(const AptPipeliningConfig& config, const Facts& facts) {
  PlanResult result;
  auto os = read_os_release(facts.system);
  bool apt = (os && os->is_debian_family()) || facts.system.path_exists("/etc/apt/apt.conf.d");
  if (!apt) {
    result.summary = "not an apt system: nothing to do";
    return result;
  }
  std::string content =
      "//Written by amiboot per 'apt_pipelining'\n"
      "Acquire::http::Pipeline-Depth \"" +
      std::to_string(config.depth) + "\";\n";
  result.summary = "APT pipeline depth " + std::to_string(config.depth);
  if (facts.system.read_text(kPipeliningFile) != content) {
    result.actions.push_back(WriteFile{.path = kPipeliningFile,
                                       .content = content,
                                       .label = "apt_pipelining: " + std::string(kPipeliningFile)});
  }
  return result;
}

}  // namespace amiboot
