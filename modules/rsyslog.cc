// SPDX-License-Identifier: Apache-2.0
#include "modules/rsyslog.h"

#include <algorithm>
#include <cctype>

#include "agent/core/strings.h"
#include "modules/ca_certs.h"
#include "modules/image_program.h"
#include "modules/net_names.h"
#include "modules/os_release.h"
#include "modules/package_managers.h"

namespace amiboot {

namespace {

// service_reload_command, or cloud-init's manage_service("try-reload",
// "rsyslog"): a running rsyslog reads its files again, a stopped one is not
// started.
RunCommand reload_action(const RsyslogConfig& config, const std::string& row) {
  RunCommand reload =
      config.reload_command.empty()
          ? RunCommand{{"systemctl", "try-reload-or-restart", "rsyslog"}, row + ": reload"}
          : RunCommand{config.reload_command, row + ": service_reload_command"};
  reload.needs_host = true;  // the running service, not a root's
  return reload;
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return std::iscntrl(static_cast<unsigned char>(c)) != 0; });
}

// A selector such as `*.*`, `kern.warn`, `*.info;mail.none`, `auth,authpriv.*`.
bool valid_filter(std::string_view s) {
  return !s.empty() && s.find('.') != std::string_view::npos &&
         std::all_of(s.begin(), s.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) ||
                  std::string_view("*.,;!=_-").find(c) != std::string_view::npos;
         });
}

// Why a file name from the config would not stay inside config_dir, or "".
std::string relative_name_problem(const std::string& name) {
  if (name.empty()) {
    return "an empty file name";
  }
  if (has_control(name)) {
    return "a control character in the file name";
  }
  if (name.front() == '/') {
    return "'" + name + "' is an absolute path: a file name goes inside config_dir";
  }
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t end = name.find('/', start);
    std::string part = name.substr(start, end == std::string::npos ? end : end - start);
    if (part == "..") {
      return "'" + name + "' contains '..': a file name must stay inside config_dir";
    }
    if (part.empty() || part == ".") {
      return "'" + name + "' is not a plain file name";
    }
    if (end == std::string::npos) {
      break;
    }
    start = end + 1;
  }
  return "";
}

void add_entry(std::vector<RsyslogFile>& entries, const std::string& filename,
               std::string content) {
  if (content.empty() || content.back() != '\n') {
    content += '\n';
  }
  auto same = std::find_if(entries.begin(), entries.end(),
                           [&](const RsyslogFile& f) { return f.filename == filename; });
  if (same != entries.end()) {
    same->content += content;  // cloud-init appends to a file it already wrote this run
  } else {
    entries.push_back({filename, std::move(content)});
  }
}

std::optional<std::string> decode_file_name(Decoder& d, const Value& v, const std::string& path) {
  auto s = d.string(v, path);
  if (!s) {
    return std::nullopt;
  }
  std::string name(trim(*s));  // as cloud-init strips it
  if (auto problem = relative_name_problem(name); !problem.empty()) {
    d.error(v, path, problem);
    return std::nullopt;
  }
  return name;
}

void decode_configs(Decoder& d, const Value& list, const std::string& path,
                    const std::string& default_name, RsyslogConfig& cfg) {
  for (std::size_t i = 0; i < list.items.size(); ++i) {
    const Value& item = list.items[i];
    std::string at = path + "[" + std::to_string(i) + "]";
    if (item.is_scalar()) {
      add_entry(cfg.entries, default_name, item.scalar);
      continue;
    }
    if (!item.is_map()) {
      d.error(item, at,
              "expected a string or a map with content and filename, got " + item.type_name());
      continue;
    }
    d.unknown_keys(item, at, {"filename", "content"});
    const Value* content = item.get("content");
    if (content == nullptr) {
      d.error(item, at, "content is missing");
      continue;
    }
    auto text = d.string(*content, at + ".content");
    std::optional<std::string> name = default_name;
    if (const Value* filename = item.get("filename")) {
      name = decode_file_name(d, *filename, at + ".filename");
    }
    if (text && name) {
      add_entry(cfg.entries, *name, *text);
    }
  }
}

}  // namespace

std::string RsyslogRemote::line() const {
  std::string out = filter + " " + (tcp ? "@@" : "@");
  out += address.find(':') != std::string::npos ? "[" + address + "]" : address;
  if (port != 0) {
    out += ":" + std::to_string(port);
  }
  if (!name.empty()) {
    out += " # " + name;
  }
  return out;
}

Result<RsyslogRemote> parse_rsyslog_remote(std::string_view text, const std::string& name) {
  RsyslogRemote remote;
  if (has_control(text) || has_control(name)) {
    return error("a control character (a line break?) in a remote");
  }
  std::string data(text);
  std::string comment;
  if (std::size_t hash = data.find('#'); hash != std::string::npos) {
    std::size_t after = data.find_first_not_of("# ", hash);
    comment = after == std::string::npos ? "" : std::string(trim(data.substr(after)));
    data = data.substr(0, hash);
    if (comment.find('#') != std::string::npos) {
      return error("more than one '#' comment");
    }
  }
  remote.name = !name.empty() ? name : comment;
  std::vector<std::string> words;
  for (std::size_t i = 0; i < data.size();) {
    std::size_t b = data.find_first_not_of(" \t", i);
    if (b == std::string::npos) {
      break;
    }
    std::size_t e = data.find_first_of(" \t", b);
    words.push_back(data.substr(b, e == std::string::npos ? e : e - b));
    i = e == std::string::npos ? data.size() : e;
  }
  if (words.empty()) {
    return error("expected [filter] [@|@@]host[:port], got nothing");
  }
  if (words.size() > 2) {
    return error("expected [filter] [@|@@]host[:port], got " + std::to_string(words.size()) +
                 " words");
  }
  if (words.size() == 2) {
    if (!valid_filter(words[0])) {
      return error("'" + words[0] +
                   "' is not a selector (facility.priority, e.g. *.* or kern.warn;mail.none)");
    }
    remote.filter = words[0];
  }
  std::string host_port = words.back();
  std::size_t at_signs = host_port.find_first_not_of('@');
  if (at_signs == std::string::npos || at_signs > 2) {
    return error("'" + host_port + "' is not [@|@@]host[:port]");
  }
  remote.tcp = at_signs == 2;
  std::string rest = host_port.substr(at_signs);
  std::string port;
  if (!rest.empty() && rest.front() == '[') {
    std::size_t close = rest.find(']');
    if (close == std::string::npos) {
      return error("'" + host_port + "': an opening '[' without its ']'");
    }
    remote.address = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    if (!is_ipv6_address(remote.address)) {
      return error("'" + remote.address + "' in brackets is not an IPv6 address");
    }
  } else {
    std::size_t colon = rest.find(':');
    remote.address = rest.substr(0, colon);
    rest = colon == std::string::npos ? "" : rest.substr(colon);
    if (rest.find(':', 1) != std::string::npos) {
      return error("'" + host_port + "': an IPv6 address goes in brackets, as in @[fd00::1]:514");
    }
    if (!is_ipv4_address(remote.address) && !is_host_name(remote.address)) {
      return error(remote.address.empty()
                       ? "no host in '" + host_port + "'"
                       : "'" + remote.address + "' is not a host name or an IPv4 address");
    }
  }
  if (!rest.empty()) {
    port = rest.substr(1);
    if (rest.front() != ':' || port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) < 1 ||
        std::stoi(port) > 65535) {
      return error("'" + host_port + "': expected :port after the host, a port from 1 to 65535");
    }
    remote.port = std::stoi(port);
  }
  return remote;
}

std::optional<RsyslogConfig> decode_rsyslog(const Value& doc, Diagnostics& out) {
  const Value* v = doc.get("rsyslog");
  if (v == nullptr || v->is_null()) {
    return std::nullopt;  // not configured: no plan
  }
  Decoder d(out);
  RsyslogConfig cfg;
  std::string config_filename = "20-cloud-config.conf";
  if (v->is_sequence()) {
    d.warning(*v, "rsyslog", "a list is deprecated (cloud-init 22.2); use rsyslog.configs instead");
    decode_configs(d, *v, "rsyslog", config_filename, cfg);
    return d.failed() ? std::nullopt : std::optional<RsyslogConfig>(cfg);
  }
  if (!v->is_map()) {
    d.error(*v, "rsyslog", "expected a map (configs, remotes, ...), got " + v->type_name());
    return std::nullopt;
  }
  d.unknown_keys(*v, "rsyslog",
                 {"config_dir", "config_filename", "configs", "remotes", "service_reload_command",
                  "install_rsyslog", "check_exe", "packages"});
  if (const Value* dir = v->get("config_dir")) {
    if (auto s = d.string(*dir, "rsyslog.config_dir")) {
      std::string path = s->size() > 1 && s->back() == '/' ? s->substr(0, s->size() - 1) : *s;
      if (auto problem = absolute_path_problem(path); !problem.empty()) {
        d.error(*dir, "rsyslog.config_dir", problem);
      } else {
        cfg.config_dir = path;
      }
    }
  }
  if (const Value* name = v->get("config_filename")) {
    if (auto s = decode_file_name(d, *name, "rsyslog.config_filename")) {
      config_filename = *s;
    }
  }
  if (const Value* configs = v->get("configs"); configs != nullptr && !configs->is_null()) {
    if (d.list(*configs, "rsyslog.configs") != nullptr) {
      decode_configs(d, *configs, "rsyslog.configs", config_filename, cfg);
    }
  }
  if (const Value* remotes = v->get("remotes"); remotes != nullptr && !remotes->is_null()) {
    if (d.map(*remotes, "rsyslog.remotes") != nullptr && !remotes->entries.empty()) {
      std::string block = "# begin remotes\n";
      for (const auto& entry : remotes->entries) {
        std::string path = "rsyslog.remotes." + entry.key;
        if (entry.value.is_null()) {
          continue;  // cloud-init skips an empty remote
        }
        auto text = d.string(entry.value, path);
        if (!text || text->empty()) {
          continue;
        }
        auto remote = parse_rsyslog_remote(*text, entry.key);
        if (!remote) {
          d.error(entry.value, path, remote.error().message);
          continue;
        }
        block += remote->line() + "\n";
        cfg.remotes.push_back(*remote);
      }
      add_entry(cfg.entries, config_filename, block + "# end remotes\n");
    }
  }
  if (const Value* reload = v->get("service_reload_command")) {
    if (reload->is_scalar() && reload->scalar == "auto") {
      cfg.reload_command.clear();
    } else if (reload->is_sequence() && !reload->items.empty()) {
      for (std::size_t i = 0; i < reload->items.size(); ++i) {
        if (auto s = d.string(reload->items[i],
                              "rsyslog.service_reload_command[" + std::to_string(i) + "]")) {
          cfg.reload_command.push_back(*s);
        }
      }
    } else {
      d.error(*reload, "rsyslog.service_reload_command",
              "expected 'auto' or a command as a list (an argv), got " +
                  (reload->is_scalar() ? "'" + reload->scalar + "'" : reload->type_name()));
    }
  }
  if (const Value* install = v->get("install_rsyslog")) {
    cfg.install = d.boolean(*install, "rsyslog.install_rsyslog").value_or(false);
  }
  if (const Value* exe = v->get("check_exe")) {
    if (auto s = decode_check_exe(d, *exe, "rsyslog.check_exe")) {
      cfg.check_exe = *s;
    }
  }
  if (const Value* packages = v->get("packages")) {
    if (d.list(*packages, "rsyslog.packages") != nullptr) {
      cfg.packages.clear();
      for (std::size_t i = 0; i < packages->items.size(); ++i) {
        std::string path = "rsyslog.packages[" + std::to_string(i) + "]";
        auto name = d.string(packages->items[i], path);
        if (name && !valid_package_name(*name)) {
          d.error(packages->items[i], path, "'" + *name + "' is not a package name");
        } else if (name) {
          cfg.packages.push_back(*name);
        }
      }
    }
  }
  if (d.failed()) {
    return std::nullopt;
  }
  return cfg;
}

PlanResult plan_rsyslog(const RsyslogConfig& config, const Facts& facts) {
  PlanResult result;
  auto fail = [&](std::string message) {
    result.diagnostics.push_back({Diagnostic::Severity::Error, {}, "rsyslog", std::move(message)});
    return result;
  };
  bool have_rsyslog = !find_image_program(facts.system, config.check_exe).empty();
  // install_rsyslog as cloud-init does it: only when check_exe is missing.
  if (config.install && !have_rsyslog) {
    if (config.packages.empty()) {
      return fail("install_rsyslog: " + config.check_exe +
                  " is not on this image and packages is empty; nothing was written");
    }
    auto os = read_os_release(facts.system);
    if (!os) {
      return fail(
          "install_rsyslog: neither /etc/os-release nor /usr/lib/os-release exists: "
          "cannot tell which package manager this image uses; nothing was written");
    }
    ManagerChoice choice = choose_package_manager(*os, facts.system);
    if (choice.manager == nullptr) {
      return fail("install_rsyslog: " + choice.why + "; nothing was written");
    }
    ManagePackages install{.manager = choice.manager->name, .label = "rsyslog: install_rsyslog"};
    for (const auto& name : config.packages) {
      install.packages.push_back({name, ""});
    }
    result.actions.push_back(install);
    have_rsyslog = true;
  }
  int written = 0;
  for (const auto& file : config.entries) {
    std::string path = config.config_dir + "/" + file.filename;
    if (facts.system.read_text(path) == file.content) {
      continue;  // as it is: nothing to reload for it
    }
    result.actions.push_back(
        WriteFile{path, file.content, 0644, "root:root", false, "rsyslog: " + path});
    ++written;
  }
  if (written == 0) {
    result.summary = config.entries.empty() ? "no configuration" : "configuration unchanged";
    return result;
  }
  if (!config.reload_command.empty() || have_rsyslog) {
    result.actions.push_back(reload_action(config, "rsyslog"));
  } else {
    result.diagnostics.push_back(
        {Diagnostic::Severity::Warning,
         {},
         "rsyslog",
         config.check_exe + " is not on this image: the files are written, no service is reloaded "
                            "(install_rsyslog: true installs it)"});
  }
  result.summary =
      std::to_string(written) + " file(s) in " + config.config_dir +
      (config.remotes.empty() ? "" : ", " + std::to_string(config.remotes.size()) + " remote(s)");
  return result;
}

PlanResult plan_rsyslog_after_ca_certs(const RsyslogConfig& config, const Facts& facts) {
  PlanResult result;
  if (config.entries.empty()) {
    result.summary = "no configuration";
  } else if (!ca_certs_added(facts.system)) {
    result.summary = "no certificate from ca_certs: nothing to read again";
  } else if (config.reload_command.empty() &&
             find_image_program(facts.system, config.check_exe).empty()) {
    result.summary = config.check_exe + " is not on this image: nothing to reload";
  } else {
    result.actions.push_back(reload_action(config, "rsyslog_after_ca_certs"));
    result.summary = "reloaded, so it reads the certificates ca_certs added";
  }
  return result;
}

}  // namespace amiboot
