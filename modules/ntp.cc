// SPDX-License-Identifier: Apache-2.0
#include "modules/ntp.h"

#include <algorithm>
#include <cctype>

#include "agent/core/template.h"
#include "modules/image_program.h"
#include "modules/net_names.h"
#include "modules/ntp_templates.h"
#include "modules/package_managers.h"

namespace amiboot {

namespace {

// ntp_client values with defaults of their own. cloud-init also knows
// openntpd, whose templates exist for OpenBSD only: on Linux it needs a
// complete ntp.config, like any client of the user's own.
constexpr std::string_view kClients[] = {"chrony", "systemd-timesyncd", "ntp", "ntpdate"};

bool known_client(std::string_view name) {
  return std::find(std::begin(kClients), std::end(kClients), name) != std::end(kClients);
}

// A systemd unit name (chronyd, systemd-timesyncd.service, foo@bar).
bool valid_unit_name(const std::string& s) {
  return !s.empty() && s.size() <= 255 && s.front() != '-' &&
         std::all_of(s.begin(), s.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) ||
                  std::string_view(":_.@-").find(c) != std::string_view::npos;
         });
}

// The distribution name in cloud-init's pool and template names.
std::string distro_name(const OsRelease& os) {
  if (os.is("ubuntu")) {
    return "ubuntu";
  }
  if (os.is_debian_family()) {
    return "debian";
  }
  if (os.is_suse_family()) {
    return "opensuse";
  }
  if (os.id == "amzn") {
    return "amazon";
  }
  return os.id;
}

std::vector<std::string> string_list(Decoder& d, const Value& v, const std::string& path,
                                     bool (*valid)(std::string_view), const char* expected) {
  std::vector<std::string> out;
  if (v.is_null() || d.list(v, path) == nullptr) {
    return out;
  }
  for (std::size_t i = 0; i < v.items.size(); ++i) {
    std::string at = path + "[" + std::to_string(i) + "]";
    auto s = d.string(v.items[i], at);
    if (!s) {
      continue;
    }
    if (!valid(*s)) {
      d.error(v.items[i], at, "'" + *s + "' is not " + expected);
    } else if (std::find(out.begin(), out.end(), *s) != out.end()) {
      d.warning(v.items[i], at, "'" + *s + "' is listed twice; once is enough");
    } else {
      out.push_back(*s);
    }
  }
  return out;
}

nlohmann::json template_context(const std::vector<std::string>& servers,
                                const std::vector<std::string>& pools,
                                const std::vector<std::string>& peers,
                                const std::vector<std::string>& allow) {
  return {{"servers", servers}, {"pools", pools}, {"peers", peers}, {"allow", allow}};
}

void decode_overrides(Decoder& d, const Value& v, NtpConfig& cfg) {
  if (d.map(v, "ntp.config") == nullptr) {
    return;
  }
  d.unknown_keys(v, "ntp.config",
                 {"confpath", "check_exe", "packages", "service_name", "template"});
  NtpClientOverrides& o = cfg.config;
  if (const Value* p = v.get("confpath")) {
    if (auto s = d.string(*p, "ntp.config.confpath")) {
      if (auto problem = absolute_path_problem(*s); !problem.empty()) {
        d.error(*p, "ntp.config.confpath", problem);
      } else {
        o.confpath = *s;
      }
    }
  }
  if (const Value* p = v.get("check_exe")) {
    if (auto s = decode_check_exe(d, *p, "ntp.config.check_exe")) {
      o.check_exe = *s;
    }
  }
  if (const Value* p = v.get("service_name")) {
    if (auto s = d.string(*p, "ntp.config.service_name")) {
      if (!valid_unit_name(*s)) {
        d.error(*p, "ntp.config.service_name", "'" + *s + "' is not a service name");
      } else {
        o.service_name = *s;
      }
    }
  }
  if (const Value* p = v.get("packages"); p != nullptr && d.list(*p, "ntp.config.packages")) {
    o.has_packages = true;
    for (std::size_t i = 0; i < p->items.size(); ++i) {
      std::string at = "ntp.config.packages[" + std::to_string(i) + "]";
      auto name = d.string(p->items[i], at);
      if (name && !valid_package_name(*name)) {
        d.error(p->items[i], at, "'" + *name + "' is not a package name");
      } else if (name) {
        o.packages.push_back(*name);
      }
    }
  }
  if (const Value* p = v.get("template")) {
    auto text = d.string(*p, "ntp.config.template");
    if (text && !has_jinja_header(*text)) {
      d.error(*p, "ntp.config.template",
              "expected a Jinja template whose first line is '## template:jinja' (cloud-init's "
              "other template syntax is not supported)");
    } else if (text) {
      // Rendered once here, so that a mistake in it rejects the config with
      // the template's own line and column.
      auto rendered = render_jinja_user_data(
          *text, template_context({"192.0.2.1"}, {"pool.example"}, {"192.0.2.2"}, {"192.0.2.0/24"}),
          "template");
      if (!rendered) {
        d.error(*p, "ntp.config.template", rendered.error().message);
      } else {
        o.template_text = *text;
      }
    }
  }
}

}  // namespace

std::vector<NtpClient> ntp_clients(const OsRelease& os) {
  std::string distro = distro_name(os);
  if (os.is_debian_family()) {
    // cloud-init's base table, chrony's file under /etc/chrony/.
    return {
        {"chrony",
         "chronyd",
         "/etc/chrony/chrony.conf",
         {"chrony"},
         "chrony",
         "chrony.conf." + distro},
        {"systemd-timesyncd",
         "/lib/systemd/systemd-timesyncd",
         "/etc/systemd/timesyncd.conf.d/cloud-init.conf",
         {},
         "systemd-timesyncd",
         "timesyncd.conf"},
        {"ntp", "ntpd", "/etc/ntp.conf", {"ntpsec"}, "ntp", "ntp.conf." + distro},
        {"ntpdate", "ntpdate", "/etc/ntp.conf", {"ntpdate"}, "ntpdate", "ntp.conf." + distro},
    };
  }
  bool redhat = os.is_redhat_family();
  if (!redhat && !os.is_suse_family()) {
    return {};
  }
  // cloud-init's "rhel" and "sles" rows: the services are chronyd and ntpd.
  // cloud-init has no row (so its base names, chrony and ntp) and no
  // template for Amazon Linux; amiboot gives it the Red Hat family's, and
  // Fedora's templates to Fedora only (Amazon Linux 2023 says ID_LIKE=fedora).
  std::string family = !redhat ? "opensuse" : os.id == "fedora" ? "fedora" : "rhel";
  std::string timesyncd =
      redhat ? "/lib/systemd/systemd-timesyncd" : "/usr/lib/systemd/systemd-timesyncd";
  return {
      {"chrony", "chronyd", "/etc/chrony.conf", {"chrony"}, "chronyd", "chrony.conf." + family},
      {"systemd-timesyncd",
       timesyncd,
       "/etc/systemd/timesyncd.conf.d/cloud-init.conf",
       {},
       "systemd-timesyncd",
       "timesyncd.conf"},
      {"ntp", "ntpd", "/etc/ntp.conf", {"ntpsec"}, "ntpd", "ntp.conf." + family},
      {"ntpdate", "ntpdate", "/etc/ntp.conf", {"ntpdate"}, "ntpdate", "ntp.conf." + family},
  };
}

std::vector<std::string> default_ntp_pools(const OsRelease& os) {
  std::vector<std::string> pools;
  for (int i = 0; i < 4; ++i) {
    pools.push_back(std::to_string(i) + "." + distro_name(os) + ".pool.ntp.org");
  }
  return pools;
}

std::optional<NtpConfig> decode_ntp(const Value& doc, Diagnostics& out) {
  const Value* v = doc.get("ntp");
  if (v == nullptr) {
    return std::nullopt;  // not configured: no plan
  }
  NtpConfig cfg;
  if (v->is_null()) {
    return cfg;  // `ntp:` alone: the distribution's client and pools, as in cloud-init
  }
  Decoder d(out);
  if (!v->is_map()) {
    d.error(*v, "ntp", "expected a map (enabled, ntp_client, servers, ...), got " + v->type_name());
    return std::nullopt;
  }
  d.unknown_keys(*v, "ntp",
                 {"enabled", "ntp_client", "servers", "pools", "peers", "allow", "config"});
  if (const Value* p = v->get("enabled")) {
    cfg.enabled = d.boolean(*p, "ntp.enabled").value_or(true);
  }
  if (const Value* p = v->get("servers")) {
    cfg.servers = string_list(d, *p, "ntp.servers", is_host, "a host name or an IP address");
  }
  if (const Value* p = v->get("pools")) {
    cfg.pools = string_list(d, *p, "ntp.pools", is_host, "a host name or an IP address");
  }
  if (const Value* p = v->get("peers")) {
    cfg.peers = string_list(d, *p, "ntp.peers", is_host, "a host name or an IP address");
  }
  if (const Value* p = v->get("allow")) {
    cfg.allow = string_list(d, *p, "ntp.allow", is_address_or_cidr,
                            "an address or a network (10.0.0.0/8, fd00::/8)");
  }
  if (const Value* p = v->get("config"); p != nullptr && !p->is_null()) {
    decode_overrides(d, *p, cfg);
  }
  if (const Value* p = v->get("ntp_client"); p != nullptr && !p->is_null()) {
    if (auto name = d.string(*p, "ntp.ntp_client")) {
      cfg.client = *name;
      const NtpClientOverrides& o = cfg.config;
      std::vector<std::string> missing;
      for (auto [key, set] :
           {std::pair{"confpath", !o.confpath.empty()},
            std::pair{"check_exe", !o.check_exe.empty()}, std::pair{"packages", o.has_packages},
            std::pair{"service_name", !o.service_name.empty()},
            std::pair{"template", !o.template_text.empty()}}) {
        if (!set) {
          missing.push_back(key);
        }
      }
      if (*name != "auto" && !known_client(*name) && !missing.empty()) {
        std::string list;
        for (const auto& m : missing) {
          list += (list.empty() ? "" : ", ") + m;
        }
        d.error(*p, "ntp.ntp_client",
                "unknown client '" + *name +
                    "' (expected auto, chrony, systemd-timesyncd, ntp or ntpdate); a client of "
                    "your own needs ntp.config with confpath, check_exe, packages, service_name "
                    "and template (missing: " +
                    list + ")");
      }
    }
  }
  if (d.failed()) {
    return std::nullopt;
  }
  return cfg;
}

PlanResult plan_ntp(const NtpConfig& config, const Facts& facts) {
  PlanResult result;
  auto fail = [&](std::string message) {
    result.diagnostics.push_back({Diagnostic::Severity::Error, {}, "ntp", std::move(message)});
    return result;
  };
  if (!config.enabled) {
    result.summary = "disabled";
    return result;
  }
  auto os = read_os_release(facts.system);
  std::vector<NtpClient> clients = os ? ntp_clients(*os) : std::vector<NtpClient>{};
  NtpClient client{.name = config.client};
  if (config.client == "auto") {
    // cloud-init's select_ntp_client: the first preferred client the image
    // has, else the first preferred one, to be installed.
    auto present = std::find_if(clients.begin(), clients.end(), [&](const NtpClient& c) {
      return !find_image_program(facts.system, c.check_exe).empty();
    });
    if (present != clients.end()) {
      client = *present;
    } else if (!clients.empty()) {
      client = clients.front();
    }
  } else {
    auto named = std::find_if(clients.begin(), clients.end(),
                              [&](const NtpClient& c) { return c.name == config.client; });
    if (named != clients.end()) {
      client = *named;
    }
  }
  const NtpClientOverrides& o = config.config;
  client.confpath = o.confpath.empty() ? client.confpath : o.confpath;
  client.check_exe = o.check_exe.empty() ? client.check_exe : o.check_exe;
  client.service_name = o.service_name.empty() ? client.service_name : o.service_name;
  client.packages = o.has_packages ? o.packages : client.packages;
  const char* builtin = o.template_text.empty() ? ntp_template(client.template_name) : nullptr;
  if (client.confpath.empty() || client.check_exe.empty() || client.service_name.empty() ||
      (o.template_text.empty() && builtin == nullptr)) {
    std::string seen = os ? "ID=" + os->id : "an image without /etc/os-release";
    return fail("no defaults for " + (client.name == "auto" ? "an NTP client" : client.name) +
                " on " + seen +
                " (Debian, Ubuntu, Amazon Linux, RHEL, Fedora, openSUSE and SLES have them): "
                "ntp.config with confpath, check_exe, packages, service_name and template "
                "configures one; nothing was written");
  }

  // cloud-init: no servers and no pools means the distribution's four pools
  // ({0-3}.debian.pool.ntp.org), and the image's own configuration (on
  // Amazon Linux, with the Amazon Time Sync Service in it) is moved aside, so
  // an EC2 instance loses its local time source. amiboot keeps it: on EC2
  // the link-local Time Sync Service comes first, preferred, before the
  // pools; servers or pools in the config replace both, as in cloud-init.
  std::vector<std::string> servers = config.servers;
  std::vector<std::string> pools = config.pools;
  std::vector<std::string> rendered_servers = servers;
  if (servers.empty() && pools.empty()) {
    pools = os ? default_ntp_pools(*os) : std::vector<std::string>{};
    if (facts.metadata.source == "imds") {
      servers = {kAmazonTimeSync};
      // AWS's line for chrony and ntpd; timesyncd and a template of the
      // user's own get the bare address.
      bool options = builtin != nullptr && client.template_name != "timesyncd.conf";
      rendered_servers = {options ? std::string(kAmazonTimeSync) + " prefer minpoll 4 maxpoll 4"
                                  : std::string(kAmazonTimeSync)};
    }
  }
  auto text = render_jinja_user_data(
      builtin != nullptr ? std::string_view(builtin) : std::string_view(o.template_text),
      template_context(rendered_servers, pools, config.peers, config.allow),
      builtin != nullptr ? client.template_name : "ntp.config.template");
  if (!text) {
    return fail("cannot render the configuration: " + text.error().message +
                "; nothing was written");
  }

  bool install = find_image_program(facts.system, client.check_exe).empty();
  if (install) {
    if (client.packages.empty()) {
      return fail(client.name + ": " + client.check_exe +
                  " is not on this image and there is no package to install for it (cloud-init "
                  "names none); nothing was written");
    }
    if (!os) {
      return fail(client.name + ": " + client.check_exe +
                  " is not on this image, and without /etc/os-release there is no telling which "
                  "package manager installs it; nothing was written");
    }
    ManagerChoice choice = choose_package_manager(*os, facts.system);
    if (choice.manager == nullptr) {
      return fail(client.name + ": " + client.check_exe + " is not on this image, and " +
                  choice.why + "; nothing was written");
    }
    // As cloud-init's install_ntp_client does, through the packages module's
    // conversation (retries, a stale index updated once).
    ManagePackages packages{.manager = choice.manager->name,
                            .label = "ntp: install " + client.name};
    for (const auto& name : client.packages) {
      packages.packages.push_back({name, ""});
    }
    result.actions.push_back(packages);
  }
  auto current = facts.system.read_text(client.confpath);
  if (current == *text && !install) {
    result.summary = client.name + ": " + client.confpath + " unchanged";
    return result;
  }
  // cloud-init renames the image's file to .dist; only the first time here,
  // so a later instance keeps the image's, not ours.
  if (current && !facts.system.path_exists(client.confpath + ".dist")) {
    RunCommand keep{{"cp", "-p"}, "ntp: keep the image's " + client.confpath + " as .dist"};
    keep.target_path(client.confpath).target_path(client.confpath + ".dist");
    result.actions.push_back(keep);
  }
  result.actions.push_back(
      WriteFile{client.confpath, *text, 0644, "root:root", false, "ntp: " + client.confpath});
  if (install) {
    // An RPM does not enable what it installs; Debian's postinst does, and
    // this changes nothing there.
    RunCommand enable{{"systemctl", "enable", client.service_name},
                      "ntp: enable " + client.service_name};
    enable.root_option = "--root";
    result.actions.push_back(enable);
  }
  // cloud-init runs `systemctl reload-or-restart`; none of these clients'
  // units reloads its servers, so a restart is what happens either way.
  RunCommand restart{{"systemctl", "restart", client.service_name},
                     "ntp: restart " + client.service_name};
  restart.needs_host = true;
  result.actions.push_back(restart);
  std::size_t sources = servers.size() + pools.size();
  result.summary = client.name + ": " + std::to_string(sources) + " source(s) in " +
                   client.confpath + (install ? " (installed)" : "");
  return result;
}

}  // namespace amiboot
