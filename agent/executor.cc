// SPDX-License-Identifier: Apache-2.0
#include "agent/executor.h"

#include <syslog.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <random>
#include <string_view>

#include "agent/core/codecs.h"
#include "agent/core/strings.h"
#include "agent/retry.h"
#include "modules/openpgp_key.h"
#include "modules/package_run.h"

namespace amiboot {

namespace {

/// The uid and gid of an action's `user[:group]` owner into attrs: root
/// without a lookup, anyone else from the instance's passwd and group files
/// when the action runs, not at plan time, since an earlier action of the
/// same module may create the user.
Status resolve_owner(const std::string& owner, const std::string& label, const System& system,
                     FileAttrs& attrs) {
  attrs.uid = 0;
  attrs.gid = 0;
  if (owner == "root" || owner == "root:root" || owner == "0:0") {
    return {};
  }
  auto ids = system.lookup_owner(owner);
  if (!ids) {
    return error(label + ": " + ids.error().message);
  }
  attrs.uid = ids->first;
  attrs.gid = ids->second;
  return {};
}

// The line of `file` a checker's output says it rejected: "FILE:8:18:
// syntax error" (sudo 1.9), ">>> FILE: syntax error near line 8 <<<" (sudo
// 1.8, Amazon Linux 2 and RHEL 8); 0 when it names none.
int rejected_line(const std::string& output, const std::string& file) {
  auto number_at = [&](std::size_t at) {
    int line = 0;
    for (; at < output.size() && std::isdigit(static_cast<unsigned char>(output[at])) != 0; ++at) {
      line = line * 10 + (output[at] - '0');
      if (line > 10'000'000) {
        return 0;
      }
    }
    return line;
  };
  for (std::size_t at = 0; at < output.size();) {
    std::size_t end = output.find('\n', at);
    std::string_view line(output.data() + at,
                          (end == std::string::npos ? output.size() : end) - at);
    if (line.starts_with(file + ":")) {
      if (int n = number_at(at + file.size() + 1); n > 0) {
        return n;
      }
    }
    if (auto near = line.find("near line "); near != std::string_view::npos) {
      if (int n = number_at(at + near + 10); n > 0) {
        return n;
      }
    }
    at = end == std::string::npos ? output.size() : end + 1;
  }
  return 0;
}

Status apply(const WriteFile& w, ExecContext& ctx) {
  FileAttrs attrs;
  attrs.mode = w.mode;
  attrs.durable = w.durable;
  if (auto st = resolve_owner(w.owner, w.label, ctx.system, attrs); !st) {
    return st;
  }
  if (!w.check_argv.empty()) {
    attrs.check = [&](const std::string& temp) -> Status {
      CommandSpec spec;
      for (const auto& arg : w.check_argv) {
        spec.argv.push_back(arg == "{}" ? temp : arg);
      }
      spec.journal_fields = ctx.fields;
      spec.capture_output = !w.check_line_sources.empty();
      auto outcome = ctx.system.run(spec);
      // No label here: the caller below prefixes write errors with it.
      if (!outcome) {
        return error(outcome.error().message);
      }
      if (outcome->exit_code != 0) {
        std::string what = "the new " + w.path;
        int line = rejected_line(outcome->output, temp);
        if (auto it = w.check_line_sources.find(line); it != w.check_line_sources.end()) {
          what = "line " + std::to_string(line) + " of " + what + ", from " + it->second;
        }
        return error(w.check_argv[0] + " rejected " + what + " (exit status " +
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
  journal_send(LOG_INFO, "amiboot",
               std::string(w.append ? "appended to " : "wrote ") + w.path + " (" +
                   std::to_string(w.content.size()) + " bytes, mode " + octal_mode(w.mode) +
                   ", owner " + w.owner + ")",
               ctx.fields);
  return {};
}

bool is_file_url(const std::string& url) {
  std::string scheme = lowercase(url.substr(0, 8));
  return scheme == "file:///";
}

/// The source's content: a file on the target (mapped under the root), or
/// an HTTP GET tried f.attempts times on the system clock. Errors name the
/// host, never the URL's path, query or the header values.
// Retries of HttpRequest and FetchFile: counted, and bounded in time.
bool past_retry_deadline(const ExecContext& ctx, std::chrono::system_clock::time_point started,
                         std::chrono::milliseconds delay) {
  return ctx.system.now() + delay > started + ctx.http_retry_deadline;
}

// Said with the first retry only.
std::string retry_deadline_note(const ExecContext& ctx, int attempt) {
  return attempt == 1
             ? "; will try for up to " + std::to_string(ctx.http_retry_deadline.count()) + " s"
             : "";
}

Result<std::string> fetch_source(const FetchFile& f, ExecContext& ctx) {
  if (is_file_url(f.url)) {
    std::string path = f.url.substr(7);
    path = path.substr(0, path.find_first_of("?#"));
    auto content = ctx.system.read_file(path, f.max_bytes);
    if (!content) {
      return content.error();
    }
    return content;
  }
  std::string host = url_host(f.url);
  std::string last;
  const auto started = ctx.system.now();
  const int attempts = std::max(f.attempts, 1);
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    auto body = ctx.system.http_get(f.url, f.headers, f.max_bytes);
    if (body) {
      return body;
    }
    last = body.error().message;
    std::string line = f.label + ": fetching from " + host + ", attempt " +
                       std::to_string(attempt) + " failed: " + last;
    if (attempt == attempts) {
      journal_send(LOG_WARNING, "amiboot", line, ctx.fields);
      break;
    }
    const std::chrono::milliseconds delay(f.retry_delay_ms);
    if (past_retry_deadline(ctx, started, delay)) {
      journal_send(LOG_WARNING, "amiboot", line, ctx.fields);
      return error("could not fetch from " + host + " (" + std::to_string(attempt) +
                   " attempts, no more before the " +
                   std::to_string(ctx.http_retry_deadline.count()) + " s retry deadline): " + last);
    }
    journal_send(LOG_WARNING, "amiboot", line + retry_deadline_note(ctx, attempt), ctx.fields);
    ctx.system.sleep_for(delay);
  }
  return error("could not fetch from " + host + " (" + std::to_string(attempts) +
               " attempts): " + last);
}

/// The entry written from `content`, the source's (already fetched) or its
/// error.
Status apply_fetched(const FetchFile& f, Result<std::string> content, ExecContext& ctx) {
  WriteFile write{
      .path = f.path, .mode = f.mode, .owner = f.owner, .append = f.append, .label = f.label};
  if (content && !f.openpgp_keyid.empty()) {
    if (auto why = openpgp_keyid_problem(*content, f.openpgp_keyid)) {
      return error(f.label + ": " + *why + "; " + f.path + " not written");
    }
  }
  if (content) {
    write.content = std::move(*content);
    journal_send(LOG_INFO, "amiboot",
                 f.label + ": fetched " + std::to_string(write.content.size()) + " bytes from " +
                     shown_url(f.url),
                 ctx.fields);
  } else if (f.fallback) {
    // cloud-init's fallback: the entry's own content.
    journal_send(LOG_WARNING, "amiboot",
                 f.label + ": " + content.error().message + "; writing the content given instead",
                 ctx.fields);
    write.content = *f.fallback;
  } else {
    return error(f.label + ": " + content.error().message + "; no content to fall back to, " +
                 f.path + " left unchanged");
  }
  return apply(write, ctx);
}

Status apply(const FetchFile& f, ExecContext& ctx) {
  // The owner first: an unknown one fails the entry without a download.
  FileAttrs attrs;
  if (auto st = resolve_owner(f.owner, f.label, ctx.system, attrs); !st) {
    return st;
  }
  return apply_fetched(f, fetch_source(f, ctx), ctx);
}

/// The sources of FetchFile actions that share a byte budget
/// (FetchFile::shared_budget: write_files' `source:` against
/// amiboot.limits.write_files_bytes), fetched before any action of the
/// module runs: a total past the budget is an error naming the entry that
/// passed it, and then none of the module's actions runs, rather than some
/// files written and the rest not. What other entries of the budget fetched
/// for this instance (ctx.fetched: the init stage's, for the deferred
/// entries) counts too. Entries an earlier, killed run settled (completed,
/// or under way when it died) are not fetched again: execute() does not run
/// them, and their bytes stay counted as recorded. Entries whose owner is
/// unknown are left to apply(), which fails them without a download.
Status prefetch_sources(const std::vector<Action>& actions, ExecContext& ctx,
                        std::vector<std::optional<Result<std::string>>>& fetched) {
  std::vector<bool> settled =
      ctx.progress != nullptr ? ctx.progress->settled(actions) : std::vector<bool>(actions.size());
  struct Tally {
    std::map<std::string, std::size_t> entries;  // by label, as the ledger keeps them
    std::size_t earlier = 0;                     // what entries not fetched here brought
    std::size_t used = 0;
  };
  std::map<std::string, Tally> tallies;  // by setting
  for (std::size_t i = 0; i < actions.size(); ++i) {
    const auto* f = std::get_if<FetchFile>(&actions[i]);
    if (f == nullptr || !f->shared_budget) {
      continue;
    }
    auto [it, first] = tallies.try_emplace(f->shared_budget->setting);
    if (first && ctx.fetched != nullptr) {
      it->second.entries = ctx.fetched->recorded(f->shared_budget->setting);
    }
    if (!settled[i]) {
      // Fetched again here (or not at all): counted below, not twice.
      it->second.entries.erase(f->label);
    }
  }
  for (auto& [setting, tally] : tallies) {
    for (const auto& [label, bytes] : tally.entries) {
      tally.earlier += bytes;
    }
    tally.used = tally.earlier;
  }
  for (std::size_t i = 0; i < actions.size(); ++i) {
    const auto* f = std::get_if<FetchFile>(&actions[i]);
    if (f == nullptr || !f->shared_budget || settled[i]) {
      continue;
    }
    FileAttrs attrs;
    if (!resolve_owner(f->owner, f->label, ctx.system, attrs)) {
      continue;
    }
    fetched[i] = fetch_source(*f, ctx);
    if (!*fetched[i]) {
      continue;  // the fallback content, if any, is counted in the budget already
    }
    Tally& tally = tallies[f->shared_budget->setting];
    tally.entries[f->label] = (*fetched[i])->size();
    tally.used += (*fetched[i])->size();
    if (tally.used > f->shared_budget->bytes) {
      std::string earlier = tally.earlier == 0 ? ""
                                               : " and the " + size_text(tally.earlier) +
                                                     " earlier entries of this instance fetched";
      return error(f->label + ": with what " + shown_url(f->url) + " returned" + earlier +
                   ", the write_files content passes " + size_text(f->shared_budget->limit) + " (" +
                   f->shared_budget->setting + "); none of this module's files was written");
    }
  }
  if (ctx.fetched != nullptr) {
    for (const auto& [setting, tally] : tallies) {
      ctx.fetched->record(setting, tally.entries);
    }
  }
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

Status apply(const MakeSymlink& l, ExecContext& ctx) {
  if (auto old = ctx.system.read_symlink(l.link); old && *old == l.target) {
    return {};
  }
  if (auto st = ctx.system.symlink(l.target, l.link); !st) {
    return error(l.label + ": " + st.error().message);
  }
  journal_send(LOG_INFO, "amiboot", "linked " + l.link + " -> " + l.target, ctx.fields);
  return {};
}

Status apply(const HttpRequest& h, ExecContext& ctx) {
  std::string last;
  const auto started = ctx.system.now();
  for (int attempt = 1; attempt <= h.attempts; ++attempt) {
    auto st = ctx.system.http_send(h.method, h.url, h.body, h.content_type);
    if (st) {
      journal_send(LOG_INFO, "amiboot", h.label + ": sent", ctx.fields);
      return {};
    }
    last = st.error().message;
    std::string line = h.label + ": attempt " + std::to_string(attempt) + " failed: " + last;
    if (attempt == h.attempts) {
      journal_send(LOG_WARNING, "amiboot", line, ctx.fields);
      break;
    }
    const auto delay = std::chrono::milliseconds(h.retry_delay_ms) * attempt;
    if (past_retry_deadline(ctx, started, delay)) {
      journal_send(LOG_WARNING, "amiboot", line, ctx.fields);
      return error(h.label + ": gave up after " + std::to_string(attempt) +
                   " attempts, no more before the " +
                   std::to_string(ctx.http_retry_deadline.count()) + " s retry deadline: " + last);
    }
    journal_send(LOG_WARNING, "amiboot", line + retry_deadline_note(ctx, attempt), ctx.fields);
    ctx.system.sleep_for(delay);
  }
  return error(h.label + ": gave up after " + std::to_string(h.attempts) + " attempts: " + last);
}

/// Mounts, file systems and partition tables act on the host kernel, which no
/// path mapping confines: under --root only into a root that is a mount
/// point, the target an image build mounted.
Status check_mounted_root(const std::string& label, ExecContext& ctx) {
  if (!ctx.system.under_root() || ctx.system.root_is_mount_point()) {
    return {};
  }
  return error(label + ": refused under --root: " + ctx.system.root() +
               " is not a mount point, and this acts on the host itself (its mounts or "
               "devices), outside any folder; mount the target there first (as an image build "
               "does) for amiboot to act on it");
}

/// Runs a RunCommand as it says (its paths mapped, its root option), and
/// returns its outcome unjudged; needs_host is the caller's to check.
Result<CommandOutcome> run_command(const RunCommand& r, ExecContext& ctx) {
  if (r.needs_mounted_root) {
    if (auto st = check_mounted_root(r.label, ctx); !st) {
      return st.error();
    }
  }
  CommandSpec spec;
  spec.argv = r.argv;
  // The one place --root meets a command line: the target's paths and
  // programs are mapped inside the root (an escape is refused), and a tool
  // with its own root option gets it.
  for (std::size_t i = 0; i < spec.argv.size(); ++i) {
    if (r.is_target_path(i) || (i == 0 && r.instance_program)) {
      auto host = ctx.system.resolve(r.argv[i]);
      if (!host) {
        return error(r.label + ": " + host.error().message);
      }
      spec.argv[i] = *host;
    }
  }
  if (ctx.system.under_root() && !r.root_option.empty()) {
    std::vector<std::string> extra = {r.root_option, ctx.system.root()};
    extra.insert(extra.end(), r.root_extra_args.begin(), r.root_extra_args.end());
    spec.argv.insert(spec.argv.begin() + 1, extra.begin(), extra.end());
  }
  spec.input = r.input;
  spec.to_console = r.to_console;
  spec.capture_stdout = !r.output_path.empty();
  spec.env["INSTANCE_ID"] = ctx.instance_id;
  // Lets user commands find the sandbox root in tests and image builds
  // ("" on a real instance, so "$AMIBOOT_ROOT/etc" is "/etc").
  spec.env["AMIBOOT_ROOT"] = ctx.system.under_root() ? ctx.system.root() : "";
  spec.journal_fields = ctx.fields;
  // The label, not the argv: commands can carry secrets from user data.
  journal_send(LOG_INFO, "amiboot", "running " + r.label, ctx.fields);
  return ctx.system.run(spec);
}

Status apply(const RunCommand& r, ExecContext& ctx) {
  if (r.needs_host && ctx.system.under_root()) {
    journal_send(LOG_INFO, "amiboot", r.label + ": skipped under --root", ctx.fields);
    return {};
  }
  auto outcome = run_command(r, ctx);
  if (!outcome) {
    return error(r.label + ": " + outcome.error().message);
  }
  if (outcome->exit_code != 0) {
    return error(r.label + " exited with status " + std::to_string(outcome->exit_code));
  }
  journal_send(LOG_INFO, "amiboot", r.label + " exited with status 0", ctx.fields);
  if (!r.output_path.empty()) {
    if (outcome->stdout_text.empty()) {
      return error(r.label + " printed nothing; " + r.output_path + " not written");
    }
    FileAttrs attrs;
    attrs.mode = 0644;
    attrs.uid = 0;
    attrs.gid = 0;
    if (auto st = ctx.system.write_file(r.output_path, outcome->stdout_text, attrs); !st) {
      return error(r.label + ": " + st.error().message);
    }
    journal_send(LOG_INFO, "amiboot",
                 "wrote " + r.output_path + " (" + std::to_string(outcome->stdout_text.size()) +
                     " bytes, mode 0644, owner root)",
                 ctx.fields);
  }
  return {};
}

/// cloud-init's rand_user_password(): 20 characters, at least one digit,
/// lower and upper case letter and punctuation, for password rules that
/// ask for each class.
std::string random_password() {
  static const std::string kDigits = "0123456789";
  static const std::string kLower = "abcdefghijklmnopqrstuvwxyz";
  static const std::string kUpper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  static const std::string kPunctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
  static const std::string kAll = kDigits + kLower + kUpper + kPunctuation;
  std::random_device random;  // getrandom(2) in libstdc++
  auto pick = [&](const std::string& from) {
    return from[std::uniform_int_distribution<std::size_t>(0, from.size() - 1)(random)];
  };
  std::string out = {pick(kDigits), pick(kLower), pick(kUpper), pick(kPunctuation)};
  while (out.size() < 20) {
    out.push_back(pick(kAll));
  }
  std::shuffle(out.begin(), out.end(), random);
  return out;
}

Status apply(const SetRandomPasswords& r, ExecContext& ctx) {
  std::string shown;
  std::vector<std::string> set, failed;
  for (const auto& user : r.users) {
    std::string password = random_password();
    RunCommand command = r.chpasswd;
    command.label = r.chpasswd.label + " (" + user + ")";
    command.input = user + ":" + password + "\n";
    if (auto st = apply(command, ctx); !st) {
      failed.push_back(st.error().message);
      continue;
    }
    set.push_back(user);
    shown += user + ":" + password + "\n";
  }
  if (!set.empty()) {
    std::string users;
    for (const auto& u : set) {
      users += (users.empty() ? "" : ", ") + u;
    }
    // The passwords themselves go to the console alone, never the journal.
    bool on_console = ctx.system.console_only("Set the following 'random' passwords\n" + shown);
    journal_send(on_console ? LOG_INFO : LOG_WARNING, "amiboot",
                 r.chpasswd.label + ": random passwords set for " + users +
                     (on_console ? "; shown on the console only"
                                 : "; no console to show them on, so nobody knows them"),
                 ctx.fields);
  }
  if (!failed.empty()) {
    std::string all;
    for (const auto& f : failed) {
      all += (all.empty() ? "" : "; ") + f;
    }
    return error(all);
  }
  return {};
}

Status apply(const MakeDir& d, ExecContext& ctx) {
  if (d.if_missing) {
    if (auto st = ctx.system.make_dirs(d.path, d.mode); !st) {
      return error(d.label + ": " + st.error().message);
    }
    journal_send(LOG_INFO, "amiboot", d.label + ": made or already a folder", ctx.fields);
    return {};
  }
  FileAttrs attrs;
  attrs.mode = d.mode;
  if (auto st = resolve_owner(d.owner, d.label, ctx.system, attrs); !st) {
    return st;
  }
  if (auto st = ctx.system.make_owned_dir(d.path, attrs); !st) {
    return error(d.label + ": " + st.error().message);
  }
  journal_send(LOG_INFO, "amiboot",
               "folder " + d.path + " (mode " + octal_mode(d.mode) + ", owner " + d.owner + ")",
               ctx.fields);
  return {};
}

// The package conversation (modules/package_run.h) over System: the package
// manager of the image; in a --root sandbox apt-get is the sandbox's own
// (chroot), dnf, yum and zypper the host's with their root option
// (PackageManager::root_options), so either way the sandbox's package
// database and configuration are the ones changed.
class SystemPackageCommands final : public PackageCommands {
 public:
  explicit SystemPackageCommands(ExecContext& ctx) : m_ctx(ctx) {}

  Outcome run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
              const std::string& identifier,
              const std::vector<std::string>& root_options) override {
    CommandSpec spec;
    spec.argv = argv;
    if (m_ctx.system.under_root() && root_options.empty()) {
      spec.argv.insert(spec.argv.begin(), {"chroot", m_ctx.system.root()});
    } else if (m_ctx.system.under_root()) {
      std::vector<std::string> options;
      for (std::string option : root_options) {
        if (auto at = option.find("{root}"); at != std::string::npos) {
          option.replace(at, 6, m_ctx.system.root());
        }
        options.push_back(std::move(option));
      }
      spec.argv.insert(spec.argv.begin() + 1, options.begin(), options.end());
    }
    spec.env = env;
    spec.identifier = identifier;
    spec.journal_fields = m_ctx.fields;
    spec.capture_output = true;
    auto outcome = m_ctx.system.run(spec);
    if (!outcome) {
      return {127, outcome.error().message};
    }
    return {outcome->exit_code, std::move(outcome->output)};
  }
  bool exists(const std::string& path) override { return m_ctx.system.exists(path); }
  std::chrono::milliseconds backoff(int retry) override { return m_backoff.delay(retry - 1); }
  void sleep_for(std::chrono::milliseconds delay) override { m_ctx.system.sleep_for(delay); }
  std::chrono::system_clock::time_point now() override { return m_ctx.system.now(); }
  void log(int priority, const std::string& line) override {
    journal_send(priority, "amiboot", line, m_ctx.fields);
  }

 private:
  ExecContext& m_ctx;
  // apt-get and zypper wait for their lock themselves (lock_timeout_seconds);
  // these waits are for the network and for locks they gave up on.
  Backoff m_backoff{
      RetryPolicy{.initial = std::chrono::seconds(2), .cap = std::chrono::seconds(30)}};
};

Status apply(const GrowPartition& g, ExecContext& ctx) {
  if (auto st = check_mounted_root(g.label, ctx); !st) {
    return st;
  }
  journal_send(LOG_INFO, "amiboot", g.label + ": " + describe(Action(g)), ctx.fields);
  auto done = ctx.system.grow_partition(g);
  if (!done) {
    return error(g.label + ": " + done.error().message);
  }
  journal_send(LOG_NOTICE, "amiboot", g.label + ": " + *done, ctx.fields);
  return {};
}

Status apply(const MakePartitionTable& t, ExecContext& ctx) {
  if (auto st = check_mounted_root(t.label, ctx); !st) {
    return st;
  }
  journal_send(LOG_INFO, "amiboot", t.label + ": " + describe(Action(t)), ctx.fields);
  auto done = ctx.system.make_partition_table(t);
  if (!done) {
    return error(t.label + ": " + done.error().message);
  }
  journal_send(LOG_NOTICE, "amiboot", t.label + ": " + *done, ctx.fields);
  return {};
}

Status apply(const ConsoleMessage& m, ExecContext& ctx) {
  ctx.system.console(m.text);
  return {};
}

Status apply(const SetHostname& h, ExecContext& ctx) {
  if (ctx.system.under_root()) {
    journal_send(LOG_INFO, "amiboot", h.label + ": skipped under --root", ctx.fields);
    return {};
  }
  if (auto st = ctx.system.set_hostname(h.name); !st) {
    return error(h.label + ": " + st.error().message);
  }
  journal_send(LOG_INFO, "amiboot", h.label + ": " + h.name, ctx.fields);
  return {};
}

/// One action: its errors (several for packages, one line per missing
/// package). Every Action type has its own overload and there is no
/// fallback, so an Action the executor does not handle does not compile.
struct Apply {
  ExecContext& ctx;
  ExecOutcome& outcome;
  /// A FetchFile's source when prefetch_sources() fetched it already.
  std::optional<Result<std::string>>* fetched = nullptr;

  std::vector<std::string> status(Status st) const {
    if (st) {
      return {};
    }
    return {st.error().message};
  }
  std::vector<std::string> operator()(const WriteFile& a) const { return status(apply(a, ctx)); }
  std::vector<std::string> operator()(const RemoveFile& a) const { return status(apply(a, ctx)); }
  std::vector<std::string> operator()(const MakeSymlink& a) const { return status(apply(a, ctx)); }
  std::vector<std::string> operator()(const RunCommand& a) const { return status(apply(a, ctx)); }
  std::vector<std::string> operator()(const ConsoleMessage& a) const {
    return status(apply(a, ctx));
  }
  std::vector<std::string> operator()(const SetHostname& a) const { return status(apply(a, ctx)); }
  std::vector<std::string> operator()(const HttpRequest& a) const { return status(apply(a, ctx)); }
  std::vector<std::string> operator()(const MakeDir& a) const { return status(apply(a, ctx)); }
  std::vector<std::string> operator()(const FetchFile& a) const {
    if (fetched != nullptr && fetched->has_value()) {
      return status(apply_fetched(a, std::move(**fetched), ctx));
    }
    return status(apply(a, ctx));
  }
  std::vector<std::string> operator()(const SetRandomPasswords& a) const {
    return status(apply(a, ctx));
  }
  // Only recorded: the runner changes the power state once the stage's
  // status is written (change_power_state()).
  std::vector<std::string> operator()(const ChangePowerState& a) const {
    journal_send(LOG_INFO, "amiboot",
                 a.command.label + ": " + a.mode + " once the final stage is done", ctx.fields);
    outcome.power_change = a;
    return {};
  }
  std::vector<std::string> operator()(const GrowPartition& a) const {
    return status(apply(a, ctx));
  }
  std::vector<std::string> operator()(const MakePartitionTable& a) const {
    return status(apply(a, ctx));
  }
  std::vector<std::string> operator()(const ManagePackages& a) const {
    SystemPackageCommands commands(ctx);
    PackageOutcome result = run_packages(a, commands);
    outcome.reboot_required = outcome.reboot_required || result.reboot_required;
    // Already in the journal, each with the label (run_packages logs them).
    outcome.errors.insert(outcome.errors.end(), result.errors.begin(), result.errors.end());
    return {};
  }
};

bool is_required(const Action& action) {
  const auto* run = std::get_if<RunCommand>(&action);
  const auto* file = std::get_if<WriteFile>(&action);
  const auto* grow = std::get_if<GrowPartition>(&action);
  const auto* table = std::get_if<MakePartitionTable>(&action);
  return (run != nullptr && run->required) || (file != nullptr && file->required) ||
         (grow != nullptr && grow->required) || (table != nullptr && table->required);
}

}  // namespace

Result<bool> change_power_state(const ChangePowerState& change, ExecContext& ctx) {
  const std::string& label = change.command.label;
  if (ctx.system.under_root()) {
    journal_send(LOG_NOTICE, "amiboot", label + ": not under --root", ctx.fields);
    return false;
  }
  // cloud-init's check_condition(): 0 is met, 1 is not, anything else is not
  // either, with a warning.
  if (change.condition) {
    auto outcome = run_command(*change.condition, ctx);
    if (!outcome) {
      journal_send(LOG_WARNING, "amiboot",
                   change.condition->label + ": " + outcome.error().message + "; no " + change.mode,
                   ctx.fields);
      return false;
    }
    if (outcome->exit_code != 0) {
      journal_send(outcome->exit_code == 1 ? LOG_INFO : LOG_WARNING, "amiboot",
                   change.condition->label + " exited with status " +
                       std::to_string(outcome->exit_code) + ": condition not met, no " +
                       change.mode,
                   ctx.fields);
      return false;
    }
    journal_send(LOG_INFO, "amiboot", change.condition->label + " exited with status 0",
                 ctx.fields);
  }
  auto why_not = [](const Result<CommandOutcome>& outcome) -> std::string {
    if (!outcome) {
      return outcome.error().message;
    }
    return outcome->exit_code == 0 ? ""
                                   : "exited with status " + std::to_string(outcome->exit_code);
  };
  std::string failed = why_not(run_command(change.command, ctx));
  if (failed.empty()) {
    journal_send(LOG_NOTICE, "amiboot", label + ": " + change.mode + " requested", ctx.fields);
    return true;
  }
  if (!change.fallback) {
    return error(label + ": " + change.command.argv[0] + " " + failed);
  }
  journal_send(LOG_WARNING, "amiboot",
               label + ": " + change.command.argv[0] + " " + failed + "; running " +
                   change.fallback->argv[0] + " directly",
               ctx.fields);
  std::string fallback_failed = why_not(run_command(*change.fallback, ctx));
  if (fallback_failed.empty()) {
    journal_send(LOG_NOTICE, "amiboot", label + ": " + change.mode + " requested", ctx.fields);
    return true;
  }
  return error(label + ": " + change.command.argv[0] + " " + failed + ", and " +
               change.fallback->argv[0] + " " + fallback_failed);
}

std::string action_label(const Action& action) {
  return std::visit(
      [&](const auto& a) -> std::string {
        if constexpr (requires { a.label; }) {
          if (!a.label.empty()) {
            return a.label;
          }
        }
        return describe(action);
      },
      action);
}

/// The files an interrupted write of the action's file may have left.
void remove_leftovers(const Action& action, ExecContext& ctx) {
  const auto* write = std::get_if<WriteFile>(&action);
  const auto* fetch = std::get_if<FetchFile>(&action);
  if (write != nullptr || fetch != nullptr) {
    (void)ctx.system.remove_temp_files(write != nullptr ? write->path : fetch->path);
  }
}

ExecOutcome execute(const std::vector<Action>& actions, ExecContext& context) {
  ExecOutcome outcome;
  std::vector<std::optional<Result<std::string>>> fetched(actions.size());
  if (auto st = prefetch_sources(actions, context, fetched); !st) {
    journal_send(LOG_ERR, "amiboot", st.error().message, context.fields);
    outcome.errors.push_back(st.error().message);
    return outcome;
  }
  for (std::size_t i = 0; i < actions.size(); ++i) {
    auto before = context.progress != nullptr ? context.progress->before(i, actions[i])
                                              : ExecProgress::Before::Run;
    if (before == ExecProgress::Before::AlreadyDone) {
      journal_send(LOG_INFO, "amiboot",
                   action_label(actions[i]) + ": completed by an earlier run; not run again",
                   context.fields);
      continue;
    }
    if (before == ExecProgress::Before::Interrupted) {
      remove_leftovers(actions[i], context);
      std::string e = action_label(actions[i]) +
                      ": was under way when an earlier run of amiboot died (killed or crashed); "
                      "not run again, so that it runs at most once: check what it did";
      journal_send(LOG_ERR, "amiboot", e, context.fields);
      outcome.errors.push_back(e);
      continue;
    }
    std::vector<std::string> errors = std::visit(Apply{context, outcome, &fetched[i]}, actions[i]);
    if (context.progress != nullptr) {
      context.progress->after(i, actions[i]);
    }
    if (errors.empty()) {
      continue;
    }
    for (const auto& e : errors) {
      journal_send(LOG_ERR, "amiboot", e, context.fields);
      outcome.errors.push_back(e);
    }
    if (is_required(actions[i]) && i + 1 < actions.size()) {
      outcome.errors.push_back("skipped the remaining " + std::to_string(actions.size() - i - 1) +
                               " action(s) of this module");
      break;
    }
  }
  return outcome;
}

}  // namespace amiboot
