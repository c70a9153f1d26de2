// SPDX-License-Identifier: Apache-2.0
#include "modules/commands.h"

namespace amiboot {

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
      list.indexes.push_back(i);
      list.commands.push_back({"sh", "-c", item.scalar});
    } else if (item.is_sequence() && !item.items.empty()) {
      std::vector<std::string> argv;
      for (std::size_t j = 0; j < item.items.size(); ++j) {
        if (auto s = decoder.string(item.items[j], path + "[" + std::to_string(j) + "]")) {
          argv.push_back(*s);
        }
      }
      list.indexes.push_back(i);
      list.commands.push_back(std::move(argv));
    } else {
      decoder.error(item, path,
                    "expected a command: a string (run with sh -c) or a non-empty list (an argv), "
                    "got " +
                        item.type_name());
    }
  }
  return list;
}

PlanResult plan_commands(const CommandList& list, const Facts&) {
  PlanResult result;
  for (std::size_t i = 0; i < list.commands.size(); ++i) {
    std::size_t index = i < list.indexes.size() ? list.indexes[i] : i;
    result.actions.push_back(
        RunCommand{list.commands[i], list.key + "[" + std::to_string(index) + "]"});
  }
  return result;
}

}  // namespace amiboot
