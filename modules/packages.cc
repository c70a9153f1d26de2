#include "modules/packages.h"

namespace amiboot {

std::optional<PackagesConfig> decode_packages(const Value& config, Diagnostics& out) {
  Decoder decoder(out);
  PackagesConfig cfg;
  if (const Value* list = config.get("packages"); list != nullptr && !list->is_null()) {
    if (decoder.list(*list, "packages") != nullptr) {
      for (std::size_t i = 0; i < list->items.size(); ++i) {
        const Value& item = list->items[i];
        std::string path = "packages[" + std::to_string(i) + "]";
        if (item.is_scalar()) {
          // "name=version" is cloud-init's string form of a pinned version.
          std::size_t eq = item.scalar.find('=');
          cfg.packages.push_back(eq == std::string::npos ? PackageSpec{item.scalar, ""}
                                                         : PackageSpec{item.scalar.substr(0, eq),
                                                                       item.scalar.substr(eq + 1)});
        } else if (item.is_sequence() && (item.items.size() == 1 || item.items.size() == 2)) {
          auto name = decoder.string(item.items[0], path + "[0]");
          std::optional<std::string> version = std::string();
          if (item.items.size() == 2) {
            version = decoder.string(item.items[1], path + "[1]");
          }
          if (name && version) {
            cfg.packages.push_back({*name, *version});
          }
        } else {
          decoder.error(
              item, path,
              "expected a package name or a [name, version] list, got " + item.type_name());
        }
      }
    }
  }
  for (auto [key, field] : {std::pair{"package_update", &cfg.update},
                            {"package_upgrade", &cfg.upgrade},
                            {"package_reboot_if_required", &cfg.reboot_if_required}}) {
    if (const Value* v = config.get(key)) {
      *field = decoder.boolean(*v, key).value_or(false);
    }
  }
  if (decoder.failed()) {
    return std::nullopt;
  }
  return cfg;
}

void check_packages(const Value& config, Diagnostics& out) {
  decode_packages(config, out);
}

}  // namespace amiboot
