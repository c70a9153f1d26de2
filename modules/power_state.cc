// SPDX-License-Identifier: Apache-2.0
#include "modules/power_state.h"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace amiboot {

namespace {

constexpr std::string_view kModes[] = {"poweroff", "reboot", "halt"};

// cloud-init's distro.shutdown_options_map.
std::string shutdown_flag(const std::string& mode) {
  if (mode == "reboot") {
    return "-r";
  }
  return mode == "halt" ? "-H" : "-P";
}

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
  });
}

// `now`, minutes as an integer, or (deprecated since cloud-init 22.3) a
// string of digits with an optional "+": shutdown's "now" or "+N".
std::optional<std::string> decode_delay(const Value& v, Decoder& d) {
  const std::string path = "power_state.delay";
  if (v.is_scalar() && v.scalar == "now") {
    return "now";
  }
  if (auto minutes = v.as_int()) {
    if (*minutes >= 0) {
      return "+" + std::to_string(*minutes);
    }
  } else if (v.is_scalar() && !v.plain) {
    std::string_view digits = v.scalar;
    if (digits.starts_with('+')) {
      digits.remove_prefix(1);
    }
    if (all_digits(digits) && digits.size() <= 9) {
      d.warning(v, path,
                "a string is deprecated (cloud-init 22.3); write now or an integer number of "
                "minutes");
      return "+" + std::to_string(std::stoll(std::string(digits)));
    }
  }
  d.error(v, path,
          "expected now or a number of minutes (0 or more), got " +
              (v.is_scalar() ? "'" + v.scalar + "'" : v.type_name()));
  return std::nullopt;
}

// Seconds, as cloud-init's float(timeout) reads them: "30", 2.5, "45".
std::optional<long long> decode_timeout_ms(const Value& v, Decoder& d) {
  const std::string path = "power_state.timeout";
  std::string_view text = v.is_scalar() ? std::string_view(v.scalar) : std::string_view();
  bool negative = text.starts_with('-');
  if (negative || text.starts_with('+')) {
    text.remove_prefix(1);
  }
  std::size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view fraction = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  // "30", "2.5", "30." and ".5", as Python's float() takes them.
  bool number = (whole.empty() || all_digits(whole)) &&
                (fraction.empty() || all_digits(fraction)) && whole.size() + fraction.size() > 0;
  if (!v.is_scalar() || !number || whole.size() > 9) {
    d.error(v, path,
            "expected a number of seconds, got " +
                (v.is_scalar() ? "'" + v.scalar + "'" : v.type_name()));
    return std::nullopt;
  }
  long long ms = whole.empty() ? 0 : std::stoll(std::string(whole)) * 1000;
  std::string millis = std::string(fraction.substr(0, 3));
  millis.resize(3, '0');
  ms += std::stoll(millis);
  if (negative && ms > 0) {
    // cloud-init takes it and does not wait at all.
    d.warning(v, path, "a negative timeout is read as 0, as cloud-init reads it");
    return 0;
  }
  return ms;
}

void decode_condition(const Value& v, Decoder& d, PowerStateConfig& cfg) {
  const std::string path = "power_state.condition";
  if (auto flag = v.as_bool()) {
    cfg.condition = *flag;
    return;
  }
  if (v.is_scalar() && !(v.plain && v.looks_like_number()) && !v.scalar.empty()) {
    cfg.condition_argv = {"sh", "-c", v.scalar};  // cloud-init: shell=True for a string
    return;
  }
  if (v.is_sequence() && !v.items.empty()) {
    std::vector<std::string> argv;
    for (std::size_t i = 0; i < v.items.size(); ++i) {
      if (auto arg = d.string(v.items[i], path + "[" + std::to_string(i) + "]")) {
        argv.push_back(*arg);
      }
    }
    if (argv.size() == v.items.size()) {
      cfg.condition_argv = std::move(argv);
    }
    return;
  }
  d.error(v, path,
          "expected true, false, a command string (run with sh -c) or a non-empty list (an "
          "argv), got " +
              v.type_name());
}

}  // namespace

std::optional<PowerStateConfig> decode_power_state(const Value& config, Diagnostics& out) {
  const Value* v = config.get("power_state");
  if (v == nullptr || v->is_null()) {
    return std::nullopt;
  }
  Decoder d(out);
  if (d.map(*v, "power_state") == nullptr) {
    return std::nullopt;
  }
  d.unknown_keys(*v, "power_state", {"delay", "mode", "message", "timeout", "condition"});
  PowerStateConfig cfg;
  if (const Value* mode = v->get("mode"); mode == nullptr) {
    d.error(*v, "power_state", "missing required key 'mode' (poweroff, reboot or halt)");
  } else if (auto text = d.string(*mode, "power_state.mode")) {
    if (std::find(std::begin(kModes), std::end(kModes), *text) == std::end(kModes)) {
      d.error(*mode, "power_state.mode", "expected poweroff, reboot or halt, got '" + *text + "'");
    }
    cfg.mode = *text;
  }
  if (const Value* delay = v->get("delay")) {
    cfg.delay = decode_delay(*delay, d).value_or("now");
  }
  if (const Value* message = v->get("message"); message != nullptr && !message->is_null()) {
    cfg.message = d.string(*message, "power_state.message").value_or("");
  }
  if (const Value* timeout = v->get("timeout")) {
    cfg.timeout_ms = decode_timeout_ms(*timeout, d).value_or(0);
  }
  if (const Value* condition = v->get("condition")) {
    decode_condition(*condition, d, cfg);
  }
  if (d.failed()) {
    return std::nullopt;
  }
  return cfg;
}

PlanResult plan_power_state(const PowerStateConfig& config, const Facts& facts) {
  PlanResult result;
  if (config.condition_argv.empty() && !config.condition) {
    return result;  // cloud-init: "Condition was false. Will not perform state change."
  }
  // cloud-init's distro.shutdown_command().
  std::vector<std::string> shutdown = {"shutdown", shutdown_flag(config.mode), config.delay};
  if (!config.message.empty()) {
    shutdown.push_back(config.message);
  }
  ChangePowerState change{.mode = config.mode};
  if (!config.condition_argv.empty()) {
    RunCommand condition{config.condition_argv, "power_state.condition"};
    condition.needs_host = true;
    change.condition = condition;
  }
  RunCommand direct{shutdown, "power_state"};
  direct.needs_host = true;
  if (facts.system.has_program("systemd-run")) {
    // A transient unit that systemd starts once amiboot-final.service has
    // finished, so the unit ends cleanly before anything is stopped.
    // --no-block: waiting for that start job here would wait for ourselves.
    // cloud-init's `timeout` bounds its child's wait for cloud-init to exit;
    // this process exits right after this, and systemd refuses a job
    // timeout on a transient unit (JobTimeoutUSec, seen in the e2e), so
    // `timeout` is accepted and has nothing left to bound.
    RunCommand unit{{"systemd-run", "--no-block", "--unit=amiboot-power-state",
                     "--description=amiboot power_state: " + config.mode,
                     std::string("--property=After=") + kFinalUnit},
                    "power_state"};
    unit.argv.push_back("--");
    unit.argv.insert(unit.argv.end(), shutdown.begin(), shutdown.end());
    unit.needs_host = true;
    change.command = unit;
    change.fallback = direct;
  } else {
    change.command = direct;
  }
  result.actions.push_back(change);
  result.summary =
      config.mode + " (" + quote_argv(shutdown) + ") once the final stage is done" +
      (change.condition ? ", if " + quote_argv(change.condition->argv) + " exits 0" : "");
  return result;
}

}  // namespace amiboot
