#include "agent/executor.h"

#include <syslog.h>
#include <unistd.h>

#include <cstdio>
#include <thread>
#include <type_traits>

#include "agent/http.h"
#include "agent/retry.h"
#include "modules/packages.h"

namespace amiboot {

namespace {

Status apply(const WriteFile& w, ExecContext& ctx) {
  FileAttrs attrs;
  attrs.mode = w.mode;
  if (w.owner != "root" && w.owner != "root:root" && w.owner != "0:0") {
    auto ids = ctx.system.lookup_owner(w.owner);
    if (!ids) {
      return error(w.label + ": " + ids.error().message);
    }
    attrs.uid = ids->first;
    attrs.gid = ids->second;
  } else {
    attrs.uid = 0;
    attrs.gid = 0;
  }
  if (!w.check_argv.empty()) {
    attrs.check = [&](const std::string& temp) -> Status {
      CommandSpec spec;
      for (const auto& arg : w.check_argv) {
        spec.argv.push_back(arg == "{}" ? temp : arg);
      }
      spec.journal_fields = ctx.fields;
      auto outcome = ctx.system.run(spec);
      // No label here: the caller below prefixes write errors with it.
      if (!outcome) {
        return error(outcome.error().message);
      }
      if (outcome->exit_code != 0) {
        return error(w.check_argv[0] + " rejected the new " + w.path + " (exit status " +
                     std::to_string(outcome->exit_code) + "); the old file is unchanged");
      }
      return {};
    };
  }
  std::string content = w.content;
  if (w.append && ctx.system.exists(w.path)) {
    // Appending by rewriting keeps the change atomic: readers see the old
    // file or the new one, never half a write.
    auto existing = ctx.system.read_file(w.path);
    if (!existing) {
      return error(w.label + ": " + existing.error().message);
    }
    content = *existing + content;
  }
  if (auto st = ctx.system.write_file(w.path, content, attrs); !st) {
    return error(w.label + ": " + st.error().message);
  }
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(w.mode));
  journal_send(LOG_INFO, "amiboot",
               std::string(w.append ? "appended to " : "wrote ") + w.path + " (" +
                   std::to_string(w.content.size()) + " bytes, mode " + mode + ", owner " +
                   w.owner + ")",
               ctx.fields);
  return {};
}

Status apply(const RemoveFile& d, ExecContext& ctx) {
  if (!ctx.system.exists(d.path)) {
    return {};
  }
  if (auto st = ctx.system.remove_all(d.path); !st) {
    return error(d.label + ": " + st.error().message);
  }
  journal_send(LOG_INFO, "amiboot", "removed " + d.path, ctx.fields);
  return {};
}

Status apply(const HttpRequest& h, ExecContext& ctx) {
  std::string last;
  for (int attempt = 1; attempt <= h.attempts; ++attempt) {
    auto st = http_send(h.method, h.url, h.body, h.content_type);
    if (st) {
      journal_send(LOG_INFO, "amiboot", h.label + ": sent", ctx.fields);
      return {};
    }
    last = st.error().message;
    journal_send(LOG_WARNING, "amiboot",
                 h.label + ": attempt " + std::to_string(attempt) + " failed: " + last, ctx.fields);
    if (attempt < h.attempts) {
      std::this_thread::sleep_for(std::chrono::milliseconds(h.retry_delay_ms) * attempt);
    }
  }
  return error(h.label + ": gave up after " + std::to_string(h.attempts) + " attempts: " + last);
}

Status apply(const RunCommand& r, ExecContext& ctx) {
  if (r.skip_under_root && ctx.system.under_root()) {
    journal_send(LOG_INFO, "amiboot", r.label + ": skipped under --root", ctx.fields);
    return {};
  }
  CommandSpec spec;
  spec.argv = r.argv;
  if (r.map_root) {
    std::string root = ctx.system.under_root() ? ctx.system.root() : "";
    for (auto& arg : spec.argv) {
      for (auto at = arg.find("{root}"); at != std::string::npos; at = arg.find("{root}", at)) {
        arg.replace(at, 6, root);
        at += root.size();
      }
    }
  }
  if (ctx.system.under_root() && !r.root_args.empty()) {
    std::vector<std::string> extra;
    for (const auto& a : r.root_args) {
      extra.push_back(a == "{root}" ? ctx.system.root() : a);
    }
    spec.argv.insert(spec.argv.begin() + 1, extra.begin(), extra.end());
  }
  spec.input = r.input;
  spec.to_console = r.to_console;
  if (r.instance_program) {
    auto host = ctx.system.resolve(r.argv[0]);
    if (!host) {
      return error(r.label + ": " + host.error().message);
    }
    spec.argv[0] = *host;
  }
  spec.env["INSTANCE_ID"] = ctx.instance_id;
  // Lets user commands find the sandbox root in tests and image builds
  // ("" on a real instance, so "$AMIBOOT_ROOT/etc" is "/etc").
  spec.env["AMIBOOT_ROOT"] = ctx.system.under_root() ? ctx.system.root() : "";
  spec.journal_fields = ctx.fields;
  // The label, not the argv: commands can carry secrets from user data.
  journal_send(LOG_INFO, "amiboot", "running " + r.label, ctx.fields);
  auto outcome = ctx.system.run(spec);
  if (!outcome) {
    return error(r.label + ": " + outcome.error().message);
  }
  if (outcome->exit_code != 0) {
    return error(r.label + " exited with status " + std::to_string(outcome->exit_code));
  }
  journal_send(LOG_INFO, "amiboot", r.label + " exited with status 0", ctx.fields);
  return {};
}

Status apply(const MakeDir& d, ExecContext& ctx) {
  FileAttrs attrs;
  attrs.mode = d.mode;
  attrs.uid = 0;
  attrs.gid = 0;
  if (d.owner != "root" && d.owner != "root:root" && d.owner != "0:0") {
    // Looked up now, not at plan time: the user may be created by an
    // earlier action of the same module.
    auto ids = ctx.system.lookup_owner(d.owner);
    if (!ids) {
      return error(d.label + ": " + ids.error().message);
    }
    attrs.uid = ids->first;
    attrs.gid = ids->second;
  }
  if (auto st = ctx.system.make_owned_dir(d.path, attrs); !st) {
    return error(d.label + ": " + st.error().message);
  }
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(d.mode));
  journal_send(LOG_INFO, "amiboot",
               "folder " + d.path + " (mode " + mode + ", owner " + d.owner + ")", ctx.fields);
  return {};
}

// The package manager of the image: in a --root sandbox, the sandbox's own
// (chroot), so its dpkg database and configuration are the ones changed.
Result<CommandOutcome> run_package_command(std::vector<std::string> argv,
                                           const PackageManager& manager, const ManagePackages& p,
                                           ExecContext& ctx) {
  CommandSpec spec;
  if (ctx.system.under_root()) {
    argv.insert(argv.begin(), {"chroot", ctx.system.root()});
  }
  spec.argv = std::move(argv);
  for (const auto& [key, value] : package_env(manager, p.lock_timeout_seconds)) {
    spec.env[key] = value;
  }
  spec.identifier = manager.program;
  spec.journal_fields = ctx.fields;
  spec.capture_output = true;
  return ctx.system.run(spec);
}

bool reboot_needed(const PackageManager& manager, const ManagePackages& p, ExecContext& ctx) {
  if (!manager.reboot_file.empty() && ctx.system.exists(manager.reboot_file)) {
    journal_send(LOG_NOTICE, "amiboot", p.label + ": " + manager.reboot_file + " exists",
                 ctx.fields);
    return true;
  }
  if (manager.reboot_check.empty()) {
    return false;
  }
  auto outcome = run_package_command(manager.reboot_check, manager, p, ctx);
  if (!outcome || outcome->exit_code == 127) {
    journal_send(LOG_WARNING, "amiboot",
                 p.label + ": cannot tell whether a reboot is needed: " + manager.reboot_check[0] +
                     " did not run",
                 ctx.fields);
    return false;
  }
  return outcome->exit_code == manager.reboot_exit_code &&
         outcome->output.find(manager.reboot_pattern) != std::string::npos;
}

void apply(const ManagePackages& p, ExecContext& ctx, ExecOutcome& result) {
  const PackageManager* manager = find_package_manager(p.manager);
  if (manager == nullptr) {
    result.errors.push_back(p.label + ": unknown package manager " + p.manager);
    return;
  }
  // apt-get and zypper wait for their lock themselves (lock_timeout_seconds);
  // these waits are for the network and for locks they gave up on.
  Backoff backoff(RetryPolicy{.initial = std::chrono::seconds(2), .cap = std::chrono::seconds(30)});
  PackageSession session(*manager, p);
  auto notes = [&] {
    for (const auto& note : session.take_notes()) {
      journal_send(LOG_WARNING, "amiboot", p.label + ": " + note, ctx.fields);
    }
  };
  while (auto command = session.next()) {
    if (command->retry > 0) {
      auto delay = backoff.delay(command->retry - 1);
      journal_send(LOG_INFO, "amiboot",
                   p.label + ": try " + std::to_string(command->retry + 1) + " of " +
                       std::to_string(p.attempts) + " in " + std::to_string(delay.count()) + " ms",
                   ctx.fields);
      std::this_thread::sleep_for(delay);
    }
    journal_send(LOG_INFO, "amiboot", p.label + ": running " + quote_argv(command->argv),
                 ctx.fields);
    auto outcome = run_package_command(command->argv, *manager, p, ctx);
    if (!outcome) {
      session.record(127, outcome.error().message);
    } else {
      session.record(outcome->exit_code, outcome->output);
    }
    notes();
  }
  for (const auto& e : session.errors()) {
    journal_send(LOG_ERR, "amiboot", p.label + ": " + e, ctx.fields);
    result.errors.push_back(e);
  }
  if (p.reboot_if_required && session.changed() && reboot_needed(*manager, p, ctx)) {
    journal_send(LOG_NOTICE, "amiboot",
                 p.label + ": a reboot is required; rebooting at the end of the final stage",
                 ctx.fields);
    result.reboot_required = true;
  }
}

Status apply(const ConsoleMessage& m, ExecContext& ctx) {
  // stdout is the console under the unit's StandardOutput=journal+console.
  std::string line = m.text + "\n";
  (void)!write(STDOUT_FILENO, line.data(), line.size());
  return {};
}

}  // namespace

ExecOutcome execute(const std::vector<Action>& actions, ExecContext& context) {
  ExecOutcome outcome;
  for (std::size_t i = 0; i < actions.size(); ++i) {
    if (const auto* p = std::get_if<ManagePackages>(&actions[i])) {
      // Several errors (one per missing package), each its own line.
      apply(*p, context, outcome);
      continue;
    }
    Status st = std::visit(
        [&](const auto& a) -> Status {
          if constexpr (std::is_same_v<std::decay_t<decltype(a)>, ManagePackages>) {
            return {};  // handled above
          } else {
            return apply(a, context);
          }
        },
        actions[i]);
    if (st) {
      continue;
    }
    journal_send(LOG_ERR, "amiboot", st.error().message, context.fields);
    outcome.errors.push_back(st.error().message);
    const auto* run = std::get_if<RunCommand>(&actions[i]);
    const auto* file = std::get_if<WriteFile>(&actions[i]);
    bool required = (run != nullptr && run->required) || (file != nullptr && file->required);
    if (required && i + 1 < actions.size()) {
      outcome.errors.push_back("skipped the remaining " + std::to_string(actions.size() - i - 1) +
                               " action(s) of this module");
      break;
    }
  }
  return outcome;
}

}  // namespace amiboot
