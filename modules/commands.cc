#include "modules/commands.h"

namespace amiboot {

std::optional<std::vector<std::vector<std::string>>> decode_command_list(const Value& config,
                                                                         const std::string& key,
                                                                         Decoder& decoder) {
  const Value* v = config.get(key);
  if (v == nullptr || v->is_null()) {
    return std::nullopt;
  }
  std::vector<std::vector<std::string>> out;
  if (decoder.list(*v, key) == nullptr) {
    return out;
  }
  for (std::size_t i = 0; i < v->items.size(); ++i) {
    const Value& item = v->items[i];
    std::string path = key + "[" + std::to_string(i) + "]";
    if (item.is_scalar()) {
      out.push_back({"sh", "-c", item.scalar});
    } else if (item.is_sequence() && !item.items.empty()) {
      std::vector<std::string> argv;
      for (std::size_t j = 0; j < item.items.size(); ++j) {
        if (auto s = decoder.string(item.items[j], path + "[" + std::to_string(j) + "]")) {
          argv.push_back(*s);
        }
      }
      out.push_back(std::move(argv));
    } else {
      decoder.error(item, path,
                    "expected a command: a string (run with sh -c) or a non-empty list (an argv), "
                    "got " +
                        item.type_name());
    }
  }
  return out;
}

std::vector<Action> run_commands(const std::vector<std::vector<std::string>>& commands,
                                 const std::string& key) {
  std::vector<Action> actions;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    actions.push_back(RunCommand{commands[i], key + "[" + std::to_string(i) + "]"});
  }
  return actions;
}

}  // namespace amiboot

namespace amiboot {

void check_command_key(const Value& config, const std::string& key, Diagnostics& out) {
  Decoder decoder(out);
  decode_command_list(config, key, decoder);
}

PlanResult plan_command_key(const ModuleInput& input, const std::string& key) {
  PlanResult result;
  Decoder decoder(result.diagnostics);
  auto commands = decode_command_list(input.config, key, decoder);
  if (commands && !decoder.failed()) {
    result.actions = run_commands(*commands, key);
  }
  return result;
}

}  // namespace amiboot
