#include "modules/module.h"

#include "modules/package_managers.h"

#include <cstdio>

namespace amiboot {

std::string_view stage_name(Stage stage) {
  return stage == Stage::Init ? "init" : "final";
}

std::string_view frequency_name(Frequency frequency) {
  switch (frequency) {
    case Frequency::PerBoot:
      return "per-boot";
    case Frequency::PerInstance:
      return "per-instance";
    case Frequency::Once:
      return "once";
  }
  return "?";
}

namespace {

std::string octal(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode));
  return buf;
}

}  // namespace

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
    out += plain ? arg : nlohmann::json(arg).dump();
  }
  return out;
}

std::vector<std::string> split_colon_fields(std::string_view line) {
  std::vector<std::string> fields;
  std::size_t start = 0;
  for (std::size_t colon; (colon = line.find(':', start)) != std::string_view::npos;
       start = colon + 1) {
    fields.emplace_back(line.substr(start, colon - start));
  }
  fields.emplace_back(line.substr(start));
  return fields;
}

std::string describe(const Action& action) {
  if (const auto* w = std::get_if<WriteFile>(&action)) {
    return std::string(w->append ? "append " : "write ") + w->path + " (" +
           std::to_string(w->content.size()) + " bytes, mode " + octal(w->mode) + ", owner " +
           w->owner + ")";
  }
  if (const auto* r = std::get_if<RunCommand>(&action)) {
    return "run " + quote_argv(r->argv);
  }
  if (const auto* d = std::get_if<RemoveFile>(&action)) {
    return "remove " + d->path;
  }
  if (const auto* h = std::get_if<HttpRequest>(&action)) {
    return h->method + " " + std::to_string(h->body.size()) + " bytes (" + h->label + ")";
  }
  if (const auto* d = std::get_if<MakeDir>(&action)) {
    return "mkdir " + d->path + " (mode " + octal(d->mode) + ", owner " + d->owner + ")";
  }
  if (const auto* p = std::get_if<ManagePackages>(&action)) {
    // The commands as the manager will first run them (retries and
    // fallbacks aside).
    const PackageManager* m = find_package_manager(p->manager);
    if (m == nullptr) {
      return "packages via unknown manager " + p->manager;
    }
    std::string out;
    for (auto [step, wanted] : {std::pair{PackageStep::Update, p->update || p->upgrade},
                                {PackageStep::Upgrade, p->upgrade},
                                {PackageStep::Install, !p->packages.empty()}}) {
      if (wanted) {
        out += (out.empty() ? "" : "; ") +
               quote_argv(package_argv(*m, step, p->packages, p->lock_timeout_seconds));
      }
    }
    return out + (p->reboot_if_required ? " (then reboot if required)" : "");
  }
  const auto& m = std::get<ConsoleMessage>(action);
  return "console " + nlohmann::json(m.text).dump();
}

nlohmann::json action_to_json(const Action& action) {
  if (const auto* w = std::get_if<WriteFile>(&action)) {
    return {{"action", w->append ? "append" : "write"},
            {"path", w->path},
            {"bytes", w->content.size()},
            {"mode", octal(w->mode)},
            {"owner", w->owner},
            {"label", w->label}};
  }
  if (const auto* r = std::get_if<RunCommand>(&action)) {
    return {{"action", "run"}, {"argv", r->argv}, {"label", r->label}};
  }
  if (const auto* d = std::get_if<RemoveFile>(&action)) {
    return {{"action", "remove"}, {"path", d->path}, {"label", d->label}};
  }
  if (const auto* h = std::get_if<HttpRequest>(&action)) {
    // The URL is pre-signed: it is a secret, like the user data it came from.
    return {
        {"action", "http"}, {"method", h->method}, {"bytes", h->body.size()}, {"label", h->label}};
  }
  if (const auto* d = std::get_if<MakeDir>(&action)) {
    return {{"action", "mkdir"},
            {"path", d->path},
            {"mode", octal(d->mode)},
            {"owner", d->owner},
            {"label", d->label}};
  }
  if (const auto* p = std::get_if<ManagePackages>(&action)) {
    nlohmann::json packages = nlohmann::json::array();
    for (const auto& spec : p->packages) {
      packages.push_back({{"name", spec.name}, {"version", spec.version}});
    }
    return {{"action", "packages"},  {"manager", p->manager},
            {"packages", packages},  {"update", p->update},
            {"upgrade", p->upgrade}, {"reboot_if_required", p->reboot_if_required},
            {"label", p->label}};
  }
  return {{"action", "console"}, {"text", std::get<ConsoleMessage>(action).text}};
}

}  // namespace amiboot
