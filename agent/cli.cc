#include "agent/cli.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>

#include "agent/cloud_config.h"
#include "agent/core/instance_data.h"
#include "agent/core/json_text.h"
#include "agent/core/template.h"
#include "agent/core/user_data.h"
#include "agent/host_info.h"
#include "agent/report.h"
#include "agent/runner.h"
#include "agent/state.h"
#include "agent/system.h"

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
  version    print the version

`amiboot COMMAND --help` describes each command.
)";

struct Command {
  const char* name;
  const char* help;
  int (*main)(const std::vector<std::string>& args);
};

/// A tiny flag parser: --flag, --flag VALUE, --flag=VALUE, and positionals.
class Args {
 public:
  explicit Args(const std::vector<std::string>& args) : m_args(args) {}

  bool flag(const std::string& name) {
    auto it = std::find(m_args.begin(), m_args.end(), name);
    if (it == m_args.end()) {
      return false;
    }
    m_args.erase(it);
    return true;
  }

  std::optional<std::string> option(const std::string& name) {
    for (std::size_t i = 0; i < m_args.size(); ++i) {
      if (m_args[i] == name && i + 1 < m_args.size()) {
        std::string v = m_args[i + 1];
        m_args.erase(m_args.begin() + static_cast<long>(i),
                     m_args.begin() + static_cast<long>(i) + 2);
        return v;
      }
      if (m_args[i].rfind(name + "=", 0) == 0) {
        std::string v = m_args[i].substr(name.size() + 1);
        m_args.erase(m_args.begin() + static_cast<long>(i));
        return v;
      }
      if (m_args[i] == name) {
        throw std::invalid_argument(name + " needs a value");
      }
    }
    return std::nullopt;
  }

  /// Remaining arguments; an unknown --option is an error.
  std::vector<std::string> rest() const {
    for (const auto& a : m_args) {
      if (a.size() > 1 && a[0] == '-' && a != "-") {
        throw std::invalid_argument("unknown option " + a);
      }
    }
    return m_args;
  }

 private:
  std::vector<std::string> m_args;
};

int cmd_run(const std::vector<std::string>& raw) {
  Args args(raw);
  RunOptions options;
  options.root = args.option("--root").value_or("/");
  options.seed_dir = args.option("--seed");
  options.imds_url = args.option("--imds");
  options.dry_run = args.flag("--dry-run");
  options.json = args.flag("--json");
  std::string stage = args.option("--stage").value_or("all");
  if (stage == "init") {
    options.stage = StageSelection::Init;
  } else if (stage == "final") {
    options.stage = StageSelection::Final;
  } else if (stage != "all") {
    throw std::invalid_argument("--stage must be init, final or all, not '" + stage + "'");
  }
  if (!args.rest().empty()) {
    throw std::invalid_argument("run takes no positional arguments");
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

int cmd_status(const std::vector<std::string>& raw) {
  Args args(raw);
  std::string root = args.option("--root").value_or("/");
  bool wait = args.flag("--wait");
  bool long_form = args.flag("--long");
  bool json = args.flag("--json");
  args.rest();
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

int cmd_query(const std::vector<std::string>& raw) {
  Args args(raw);
  HostSystem system(args.option("--root").value_or("/"));
  auto format = args.option("--format");
  auto rest = args.rest();
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
      throw std::invalid_argument("--format takes no KEY");
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

int cmd_validate(const std::vector<std::string>& raw) {
  Args args(raw);
  bool json = args.flag("--json");
  auto rest = args.rest();
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
  Diagnostics diags;
  UserDataOptions options;  // no fetch: validate runs offline
  // Before launch there is no instance: templates render with a stand-in,
  // so their syntax and the YAML they make are checked.
  nlohmann::json sample = instance_data(sample_metadata(), HostInfo{});
  options.template_context = &sample;
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
    merge_cloud_config(Value{}, decoded->parts, diags);
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

int cmd_analyze(const std::vector<std::string>& raw) {
  Args args(raw);
  HostSystem system(args.option("--root").value_or("/"));
  bool json = args.flag("--json");
  args.rest();
  State state(system);
  auto boots = state.boots();
  if (json) {
    std::cout << json_text(nlohmann::json(boots), 2) << "\n";
    return 0;
  }
  if (boots.empty()) {
    std::cout << "no recorded runs\n";
    return 0;
  }
  for (const auto& b : boots) {
    std::cout << b.value("started", "?") << "  " << b.value("stage", "?") << "  "
              << b.value("instance_id", "?") << "  " << b.value("status", "?") << "  "
              << b.value("duration_ms", 0LL) << " ms\n";
    auto modules = b.value("modules", nlohmann::json::array());
    std::vector<nlohmann::json> ran;
    for (const auto& m : modules) {
      if (m.value("result", "") != "skipped") {
        ran.push_back(m);
      }
    }
    std::sort(ran.begin(), ran.end(), [](const auto& a, const auto& c) {
      return a.value("duration_ms", 0LL) > c.value("duration_ms", 0LL);
    });
    for (const auto& m : ran) {
      std::cout << "  " << std::right << std::setw(8) << m.value("duration_ms", 0LL) << " ms  "
                << m.value("name", "?") << " (" << m.value("result", "?") << ")\n";
    }
  }
  return 0;
}

int cmd_clean(const std::vector<std::string>& raw) {
  Args args(raw);
  HostSystem system(args.option("--root").value_or("/"));
  bool logs = args.flag("--logs");
  args.rest();
  State state(system);
  if (auto st = state.clean(logs); !st) {
    std::cerr << "amiboot clean: " << st.error().message << "\n";
    return 1;
  }
  std::cout << "amiboot state removed" << (logs ? " (with boot history)" : "")
            << "; the next boot runs as a new instance\n";
  return 0;
}

int cmd_version(const std::vector<std::string>&) {
  std::cout << "amiboot " AMIBOOT_VERSION "\n";
  return 0;
}

const Command kCommands[] = {
    {"run",
     "usage: amiboot run [--stage init|final|all] [--dry-run [--json]] [--root DIR]\n"
     "                   [--seed DIR] [--imds URL]\n"
     "Fetches metadata and user data, then runs the modules of the stage.\n"
     "  --stage      init (amiboot.service), final (amiboot-final.service) or all\n"
     "  --dry-run    print the plan and change nothing; --json for the JSON form\n"
     "  --root DIR   put every path under DIR (image builds, tests)\n"
     "  --seed DIR   read meta-data and user-data from DIR instead of IMDS\n"
     "  --imds URL   IMDS base URL (default from /etc/amiboot, http://169.254.169.254)\n",
     cmd_run},
    {"status",
     "usage: amiboot status [--wait] [--long] [--json] [--root DIR]\n"
     "exit codes: 0 done without errors, 1 errors, 2 still running or not started,\n"
     "            3 disabled or not on EC2\n",
     cmd_status},
    {"query",
     "usage: amiboot query [KEY] [--root DIR]\n"
     "       amiboot query --format TEMPLATE [--root DIR]\n"
     "Prints cached metadata (instance_id, region, local_hostname, public_keys,\n"
     "block_device_mapping.root, ...; cloud-init's v1.region, ds.meta_data.*, ...).\n"
     "user_data and merged_cfg (the merged cloud-config) are root only. --format renders a Jinja "
     "template against\n"
     "cloud-init's instance data: --format '{{ v1.region }} {{ v1.instance_id }}'.\n",
     cmd_query},
    {"validate",
     "usage: amiboot validate [FILE|-] [--json]\n"
     "Checks user data offline as `run` would; exit 0 when valid, 1 otherwise.\n",
     cmd_validate},
    {"analyze",
     "usage: amiboot analyze [--json] [--root DIR]\nPer-module times of recorded runs.\n",
     cmd_analyze},
    {"clean",
     "usage: amiboot clean [--logs] [--root DIR]\n"
     "Removes instance state and semaphores so the next boot is a first boot;\n"
     "--logs also removes the run history. The image's scripts/ folders stay.\n",
     cmd_clean},
    {"version", "usage: amiboot version\n", cmd_version},
};

}  // namespace

int cli_main(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    return cmd_version({});
  }
  for (const auto& c : kCommands) {
    if (args[0] != c.name) {
      continue;
    }
    std::vector<std::string> rest(args.begin() + 1, args.end());
    if (std::find(rest.begin(), rest.end(), "--help") != rest.end()) {
      std::cout << c.help;
      return 0;
    }
    try {
      return c.main(rest);
    } catch (const std::invalid_argument& e) {
      std::cerr << "amiboot " << c.name << ": " << e.what() << "\n" << c.help;
      return 2;
    }
  }
  std::cerr << "amiboot: unknown command '" << args[0] << "'\n" << kUsage;
  return 2;
}

}  // namespace amiboot
