// SPDX-License-Identifier: Apache-2.0
#include "agent/runner.h"

#include <sys/resource.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <functional>
#include <future>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <system_error>

#include "agent/block_devices.h"
#include "agent/cloud_config.h"
#include "agent/cloud_init_compat.h"
#include "agent/core/instance_data.h"
#include "agent/core/json_text.h"
#include "agent/core/redact.h"
#include "agent/core/settings.h"
#include "agent/core/strings.h"
#include "agent/core/user_data.h"
#include "agent/executor.h"
#include "agent/fetch_ledger.h"
#include "agent/host_info.h"
#include "agent/http.h"
#include "agent/login_record.h"
#include "agent/module_progress.h"
#include "agent/report.h"
#include "agent/sources.h"
#include "agent/state.h"
#include "agent/system.h"
#include "modules/lanes.h"
#include "modules/module.h"

namespace amiboot {

namespace {

constexpr std::size_t kMaxIncludeBytes = 1 << 20;
// One include that never answers gives up after this, however long the
// deadline for all of them.
constexpr std::chrono::milliseconds kIncludeTimeout{30000};

std::string timestamp(const System& system, const char* format) {
  std::time_t t = std::chrono::system_clock::to_time_t(system.now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

std::string done_reason(Frequency f) {
  switch (f) {
    case Frequency::PerInstance:
      return "already ran for this instance";
    case Frequency::Once:
      return "already ran once";
    default:
      return "already ran this boot";
  }
}

class Runner {
 public:
  Runner(const RunOptions& options, System& system)
      : m_options(options),
        m_system(system),
        m_state(m_system),
        m_report(m_system, options.dry_run),
        m_blocks(options.root, block_device_dir(options.root)) {}

  int run();

 private:
  bool init_stage();
  bool final_stage();
  bool acquire_source();
  void decode(const std::string& raw);
  void reject_user_data(const std::string& why);
  void load_image(Diagnostics& diagnostics);
  void load_final_configs();
  void run_modules(Stage stage);
  /// Why the row is not planned at all ("not configured", "already ran
  /// this boot"); "" when it is.
  std::string skip_reason(const ModuleSpec& m) const;
  /// What a plan made now may know; `failed`: the rows failed so far.
  Facts make_facts(std::vector<std::string> failed) const;
  /// The row's config decoded (nullptr: `decoded` holds why, a decoder's
  /// exception among it).
  DecodedConfig decode_config(const ModuleSpec& m, Diagnostics& decoded);
  /// The row's plan from its decoded config (nullptr: `decoded` holds why).
  static PlanResult make_plan(const ModuleSpec& m, const DecodedConfig& config,
                              const Diagnostics& decoded, const Facts& facts);
  /// The plan's own warnings reported, and the record made when the plan
  /// is not to be applied (it failed, or has nothing to do); false when
  /// its actions are to be applied.
  bool judge_unapplied(ModuleRecord& record, const PlanResult& plan,
                       const std::vector<std::string>& plan_errors);
  /// A row's actions applied through System and what they did recorded
  /// (the result, the errors, the summary, the state's semaphore): one
  /// path for a row applied in sequence and one applied in a lane.
  ExecOutcome apply_plan(const ModuleSpec& m, const std::vector<Action>& actions,
                         JournalFields fields);
  void settle(const ModuleSpec& m, ModuleRecord& record,
              const std::vector<std::string>& plan_errors, const std::string& summary,
              const ExecOutcome& outcome);
  struct Lane;
  /// Starts applying the row's plan on a thread of its own; false when no
  /// thread could be had (then the row is applied in sequence).
  /// `next`: the stage's next row, which may follow in the lane.
  bool start_lane(const ModuleLane& lane, const ModuleSpec& m, const ModuleRecord& record,
                  const std::vector<std::string>& plan_errors, const PlanResult& plan,
                  std::chrono::steady_clock::time_point started, const ModuleSpec* next);
  /// A row whose lane plans it (ModuleLane::plan_reach) started on its
  /// thread; false when it is planned at its row: its plan has nothing to
  /// look at, or (then the lanes it plans after are over when this returns)
  /// its reach meets a lane under way, or no thread could be had.
  bool start_planned_lane(const ModuleLane& lane, const ModuleSpec& m, const ModuleRecord& record,
                          std::chrono::steady_clock::time_point started, const ModuleSpec* next);
  /// On the lane's thread: waits for the lanes it plans after, then plans;
  /// true when the plan's actions are to be applied.
  bool plan_in_lane(Lane& lane);
  /// Starts the lane's thread; false when no thread could be had.
  bool run_lane(std::unique_ptr<Lane> running);
  struct Follower;
  /// The lane's follower, when `next` is it and will run: its config decoded
  /// and its reach added to the lane's footprint, on the main thread.
  /// `actions` and `footprint`: the lane's plan, or none and its reach.
  std::unique_ptr<Follower> make_follower(const ModuleLane& lane, const ModuleSpec& m,
                                          const std::vector<Action>& actions,
                                          const std::optional<PlanFootprint>& footprint,
                                          const ModuleSpec* next);
  /// On the lane's thread, once the lane's actions are applied: the
  /// follower's plan, then its actions when the plan says to apply them.
  void follow(Follower& f, const Lane& lane, bool lane_failed);
  /// On the main thread: the follower's record, as its row would have made it.
  void finish_follower(Follower& f);
  /// Waits for the lanes under way that `next` may not run alongside (all
  /// of them when `next` is null: the stage's end), in the order they
  /// started, and reports each as its row would have been.
  void join_lanes(const ModuleSpec* next);
  /// Waits for one lane and reports its row.
  void finish_lane(Lane& lane);
  /// finish_lane for each lane under way that `pred` picks, in start order.
  void finish_lanes_where(const std::function<bool(const Lane&)>& pred);
  /// Whether a row with a lane may be one: always for a lane of the table,
  /// for a by-plan lane only when its plan allows (else a journal line says why).
  bool may_be_lane(const ModuleLane& lane, const ModuleSpec& m, const PlanResult& plan);
  /// Waits for the by-plan lanes under way whose footprint shares a path
  /// with `footprint`, `m`'s plan, saying so in the journal (and which
  /// lanes it runs beside); true when it waited for one.
  bool wait_for_lanes_by_plan(const ModuleSpec& m, const std::optional<PlanFootprint>& footprint);
  /// The reporter's begin_stage/end_stage, with the cloud-init
  /// compatibility files (agent/cloud_init_compat.h) around them.
  void begin_stage(const std::string& stage);
  void end_stage(const std::string& overall, bool ready, bool last = false);
  void record_history(const std::string& stage);
  void reboot();
  /// power_state's change, after the final stage; true when one is under way.
  bool change_power();
  /// Modules that failed in this boot so far, init stage included.
  std::vector<std::string> failed_modules() const;
  void print_plan() const;

  const RunOptions& m_options;
  System& m_system;
  State m_state;
  Reporter m_report;
  RealBlockDevices m_blocks;
  ModuleConfigs m_image;  // the image config files, decoded
  Settings m_settings;
  SourceData m_source;
  std::vector<Part> m_parts;
  ModuleConfigs m_modules;  // image config and user data: what modules plan from
  /// cloud-init's merged_cfg: the image config with every accepted part
  /// merged over it (query merged_cfg, the dry run). Holds user data.
  nlohmann::json m_merged_cfg;
  Value m_image_config;  // for the `amiboot:` settings modules read (Facts)
  bool m_have_source = false;
  bool m_new_instance = false;
  bool m_reboot_required = false;                  // package_reboot_if_required, and one is needed
  std::optional<ChangePowerState> m_power_change;  // power_state, made after the final stage
  int m_imds_requests = 0;
  double m_imds_ms = 0;  // the whole metadata fetch, token to last leaf
  nlohmann::json m_plan = nlohmann::json::array();
  std::vector<std::unique_ptr<Lane>> m_lanes;  // started, not yet reported
  const ModuleSpec* m_followed = nullptr;      // the row a lane took, until its turn
};

// One row whose actions are applied on a thread of its own
// (modules/lanes.h). The thread touches nothing of the Runner but System
// (HostSystem: concurrent_use) and State's files for this row; the record,
// the reporter and the journal line that ends the row stay on the main
// thread, in join_lanes().
struct Runner::Lane {
  /// Its row's record from `started` on, marked concurrent.
  Lane(const ModuleLane& l, const ModuleSpec& m, const ModuleRecord& r,
       std::chrono::steady_clock::time_point started, std::optional<PlanFootprint> f)
      : lane(&l), module(&m), record(r), footprint(std::move(f)), name(m.name) {
    record.started = started;
    record.concurrent = true;
  }

  const ModuleLane* lane;
  const ModuleSpec* module;
  ModuleRecord record;
  std::vector<std::string> plan_errors;
  std::string summary;
  std::vector<Action> actions;
  /// By-plan lanes: always set, with the follower's reach.
  std::optional<PlanFootprint> footprint;
  std::string name;  // for the journal: "volumes", "volumes (then mounts)"
  std::chrono::steady_clock::time_point ended;
  /// Shared: a lane planned after this one waits for it on its own thread.
  std::shared_future<ExecOutcome> outcome;
  std::unique_ptr<Follower> follower;  // written by the thread until `outcome` is ready
  struct Planned;
  std::unique_ptr<Planned> planned;  // a lane that plans its row on its thread
};

// A row planned on its lane's thread (ModuleLane::plan_reach); `plan` and
// the lane's actions, errors and summary are written by the thread.
struct Runner::Lane::Planned {
  struct After {
    std::string module;
    std::shared_future<ExecOutcome> outcome;
    bool plan_failed;
  };
  DecodedConfig config;
  Diagnostics decoded;
  std::vector<std::string> failed;  // before the lanes it plans after
  std::vector<After> after;
  PlanFootprint reach;
  PlanResult plan;
};

// A row applied on its lane's thread after the lane's own actions
// (modules/lanes.h LaneFollower).
struct Runner::Follower {
  const ModuleSpec* module;
  DecodedConfig config;
  Diagnostics decoded;  // the decoder's errors when `config` is nullptr
  std::vector<std::string> failed;
  JournalFields fields;
  ModuleRecord record;
  PlanResult plan;
  std::vector<std::string> plan_errors;
  ExecOutcome outcome;  // when the plan was applied
  std::chrono::steady_clock::time_point ended;
};

// The errors that fail a row, and whether its actions are applied: the one
// decision for a row in sequence and a lane's follower.
std::vector<std::string> plan_errors_of(const PlanResult& plan) {
  std::vector<std::string> errors;
  for (const auto& d : plan.diagnostics) {
    if (d.severity == Diagnostic::Severity::Error) {
      errors.push_back(d.format());
    }
  }
  return errors;
}

bool fails_unapplied(const PlanResult& plan, const std::vector<std::string>& plan_errors) {
  return !plan_errors.empty() && (!plan.apply_with_errors || plan.actions.empty());
}

// A row's record before anything is known of it: skipped, until it is not.
ModuleRecord new_record(const ModuleSpec& m) {
  return ModuleRecord{std::string(m.name),
                      std::string(stage_name(m.stage)),
                      std::string(frequency_name(m.frequency)),
                      "skipped",
                      "",
                      0,
                      {}};
}

// One broken module must never stop the others: a decoder's or a planner's
// exception is the row's error.
Diagnostic internal_error(const std::exception& e) {
  return Diagnostic{
      Diagnostic::Severity::Error, {}, "", std::string("internal error: ") + e.what()};
}

int Runner::run() {
  if (is_disabled(m_system)) {
    m_report.begin_stage("init");
    m_report.warning(
        "amiboot is disabled (/etc/amiboot/disabled or amiboot=disabled); doing nothing");
    m_report.end_stage("disabled", true, true);
    return 0;
  }
  bool ok = true;
  if (m_options.stage != StageSelection::Final) {
    ok = init_stage() && ok;
  }
  if (m_options.stage != StageSelection::Init && (ok || m_have_source)) {
    ok = final_stage() && ok;
  }
  if (m_options.dry_run) {
    print_plan();
  }
  return ok && !m_report.failed() ? 0 : 1;
}

bool Runner::acquire_source() {
  if (m_options.seed_dir) {
    auto data = read_seed(m_system, *m_options.seed_dir);
    if (!data) {
      m_report.error(data.error().message);
      return false;
    }
    m_source = std::move(*data);
    return true;
  }
  std::string url = m_options.imds_url.value_or(m_settings.imds_url);
  auto deadline = m_settings.imds_deadline;
  bool on_ec2 = m_options.imds_url || looks_like_ec2(m_system);
  if (!on_ec2) {
    // Off EC2 nothing will answer; do not hold the boot for minutes.
    deadline = std::min(deadline, m_settings.off_ec2_deadline);
  }
  auto log = [this](const std::string& line) {
    journal_send(LOG_NOTICE, "amiboot", line, m_report.fields("source"));
  };
  const auto fetch_started = std::chrono::steady_clock::now();
  auto fetched = fetch_imds(url, m_settings, deadline, log);
  m_imds_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - fetch_started)
          .count();
  if (!fetched) {
    m_report.error("metadata: " + fetched.error().message);
    if (!on_ec2) {
      m_report.warning("this machine does not look like an EC2 instance (no Amazon DMI data)");
    }
    return false;
  }
  journal_send(LOG_INFO, "amiboot",
               "metadata from " + url + " in " + std::to_string(fetched->requests) + " requests",
               m_report.fields("source"));
  for (const std::string& warning : fetched->warnings) {
    m_report.warning("metadata: " + warning);
  }
  m_source = std::move(fetched->data);
  m_imds_requests = fetched->requests;
  return true;
}

void Runner::decode(const std::string& raw) {
  UserDataOptions options;
  options.limits = m_settings.limits;
  // One deadline for all #include URLs together: forty URLs that never
  // answer must not hold the boot forty times over.
  auto deadline = std::chrono::steady_clock::now() + m_settings.limits.include_time;
  auto fetch = [this, deadline](const std::string& url) -> Result<std::string> {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return error("not fetched: the deadline for all includes (" +
                   std::to_string(m_settings.limits.include_time.count() / 1000) + " s, " +
                   limit_setting("include_seconds") + ") has passed");
    }
    return m_options.fetch ? m_options.fetch(url)
                           : fetch_url(url, kMaxIncludeBytes,
                                       std::min<std::chrono::milliseconds>(left, kIncludeTimeout));
  };
  options.fetch = fetch;
  // #include-once: fetched once per instance, then read from its state
  // (cloud-init's urlcache): its URLs are usually presigned and expire.
  options.fetch_once = [this, fetch](const std::string& url) -> Result<std::string> {
    const std::string& id = m_source.metadata.instance_id;
    if (auto cached = m_state.load_include_once(id, url)) {
      return *cached;
    }
    auto fetched = fetch(url);
    if (fetched && !m_options.dry_run) {
      if (auto st = m_state.save_include_once(id, url, *fetched); !st) {
        m_report.warning("state: #include-once " + redact_url(url) +
                         " was not kept: " + st.error().message);
      }
    }
    return fetched;
  };
  options.template_context = [this] {
    return instance_data(m_source.metadata, read_host_info(m_system));
  };
  auto decoded = decode_user_data(raw, options);
  if (!decoded) {
    // Rejected whole; baseline work still happens so the operator can log in.
    m_report.error(decoded.error().message);
    return;
  }
  for (const auto& w : decoded->warnings) {
    m_report.warning(w);
  }
  for (const auto& e : decoded->errors) {
    m_report.error(e);
  }
  if (!decoded->errors.empty()) {
    reject_user_data("a part was rejected or an include failed");
    return;
  }
  m_parts = std::move(decoded->parts);
}

// All or nothing per user data: a script must not run on a machine that
// lacks what a rejected part was to set up (its users, files, firewall).
void Runner::reject_user_data(const std::string& why) {
  m_parts.clear();
  m_report.error("user data: nothing from it is applied, scripts included (" + why +
                 "); the image config and the metadata's defaults still are");
}

void Runner::load_image(Diagnostics& diagnostics) {
  m_image = load_image_config(m_system, diagnostics);
  m_settings = decode_settings(m_image.merged(), diagnostics);
}

void Runner::begin_stage(const std::string& stage) {
  m_report.begin_stage(stage);
  if (!m_options.dry_run) {
    compat_stage_started(m_system, stage);
  }
}

void Runner::end_stage(const std::string& overall, bool ready, bool last) {
  // Before the reporter says done: `cloud-init status --wait` must not
  // return before cloud-init's files are there.
  if (!m_options.dry_run) {
    compat_stage_finished(m_system, m_report.document().value("stage", ""), m_report.document(),
                          last);
  }
  m_report.end_stage(overall, ready, last);
}

bool Runner::init_stage() {
  begin_stage("init");
  Diagnostics image_diags;
  load_image(image_diags);
  m_report.diagnostics(image_diags);
  if (!acquire_source()) {
    end_stage(m_options.seed_dir || m_options.imds_url || looks_like_ec2(m_system) ? "error"
                                                                                   : "not-on-ec2",
              true, true);
    return false;
  }
  m_have_source = true;
  const std::string& id = m_source.metadata.instance_id;
  auto previous = m_state.current_instance();
  m_new_instance = !previous || *previous != id;
  m_report.set_instance(id, m_source.metadata.source);
  journal_send(LOG_INFO, "amiboot",
               m_new_instance
                   ? "new instance " + id + (previous ? " (was " + *previous + ")" : std::string())
                   : "same instance " + id + " as the last boot",
               m_report.fields());
  MergedConfig merged;
  bool remerge = false;
  try {
    if (m_source.user_data) {
      decode(*m_source.user_data);
    }
    Diagnostics diags;
    merged = merge_cloud_config(m_image, m_parts, diags, m_settings.limits);
    m_report.diagnostics(diags);
    if (!merged.rejected.empty()) {
      reject_user_data(merged.rejected.front() + " was rejected");
      remerge = true;
    }
  } catch (const std::exception& e) {
    // Whatever the user data did to us, the baseline must still run.
    m_report.error(std::string("user data: internal error: ") + e.what());
    reject_user_data("it could not be decoded");
    remerge = true;
  }
  if (remerge) {
    Diagnostics again;  // the image config's were reported above
    merged = merge_cloud_config(m_image, m_parts, again, m_settings.limits);
  }
  m_modules = std::move(merged.modules);
  m_merged_cfg = merged.config.to_json();
  m_image_config = m_image.merged();
  if (!m_options.dry_run) {
    if (auto st = m_state.save_instance(
            m_source, m_parts, store_stage_configs(m_modules, Stage::Final, m_image_config));
        !st) {
      m_report.error("state: " + st.error().message);
    }
    nlohmann::json instance_data = to_json(m_source.metadata);
    instance_data["user_data_present"] = m_source.user_data.has_value();
    (void)m_system.write_file(std::string(kRunDir) + "/instance-data.json",
                              json_text(instance_data, 2) + "\n", FileAttrs{0644, 0, 0, false});
    // Root only, as cloud-init keeps merged_cfg in instance-data-sensitive.json.
    (void)m_system.write_file(std::string(kRunDir) + "/" + kMergedCfgFile,
                              json_text(m_merged_cfg, 2) + "\n", FileAttrs{0600, 0, 0, false});
  }
  run_modules(Stage::Init);
  if (!m_options.dry_run) {
    // For the next boot's amiboot-login-generator (agent/login_order.h).
    const auto& init = m_report.document()["stages"]["init"];
    if (auto st = record_login_order(m_system, id, init.value("modules", nlohmann::json::array()));
        !st) {
      m_report.error("state: " + st.error().message);
    }
  }
  end_stage("done", true);
  record_history("init");
  return true;
}

// The final stage runs in a process of its own on an instance: it plans from
// the configs the init stage decoded, not from the user data again.
void Runner::load_final_configs() {
  if (auto text = m_state.load_final_configs()) {
    auto loaded = load_stage_configs(*text, Stage::Final);
    if (loaded) {
      m_modules = std::move(loaded->modules);
      m_image_config = std::move(loaded->image_config);
      return;
    }
    journal_send(LOG_NOTICE, "amiboot", loaded.error().message + "; decoding the user data again",
                 m_report.fields());
  }
  // The init stage already reported these diagnostics.
  Diagnostics again;
  load_image(again);
  m_modules = merge_cloud_config(m_image, m_parts, again, m_settings.limits).modules;
  m_image_config = m_image.merged();
}

bool Runner::final_stage() {
  begin_stage("final");
  if (!m_have_source) {
    auto loaded = m_state.load_current();
    if (!loaded) {
      m_report.error(loaded.error().message);
      end_stage("error", false);
      return false;
    }
    m_source = std::move(loaded->first);
    m_parts = std::move(loaded->second);
    m_report.set_instance(m_source.metadata.instance_id, m_source.metadata.source);
    load_final_configs();
  }
  run_modules(Stage::Final);
  if (m_reboot_required && m_system.under_root()) {
    m_report.warning(
        "packages: a reboot is required (package_reboot_if_required); not rebooting under "
        "--root");
  }
  if (m_power_change && m_system.under_root()) {
    m_report.warning("power_state: no " + m_power_change->mode +
                     " under --root: it would act on the machine amiboot runs on, not the root");
  }
  end_stage("done", false);
  record_history("final");
  // One power change: power_state's, when its condition holds, replaces the
  // packages' reboot (a poweroff or halt also boots the new packages next).
  bool powering = m_power_change && !m_system.under_root() && change_power();
  if (m_reboot_required && !m_system.under_root() && !powering) {
    reboot();
  }
  return true;
}

// power_state (cc_power_state_change). cloud-init forks a child that waits
// for cloud-init's own process to exit (at most `timeout` seconds), then
// checks the condition and runs shutdown. Here the final stage is over and
// written down first: status.json and result.json say "done", the readiness
// signal and final message are out (their rows ran in the stage), the
// history is recorded. Then the condition runs, and shutdown is handed to
// systemd as a transient unit ordered After=amiboot-final.service
// (modules/power_state.cc builds the systemd-run line): systemd starts it
// only when this process has exited and the unit has finished cleanly; a
// shutdown run from here would have systemd stop amiboot-final.service
// while amiboot still runs, and fail it. `timeout` bounds that wait
// (JobTimeoutSec=, JobTimeoutAction=). Without systemd-run, or when it
// fails, shutdown runs directly: the status is written either way.
bool Runner::change_power() {
  ExecContext ctx{m_system, m_source.metadata.instance_id, m_report.fields("power_state"),
                  m_settings.http_retry_deadline};
  auto changed = change_power_state(*m_power_change, ctx);
  if (!changed) {
    // The stage stays done; the error is listed in status.json and the run exits 1.
    m_report.error(changed.error().message);
    return false;
  }
  if (*changed) {
    m_system.console("amiboot: power_state: " + m_power_change->mode + " requested");
  }
  return *changed;
}

// After the stage is recorded as done, so that status and the history tell
// the truth while systemd takes the machine down; the packages module's
// semaphore is already written, so the next boot does not install again.
void Runner::reboot() {
  m_system.console("amiboot: rebooting: the installed packages require it");
  CommandSpec spec;
  // --no-block: systemd stops this unit as part of the reboot; waiting for
  // the job would only make that a failure.
  spec.argv = {"systemctl", "--no-block", "reboot"};
  spec.identifier = "amiboot";
  spec.journal_fields = m_report.fields("packages");
  auto outcome = m_system.run(spec);
  if (!outcome || outcome->exit_code != 0) {
    m_report.error("packages: a reboot is required, but systemctl reboot failed" +
                   (outcome ? " (exit status " + std::to_string(outcome->exit_code) + ")"
                            : ": " + outcome.error().message));
  }
}

void Runner::run_modules(Stage stage) {
  nlohmann::json stage_plan = {{"stage", stage_name(stage)}, {"modules", nlohmann::json::array()}};
  // Lanes only where the System may be used from two threads, only when
  // applying, and only in the init stage (modules/lanes.h).
  const std::vector<ModuleLane> no_lanes;
  const std::vector<ModuleLane>& lanes =
      stage == Stage::Init && !m_options.dry_run && m_system.concurrent_use()
          ? (m_options.lanes ? *m_options.lanes : init_lanes())
          : no_lanes;
  const std::vector<ModuleSpec>& table = m_options.modules ? *m_options.modules : module_table();
  for (auto row = table.begin(); row != table.end(); ++row) {
    const ModuleSpec& m = *row;
    if (m.stage != stage) {
      continue;
    }
    if (&m == m_followed) {
      // Planned, applied and reported by the lane it follows.
      m_followed = nullptr;
      continue;
    }
    ModuleRecord record = new_record(m);
    // The plan as --dry-run prints it; not made by a run that applies.
    nlohmann::json planned;
    if (m_options.dry_run) {
      planned = {{"name", m.name},
                 {"frequency", frequency_name(m.frequency)},
                 {"run", false},
                 {"reason", ""},
                 {"actions", nlohmann::json::array()}};
    }
    auto finish = [&]() {
      if (m_options.dry_run) {
        planned["reason"] = record.reason;
        stage_plan["modules"].push_back(std::move(planned));
      }
      m_report.module_finished(record);
    };
    // A row that is not planned changes nothing: it need not wait for a
    // lane, nor does whether it runs depend on one.
    if (record.reason = skip_reason(m); !record.reason.empty()) {
      finish();
      continue;
    }
    join_lanes(&m);
    auto started = std::chrono::steady_clock::now();
    const ModuleSpec* next = row + 1 != table.end() && row[1].stage == stage ? &row[1] : nullptr;
    const ModuleLane* lane = find_lane(lanes, m.name);
    if (lane != nullptr && lane->plan_reach != nullptr &&
        start_planned_lane(*lane, m, record, started, next)) {
      continue;  // planned, applied and reported by its lane
    }
    auto plan_now = [&] {
      Diagnostics decoded;
      DecodedConfig config = decode_config(m, decoded);
      return make_plan(m, config, decoded, make_facts(failed_modules()));
    };
    PlanResult plan = plan_now();
    while (wait_for_lanes_by_plan(m, plan.footprint)) {
      // That plan may have read what those lanes were changing; each round
      // has one lane fewer under way.
      plan = plan_now();
    }
    if (m_options.dry_run) {
      for (const auto& a : plan.actions) {
        auto j = action_to_json(a);
        j["summary"] = describe(a);
        planned["actions"].push_back(std::move(j));
      }
    }
    std::vector<std::string> plan_errors = plan_errors_of(plan);
    if (judge_unapplied(record, plan, plan_errors)) {
      // Failed, or nothing to do: recorded as such.
    } else if (m_options.dry_run) {
      planned["run"] = true;
      record.result = plan_errors.empty() ? "planned" : "failed";
      record.errors = plan_errors;
    } else if (lane != nullptr && may_be_lane(*lane, m, plan) &&
               start_lane(*lane, m, record, plan_errors, plan, started, next)) {
      continue;  // reported when the lane is joined; lanes run only when applying
    } else {
      // Said (status.json) just before its first effect, not before its
      // plan: a plan has no effects, and the per-boot rows that find
      // nothing to do on every boot then cost no status rewrite. A lane
      // says it in start_lane().
      m_report.module_started(record.name);
      settle(m, record, plan_errors, plan.summary,
             apply_plan(m, plan.actions, m_report.fields(record.name)));
    }
    record.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - started)
                             .count();
    finish();
  }
  join_lanes(nullptr);
  if (m_options.dry_run) {
    m_plan.push_back(std::move(stage_plan));
  }
}

std::string Runner::skip_reason(const ModuleSpec& m) const {
  if (!m.runs_without_keys && !m_modules.configured(m)) {
    return "not configured";
  }
  if (m_state.done(m, m_source.metadata.instance_id)) {
    return done_reason(m.frequency);
  }
  return "";
}

Facts Runner::make_facts(std::vector<std::string> failed) const {
  Facts facts{m_source.metadata, m_parts, m_system, m_image_config};
  facts.blocks = &m_blocks;
  facts.uptime_seconds = m_system.uptime_seconds();
  facts.timestamp = timestamp(m_system, "%Y-%m-%dT%H:%M:%SZ");
  facts.new_instance = m_new_instance;
  facts.failed_modules = std::move(failed);
  return facts;
}

DecodedConfig Runner::decode_config(const ModuleSpec& m, Diagnostics& decoded) {
  try {
    return m_modules.get(m, decoded);
  } catch (const std::exception& e) {
    decoded.push_back(internal_error(e));
    return nullptr;
  }
}

PlanResult Runner::make_plan(const ModuleSpec& m, const DecodedConfig& config,
                             const Diagnostics& decoded, const Facts& facts) {
  PlanResult plan;
  plan.diagnostics = decoded;
  try {
    if (config != nullptr) {
      plan = m.plan(config.get(), facts);
    }
  } catch (const std::exception& e) {
    plan.diagnostics.push_back(internal_error(e));
  }
  return plan;
}

bool Runner::judge_unapplied(ModuleRecord& record, const PlanResult& plan,
                             const std::vector<std::string>& plan_errors) {
  for (const auto& d : plan.diagnostics) {
    if (d.severity != Diagnostic::Severity::Error) {
      // Decoder warnings were reported with the config; the reporter
      // drops repeats, so only what the plan found adds a line.
      m_report.warning(d.format());
    }
  }
  if (fails_unapplied(plan, plan_errors)) {
    record.result = "failed";
    record.errors = plan_errors;
    return true;
  }
  if (plan.actions.empty()) {
    record.reason = "nothing to do";
    // What it found, when it says (the volumes row's wait for a device).
    record.summary = plan.summary;
    return true;
  }
  return false;
}

ExecOutcome Runner::apply_plan(const ModuleSpec& m, const std::vector<Action>& actions,
                               JournalFields fields) {
  const std::string& id = m_source.metadata.instance_id;
  ModuleProgress progress(m_state, m, id);
  InstanceFetchLedger fetched(m_state, id);
  ExecContext ctx{m_system,  id,      std::move(fields), m_settings.http_retry_deadline,
                  &progress, &fetched};
  ExecOutcome outcome;
  try {
    outcome = execute(actions, ctx);
  } catch (const std::exception& e) {
    outcome.errors.push_back(std::string("internal error: ") + e.what());
  }
  return outcome;
}

void Runner::settle(const ModuleSpec& m, ModuleRecord& record,
                    const std::vector<std::string>& plan_errors, const std::string& summary,
                    const ExecOutcome& outcome) {
  // apply_with_errors: the plan's errors name what it left out.
  record.result = outcome.ok() && plan_errors.empty() ? "ok" : "failed";
  record.errors = plan_errors;
  record.errors.insert(record.errors.end(), outcome.errors.begin(), outcome.errors.end());
  if (outcome.ok()) {
    record.summary = summary;
  }
  m_reboot_required = m_reboot_required || outcome.reboot_required;
  if (outcome.power_change) {
    m_power_change = outcome.power_change;
  }
  if (auto st = m_state.mark_done(m, m_source.metadata.instance_id, record.result); !st) {
    m_report.error("state: " + st.error().message);
  }
}

bool Runner::start_lane(const ModuleLane& lane, const ModuleSpec& m, const ModuleRecord& record,
                        const std::vector<std::string>& plan_errors, const PlanResult& plan,
                        std::chrono::steady_clock::time_point started, const ModuleSpec* next) {
  auto running = std::make_unique<Lane>(lane, m, record, started, plan.footprint);
  running->plan_errors = plan_errors;
  running->summary = plan.summary;
  running->actions = plan.actions;
  running->follower = make_follower(lane, m, plan.actions, plan.footprint, next);
  return run_lane(std::move(running));
}

bool Runner::start_planned_lane(const ModuleLane& lane, const ModuleSpec& m,
                                const ModuleRecord& record,
                                std::chrono::steady_clock::time_point started,
                                const ModuleSpec* next) {
  auto planned = std::make_unique<Lane::Planned>();
  planned->config = decode_config(m, planned->decoded);
  planned->failed = failed_modules();
  // Its plan reads while the rows beside it act: what it reads is checked
  // as what it touches.
  PlanFootprint footprint;
  std::string why;
  if (planned->config == nullptr) {
    why = "its config has errors";
  } else {
    auto reach = lane.plan_reach(planned->config.get(), make_facts(planned->failed));
    if (!reach) {
      return false;  // made at its row at once: it reads only what no lane changes
    }
    planned->reach = std::move(*reach);
    footprint = planned->reach;
    footprint.applied.insert(footprint.applied.end(), footprint.read.begin(), footprint.read.end());
    why = lane_refusal(footprint);
  }
  for (const auto& other : m_lanes) {
    if (why.empty() && other->lane->by_plan) {
      why = lane_conflict(other->name, *other->footprint, m.name, footprint);
    }
  }
  auto plans_after = [&](const Lane& other) {
    return std::find(lane.plans_after.begin(), lane.plans_after.end(), other.module->name) !=
           lane.plans_after.end();
  };
  if (why.empty()) {
    for (const auto& other : m_lanes) {
      if (plans_after(*other)) {
        // A lane of the table: its plan's errors are known at its start.
        planned->after.push_back(
            {std::string(other->module->name), other->outcome, !other->plan_errors.empty()});
      }
    }
    auto running = std::make_unique<Lane>(lane, m, record, started, footprint);
    running->follower = make_follower(lane, m, {}, footprint, next);
    running->planned = std::move(planned);
    std::string after;
    for (const auto& a : running->planned->after) {
      after += (after.empty() ? "" : ", ") + a.module;
    }
    journal_send(LOG_INFO, "amiboot",
                 std::string(m.name) + ": planned in its lane" +
                     (after.empty() ? "" : " once " + after + " is over") +
                     "; the rows after it are checked against what it may touch",
                 m_report.fields(record.name));
    if (run_lane(std::move(running))) {
      return true;
    }
  } else {
    journal_send(LOG_INFO, "amiboot", std::string(m.name) + ": planned at its row: " + why,
                 m_report.fields(record.name));
  }
  // Planned at its row: what it plans after is over first.
  finish_lanes_where(plans_after);
  return false;
}

bool Runner::plan_in_lane(Lane& lane) {
  Lane::Planned& p = *lane.planned;
  // What its plan would have seen at its row: those lanes over, failed or not.
  std::vector<std::string> failed = p.failed;
  for (auto& a : p.after) {
    if (!a.outcome.get().ok() || a.plan_failed) {
      failed.push_back(a.module);
    }
  }
  p.plan = make_plan(*lane.module, p.config, p.decoded, make_facts(std::move(failed)));
  if (!p.plan.actions.empty()) {
    std::string beyond =
        p.plan.footprint ? beyond_reach(*p.plan.footprint, p.reach) : "paths it does not name";
    if (!beyond.empty()) {
      // The rows beside it were let run by its reach: applying more would
      // break what they were promised.
      p.plan.diagnostics.push_back(
          Diagnostic{Diagnostic::Severity::Error,
                     {},
                     "",
                     "internal error: its plan reaches " + beyond +
                         ", beyond what the rows beside it were checked against; nothing applied"});
      p.plan.actions.clear();
    }
  }
  lane.plan_errors = plan_errors_of(p.plan);
  lane.summary = p.plan.summary;
  if (fails_unapplied(p.plan, lane.plan_errors) || p.plan.actions.empty()) {
    return false;
  }
  lane.actions = p.plan.actions;
  return true;
}

bool Runner::run_lane(std::unique_ptr<Lane> running) {
  Lane* l = running.get();
  if (l->follower) {
    add_footprint(*l->footprint, l->follower->plan.footprint.value());
    l->name += " (then " + std::string(l->follower->module->name) + ")";
  }
  try {
    // Its own thread (launch::async); an exception escaping the executor
    // is caught in apply_plan, and one escaping a plan in make_plan, so
    // get() never throws one.
    l->outcome =
        std::async(std::launch::async, [this, l, fields = m_report.fields(l->record.name)] {
          bool apply = l->planned == nullptr || plan_in_lane(*l);
          ExecOutcome outcome = apply ? apply_plan(*l->module, l->actions, fields) : ExecOutcome{};
          l->ended = std::chrono::steady_clock::now();
          if (l->follower) {
            follow(*l->follower, *l, !outcome.ok() || !l->plan_errors.empty());
          }
          return outcome;
        });
  } catch (const std::system_error& e) {
    journal_send(LOG_NOTICE, "amiboot",
                 std::string("no thread for this row (") + e.what() + "); applied in sequence",
                 m_report.fields(l->record.name));
    return false;
  }
  m_report.module_started(l->record.name, true);
  if (l->follower) {
    // The next row is the lane's from here: the main thread passes it by.
    m_followed = l->follower->module;
    journal_send(LOG_INFO, "amiboot",
                 l->follower->record.name + ": follows " + l->record.name +
                     " in its lane: it reads what " + l->record.name + " writes",
                 l->follower->fields);
    m_report.module_started(l->follower->record.name, true);
  }
  m_lanes.push_back(std::move(running));
  return true;
}

std::unique_ptr<Runner::Follower> Runner::make_follower(
    const ModuleLane& lane, const ModuleSpec& m, const std::vector<Action>& actions,
    const std::optional<PlanFootprint>& footprint, const ModuleSpec* next) {
  if (!lane.by_plan || !lane.follower || next == nullptr || next->name != lane.follower->module ||
      !skip_reason(*next).empty()) {
    return nullptr;
  }
  auto f = std::make_unique<Follower>();
  f->module = next;
  f->config = decode_config(*next, f->decoded);
  f->failed = failed_modules();
  // Its reach stands in for its footprint until its plan is made: it is
  // what the lane may do, and what must be clear of the other lanes under
  // way, as its row's plan would be at its row (else it waits there).
  PlanFootprint reach = lane.follower->reach(actions, make_facts(f->failed));
  PlanFootprint both = footprint.value();
  add_footprint(both, reach);
  std::string why = lane_refusal(both);
  for (const auto& other : m_lanes) {
    if (!why.empty()) {
      break;
    }
    const auto& alongside = other->lane->alongside;
    if (std::find(alongside.begin(), alongside.end(), next->name) == alongside.end()) {
      why = "it may not run beside " + other->name;
    } else if (other->lane->by_plan) {
      why = lane_conflict(other->name, *other->footprint, next->name, reach);
    }
  }
  if (!why.empty()) {
    journal_send(LOG_INFO, "amiboot",
                 std::string(next->name) + ": does not follow " + std::string(m.name) +
                     " in its lane: " + why,
                 m_report.fields(std::string(next->name)));
    return nullptr;
  }
  f->plan.footprint = std::move(reach);
  f->record = new_record(*next);
  f->record.concurrent = true;
  f->fields = m_report.fields(f->record.name);
  return f;
}

void Runner::follow(Follower& f, const Lane& lane, bool lane_failed) {
  f.record.started = std::chrono::steady_clock::now();
  // What its plan would have seen in sequence: the lane's row failed or not.
  std::vector<std::string> failed = f.failed;
  if (lane_failed) {
    failed.emplace_back(lane.module->name);
  }
  f.plan = make_plan(*f.module, f.config, f.decoded, make_facts(std::move(failed)));
  f.plan_errors = plan_errors_of(f.plan);
  if (!fails_unapplied(f.plan, f.plan_errors) && !f.plan.actions.empty()) {
    f.outcome = apply_plan(*f.module, f.plan.actions, f.fields);
  }
  f.ended = std::chrono::steady_clock::now();
}

void Runner::finish_follower(Follower& f) {
  ModuleRecord& record = f.record;
  if (!judge_unapplied(record, f.plan, f.plan_errors)) {
    settle(*f.module, record, f.plan_errors, f.plan.summary, f.outcome);
  }
  record.duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(f.ended - *record.started).count();
  m_report.module_finished(record);
}

void Runner::join_lanes(const ModuleSpec* next) {
  // Deterministic: the rows that wait, and the order in which the lanes
  // are reported, depend on the table alone, never on which thread ends
  // first.
  finish_lanes_where([next](const Lane& lane) {
    const auto& alongside = lane.lane->alongside;
    return next == nullptr ||
           std::find(alongside.begin(), alongside.end(), next->name) == alongside.end();
  });
}

void Runner::finish_lanes_where(const std::function<bool(const Lane&)>& pred) {
  for (auto it = m_lanes.begin(); it != m_lanes.end();) {
    if (pred(**it)) {
      finish_lane(**it);
      it = m_lanes.erase(it);
    } else {
      ++it;
    }
  }
}

void Runner::finish_lane(Lane& lane) {
  ExecOutcome outcome = lane.outcome.get();
  // A row planned in its lane is judged as at its row, now that its plan is made.
  if (lane.planned == nullptr ||
      !judge_unapplied(lane.record, lane.planned->plan, lane.plan_errors)) {
    settle(*lane.module, lane.record, lane.plan_errors, lane.summary, outcome);
  }
  lane.record.duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(lane.ended - *lane.record.started)
          .count();
  m_report.module_finished(lane.record);
  if (lane.follower) {
    finish_follower(*lane.follower);
  }
}

bool Runner::may_be_lane(const ModuleLane& lane, const ModuleSpec& m, const PlanResult& plan) {
  if (!lane.by_plan) {
    return true;
  }
  std::string why = lane_refusal(plan.footprint);
  if (!why.empty()) {
    journal_send(LOG_INFO, "amiboot", std::string(m.name) + ": applied in sequence: " + why,
                 m_report.fields(std::string(m.name)));
    return false;
  }
  return true;
}

bool Runner::wait_for_lanes_by_plan(const ModuleSpec& m,
                                    const std::optional<PlanFootprint>& footprint) {
  // The lanes still under way are those `m` may run alongside by the table
  // (join_lanes ran); a by-plan lane also needs the two plans apart.
  bool waited = false;
  std::string beside;
  for (auto it = m_lanes.begin(); it != m_lanes.end();) {
    Lane& lane = **it;
    if (!lane.lane->by_plan) {
      ++it;
      continue;
    }
    std::string why = lane_conflict(lane.name, *lane.footprint, m.name, footprint);
    if (why.empty()) {
      beside += (beside.empty() ? "" : ", ") + lane.name;
      ++it;
      continue;
    }
    journal_send(LOG_INFO, "amiboot", std::string(m.name) + ": waits for " + lane.name + ": " + why,
                 m_report.fields(std::string(m.name)));
    finish_lane(lane);
    it = m_lanes.erase(it);
    waited = true;
  }
  // Said once, in the round after which the row is not planned again.
  if (!waited && !beside.empty()) {
    journal_send(LOG_INFO, "amiboot",
                 std::string(m.name) + ": applied beside " + beside + ": no path in common",
                 m_report.fields(std::string(m.name)));
  }
  return waited;
}

std::vector<std::string> Runner::failed_modules() const {
  std::vector<std::string> failed;
  for (const auto& [name, stage] : m_report.document()["stages"].items()) {
    for (const auto& m : stage["modules"]) {
      if (m["result"] == "failed") {
        failed.push_back(m["name"]);
      }
    }
  }
  return failed;
}

void Runner::record_history(const std::string& stage) {
  if (m_options.dry_run) {
    return;
  }
  const auto& doc = m_report.document();
  nlohmann::json record = {
      {"stage", stage},
      {"instance_id", m_source.metadata.instance_id},
      {"started", doc["stages"][stage]["started"]},
      {"started_ms", doc["stages"][stage].value("started_ms", nlohmann::json())},
      {"uptime_ms", doc["stages"][stage].value("uptime_ms", nlohmann::json())},
      {"duration_ms", doc["stages"][stage]["duration_ms"]},
      {"status", doc["stages"][stage]["status"]},
      {"modules", doc["stages"][stage]["modules"]}};
  // The agent's own cost, children excluded: what the bench reports.
  rusage self{};
  getrusage(RUSAGE_SELF, &self);
  auto ms = [](const timeval& tv) { return tv.tv_sec * 1000.0 + tv.tv_usec / 1000.0; };
  record["cpu_ms"] = ms(self.ru_utime) + ms(self.ru_stime);
  record["max_rss_kb"] = self.ru_maxrss;
  record["imds_requests"] = m_imds_requests;
  record["imds_ms"] = m_imds_ms;
  // Which boot the run belongs to: analyze's blame and plot take the last.
  if (auto id = m_system.read_host_file("/proc/sys/kernel/random/boot_id")) {
    record["boot_id"] = std::string(trim(*id));
  }
  std::string name =
      timestamp(m_system, "%Y%m%dT%H%M%SZ") + "-" + std::to_string(getpid()) + "-" + stage;
  (void)m_state.record_boot(name, record);
}

void Runner::print_plan() const {
  if (m_options.json) {
    nlohmann::json out = {{"version", 1},
                          {"instance_id", m_source.metadata.instance_id},
                          {"new_instance", m_new_instance},
                          {"merged_cfg", redact_secrets(m_merged_cfg)},
                          {"stages", m_plan},
                          {"errors", m_report.document()["errors"]},
                          {"warnings", m_report.document()["warnings"]}};
    std::cout << json_text(out, 2) << "\n";
    return;
  }
  std::cout << "instance " << m_source.metadata.instance_id
            << (m_new_instance ? " (new instance)" : " (same instance as last boot)") << "\n";
  for (const auto& stage : m_plan) {
    std::cout << stage["stage"].get<std::string>() << " stage:\n";
    for (const auto& m : stage["modules"]) {
      std::cout << "  " << (m["run"].get<bool>() ? "run " : "skip") << " "
                << m["name"].get<std::string>() << " [" << m["frequency"].get<std::string>() << "]";
      if (!m["reason"].get<std::string>().empty()) {
        std::cout << ": " << m["reason"].get<std::string>();
      }
      std::cout << "\n";
      for (const auto& a : m["actions"]) {
        std::cout << "       " << a["summary"].get<std::string>() << "\n";
      }
    }
  }
  for (const auto& e : m_report.document()["errors"]) {
    std::cout << "error: " << e.get<std::string>() << "\n";
  }
  for (const auto& w : m_report.document()["warnings"]) {
    std::cout << "warning: " << w.get<std::string>() << "\n";
  }
}

}  // namespace

bool is_disabled(const std::string& root) {
  return is_disabled(HostSystem(root));
}

bool is_disabled(const System& system) {
  if (system.exists("/etc/amiboot/disabled")) {
    return true;
  }
  std::istringstream in(system.kernel_cmdline());
  std::string word;
  while (in >> word) {
    if (word == "amiboot=disabled") {
      return true;
    }
  }
  return false;
}

int run_stages(const RunOptions& options) {
  HostSystem system(options.root);
  if (options.dry_run) {
    return run_stages(options, system);
  }
  // One run at a time per root: a second one (by hand, or a unit started
  // twice) would otherwise run every module it finds unmarked again.
  auto lock = system.lock(std::string(kRunDir) + "/run.lock", options.lock_wait,
                          [&](const std::string& holder) {
                            std::cerr << "amiboot: another run (pid " << holder << ") holds "
                                      << kRunDir << "/run.lock; waiting up to "
                                      << options.lock_wait.count() << " s for it to finish\n";
                          });
  if (!lock) {
    std::cerr << "amiboot: error: " << lock.error().message << "\n";
    return 1;
  }
  return run_stages(options, system);
}

int run_stages(const RunOptions& options, System& system) {
  return Runner(options, system).run();
}

}  // namespace amiboot
