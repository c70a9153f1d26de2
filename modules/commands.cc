// SPDX-License-Identifier: Apache-2.0
#include "modules/commands.h"

namespace amiboot {

namespace {

// A list item's element as util.shellify quotes it: in single quotes, each
// quote inside closed, escaped and reopened.
std::string single_quoted(const std::string& word) {
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace

std::optional<CommandList> decode_command_list(const Value& config, const std::string& key,
                                               Diagnostics& out) {
  const Value* v = config.get(key);
  if (v == nullptr || v->is_null()) {
    return std::nullopt;
  }
  Decoder decoder(out);
  CommandList list{key, {}};
  if (decoder.list(*v, key) == nullptr) {
    return list;
  }
  for (std::size_t i = 0; i < v->items.size(); ++i) {
    const Value& item = v->items[i];
    std::string path = key + "[" + std::to_string(i) + "]";
    if (item.is_null()) {
      continue;  // cloud-init's schema allows null items, and cloud-init skips them
    }
    if (item.is_scalar()) {
      list.lines.push_back(item.scalar);
    } else if (item.is_sequence() && !item.items.empty()) {
      std::string line;
      for (std::size_t j = 0; j < item.items.size(); ++j) {
        if (auto s = decoder.string(item.items[j], path + "[" + std::to_string(j) + "]")) {
          line += (line.empty() ? "" : " ") + single_quoted(*s);
        }
      }
      list.lines.push_back(std::move(line));
    } else {
      decoder.error(item, path,
                    "expected a command: a string (a line of shell) or a non-empty list (a "
                    "command and its arguments), got " +
                        item.type_name());
    }
  }
  return list;
}

std::string shellify(const CommandList& list) {
  std::string script = "#!/bin/sh\n";
  for (const std::string& line : list.lines) {
    script += line;
    script += '\n';
  }
  return script;
}

WriteFile script_file(std::string path, std::string content, std::string label) {
  WriteFile file{std::move(path), std::move(content), 0700, "root", false, std::move(label)};
  file.durable = false;
  return file;
}

std::vector<Action> write_and_run_commands(const CommandList& list, const std::string& folder,
                                           bool through_sh) {
  std::string path = folder + "/" + list.key;
  std::vector<Action> actions;
  actions.push_back(script_file(path, shellify(list), list.key));
  if (through_sh) {
    // /bin/sh is the host's under --root, as a user's `sh -c` was; the
    // script is the target's.
    actions.push_back(RunCommand{{"/bin/sh"}, list.key}.target_path(path));
  } else {
    actions.push_back(RunCommand{{path}, list.key, true});
  }
  return actions;
}

PlanResult plan_commands(const CommandList& list, const Facts& facts) {
  PlanResult result;
  if (!list.lines.empty()) {
    result.actions = write_and_run_commands(list, facts.instance_dir(), true);
  }
  return result;
}

}  // namespace amiboot
