// SPDX-License-Identifier: Apache-2.0
// Describing actions for --dry-run, status and the journal.
#include "modules/actions.h"

#include "agent/core/json_text.h"
#include "agent/core/strings.h"
#include "agent/core/user_data.h"
#include "modules/package_managers.h"

namespace amiboot {

// Commands are shown with their argv, as they will run; user data that holds
// a secret in a command line is visible to `ps` anyway.
std::string quote_argv(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& arg : argv) {
    if (!out.empty()) {
      out += ' ';
    }
    bool plain =
        !arg.empty() && arg.find_first_of(" \t\n'\"\\$`;&|<>*?()[]{}#~") == std::string::npos;
    out += plain ? arg : json_text(nlohmann::json(arg));
  }
  return out;
}

std::string shown_url(const std::string& url) {
  return redact_url(url);
}

std::string url_host(const std::string& url) {
  std::string shown = redact_url(url);
  std::size_t scheme = shown.find("://");
  if (scheme == std::string::npos) {
    return "";
  }
  std::size_t start = scheme + 3;
  return shown.substr(start, shown.find_first_of("/?", start) - start);
}

namespace {

std::vector<std::string> header_names(const FetchFile& f) {
  std::vector<std::string> names;
  for (const auto& [name, value] : f.headers) {
    names.push_back(name);
  }
  return names;
}

// Paths on the target system are shown as {root}/path: the plan does not
// know the root, and the reader sees which arguments the executor maps.
std::vector<std::string> shown_argv(const RunCommand& r) {
  std::vector<std::string> argv = r.argv;
  for (std::size_t i : r.target_paths) {
    if (i < argv.size()) {
      argv[i] = "{root}" + argv[i];
    }
  }
  return argv;
}

// The commands as the manager will first run them (retries and fallbacks aside).
std::string describe_packages(const ManagePackages& p) {
  const PackageManager* m = find_package_manager(p.manager);
  if (m == nullptr) {
    return "packages via unknown manager " + p.manager;
  }
  std::string out;
  for (auto [step, wanted] : {std::pair{PackageStep::Update, p.update || p.upgrade},
                              {PackageStep::Upgrade, p.upgrade},
                              {PackageStep::Install, !p.packages.empty()}}) {
    if (wanted) {
      out += (out.empty() ? "" : "; ") +
             quote_argv(package_argv(*m, step, p.packages, p.lock_timeout_seconds));
    }
  }
  return out + (p.reboot_if_required ? " (then reboot if required)" : "");
}

// Each overload set lists every Action type: std::visit does not compile
// when a new action is left out.
template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

}  // namespace

std::vector<std::string> action_paths(const std::vector<Action>& actions) {
  std::vector<std::string> out;
  auto one = [&out](const std::string& path) { out.push_back(path); };
  for (const auto& action : actions) {
    std::visit(Overloaded{
                   [&](const WriteFile& w) { one(w.path); },
                   [&](const FetchFile& f) { one(f.path); },
                   [&](const RemoveFile& r) { one(r.path); },
                   [&](const MakeDir& d) { one(d.path); },
                   [&](const MakeSymlink& l) { one(l.link); },
                   [&](const RunCommand& c) {
                     for (std::size_t i : c.target_paths) {
                       one(c.argv.at(i));
                     }
                     if (!c.output_path.empty()) {
                       one(c.output_path);
                     }
                   },
                   // No path named: kernel state, packages, the network, the
                   // disk's partition table, or files the module lists itself.
                   [](const ConsoleMessage&) {},
                   [](const HttpRequest&) {},
                   [](const ManagePackages&) {},
                   [](const SetRandomPasswords&) {},
                   [](const ChangePowerState&) {},
                   [](const GrowPartition&) {},
                   [](const MakePartitionTable&) {},
                   [](const SetHostname&) {},
               },
               action);
  }
  return out;
}

bool redo_safe(const Action& action) {
  // Each case on its own, so that a new action type must be judged here.
  return std::visit(Overloaded{
                        // A whole file in one rename, or none: the same again.
                        [](const WriteFile& w) { return !w.append; },
                        [](const RemoveFile&) { return true; },
                        [](const MakeDir&) { return true; },
                        [](const MakeSymlink&) { return true; },
                        [](const SetHostname&) { return true; },
                        // What a command, a request, a package manager or a
                        // disk tool did is not known to be the same twice;
                        // new random passwords, a second power-off or a
                        // second console message would not be either.
                        // A download counts against write_files' budget as
                        // recorded (agent/fetch_ledger.h): not fetched twice.
                        [](const FetchFile&) { return false; },
                        [](const RunCommand&) { return false; },
                        [](const ConsoleMessage&) { return false; },
                        [](const HttpRequest&) { return false; },
                        [](const ManagePackages&) { return false; },
                        [](const SetRandomPasswords&) { return false; },
                        [](const ChangePowerState&) { return false; },
                        [](const GrowPartition&) { return false; },
                        [](const MakePartitionTable&) { return false; },
                    },
                    action);
}

std::string describe(const Action& action) {
  return std::visit(
      Overloaded{
          [](const WriteFile& w) {
            return std::string(w.append ? "append " : "write ") + w.path + " (" +
                   std::to_string(w.content.size()) + " bytes, mode " + octal_mode(w.mode) +
                   ", owner " + w.owner + ")";
          },
          [](const RunCommand& r) {
            return "run " + quote_argv(shown_argv(r)) +
                   (r.output_path.empty() ? "" : " > " + quote_argv({"{root}" + r.output_path}));
          },
          [](const RemoveFile& d) { return "remove " + d.path; },
          [](const MakeSymlink& l) { return "link " + l.link + " -> " + l.target; },
          [](const HttpRequest& h) {
            return h.method + " " + std::to_string(h.body.size()) + " bytes (" + h.label + ")";
          },
          [](const MakeDir& d) {
            return d.if_missing ? "mkdir -p " + d.path
                                : "mkdir " + d.path + " (mode " + octal_mode(d.mode) + ", owner " +
                                      d.owner + ")";
          },
          [](const ManagePackages& p) { return describe_packages(p); },
          [](const ConsoleMessage& m) { return "console " + json_text(nlohmann::json(m.text)); },
          [](const SetHostname& h) { return "set the running hostname to " + h.name; },
          [](const SetRandomPasswords& r) {
            std::string users;
            for (const auto& u : r.users) {
              users += (users.empty() ? "" : ", ") + u;
            }
            return "set random passwords for " + users + " with " +
                   quote_argv(shown_argv(r.chpasswd)) + " (shown on the console only)";
          },
          [](const ChangePowerState& p) {
            std::string out = "after the final stage, its status written: ";
            if (p.condition) {
              out += "if " + quote_argv(p.condition->argv) + " exits 0, ";
            }
            out += p.mode + ": run " + quote_argv(p.command.argv);
            if (p.fallback) {
              out += " (if that fails: " + quote_argv(p.fallback->argv) + ")";
            }
            return out;
          },
          [](const GrowPartition& g) {
            return "grow partition " + std::to_string(g.number) + " of " + g.disk + " (" + g.table +
                   ") from " + std::to_string(g.old_size) + " to " + std::to_string(g.new_size) +
                   " sectors (" + size_text(g.old_size * g.sector_size) + " to " +
                   size_text(g.new_size * g.sector_size) + ")";
          },
          [](const MakePartitionTable& t) {
            std::string parts;
            for (const auto& p : t.partitions) {
              parts += std::string(parts.empty() ? "" : ", ") +
                       (p.size == 0 ? "the rest" : size_text(p.size)) + " " + p.type;
            }
            return std::string(t.overwrite ? "destroy everything on " : "partition ") + t.disk +
                   (t.overwrite ? " and partition it" : "") + ": " + t.table + ", " + parts;
          },
          [](const FetchFile& f) {
            std::string out =
                std::string(f.append ? "append " : "write ") + f.path + " from " + shown_url(f.url);
            if (!f.headers.empty()) {
              std::string names;
              for (const auto& name : header_names(f)) {
                names += (names.empty() ? "" : ", ") + name;
              }
              out += " (headers " + names + ")";
            }
            out += " (mode " + octal_mode(f.mode) + ", owner " + f.owner + "; ";
            return out +
                   (f.fallback ? "else " + std::to_string(f.fallback->size()) + " bytes given"
                               : "nothing written if the fetch fails") +
                   ")";
          },
      },
      action);
}

nlohmann::json action_to_json(const Action& action) {
  using nlohmann::json;
  return std::visit(
      Overloaded{
          [](const WriteFile& w) -> json {
            return {{"action", w.append ? "append" : "write"},
                    {"path", w.path},
                    {"bytes", w.content.size()},
                    {"mode", octal_mode(w.mode)},
                    {"owner", w.owner},
                    {"label", w.label}};
          },
          [](const RunCommand& r) -> json {
            json j = {{"action", "run"}, {"argv", shown_argv(r)}, {"label", r.label}};
            if (!r.output_path.empty()) {
              j["output_path"] = r.output_path;
            }
            return j;
          },
          [](const RemoveFile& d) -> json {
            return {{"action", "remove"}, {"path", d.path}, {"label", d.label}};
          },
          [](const MakeSymlink& l) -> json {
            return {
                {"action", "symlink"}, {"path", l.link}, {"target", l.target}, {"label", l.label}};
          },
          [](const HttpRequest& h) -> json {
            // The URL is pre-signed: it is a secret, like the user data it came from.
            return {{"action", "http"},
                    {"method", h.method},
                    {"bytes", h.body.size()},
                    {"label", h.label}};
          },
          [](const MakeDir& d) -> json {
            json j = {{"action", "mkdir"},
                      {"path", d.path},
                      {"mode", octal_mode(d.mode)},
                      {"owner", d.owner},
                      {"label", d.label}};
            if (d.if_missing) {
              j["if_missing"] = true;
            }
            return j;
          },
          [](const ManagePackages& p) -> json {
            json packages = json::array();
            for (const auto& spec : p.packages) {
              packages.push_back({{"name", spec.name}, {"version", spec.version}});
            }
            return {{"action", "packages"}, {"manager", p.manager},
                    {"packages", packages}, {"update", p.update},
                    {"upgrade", p.upgrade}, {"reboot_if_required", p.reboot_if_required},
                    {"label", p.label}};
          },
          [](const ConsoleMessage& m) -> json {
            return {{"action", "console"}, {"text", m.text}};
          },
          [](const SetHostname& h) -> json {
            return {{"action", "set_hostname"}, {"name", h.name}, {"label", h.label}};
          },
          [](const SetRandomPasswords& r) -> json {
            return {{"action", "random_passwords"},
                    {"users", r.users},
                    {"argv", shown_argv(r.chpasswd)},
                    {"label", r.chpasswd.label}};
          },
          [](const ChangePowerState& p) -> json {
            json j = {{"action", "power_state"},  {"mode", p.mode},
                      {"condition", nullptr},     {"argv", p.command.argv},
                      {"fallback_argv", nullptr}, {"label", p.command.label}};
            if (p.condition) {
              j["condition"] = p.condition->argv;
            }
            if (p.fallback) {
              j["fallback_argv"] = p.fallback->argv;
            }
            return j;
          },
          [](const GrowPartition& g) -> json {
            return {{"action", "grow_partition"},
                    {"disk", g.disk},
                    {"number", g.number},
                    {"table", g.table},
                    {"sector_size", g.sector_size},
                    {"start", g.start},
                    {"old_size", g.old_size},
                    {"new_size", g.new_size},
                    {"label", g.label}};
          },
          [](const MakePartitionTable& t) -> json {
            json parts = json::array();
            for (const auto& p : t.partitions) {
              parts.push_back({{"start", p.start}, {"size", p.size}, {"type", p.type}});
            }
            return {{"action", "partition_table"}, {"disk", t.disk},           {"table", t.table},
                    {"partitions", parts},         {"overwrite", t.overwrite}, {"label", t.label}};
          },
          [](const FetchFile& f) -> json {
            // The query and header values may be credentials.
            json fallback;
            if (f.fallback) {
              fallback = f.fallback->size();
            }
            return {{"action", f.append ? "append" : "write"},
                    {"path", f.path},
                    {"source", shown_url(f.url)},
                    {"headers", header_names(f)},
                    {"fallback_bytes", fallback},
                    {"mode", octal_mode(f.mode)},
                    {"owner", f.owner},
                    {"label", f.label}};
          },
      },
      action);
}

}  // namespace amiboot
