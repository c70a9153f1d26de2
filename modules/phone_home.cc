// SPDX-License-Identifier: Apache-2.0
#include "modules/phone_home.h"

#include <algorithm>
#include <cctype>
#include <iterator>

#include "modules/callback_keys.h"

namespace amiboot {

namespace {

constexpr const char* kPostable[] = {"pub_key_rsa", "pub_key_ecdsa", "pub_key_ed25519",
                                     "instance_id", "hostname",      "fqdn"};

}  // namespace

std::optional<PhoneHomeConfig> decode_phone_home(const Value& config, Diagnostics& out) {
  const Value* v = config.get("phone_home");
  if (v == nullptr || v->is_null()) {
    return std::nullopt;
  }
  Decoder d(out);
  if (d.map(*v, "phone_home") == nullptr) {
    return std::nullopt;
  }
  d.unknown_keys(*v, "phone_home", {"url", "post", "tries"});
  PhoneHomeConfig cfg;
  if (const Value* url = v->get("url")) {
    cfg.url = http_url(*url, "phone_home.url", d).value_or("");
  } else {
    d.error(*v, "phone_home", "missing required key 'url'");
  }
  const Value* post = v->get("post");
  if (post == nullptr || (post->is_scalar() && post->scalar == "all")) {
    cfg.post.assign(std::begin(kPostable), std::end(kPostable));
  } else if (d.list(*post, "phone_home.post") != nullptr) {
    for (std::size_t i = 0; i < post->items.size(); ++i) {
      std::string path = "phone_home.post[" + std::to_string(i) + "]";
      auto name = d.string(post->items[i], path);
      if (!name) {
        continue;
      }
      if (std::find(std::begin(kPostable), std::end(kPostable), *name) == std::end(kPostable)) {
        d.error(post->items[i], path,
                "expected one of pub_key_rsa, pub_key_ecdsa, pub_key_ed25519, instance_id, "
                "hostname, fqdn; got '" +
                    *name + "'");
        continue;
      }
      cfg.post.push_back(*name);
    }
  }
  if (const Value* t = v->get("tries")) {
    cfg.tries = positive(*t, "phone_home.tries", d, 100).value_or(cfg.tries);
  }
  if (d.failed()) {
    return std::nullopt;
  }
  return cfg;
}

std::string form_escape(const std::string& value) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

PlanResult plan_phone_home(const PhoneHomeConfig& config, const Facts& input) {
  PlanResult result;
  const PhoneHomeConfig* cfg = &config;
  const Metadata& md = input.metadata;
  std::string fqdn = md.local_hostname;
  std::string hostname = fqdn.substr(0, fqdn.find('.'));
  std::string body;
  for (const auto& field : cfg->post) {
    std::string value;
    if (field == "instance_id") {
      value = md.instance_id;
    } else if (field == "hostname") {
      value = hostname;
    } else if (field == "fqdn") {
      value = fqdn;
    } else {
      // pub_key_rsa -> /etc/ssh/ssh_host_rsa_key.pub, as cloud-init reads them.
      std::string type = field.substr(8);
      value = input.system.read_text("/etc/ssh/ssh_host_" + type + "_key.pub").value_or("N/A");
      while (!value.empty() && value.back() == '\n') {
        value.pop_back();
      }
    }
    body += (body.empty() ? "" : "&") + field + "=" + form_escape(value);
  }
  std::string url = cfg->url;
  for (auto at = url.find("$INSTANCE_ID"); at != std::string::npos;
       at = url.find("$INSTANCE_ID", at)) {
    url.replace(at, 12, md.instance_id);
  }
  result.actions.push_back(HttpRequest{"POST", url, body, "application/x-www-form-urlencoded",
                                       cfg->tries, 2000, "phone_home"});
  return result;
}

}  // namespace amiboot
