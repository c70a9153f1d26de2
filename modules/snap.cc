// SPDX-License-Identifier: Apache-2.0
#include "modules/snap.h"

#include <algorithm>
#include <numeric>

namespace amiboot {

namespace {

/// The entries of a list (in order) or a map (in key order when `sorted`,
/// numerically when every key is an integer, as Python sorts PyYAML's int
/// keys; else in document order), each with its path.
std::vector<std::pair<std::string, const Value*>> entries(const Value& v, const std::string& path,
                                                          bool sorted) {
  std::vector<std::pair<std::string, const Value*>> out;
  if (v.is_sequence()) {
    for (std::size_t i = 0; i < v.items.size(); ++i) {
      out.emplace_back(path + "[" + std::to_string(i) + "]", &v.items[i]);
    }
    return out;
  }
  std::vector<std::size_t> order(v.entries.size());
  std::iota(order.begin(), order.end(), 0);
  if (sorted) {
    auto number = [](const std::string& key) {
      Value scalar;
      scalar.kind = Value::Kind::Scalar;
      scalar.scalar = key;
      return scalar.as_int();
    };
    bool numeric = std::all_of(v.entries.begin(), v.entries.end(),
                               [&](const Value::Entry& e) { return number(e.key).has_value(); });
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      const std::string& x = v.entries[a].key;
      const std::string& y = v.entries[b].key;
      return numeric ? *number(x) < *number(y) : x < y;
    });
  }
  for (std::size_t i : order) {
    out.emplace_back(path + "." + v.entries[i].key, &v.entries[i].value);
  }
  return out;
}

void decode_assertions(const Value& v, Decoder& d, SnapConfig& cfg) {
  const std::string path = "snap.assertions";
  if (!v.is_sequence() && !v.is_map()) {
    d.error(v, path, "expected a list or a map of signed assertions, got " + v.type_name());
    return;
  }
  // cloud-init takes a map's values in the order written (dict.values()).
  for (const auto& [where, item] : entries(v, path, false)) {
    if (!item->is_scalar() || item->scalar.empty()) {
      d.error(*item, where, "expected a signed assertion (text), got " + item->type_name());
      continue;
    }
    cfg.assertions.push_back(item->scalar);
  }
}

void decode_commands(const Value& v, Decoder& d, SnapConfig& cfg) {
  const std::string path = "snap.commands";
  if (!v.is_sequence() && !v.is_map()) {
    d.error(v, path, "expected a list or a map of commands, got " + v.type_name());
    return;
  }
  // cloud-init's run_commands(): a map runs in key order; then
  // subp.prepend_base_command("snap", ...).
  for (const auto& [where, item] : entries(v, path, true)) {
    if (item->is_scalar() && !item->scalar.empty()) {
      if (!item->scalar.starts_with("snap ")) {
        d.warning(*item, where,
                  "not a snap command; run with sh -c as written (cloud-init warns the same)");
      }
      cfg.commands.push_back({"sh", "-c", item->scalar});
      cfg.labels.push_back(where);
      continue;
    }
    if (!item->is_sequence() || item->items.empty()) {
      d.error(*item, where,
              "expected a command: a string (run with sh -c) or a non-empty list (an argv, "
              "\"snap\" put in front when it does not start with it), got " +
                  item->type_name());
      continue;
    }
    std::vector<std::string> argv;
    // A null first item keeps "snap" out (cloud-init's escape hatch).
    bool bare = item->items[0].is_null();
    for (std::size_t i = bare ? 1 : 0; i < item->items.size(); ++i) {
      if (auto arg = d.string(item->items[i], where + "[" + std::to_string(i) + "]")) {
        argv.push_back(*arg);
      }
    }
    if (argv.empty()) {
      d.error(*item, where, "expected a command after the null, got nothing");
      continue;
    }
    if (!bare && argv[0] != "snap") {
      argv.insert(argv.begin(), "snap");
    }
    cfg.commands.push_back(std::move(argv));
    cfg.labels.push_back(where);
  }
}

}  // namespace

RunCommand snap_wait_for_seed(const std::string& label) {
  RunCommand wait{{"snap", "wait", "system", "seed.loaded"}, label};
  wait.needs_host = true;  // the running snapd
  wait.required = true;
  return wait;
}

std::optional<SnapConfig> decode_snap(const Value& config, Diagnostics& out) {
  const Value* v = config.get("snap");
  if (v == nullptr || v->is_null()) {
    return std::nullopt;
  }
  Decoder d(out);
  if (d.map(*v, "snap") == nullptr) {
    return std::nullopt;
  }
  d.unknown_keys(*v, "snap", {"assertions", "commands"});
  SnapConfig cfg;
  if (const Value* assertions = v->get("assertions");
      assertions != nullptr && !assertions->is_null()) {
    decode_assertions(*assertions, d, cfg);
  }
  if (const Value* commands = v->get("commands"); commands != nullptr && !commands->is_null()) {
    decode_commands(*commands, d, cfg);
  }
  if (d.failed()) {
    return std::nullopt;
  }
  return cfg;
}

PlanResult plan_snap(const SnapConfig& config, const Facts& facts) {
  PlanResult result;
  if (config.assertions.empty() && config.commands.empty()) {
    return result;
  }
  if (!facts.system.has_program("snap")) {
    result.diagnostics.push_back(
        {Diagnostic::Severity::Warning,
         {},
         "snap",
         "snapd is not on this image (no snap command): " +
             std::to_string(config.assertions.size()) + " assertion(s) and " +
             std::to_string(config.commands.size()) + " command(s) skipped"});
    return result;
  }
  result.actions.push_back(snap_wait_for_seed("snap: waiting for snapd to load its seed"));
  if (!config.assertions.empty()) {
    // cloud-init's add_assertions(): one file, the assertions joined by a
    // newline, acknowledged at once; the commands only when that worked.
    std::string path = facts.instance_dir() + "/snapd.assertions";
    std::string content;
    for (const auto& assertion : config.assertions) {
      content += (content.empty() ? "" : "\n") + assertion;
    }
    result.actions.push_back(
        WriteFile{.path = path, .content = content, .mode = 0600, .label = "snap.assertions"});
    RunCommand ack{{"snap", "ack"}, "snap.assertions"};
    ack.target_path(path);
    ack.needs_host = true;
    ack.required = true;
    result.actions.push_back(ack);
  }
  // Each command is tried; the failures are listed together, as cloud-init does.
  for (std::size_t i = 0; i < config.commands.size(); ++i) {
    RunCommand command{config.commands[i],
                       i < config.labels.size() ? config.labels[i] : "snap.commands"};
    command.needs_host = true;
    result.actions.push_back(command);
  }
  result.summary = std::to_string(config.assertions.size()) + " assertion(s) acknowledged, " +
                   std::to_string(config.commands.size()) + " snap command(s) run";
  return result;
}

}  // namespace amiboot
