// SPDX-License-Identifier: Apache-2.0
#include "agent/core/instance_data.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace amiboot {

namespace {

using nlohmann::json;

std::string build_machine() {
#if defined(__x86_64__)
  return "x86_64";
#elif defined(__aarch64__)
  return "aarch64";
#elif defined(__i386__)
  return "i686";
#else
  return "";
#endif
}

// cloud-init's canonical_cloud_id() for cloud "aws".
std::string cloud_id(const std::string& region) {
  if (region.rfind("cn-", 0) == 0) {
    return "aws-china";
  }
  if (region.rfind("us-gov-", 0) == 0) {
    return "aws-gov";
  }
  return "aws";
}

std::string subplatform(const std::string& source) {
  if (source.rfind("seed:", 0) == 0) {
    return "seed-dir (" + source.substr(5) + ")";
  }
  return "metadata (http://169.254.169.254)";
}

// cloud-init's jinja-safe aliases: a key with an operator character again
// with '_' in its place, at every level (the original stays).
void add_jinja_aliases(json& node) {
  if (node.is_array()) {
    for (auto& item : node) {
      add_jinja_aliases(item);
    }
    return;
  }
  if (!node.is_object()) {
    return;
  }
  for (auto& [key, value] : node.items()) {
    add_jinja_aliases(value);
  }
  std::vector<std::pair<std::string, json>> aliases;
  for (const auto& [key, value] : node.items()) {
    std::string safe = key;
    for (char& c : safe) {
      if (std::string_view("-./+").find(c) != std::string_view::npos) {
        c = '_';
      }
    }
    if (safe != key && !node.contains(safe)) {
      aliases.emplace_back(safe, value);
    }
  }
  for (auto& [key, value] : aliases) {
    node[key] = std::move(value);
  }
}

}  // namespace

nlohmann::json instance_data(const Metadata& md, const HostInfo& host) {
  const std::string machine = host.machine.empty() ? build_machine() : host.machine;

  json v1 = json::object();
  v1["_beta_keys"] = json::array({"subplatform"});
  v1["availability_zone"] = md.availability_zone;
  v1["availability-zone"] = md.availability_zone;
  v1["cloud_id"] = cloud_id(md.region);
  v1["cloud_name"] = "aws";
  v1["cloud-name"] = "aws";
  v1["distro"] = host.distro;
  v1["distro_release"] = host.distro_release;
  v1["distro_version"] = host.distro_version;
  v1["instance_id"] = md.instance_id;
  v1["instance-id"] = md.instance_id;
  v1["instance_type"] = md.instance_type;
  v1["kernel_release"] = host.kernel_release;
  v1["local_hostname"] = md.local_hostname;
  v1["local-hostname"] = md.local_hostname;
  v1["machine"] = machine;
  v1["platform"] = "ec2";
  v1["public_ssh_keys"] = md.public_keys;
  v1["region"] = md.region;
  v1["subplatform"] = subplatform(md.source);
  v1["variant"] = host.distro;

  json meta = json::object();
  meta["ami-id"] = md.image_id;
  meta["instance-id"] = md.instance_id;
  meta["instance-type"] = md.instance_type;
  meta["local-hostname"] = md.local_hostname;
  meta["hostname"] = md.local_hostname;
  meta["local-ipv4"] = md.private_ip;
  meta["placement"] = {{"availability-zone", md.availability_zone}, {"region", md.region}};
  json keys = json::object();
  for (std::size_t i = 0; i < md.public_keys.size(); ++i) {
    keys[std::to_string(i)] = {{"openssh-key", md.public_keys[i]}};
  }
  meta["public-keys"] = std::move(keys);
  meta["block-device-mapping"] = md.block_device_mapping;

  json document = {
      {"instanceId", md.instance_id},
      {"region", md.region},
      {"availabilityZone", md.availability_zone},
      {"instanceType", md.instance_type},
      {"imageId", md.image_id},
      {"privateIp", md.private_ip},
      {"architecture", machine},
  };

  json ds = {
      {"_doc",
       "EXPERIMENTAL: The structure and format of content scoped under the 'ds' key may change "
       "in subsequent releases of cloud-init."},
      {"meta_data", std::move(meta)},
      {"dynamic", {{"instance_identity", {{"document", std::move(document)}}}}},
  };
  add_jinja_aliases(ds);

  json out = json::object();
  for (const auto& [key, value] : v1.items()) {
    out[key] = value;  // cloud-init's top-level aliases of the v1 keys
  }
  out["v1"] = std::move(v1);
  out["ds"] = std::move(ds);
  out["base64_encoded_keys"] = json::array();
  out["sensitive_keys"] = json::array();
  return out;
}

}  // namespace amiboot
