// SPDX-License-Identifier: Apache-2.0
// apt_configure: cloud-init's `apt` key (cc_apt_configure): proxies and
// apt.conf text, debconf selections, the primary and security mirrors,
// disable_suites, and extra `sources` with their signing keys.
//
// Where amiboot differs from cloud-init, on purpose:
// - A key is never added to apt's global trust (apt-key, trusted.gpg.d):
//   it is written to /etc/apt/keyrings/NAME.asc (armored) or NAME.gpg
//   (binary) and the source that comes with it gets `signed-by`, so a
//   vendor's key vouches for the vendor's repository only.
// - A `key` is checked as an OpenPGP public key when the config is
//   decoded; a broken one rejects the config before anything is written.
// - `sources` entries go to deb822 `.sources` files on Debian 12+ and
//   Ubuntu 24.04+ (a `.list` filename keeps the one-line format).
// - Without primary, security or sources_list, the image's own sources are
//   kept (disable_suites still applies to them): cloud-init would render
//   its default template over them.
// - `search` and `search_dns` mirror lookups are not done (a warning):
//   `uri` or the default mirror is used.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "modules/module.h"

namespace amiboot {

/// A `primary` or `security` entry.
struct AptMirror {
  std::vector<std::string> arches;
  std::string uri;
  std::string key;
  std::string keyid;
  std::string keyserver;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(AptMirror, arches, uri, key, keyid, keyserver)

/// One entry of `sources`.
struct AptSource {
  std::string name;      // its key in `sources`
  std::string source;    // "" for a key alone
  std::string filename;  // as given, "" for the default (the name)
  std::string key;
  std::string keyid;  // hex, spaces removed
  std::string keyserver;
  bool append = true;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(AptSource, name, source, filename, key, keyid, keyserver, append)

struct AptConfig {
  bool preserve_sources_list = false;
  std::vector<std::string> disable_suites;
  std::vector<AptMirror> primary;
  std::vector<AptMirror> security;
  std::string sources_list;  // a template for the distro's sources
  std::vector<AptSource> sources;
  std::string add_apt_repo_match = "^[\\w-]+:\\w";
  std::string conf;
  std::string proxy;
  std::string http_proxy;
  std::string https_proxy;
  std::string ftp_proxy;
  /// debconf_selections, in the order of their names (cloud-init sorts them).
  std::vector<std::string> debconf_selections;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(AptConfig, preserve_sources_list, disable_suites, primary,
                                   security, sources_list, sources, add_apt_repo_match, conf, proxy,
                                   http_proxy, https_proxy, ftp_proxy, debconf_selections)

std::optional<AptConfig> decode_apt_configure(const Value& doc, Diagnostics& out);
PlanResult plan_apt_configure(const AptConfig& config, const Facts& facts);

/// The URL a key is fetched from: the keyserver's HKP lookup for `keyid`.
/// A bare host name is asked over HTTPS; hkp:// is HTTP (port 11371 unless
/// given), hkps:// HTTPS.
std::string keyserver_url(const std::string& keyserver, const std::string& keyid);

}  // namespace amiboot
