#include "modules/readiness.h"

#include <algorithm>
#include <cctype>
#include <optional>

namespace amiboot {

namespace {

struct ReadinessConfig {
  std::string url;
  std::string unique_id;  // default: the instance id
  std::string data;
  int attempts = 5;
  int retry_delay_ms = 2000;
};

std::optional<std::string> http_url(const Value& v, const std::string& path, Decoder& d) {
  auto url = d.string(v, path);
  if (url && url->rfind("http://", 0) != 0 && url->rfind("https://", 0) != 0) {
    d.error(v, path, "expected an http:// or https:// URL");
    return std::nullopt;
  }
  return url;
}

std::optional<int> positive(const Value& v, const std::string& path, Decoder& d, int max) {
  auto n = d.integer(v, path);
  if (n && (*n < 1 || *n > max)) {
    d.error(v, path, "expected a number from 1 to " + std::to_string(max));
    return std::nullopt;
  }
  return n ? std::optional<int>(static_cast<int>(*n)) : std::nullopt;
}

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

struct PhoneHomeConfig {
  std::string url;
  std::vector<std::string> post;
  int tries = 10;
};

constexpr const char* kPostable[] = {"pub_key_rsa", "pub_key_ecdsa", "pub_key_ed25519",
                                     "instance_id", "hostname",      "fqdn"};

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

}  // namespace

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

void check_readiness(const Value& config, Diagnostics& out) {
  decode_readiness(config, out);
}

PlanResult plan_readiness(const ModuleInput& input) {
  PlanResult result;
  auto cfg = decode_readiness(input.config, result.diagnostics);
  if (!cfg) {
    return result;
  }
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
  result.actions.push_back(HttpRequest{"PUT", cfg->url, body.dump(), "", cfg->attempts,
                                       cfg->retry_delay_ms, "readiness signal"});
  return result;
}

void check_phone_home(const Value& config, Diagnostics& out) {
  decode_phone_home(config, out);
}

PlanResult plan_phone_home(const ModuleInput& input) {
  PlanResult result;
  auto cfg = decode_phone_home(input.config, result.diagnostics);
  if (!cfg) {
    return result;
  }
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
