// SPDX-License-Identifier: Apache-2.0
#include "agent/cli.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>

#include "agent/analyze.h"
#include "agent/cloud_config.h"
#include "agent/command_line.h"
#include "agent/core/instance_data.h"
#include "agent/core/json_text.h"
#include "agent/core/settings.h"
#include "agent/core/strings.h"
#include "agent/core/template.h"
#include "agent/core/user_data.h"
#include "agent/firewall_early.h"
#include "agent/host_info.h"
#include "agent/report.h"
#include "agent/runner.h"
#include "agent/state.h"
#include "agent/system.h"
#include "modules/module.h"

namespace amiboot {

namespace {

constexpr const char* kUsage = R"(usage: amiboot COMMAND [OPTIONS]

Configures an EC2 instance at boot from IMDSv2 metadata and cloud-init user data.

commands:
  run        run the boot stages (what amiboot.service and amiboot-final.service do)
  status     show the result of this boot's run
  query      print cached instance metadata
  validate   check user data offline, with line and column for each problem
  analyze    per-module times of recorded boots
  clean      forget instance state before snapshotting an image
  modules    list the modules, their stage, frequency and keys
  firewall-early  apply the last boot's firewall before the network is up
  version    print the version

`amiboot COMMAND --help` describes each command.
)";

struct Command {
  const char* name;
  const char* help;
  std::vector<OptionSpec> options;
  std::size_t max_positionals;
  int (*main)(const ParsedOptions& args);
};

int cmd_run(const ParsedOptions& args) {
  RunOptions options;
  options.root = args.value("root").value_or("/");
  options.seed_dir = args.value("seed");
  options.imds_url = args.value("imds");
  options.dry_run = args.has("dry-run");
  options.json = args.has("json");
  if (auto wait = args.value("lock-wait")) {
    // Whole seconds, as the usage says; a day is more than any boot waits.
    if (!all_digits(*wait) || wait->size() > 5) {
      throw UsageError("--lock-wait takes whole seconds (0 to 99999), not '" + *wait + "'");
    }
    options.lock_wait = std::chrono::seconds(std::stoul(*wait));
  }
  std::string stage = args.value("stage").value_or("all");
  if (stage == "init") {
    options.stage = StageSelection::Init;
  } else if (stage == "final") {
    options.stage = StageSelection::Final;
  } else if (stage != "all") {
    throw UsageError("--stage must be init, final or all, not '" + stage + "'");
  }
  return run_stages(options);
}

void print_long(const nlohmann::json& doc) {
  auto str = [](const nlohmann::json& j) { return j.is_string() ? j.get<std::string>() : "-"; };
  std::cout << "instance: " << str(doc.value("instance_id", nlohmann::json())) << "\n";
  std::cout << "source:   " << str(doc.value("source", nlohmann::json())) << "\n";
  for (const char* stage : {"init", "final"}) {
    if (!doc.contains("stages") || !doc["stages"].contains(stage)) {
      continue;
    }
    const auto& s = doc["stages"][stage];
    std::cout << stage << " stage: " << str(s["status"]);
    if (s["duration_ms"].is_number()) {
      std::cout << " in " << s["duration_ms"].get<long long>() << " ms";
    }
    std::cout << "\n";
    for (const auto& m : s["modules"]) {
      std::cout << "  " << std::left << std::setw(22) << m["name"].get<std::string>()
                << std::setw(8) << m["result"].get<std::string>() << std::right << std::setw(6)
                << m["duration_ms"].get<long long>() << " ms";
      if (!m["reason"].get<std::string>().empty()) {
        std::cout << "  " << m["reason"].get<std::string>();
      }
      std::cout << "\n";
      if (m.contains("summary")) {
        std::cout << "      " << m["summary"].get<std::string>() << "\n";
      }
      for (const auto& e : m["errors"]) {
        std::cout << "      error: " << e.get<std::string>() << "\n";
      }
    }
  }
  for (const auto& e : doc.value("errors", nlohmann::json::array())) {
    std::cout << "error: " << e.get<std::string>() << "\n";
  }
  for (const auto& w : doc.value("warnings", nlohmann::json::array())) {
    std::cout << "warning: " << w.get<std::string>() << "\n";
  }
}

int cmd_status(const ParsedOptions& args) {
  std::string root = args.value("root").value_or("/");
  bool wait = args.has("wait");
  bool long_form = args.has("long");
  bool json = args.has("json");
  HostSystem system(root);
  auto doc = read_status(system);
  while (wait && status_exit_code(doc) == kExitRunning && !is_disabled(system)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    doc = read_status(system);
  }
  if (!doc && is_disabled(system)) {
    doc = nlohmann::json{{"status", "disabled"}};
  }
  int code = status_exit_code(doc);
  if (json) {
    std::cout << json_text(doc ? *doc : nlohmann::json{{"status", "not started"}}, 2) << "\n";
  } else {
    std::string s = doc ? (*doc)["status"].get<std::string>() : "not started";
    std::cout << "status: " << s << "\n";
    if (long_form && doc) {
      print_long(*doc);
    } else if (doc) {
      for (const auto& e : doc->value("errors", nlohmann::json::array())) {
        std::cout << "error: " << e.get<std::string>() << "\n";
      }
    }
  }
  return code;
}

/// Walks "a.b.c" into `doc`; nullptr when a part is missing. With
/// `underscores`, dashes in the key match underscores (amiboot's own keys).
const nlohmann::json* walk(const nlohmann::json& doc, const std::string& key, bool underscores) {
  const nlohmann::json* node = &doc;
  std::stringstream path(key);
  for (std::string part; std::getline(path, part, '.');) {
    if (underscores) {
      std::replace(part.begin(), part.end(), '-', '_');
    }
    if (!node->is_object() || !node->contains(part)) {
      return nullptr;
    }
    node = &(*node)[part];
  }
  return node;
}

// cloud-init's merged_cfg: the merged cloud-config, user data included, so
// root only (cloud-init keeps it in instance-data-sensitive.json).
int query_merged_cfg(const System& system, const std::string& key) {
  if (geteuid() != 0) {
    std::cerr << "amiboot query: merged_cfg holds user data and is readable by root only\n";
    return 1;
  }
  auto text = system.read_file(std::string(kRunDir) + "/" + kMergedCfgFile);
  if (!text) {
    std::cerr << "amiboot query: no merged_cfg yet (" << text.error().message << ")\n";
    return 1;
  }
  auto doc = nlohmann::json::parse(*text, nullptr, false);
  if (doc.is_discarded()) {
    std::cerr << "amiboot query: " << kMergedCfgFile << " is corrupt\n";
    return 1;
  }
  const nlohmann::json* node = &doc;
  if (key != "merged_cfg") {
    node = walk(doc, key.substr(std::string("merged_cfg.").size()), false);
  }
  if (node == nullptr) {
    std::cerr << "amiboot query: no key '" << key << "' in merged_cfg\n";
    return 1;
  }
  std::cout << (node->is_string() ? node->get<std::string>() : node->dump(2)) << "\n";
  return 0;
}

int cmd_query(const ParsedOptions& args) {
  HostSystem system(args.value("root").value_or("/"));
  auto format = args.value("format");
  const auto& rest = args.positionals;
  std::string key = rest.empty() ? "" : rest[0];
  if (key == "user_data" || key == "userdata" || key == "user-data") {
    if (geteuid() != 0) {
      std::cerr << "amiboot query: user data is readable by root only\n";
      return 1;
    }
    State state(system);
    auto loaded = state.load_current();
    if (!loaded) {
      std::cerr << "amiboot query: " << loaded.error().message << "\n";
      return 1;
    }
    std::cout << loaded->first.user_data.value_or("");
    return 0;
  }
  if (key == "merged_cfg" || key.rfind("merged_cfg.", 0) == 0) {
    return query_merged_cfg(system, key);
  }
  auto text = system.read_file(std::string(kRunDir) + "/instance-data.json");
  if (!text) {
    std::cerr << "amiboot query: no instance data yet (" << text.error().message << ")\n";
    return 1;
  }
  auto doc = nlohmann::json::parse(*text, nullptr, false);
  if (doc.is_discarded()) {
    std::cerr << "amiboot query: instance-data.json is corrupt\n";
    return 1;
  }
  // cloud-init's names (v1.region, ds.meta_data...), from the cached metadata.
  auto cloud_init_data = [&]() -> Result<nlohmann::json> {
    auto md = metadata_from_json(doc);
    if (!md) {
      return md.error();
    }
    return instance_data(*md, read_host_info(system));
  };
  if (format) {
    if (!key.empty()) {
      throw UsageError("--format takes no KEY");
    }
    auto data = cloud_init_data();
    if (!data) {
      std::cerr << "amiboot query: " << data.error().message << "\n";
      return 1;
    }
    auto rendered = render_template(*format, *data, "--format");
    if (!rendered) {
      std::cerr << "amiboot query: " << rendered.error().message << "\n";
      return 1;
    }
    std::cout << *rendered << "\n";
    return 0;
  }
  if (key.empty()) {
    std::cout << json_text(doc, 2) << "\n";
    return 0;
  }
  // "block_device_mapping.root" walks into objects; dashes match underscores.
  // Else cloud-init's names: "v1.region", "ds.meta_data.local-hostname".
  const nlohmann::json* node = walk(doc, key, true);
  nlohmann::json data;
  if (node == nullptr) {
    if (auto d = cloud_init_data()) {
      data = std::move(*d);
      node = walk(data, key, false);
    }
  }
  if (node == nullptr) {
    std::cerr << "amiboot query: no key '" << key << "'; keys are:";
    for (const auto& [k, v] : doc.items()) {
      std::cerr << " " << k;
    }
    std::cerr << " v1.* ds.*\n";
    return 1;
  }
  std::cout << (node->is_string() ? node->get<std::string>() : node->dump(2)) << "\n";
  return 0;
}

/// The instance `validate` renders templates for (documented in the README).
Metadata sample_metadata() {
  Metadata md;
  md.instance_id = "i-0123456789abcdef0";
  md.region = "us-east-1";
  md.availability_zone = "us-east-1a";
  md.instance_type = "t3.micro";
  md.image_id = "ami-0123456789abcdef0";
  md.private_ip = "10.0.0.1";
  md.local_hostname = "ip-10-0-0-1.ec2.internal";
  md.source = "imds";
  return md;
}

int cmd_validate(const ParsedOptions& args) {
  bool json = args.has("json");
  const auto& rest = args.positionals;
  std::string file = rest.empty() ? "-" : rest[0];
  std::string data;
  if (file == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    data = ss.str();
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::cerr << "amiboot validate: cannot read " << file << "\n";
      return 1;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    data = ss.str();
  }
  // The image config as `run` reads it (amiboot.yaml, then amiboot.yaml.d/):
  // its `amiboot.limits` bound the decoding, and the user data merges over
  // it. Its own problems are the image's, not the user data's: warnings.
  HostSystem system(args.value("root").value_or("/"));
  Diagnostics image_diags;
  ModuleConfigs image = load_image_config(system, image_diags);
  Settings settings = decode_settings(image.merged(), image_diags);
  Diagnostics diags;
  for (auto& d : image_diags) {
    d.severity = Diagnostic::Severity::Warning;
    d.message = "image config: " + d.message;
    diags.push_back(std::move(d));
  }
  UserDataOptions options;  // no fetch: validate runs offline
  options.limits = settings.limits;
  // Before launch there is no instance: templates render with a stand-in,
  // so their syntax and the YAML they make are checked.
  options.template_context = [] { return instance_data(sample_metadata(), HostInfo{}); };
  auto decoded = decode_user_data(data, options);
  int parts = 0;
  if (!decoded) {
    diags.push_back(Diagnostic{Diagnostic::Severity::Error, {}, "", decoded.error().message});
  } else {
    for (const auto& w : decoded->warnings) {
      diags.push_back(Diagnostic{Diagnostic::Severity::Warning, {}, "", w});
    }
    for (const auto& e : decoded->errors) {
      diags.push_back(Diagnostic{Diagnostic::Severity::Error, {}, "", e});
    }
    parts = static_cast<int>(decoded->parts.size());
    merge_cloud_config(std::move(image), decoded->parts, diags, settings.limits);
  }
  bool ok = !has_errors(diags);
  if (json) {
    nlohmann::json out = {{"valid", ok},
                          {"parts", parts},
                          {"errors", nlohmann::json::array()},
                          {"warnings", nlohmann::json::array()}};
    for (const auto& d : diags) {
      out[d.severity == Diagnostic::Severity::Error ? "errors" : "warnings"].push_back(d.to_json());
    }
    std::cout << json_text(out, 2) << "\n";
  } else {
    for (const auto& d : diags) {
      (d.severity == Diagnostic::Severity::Error ? std::cerr : std::cout) << d.format() << "\n";
    }
    if (ok) {
      std::cout << (parts == 0 ? "valid: nothing to do\n"
                               : "valid: " + std::to_string(parts) + " part(s)\n");
    }
  }
  return ok ? 0 : 1;
}

// systemd's timestamps of amiboot's units in this boot, for the plot;
// none under --root, without systemctl, or for an earlier boot.
std::vector<UnitSpan> unit_spans(System& system, const std::vector<nlohmann::json>& boot) {
  if (system.under_root() || boot.empty()) {
    return {};
  }
  auto current = system.read_host_file("/proc/sys/kernel/random/boot_id");
  if (!current || boot.back().value("boot_id", "") != std::string(trim(*current))) {
    return {};
  }
  CommandSpec spec;
  spec.argv = {"systemctl",
               "show",
               "amiboot.service",
               "amiboot-final.service",
               "-p",
               "Id,InactiveExitTimestampMonotonic,ActiveEnterTimestampMonotonic,"
               "ExecMainExitTimestampMonotonic"};
  spec.capture_stdout = true;
  spec.identifier = "amiboot";
  auto outcome = system.run(spec);
  if (!outcome || outcome->exit_code != 0) {
    return {};
  }
  return parse_unit_spans(outcome->stdout_text);
}

int cmd_analyze(const ParsedOptions& args) {
  HostSystem system(args.value("root").value_or("/"));
  std::string view = args.positionals.empty() ? "show" : args.positionals[0];
  if (view != "show" && view != "blame" && view != "plot") {
    throw UsageError("analyze shows show, blame or plot, not '" + view + "'");
  }
  if (args.has("json") && view != "show") {
    throw UsageError("--json goes with show");
  }
  State state(system);
  auto runs = in_boot_order(state.boots());
  if (args.has("json")) {
    std::cout << json_text(nlohmann::json(runs), 2) << "\n";
  } else if (view == "show") {
    std::cout << analyze_show(runs);
  } else if (view == "blame") {
    std::cout << analyze_blame(runs);
  } else {
    std::cout << analyze_plot(runs, unit_spans(system, last_boot(runs)));
  }
  return 0;
}

int cmd_clean(const ParsedOptions& args) {
  HostSystem system(args.value("root").value_or("/"));
  bool logs = args.has("logs");
  State state(system);
  if (auto st = state.clean(logs); !st) {
    std::cerr << "amiboot clean: " << st.error().message << "\n";
    return 1;
  }
  std::cout << "amiboot state removed" << (logs ? " (with boot history)" : "")
            << "; the next boot runs as a new instance\n";
  return 0;
}

// The module table: what a user-data key does and when; the shell
// completions take the names from here.
int cmd_modules(const ParsedOptions& args) {
  if (!args.positionals.empty()) {
    const ModuleSpec* m = find_module(args.positionals[0]);
    if (m == nullptr) {
      std::cerr << "amiboot modules: no module '" << args.positionals[0]
                << "' (amiboot modules lists them)\n";
      return 1;
    }
    std::cout << "module:    " << m->name << "\nstage:     " << stage_name(m->stage)
              << "\nfrequency: " << frequency_name(m->frequency) << "\nkeys:     ";
    for (const auto& k : m->keys) {
      std::cout << " " << k;
    }
    std::cout << (m->keys.empty() ? " (none)" : "") << "\n";
    return 0;
  }
  for (const auto& m : module_table()) {
    std::cout << std::left << std::setw(24) << m.name << std::setw(7) << stage_name(m.stage)
              << std::setw(14) << frequency_name(m.frequency);
    for (std::size_t i = 0; i < m.keys.size(); ++i) {
      std::cout << (i ? " " : "") << m.keys[i];
    }
    std::cout << "\n";
  }
  return 0;
}

// amiboot-firewall.service, before network-pre.target: the rules act on the
// kernel of the caller's network namespace, --root or not (the integration
// test runs it in a namespace with a sandbox root).
int cmd_firewall_early(const ParsedOptions& args) {
  HostSystem system(args.value("root").value_or("/"));
  return apply_kept_firewall(system, kStateDir, std::cout);
}

int cmd_version(const ParsedOptions&) {
  std::cout << "amiboot " AMIBOOT_VERSION "\n";
  return 0;
}

const OptionSpec kRoot{"root", 0, true};

const Command kCommands[] = {
    {"run",
     "usage: amiboot run [--stage init|final|all] [--dry-run [--json]] [--root DIR]\n"
     "                   [--seed DIR] [--imds URL] [--lock-wait SECONDS]\n"
     "Fetches metadata and user data, then runs the modules of the stage.\n"
     "  --stage STAGE  init (amiboot.service), final (amiboot-final.service) or all\n"
     "  --dry-run      print the plan and change nothing; --json for the JSON form\n"
     "  --root DIR     put every path under DIR (image builds, tests)\n"
     "  --seed DIR     read meta-data and user-data from DIR instead of IMDS\n"
     "  --imds URL     IMDS base URL (default from /etc/amiboot, http://169.254.169.254)\n"
     "  --lock-wait SECONDS  wait this long for another run on the same root to end\n"
     "                 (default 900; 0: fail at once, naming its pid)\n"
     "exit codes: 0 everything succeeded, 1 otherwise, 2 bad usage\n",
     {{"stage", 0, true},
      {"dry-run"},
      {"json"},
      kRoot,
      {"seed", 0, true},
      {"imds", 0, true},
      {"lock-wait", 0, true}},
     0,
     cmd_run},
    {"status",
     "usage: amiboot status [--wait] [--long] [--json] [--root DIR]\n"
     "Shows the result of this boot's run.\n"
     "  --wait      wait until both stages have finished\n"
     "  --long      each module's result, time and errors\n"
     "  --json      the status document (/run/amiboot/status.json)\n"
     "  --root DIR  read the status under DIR\n"
     "exit codes: 0 done without errors, 1 errors, 2 still running or not started,\n"
     "            3 disabled or not on EC2\n",
     {{"wait"}, {"long"}, {"json"}, kRoot},
     0,
     cmd_status},
    {"query",
     "usage: amiboot query [KEY] [--root DIR]\n"
     "       amiboot query --format TEMPLATE [--root DIR]\n"
     "Prints cached metadata (instance_id, region, local_hostname, public_keys,\n"
     "block_device_mapping.root, ...; cloud-init's v1.region, ds.meta_data.*, ...).\n"
     "user_data and merged_cfg (the merged cloud-config) are root only.\n"
     "  --format TEMPLATE  render a Jinja template against cloud-init's instance data:\n"
     "                     --format '{{ v1.region }} {{ v1.instance_id }}'\n"
     "  --root DIR         read the cached metadata under DIR\n",
     {{"format", 0, true}, kRoot},
     1,
     cmd_query},
    {"validate",
     "usage: amiboot validate [FILE|-] [--json] [--root DIR]\n"
     "Checks user data offline as `run` would (standard input without FILE or with -),\n"
     "with the image config's limits (/etc/amiboot/amiboot.yaml and amiboot.yaml.d/).\n"
     "  --json      the errors and warnings as JSON\n"
     "  --root DIR  read the image config under DIR\n"
     "exit codes: 0 valid, 1 not valid, 2 bad usage\n",
     {{"json"}, kRoot},
     1,
     cmd_validate},
    {"analyze",
     "usage: amiboot analyze [show] [--json] [--root DIR]\n"
     "       amiboot analyze blame [--root DIR]\n"
     "       amiboot analyze plot [--root DIR] > boot.svg\n"
     "Times of recorded runs, in milliseconds.\n"
     "  show        each run in boot order, its modules in run order (the default)\n"
     "  blame       the modules of the last boot, slowest first\n"
     "  plot        an SVG timeline of the last boot's stages and modules\n"
     "  --json      the recorded runs as JSON\n"
     "  --root DIR  read the run history under DIR\n",
     {{"json"}, kRoot},
     1,
     cmd_analyze},
    {"clean",
     "usage: amiboot clean [--logs] [--root DIR]\n"
     "Removes instance state and semaphores so the next boot is a first boot;\n"
     "the image's scripts/ folders stay.\n"
     "  --logs      also remove the run history (what analyze reads)\n"
     "  --root DIR  clean the state under DIR\n",
     {{"logs"}, kRoot},
     0,
     cmd_clean},
    {"modules",
     "usage: amiboot modules [NAME]\n"
     "Lists the modules in run order: name, stage, frequency and the user-data keys\n"
     "each one takes; with NAME, that module alone.\n",
     {},
     1,
     cmd_modules},
    {"firewall-early",
     "usage: amiboot firewall-early [--root DIR]\n"
     "Applies the firewall ruleset the last boot kept (nft), before the network is up\n"
     "(amiboot-firewall.service). Nothing to do when no ruleset was kept.\n"
     "  --root DIR  read and record the ruleset under DIR (the rules still go to\n"
     "              this network namespace's kernel)\n",
     {kRoot},
     0,
     cmd_firewall_early},
    {"version", "usage: amiboot version\nPrints amiboot's version.\n", {}, 0, cmd_version},
};

}  // namespace

int cli_main(const std::vector<std::string>& all_args) {
  static const OptionSpec kTopLevel[] = {{"version"}};
  std::vector<std::string> args;
  try {
    auto top = parse_options(all_args, kTopLevel, kAnyPositionals, true);
    if (top.help) {
      std::cout << kUsage;
      return 0;
    }
    if (top.has("version")) {
      return cmd_version({});
    }
    args = std::move(top.positionals);
  } catch (const UsageError& e) {
    std::cerr << "amiboot: " << e.what() << "\n" << kUsage;
    return 2;
  }
  if (args.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  if (args[0] == "help") {
    std::cout << kUsage;
    return 0;
  }
  for (const auto& c : kCommands) {
    if (args[0] != c.name) {
      continue;
    }
    try {
      auto parsed = parse_options({args.begin() + 1, args.end()}, c.options, c.max_positionals);
      if (parsed.help) {
        std::cout << c.help;
        return 0;
      }
      return c.main(parsed);
    } catch (const UsageError& e) {
      std::cerr << "amiboot " << c.name << ": " << e.what() << "\n" << c.help;
      return 2;
    }
  }
  std::cerr << "amiboot: unknown command '" << args[0] << "'\n" << kUsage;
  return 2;
}

}  // namespace amiboot
