// SPDX-License-Identifier: Apache-2.0
#include "modules/apt_configure.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>

#include "agent/core/strings.h"
#include "modules/apt_sources.h"
#include "modules/image_program.h"
#include "modules/openpgp_key.h"
#include "modules/os_release.h"
#include "modules/packages.h"

namespace amiboot {

namespace {

constexpr const char* kKeyrings = "/etc/apt/keyrings";
constexpr const char* kSourcesDir = "/etc/apt/sources.list.d/";
constexpr const char* kProxyFile = "/etc/apt/apt.conf.d/90cloud-init-aptproxy";
constexpr const char* kConfFile = "/etc/apt/apt.conf.d/94cloud-init-config";
constexpr const char* kDefaultKeyserver = "keyserver.ubuntu.com";

bool is_hex(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0;
  });
}

// A key id or fingerprint as cloud-init takes it ("B59D 5F15 ... 3F77",
// "0x0368 3F77"): spaces dropped; 8, 16 or 40 hex digits, since it goes
// into a URL.
std::optional<std::string> decode_keyid(Decoder& d, const Value& v, const std::string& path) {
  auto s = d.string(v, path);
  if (!s) {
    return std::nullopt;
  }
  std::string id;
  for (char c : *s) {
    if (c != ' ') {
      id += c;
    }
  }
  if (id.starts_with("0x") || id.starts_with("0X")) {
    id = id.substr(2);
  }
  if (!is_hex(id) || (id.size() != 8 && id.size() != 16 && id.size() != 40)) {
    d.error(v, path,
            "expected a key id or fingerprint (8, 16 or 40 hexadecimal digits), got '" + *s + "'");
    return std::nullopt;
  }
  return id;
}

std::optional<std::string> decode_key(Decoder& d, const Value& v, const std::string& path) {
  auto s = d.string(v, path);
  if (!s) {
    return std::nullopt;
  }
  if (auto why = openpgp_public_key_problem(*s)) {
    d.error(v, path, "not an OpenPGP public key: " + *why);
    return std::nullopt;
  }
  return s;
}

// A host name, host:port, or an hkp://, hkps://, http:// or https:// URL.
std::optional<std::string> decode_keyserver(Decoder& d, const Value& v, const std::string& path) {
  auto s = d.string(v, path);
  if (!s) {
    return std::nullopt;
  }
  bool ok = !s->empty() && std::all_of(s->begin(), s->end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           std::string_view(".-:/[]_").find(c) != std::string_view::npos;
  });
  if (!ok) {
    d.error(v, path, "expected a key server host name or URL, got '" + *s + "'");
    return std::nullopt;
  }
  return s;
}

void decode_mirrors(Decoder& d, const Value& list, const std::string& path,
                    std::vector<AptMirror>& out) {
  if (d.list(list, path) == nullptr) {
    return;
  }
  for (std::size_t i = 0; i < list.items.size(); ++i) {
    const Value& item = list.items[i];
    std::string where = path + "[" + std::to_string(i) + "]";
    if (d.map(item, where) == nullptr) {
      continue;
    }
    d.unknown_keys(item, where,
                   {"arches", "uri", "search", "search_dns", "keyid", "key", "keyserver"});
    AptMirror m;
    if (const Value* arches = item.get("arches"); arches != nullptr) {
      if (d.list(*arches, where + ".arches") != nullptr) {
        for (std::size_t a = 0; a < arches->items.size(); ++a) {
          if (auto s = d.string(arches->items[a], where + ".arches[" + std::to_string(a) + "]")) {
            m.arches.push_back(*s);
          }
        }
      }
    } else {
      d.error(item, where, "expected arches (a list, `default` for any architecture)");
    }
    if (const Value* uri = item.get("uri")) {
      m.uri = d.string(*uri, where + ".uri").value_or("");
    }
    for (const char* lookup : {"search", "search_dns"}) {
      if (const Value* v = item.get(lookup)) {
        d.warning(*v, where + "." + lookup,
                  "amiboot does not probe mirrors; uri (or the default mirror) is used");
      }
    }
    if (const Value* v = item.get("key")) {
      m.key = decode_key(d, *v, where + ".key").value_or("");
    }
    if (const Value* v = item.get("keyid")) {
      m.keyid = decode_keyid(d, *v, where + ".keyid").value_or("");
    }
    if (const Value* v = item.get("keyserver")) {
      m.keyserver = decode_keyserver(d, *v, where + ".keyserver").value_or("");
    }
    out.push_back(std::move(m));
  }
}

// A file name under /etc/apt/sources.list.d, or an absolute path.
bool valid_source_filename(const std::string& name) {
  if (name.empty()) {
    return false;
  }
  if (name.front() == '/') {
    return absolute_path_problem(name).empty();
  }
  return name.find('/') == std::string::npos && name != "." && name != ".." &&
         std::none_of(name.begin(), name.end(),
                      [](char c) { return std::iscntrl(static_cast<unsigned char>(c)) != 0; });
}

void decode_sources(Decoder& d, const Value& map, AptConfig& cfg) {
  if (d.map(map, "apt.sources") == nullptr) {
    return;
  }
  for (const auto& entry : map.entries) {
    std::string where = "apt.sources." + entry.key;
    const Value& v = entry.value;
    if (d.map(v, where) == nullptr) {
      continue;
    }
    d.unknown_keys(v, where, {"source", "keyid", "key", "keyserver", "filename", "append"});
    AptSource s{.name = entry.key};
    if (const Value* f = v.get("filename")) {
      s.filename = d.string(*f, where + ".filename").value_or("");
      if (!valid_source_filename(s.filename)) {
        d.error(*f, where + ".filename",
                "expected a file name (in /etc/apt/sources.list.d) or an absolute path without "
                "'..', got '" +
                    s.filename + "'");
      }
    } else if (!valid_source_filename(entry.key)) {
      d.error(v, where,
              "the source's name is its file name in /etc/apt/sources.list.d: expected no '/' "
              "and no '..', or give filename");
    }
    if (const Value* x = v.get("source")) {
      s.source = d.string(*x, where + ".source").value_or("");
    }
    if (const Value* x = v.get("key")) {
      s.key = decode_key(d, *x, where + ".key").value_or("");
    }
    if (const Value* x = v.get("keyid")) {
      s.keyid = decode_keyid(d, *x, where + ".keyid").value_or("");
    }
    if (const Value* x = v.get("keyserver")) {
      s.keyserver = decode_keyserver(d, *x, where + ".keyserver").value_or("");
    }
    if (const Value* x = v.get("append")) {
      s.append = d.boolean(*x, where + ".append").value_or(true);
    }
    cfg.sources.push_back(std::move(s));
  }
}

std::string string_key(Decoder& d, const Value& apt, const char* key) {
  const Value* v = apt.get(key);
  return v == nullptr || v->is_null() ? "" : d.string(*v, std::string("apt.") + key).value_or("");
}

}  // namespace

std::string keyserver_url(const std::string& keyserver, const std::string& keyid) {
  std::string base = keyserver.empty() ? kDefaultKeyserver : keyserver;
  auto strip = [&](std::string_view scheme) {
    if (base.starts_with(scheme)) {
      base = base.substr(scheme.size());
      return true;
    }
    return false;
  };
  if (strip("hkps://")) {
    base = "https://" + base;
  } else if (strip("hkp://")) {
    std::string host = base.substr(0, base.find('/'));
    base = "http://" + host + (host.find(':') == std::string::npos ? ":11371" : "");
  } else if (!base.starts_with("http://") && !base.starts_with("https://")) {
    base = "https://" + base;
  }
  while (base.ends_with("/")) {
    base.pop_back();
  }
  return base + "/pks/lookup?op=get&options=mr&search=0x" + keyid;
}

std::optional<AptConfig> decode_apt_configure(const Value& doc, Diagnostics& out) {
  const Value* apt = doc.get("apt");
  if (apt == nullptr || apt->is_null()) {
    return std::nullopt;
  }
  Decoder d(out);
  if (d.map(*apt, "apt") == nullptr) {
    return std::nullopt;
  }
  d.unknown_keys(*apt, "apt",
                 {"preserve_sources_list", "disable_suites", "primary", "security",
                  "add_apt_repo_match", "debconf_selections", "sources_list", "conf", "https_proxy",
                  "http_proxy", "proxy", "ftp_proxy", "sources"});
  AptConfig cfg;
  if (const Value* v = apt->get("preserve_sources_list")) {
    cfg.preserve_sources_list = d.boolean(*v, "apt.preserve_sources_list").value_or(false);
  }
  if (const Value* v = apt->get("disable_suites");
      v != nullptr && d.list(*v, "apt.disable_suites")) {
    for (std::size_t i = 0; i < v->items.size(); ++i) {
      if (auto s = d.string(v->items[i], "apt.disable_suites[" + std::to_string(i) + "]")) {
        cfg.disable_suites.push_back(*s);
      }
    }
  }
  if (const Value* v = apt->get("primary")) {
    decode_mirrors(d, *v, "apt.primary", cfg.primary);
  }
  if (const Value* v = apt->get("security")) {
    decode_mirrors(d, *v, "apt.security", cfg.security);
  }
  if (const Value* v = apt->get("add_apt_repo_match")) {
    cfg.add_apt_repo_match = d.string(*v, "apt.add_apt_repo_match").value_or("");
    try {
      std::regex check(cfg.add_apt_repo_match);
    } catch (const std::regex_error&) {
      d.error(*v, "apt.add_apt_repo_match", "not a regular expression");
    }
  }
  if (const Value* v = apt->get("debconf_selections");
      v != nullptr && d.map(*v, "apt.debconf_selections") != nullptr) {
    std::map<std::string, std::string> sorted;
    for (const auto& e : v->entries) {
      if (auto s = d.string(e.value, "apt.debconf_selections." + e.key)) {
        sorted[e.key] = *s;
      }
    }
    for (auto& [name, text] : sorted) {
      cfg.debconf_selections.push_back(text);
    }
  }
  cfg.sources_list = string_key(d, *apt, "sources_list");
  cfg.conf = string_key(d, *apt, "conf");
  cfg.proxy = string_key(d, *apt, "proxy");
  cfg.http_proxy = string_key(d, *apt, "http_proxy");
  cfg.https_proxy = string_key(d, *apt, "https_proxy");
  cfg.ftp_proxy = string_key(d, *apt, "ftp_proxy");
  for (const std::string& proxy : {cfg.proxy, cfg.http_proxy, cfg.https_proxy, cfg.ftp_proxy}) {
    if (proxy.find_first_of("\"\n") != std::string::npos) {
      d.error(*apt, "apt", "a proxy URL may not hold '\"' or a line break");
    }
  }
  if (const Value* v = apt->get("sources")) {
    decode_sources(d, *v, cfg);
  }
  if (d.failed()) {
    return std::nullopt;
  }
  return cfg;
}

namespace {

// The image's dpkg architecture, from its dynamic loader (no uname under
// --root, and the image's, not the host's).
std::string image_arch(const SystemView& system) {
  if (system.path_exists("/lib/ld-linux-aarch64.so.1")) {
    return "arm64";
  }
  return "amd64";
}

std::string pick_mirror(const std::vector<AptMirror>& list, const std::string& arch,
                        const AptMirror** chosen) {
  const AptMirror* fallback = nullptr;
  for (const auto& m : list) {
    if (std::find(m.arches.begin(), m.arches.end(), arch) != m.arches.end()) {
      *chosen = &m;
      return m.uri;
    }
    if (fallback == nullptr &&
        std::find(m.arches.begin(), m.arches.end(), "default") != m.arches.end()) {
      fallback = &m;
    }
  }
  *chosen = fallback;
  return fallback != nullptr ? fallback->uri : "";
}

struct Mirrors {
  std::string primary;
  std::string security;
};

// cloud-init's defaults: on EC2 Ubuntu's regional mirror
// (DataSourceEc2's %(ec2_region)s.ec2.archive.ubuntu.com), ports for
// arm64; Debian's deb.debian.org.
Mirrors default_mirrors(const OsRelease& os, const std::string& arch, const Metadata& md) {
  if (os.id == "ubuntu") {
    if (arch != "amd64") {
      return {"http://ports.ubuntu.com/ubuntu-ports", "http://ports.ubuntu.com/ubuntu-ports"};
    }
    return {md.region.empty() ? "http://archive.ubuntu.com/ubuntu/"
                              : "http://" + md.region + ".ec2.archive.ubuntu.com/ubuntu/",
            "http://security.ubuntu.com/ubuntu/"};
  }
  return {"https://deb.debian.org/debian", "https://deb.debian.org/debian-security"};
}

// cloud-init's templates/sources.list.{debian,ubuntu}[.deb822].tmpl.
std::string default_sources(const OsRelease& os, bool deb822, const std::string& release,
                            const Mirrors& m, const std::string& primary_key,
                            const std::string& security_key) {
  bool ubuntu = os.id == "ubuntu";
  std::string components = ubuntu ? "main universe restricted multiverse" : "main";
  std::string security_suite =
      release == "buster" || release == "stretch" ? release + "/updates" : release + "-security";
  std::string archive_key = ubuntu ? "/usr/share/keyrings/ubuntu-archive-keyring.gpg"
                                   : "/usr/share/keyrings/debian-archive-keyring.gpg";
  std::string pkey = primary_key.empty() ? archive_key : primary_key;
  std::string skey = !security_key.empty() ? security_key : pkey;
  if (deb822) {
    std::string types = ubuntu ? "deb" : "deb deb-src";
    return "Types: " + types + "\nURIs: " + m.primary + "\nSuites: " + release + " " + release +
           "-updates " + release + "-backports\nComponents: " + components +
           "\nSigned-By: " + pkey + "\n\nTypes: " + types + "\nURIs: " + m.security +
           "\nSuites: " + security_suite + "\nComponents: " + components + "\nSigned-By: " + skey +
           "\n";
  }
  std::string out;
  if (ubuntu) {
    for (const char* suffix : {"", "-updates"}) {
      for (const char* c : {"main restricted", "universe", "multiverse"}) {
        out += "deb " + m.primary + " " + release + suffix + " " + c + "\n";
      }
    }
    out += "deb " + m.primary + " " + release + "-backports main restricted universe multiverse\n";
    for (const char* c : {"main restricted", "universe", "multiverse"}) {
      out += "deb " + m.security + " " + security_suite + " " + c + "\n";
    }
    return out;
  }
  for (const char* type : {"deb", "deb-src"}) {
    out += std::string(type) + " " + m.primary + " " + release + " main\n";
  }
  for (const char* type : {"deb", "deb-src"}) {
    out += std::string(type) + " " + m.security + " " + security_suite + " main\n";
  }
  for (const char* type : {"deb", "deb-src"}) {
    out += std::string(type) + " " + m.primary + " " + release + "-updates main\n";
  }
  if (release != "bullseye") {
    for (const char* type : {"deb", "deb-src"}) {
      out += std::string(type) + " " + m.primary + " " + release + "-backports main\n";
    }
  }
  return out;
}

std::string stem(const std::string& filename) {
  std::string base = filename.substr(filename.rfind('/') + 1);
  std::size_t dot = base.rfind('.');
  return dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
}

class AptPlan {
 public:
  AptPlan(const AptConfig& config, const Facts& facts, const OsRelease& os)
      : m_config(config), m_facts(facts), m_os(os), m_deb822(uses_deb822_sources(os)) {}

  PlanResult run();

 private:
  /// The keyring file for a key or key id, its actions planned; "" when
  /// there is neither.
  std::string plan_key(const std::string& key, const std::string& keyid,
                       const std::string& keyserver, const std::string& name);
  void write(const std::string& path, const std::string& content, const std::string& label,
             bool append = false);
  void plan_mirrors();
  void plan_conf();
  void plan_sources();
  void plan_debconf();
  void error(const std::string& message) {
    m_result.diagnostics.push_back({Diagnostic::Severity::Error, {}, "apt", message});
  }
  void warning(const std::string& message) {
    m_result.diagnostics.push_back({Diagnostic::Severity::Warning, {}, "apt", message});
  }

  const AptConfig& m_config;
  const Facts& m_facts;
  const OsRelease& m_os;
  bool m_deb822;
  PlanResult m_result;
  std::map<std::string, std::string> m_params;
  bool m_sources_changed = false;
  bool m_keyrings_made = false;
};

std::string AptPlan::plan_key(const std::string& key, const std::string& keyid,
                              const std::string& keyserver, const std::string& name) {
  if (key.empty() && keyid.empty()) {
    return "";
  }
  if (!m_keyrings_made) {
    m_result.actions.push_back(MakeDir{kKeyrings, 0755, "root", "apt: " + std::string(kKeyrings)});
    m_keyrings_made = true;
  }
  bool binary = !key.empty() && openpgp_encoding(key) == OpenPgpEncoding::Binary;
  std::string path = std::string(kKeyrings) + "/" + name + (binary ? ".gpg" : ".asc");
  if (!key.empty()) {
    write(path, key, "apt: key " + path);
    return path;
  }
  // A key id is fetched when the action runs (the network is up by then),
  // never while planning or validating; the keyserver answers with an
  // armored key.
  std::string url = keyserver_url(keyserver, keyid);
  if (m_facts.system.read_text(path)) {
    return path;  // fetched on an earlier run
  }
  m_result.actions.push_back(FetchFile{.path = path,
                                       .url = url,
                                       .label = "apt: key " + keyid + " from " + url_host(url),
                                       .openpgp_keyid = keyid});
  m_sources_changed = true;
  return path;
}

void AptPlan::write(const std::string& path, const std::string& content, const std::string& label,
                    bool append) {
  auto existing = m_facts.system.read_text(path);
  if (append && existing) {
    if (existing->find(content) != std::string::npos) {
      return;  // already there: a second run adds nothing
    }
  } else if (existing == content) {
    return;
  }
  m_result.actions.push_back(
      WriteFile{.path = path, .content = content, .append = append, .label = label});
  // apt.conf files change no repository: no index update for them.
  m_sources_changed = m_sources_changed || !path.starts_with("/etc/apt/apt.conf.d/");
}

void AptPlan::plan_mirrors() {
  std::string arch = image_arch(m_facts.system);
  Mirrors mirrors = default_mirrors(m_os, arch, m_facts.metadata);
  const AptMirror* primary = nullptr;
  const AptMirror* security = nullptr;
  std::string p = pick_mirror(m_config.primary, arch, &primary);
  std::string s = pick_mirror(m_config.security, arch, &security);
  if (!p.empty()) {
    mirrors.primary = p;
    mirrors.security = s.empty() ? p : s;  // cloud-init: security defaults to primary
  } else if (!s.empty()) {
    mirrors.security = s;
  }
  m_params["PRIMARY"] = mirrors.primary;
  m_params["MIRROR"] = mirrors.primary;
  m_params["SECURITY"] = mirrors.security;
  m_params["RELEASE"] = m_os.version_codename;
  m_params["codename"] = m_os.version_codename;
  m_params["mirror"] = mirrors.primary;
  m_params["primary"] = mirrors.primary;
  m_params["security"] = mirrors.security;
  if (m_config.preserve_sources_list) {
    return;
  }
  std::string primary_key, security_key;
  if (primary != nullptr) {
    primary_key = plan_key(primary->key, primary->keyid, primary->keyserver, "primary");
  }
  if (security != nullptr) {
    security_key = plan_key(security->key, security->keyid, security->keyserver, "security");
  }
  m_params["primary_key"] = primary_key;
  m_params["security_key"] = security_key;
  std::vector<std::string> disabled;
  for (const auto& suite : m_config.disable_suites) {
    disabled.push_back(
        render_apt_template(known_suite(suite), {{"RELEASE", m_os.version_codename}}));
  }
  std::string list_file = "/etc/apt/sources.list";
  std::string deb822_file = kSourcesDir + m_os.id + ".sources";
  bool render =
      !m_config.sources_list.empty() || !m_config.primary.empty() || !m_config.security.empty();
  if (render) {
    if (m_os.version_codename.empty()) {
      error("/etc/os-release has no VERSION_CODENAME: cannot write the " + m_os.id +
            " sources ($RELEASE)");
      return;
    }
    std::string text = m_config.sources_list.empty()
                           ? default_sources(m_os, m_deb822, m_os.version_codename, mirrors,
                                             primary_key, security_key)
                           : render_apt_template(m_config.sources_list, m_params);
    bool deb822 = is_deb822_sources(text);
    std::string path = deb822 ? deb822_file : list_file;
    write(path, disable_apt_suites(text, disabled), "apt: " + path);
    if (deb822 && m_facts.system.path_exists(list_file)) {
      // cloud-init's favouring of deb822: the old list would name the
      // same archive twice. Ubuntu keeps a comment-only file there.
      std::string note = "# Ubuntu sources have moved to /etc/apt/sources.list.d/ubuntu.sources\n";
      if (m_os.id == "ubuntu") {
        write(list_file, note, "apt: " + list_file);
      } else {
        m_result.actions.push_back(RemoveFile{list_file, "apt: " + list_file});
        m_sources_changed = true;
      }
    }
    return;
  }
  // The image's own sources stay; only the suites named are turned off.
  if (disabled.empty()) {
    return;
  }
  for (const auto& path : {list_file, deb822_file}) {
    if (auto text = m_facts.system.read_text(path)) {
      write(path, disable_apt_suites(*text, disabled), "apt: disable_suites " + path);
    }
  }
}

void AptPlan::plan_conf() {
  std::string proxies;
  auto add = [&](const std::string& url, const char* scheme) {
    if (!url.empty()) {
      proxies += "Acquire::" + std::string(scheme) + "::Proxy \"" + url + "\";\n";
    }
  };
  add(m_config.proxy, "http");
  add(m_config.http_proxy, "http");
  add(m_config.ftp_proxy, "ftp");
  add(m_config.https_proxy, "https");
  // As cloud-init: set, the file is written; unset, one left from before goes.
  for (const auto& [path, text] : {std::pair<std::string, std::string>{kProxyFile, proxies},
                                   std::pair<std::string, std::string>{kConfFile, m_config.conf}}) {
    if (!text.empty()) {
      write(path, text, "apt: " + path);
    } else if (m_facts.system.path_exists(path)) {
      m_result.actions.push_back(RemoveFile{path, "apt: " + path});
    }
  }
}

void AptPlan::plan_sources() {
  std::regex ppa;
  try {
    ppa = std::regex(m_config.add_apt_repo_match);
  } catch (const std::regex_error&) {
    ppa = std::regex("^[\\w-]+:\\w");
  }
  for (const auto& s : m_config.sources) {
    std::string filename = s.filename.empty() ? s.name : s.filename;
    std::string keyring = plan_key(s.key, s.keyid, s.keyserver, stem(filename));
    if (s.source.empty()) {
      if (!keyring.empty()) {
        warning("apt.sources." + s.name + ": a key without a source is written to " + keyring +
                " and trusted only by sources that name it with signed-by (cloud-init would "
                "trust it for every repository)");
      }
      continue;
    }
    std::map<std::string, std::string> params = m_params;
    if (!keyring.empty()) {
      params["KEY_FILE"] = keyring;
    }
    std::string source = render_apt_template(s.source, params);
    if (std::regex_search(source, ppa)) {
      if (find_image_program(m_facts.system, "add-apt-repository").empty()) {
        error("apt.sources." + s.name + ": '" + source +
              "' needs add-apt-repository, which this image lacks (software-properties-common)");
        continue;
      }
      m_result.actions.push_back(
          in_image({"add-apt-repository", "--no-update", source}, "apt: sources." + s.name));
      m_sources_changed = true;
      continue;
    }
    if (!keyring.empty()) {
      source = add_signed_by(source, keyring);
    }
    bool deb822 = is_deb822_sources(source) || filename.ends_with(".sources") ||
                  (m_deb822 && !filename.ends_with(".list"));
    if (!filename.ends_with(".list") && !filename.ends_with(".sources")) {
      filename += deb822 ? ".sources" : ".list";
    }
    if (filename.front() != '/') {
      filename = kSourcesDir + filename;
    }
    std::string content;
    if (deb822 && !is_deb822_sources(source)) {
      std::string why;
      auto converted = one_line_to_deb822(source, why);
      if (!converted) {
        error("apt.sources." + s.name + ".source: " + why);
        continue;
      }
      content = *converted;
    } else {
      content = source;
    }
    if (!content.ends_with("\n")) {
      content += "\n";
    }
    bool append = s.append;
    if (append && deb822) {
      // deb822 stanzas are separated by a blank line.
      auto existing = m_facts.system.read_text(filename);
      if (existing && !existing->empty() && existing->find(content) == std::string::npos) {
        content = (existing->ends_with("\n\n") ? "" : "\n") + content;
      }
    }
    write(filename, content, "apt: sources." + s.name + " " + filename, append);
  }
}

void AptPlan::plan_debconf() {
  if (m_config.debconf_selections.empty()) {
    return;
  }
  std::string text;
  for (const auto& t : m_config.debconf_selections) {
    text += t + (t.ends_with("\n") ? "" : "\n");
  }
  RunCommand set = in_image({"debconf-set-selections"}, "apt: debconf_selections");
  set.input = text;
  set.required = true;
  m_result.actions.push_back(set);
  // cloud-init reconfigures the installed packages the selections name.
  std::vector<std::string> installed;
  for (const auto& line : split_lines(text)) {
    if (line.empty() || line.front() == '#') {
      continue;
    }
    std::string pkg = line.substr(0, line.find_first_of(": \t"));
    if (!pkg.empty() && valid_package_name(pkg) &&
        std::find(installed.begin(), installed.end(), pkg) == installed.end() &&
        m_facts.system.path_exists("/var/lib/dpkg/info/" + pkg + ".list")) {
      installed.push_back(pkg);
    }
  }
  if (!installed.empty()) {
    std::vector<std::string> argv = {"dpkg-reconfigure", "--frontend=noninteractive"};
    argv.insert(argv.end(), installed.begin(), installed.end());
    m_result.actions.push_back(in_image(argv, "apt: debconf_selections: dpkg-reconfigure"));
  }
}

PlanResult AptPlan::run() {
  plan_debconf();  // first, as cloud-init: before any package is configured
  plan_mirrors();
  plan_conf();
  plan_sources();
  if (m_sources_changed && m_result.diagnostics.end() ==
                               std::find_if(m_result.diagnostics.begin(),
                                            m_result.diagnostics.end(), [](const Diagnostic& d) {
                                              return d.severity == Diagnostic::Severity::Error;
                                            })) {
    // As cloud-init (update_package_sources(force=True)): the new
    // repositories are in the index before anything installs from them.
    ManagePackages update{.manager = "apt", .update = true, .label = "apt: apt-get update"};
    Diagnostics settings;
    decode_package_settings(m_facts.image_config, update, settings);
    m_result.actions.push_back(update);
  }
  std::size_t keys = 0;
  for (const auto& a : m_result.actions) {
    keys += std::holds_alternative<FetchFile>(a) ||
            (std::holds_alternative<WriteFile>(a) &&
             std::get<WriteFile>(a).path.starts_with(kKeyrings));
  }
  m_result.summary =
      std::to_string(m_config.sources.size()) + " source(s), " + std::to_string(keys) + " key(s)";
  return std::move(m_result);
}

}  // namespace

PlanResult plan_apt_configure(const AptConfig& config, const Facts& facts) {
  auto os = read_os_release(facts.system);
  if (!os || !(os->is_debian_family() || facts.system.path_exists("/etc/apt"))) {
    PlanResult result;
    result.diagnostics.push_back(
        {Diagnostic::Severity::Warning,
         {},
         "apt",
         "not an apt system (cloud-init's apt_configure runs on Debian and Ubuntu): apt is "
         "ignored"});
    return result;
  }
  return AptPlan(config, facts, *os).run();
}

}  // namespace amiboot
