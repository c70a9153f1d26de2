// SPDX-License-Identifier: Apache-2.0
#include "agent/sources.h"

#include "agent/core/config.h"
#include "agent/imds_client.h"

namespace amiboot {

namespace {

std::string scalar_or(const Value& doc, const char* key, std::string fallback = "") {
  const Value* v = doc.get(key);
  return v != nullptr && v->is_scalar() ? v->scalar : fallback;
}

}  // namespace

Result<SourceData> read_seed(const System& system, const std::string& dir) {
  std::string meta_path = dir + "/meta-data";
  auto meta_text = system.read_host_file(meta_path);
  if (!meta_text) {
    return error("seed " + dir + ": cannot read meta-data");
  }
  auto doc = parse_yaml(*meta_text, meta_path);
  if (!doc) {
    return error(doc.error().message);
  }
  SourceData out;
  Metadata& md = out.metadata;
  md.source = "seed:" + dir;
  md.instance_id = scalar_or(*doc, "instance-id");
  if (md.instance_id.empty()) {
    return error(meta_path + ": missing instance-id");
  }
  if (md.instance_id.find('/') != std::string::npos || md.instance_id == "." ||
      md.instance_id == "..") {
    return error(meta_path + ": instance-id must not contain '/'");
  }
  md.local_hostname = scalar_or(*doc, "local-hostname", scalar_or(*doc, "hostname"));
  md.region = scalar_or(*doc, "region");
  md.availability_zone = scalar_or(*doc, "availability-zone");
  md.instance_type = scalar_or(*doc, "instance-type");
  md.image_id = scalar_or(*doc, "ami-id");
  md.private_ip = scalar_or(*doc, "local-ipv4");
  if (const Value* keys = doc->get("public-keys")) {
    // NoCloud accepts a string, a list, or a map of name -> key.
    if (keys->is_scalar()) {
      md.public_keys.push_back(keys->scalar);
    }
    for (const auto& item : keys->items) {
      if (item.is_scalar()) {
        md.public_keys.push_back(item.scalar);
      }
    }
    for (const auto& e : keys->entries) {
      if (e.value.is_scalar()) {
        md.public_keys.push_back(e.value.scalar);
      }
    }
  }
  if (const Value* bdm = doc->get("block-device-mapping")) {
    for (const auto& e : bdm->entries) {
      if (e.value.is_scalar()) {
        md.block_device_mapping[e.key] = e.value.scalar;
      }
    }
  }
  out.user_data = system.read_host_file(dir + "/user-data");
  return out;
}

bool looks_like_ec2(const System& system) {
  auto read = [&](const char* path) { return system.read_host_file(path).value_or(""); };
  if (read("/sys/class/dmi/id/sys_vendor").rfind("Amazon EC2", 0) == 0) {
    return true;
  }
  std::string uuid = read("/sys/class/dmi/id/product_uuid");
  if (uuid.rfind("ec2", 0) == 0 || uuid.rfind("EC2", 0) == 0) {
    return true;
  }
  if (read("/sys/class/dmi/id/board_asset_tag").rfind("i-", 0) == 0) {
    return true;
  }
  return read("/sys/hypervisor/uuid").rfind("ec2", 0) == 0;
}

Result<ImdsFetch> fetch_imds(const std::string& url, const Settings& settings,
                             std::chrono::milliseconds deadline,
                             const std::function<void(const std::string&)>& log) {
  ImdsOptions options;
  options.base_url = url;
  options.retry.deadline = deadline;
  options.request_timeout = settings.imds_request_timeout;
  options.allow_imdsv1 = settings.allow_imdsv1;
  options.log = log;
  ImdsClient client(options);
  auto data = client.fetch_all();
  if (!data) {
    return data.error();
  }
  return ImdsFetch{std::move(*data), client.request_count(), client.warnings()};
}

}  // namespace amiboot
