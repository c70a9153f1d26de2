// SPDX-License-Identifier: Apache-2.0
#include "agent/core/metadata.h"

#include <exception>
#include <string>

namespace amiboot {

namespace {

using nlohmann::json;

// Reads an optional string member; a present value of another type is an
// error rather than silently empty, so a broken cache or document is noticed.
Status read_string(const json& j, const char* key, const char* what, std::string& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    return {};
  }
  if (!it->is_string()) {
    return error(std::string(what) + ": \"" + key + "\" must be a string, not " + it->type_name());
  }
  out = it->get<std::string>();
  return {};
}

}  // namespace

Status apply_identity_document(std::string_view json_text, Metadata& md) {
  constexpr const char* k_what = "identity document";
  try {
    const json doc = json::parse(json_text);
    if (!doc.is_object()) {
      return error(std::string(k_what) + ": expected a JSON object, got " + doc.type_name());
    }
    Metadata out = md;
    const std::pair<const char*, std::string*> fields[] = {
        {"instanceId", &out.instance_id},
        {"region", &out.region},
        {"availabilityZone", &out.availability_zone},
        {"instanceType", &out.instance_type},
        {"imageId", &out.image_id},
        {"privateIp", &out.private_ip},
    };
    for (const auto& [key, dest] : fields) {
      if (Status s = read_string(doc, key, k_what, *dest); !s) {
        return s;
      }
    }
    // Everything downstream (state folders, per-instance semaphores) keys on it.
    if (out.instance_id.empty()) {
      return error(std::string(k_what) + ": \"instanceId\" is missing or empty");
    }
    md = std::move(out);
    return {};
  } catch (const json::parse_error& e) {
    // what() already carries the line and column.
    return error(std::string(k_what) + ": invalid JSON: " + e.what());
  } catch (const std::exception& e) {
    return error(std::string(k_what) + ": " + e.what());
  }
}

nlohmann::json to_json(const Metadata& md) {
  json j = json::object();
  j["instance_id"] = md.instance_id;
  j["region"] = md.region;
  j["availability_zone"] = md.availability_zone;
  j["instance_type"] = md.instance_type;
  j["image_id"] = md.image_id;
  j["private_ip"] = md.private_ip;
  j["local_hostname"] = md.local_hostname;
  j["public_keys"] = md.public_keys;
  j["block_device_mapping"] = md.block_device_mapping;
  j["source"] = md.source;
  return j;
}

Result<Metadata> metadata_from_json(const nlohmann::json& j) {
  constexpr const char* k_what = "metadata";
  try {
    if (!j.is_object()) {
      return error(std::string(k_what) + ": expected a JSON object, got " + j.type_name());
    }
    Metadata md;
    const std::pair<const char*, std::string*> fields[] = {
        {"instance_id", &md.instance_id},
        {"region", &md.region},
        {"availability_zone", &md.availability_zone},
        {"instance_type", &md.instance_type},
        {"image_id", &md.image_id},
        {"private_ip", &md.private_ip},
        {"local_hostname", &md.local_hostname},
        {"source", &md.source},
    };
    for (const auto& [key, dest] : fields) {
      if (Status s = read_string(j, key, k_what, *dest); !s) {
        return s.error();
      }
    }
    if (auto it = j.find("public_keys"); it != j.end() && !it->is_null()) {
      if (!it->is_array()) {
        return error(std::string(k_what) + ": \"public_keys\" must be an array of strings");
      }
      for (std::size_t i = 0; i < it->size(); ++i) {
        const json& key = (*it)[i];
        if (!key.is_string()) {
          return error(std::string(k_what) + ": \"public_keys\"[" + std::to_string(i) +
                       "] must be a string, not " + key.type_name());
        }
        md.public_keys.push_back(key.get<std::string>());
      }
    }
    if (auto it = j.find("block_device_mapping"); it != j.end() && !it->is_null()) {
      if (!it->is_object()) {
        return error(std::string(k_what) +
                     ": \"block_device_mapping\" must be an object of strings");
      }
      for (const auto& [name, device] : it->items()) {
        if (!device.is_string()) {
          return error(std::string(k_what) + ": \"block_device_mapping\".\"" + name +
                       "\" must be a string, not " + device.type_name());
        }
        md.block_device_mapping[name] = device.get<std::string>();
      }
    }
    return md;
  } catch (const std::exception& e) {
    return error(std::string(k_what) + ": " + e.what());
  }
}

}  // namespace amiboot
