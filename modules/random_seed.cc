// SPDX-License-Identifier: Apache-2.0
#include "modules/random_seed.h"

#include "agent/core/codecs.h"
#include "agent/core/strings.h"

namespace amiboot {

namespace {

// More than any seed needs; a gzip bomb stops here.
constexpr std::size_t kMaxSeedBytes = 1 << 20;

// A program on the machine that runs the commands: a name on the PATH, or
// a path.
bool command_exists(const std::string& program, const SystemView& system) {
  return program.find('/') != std::string::npos ? system.path_exists(program)
                                                : system.has_program(program);
}

}  // namespace

std::optional<RandomSeedConfig> decode_random_seed(const Value& doc, Diagnostics& out) {
  const Value* v = doc.get("random_seed");
  if (v == nullptr || v->is_null()) {
    return std::nullopt;
  }
  Decoder decoder(out);
  if (decoder.map(*v, "random_seed") == nullptr) {
    return std::nullopt;
  }
  decoder.unknown_keys(*v, "random_seed",
                       {"file", "data", "encoding", "command", "command_required"});
  RandomSeedConfig config;
  config.command_pos = v->pos;
  if (const Value* f = v->get("file"); f != nullptr && !f->is_null()) {
    config.file = decoder.file_path(*f, "random_seed.file").value_or(config.file);
  }
  std::string encoding = "raw";
  const Value* e = v->get("encoding");
  if (e != nullptr && !e->is_null()) {
    if (auto s = decoder.string(*e, "random_seed.encoding")) {
      encoding = lowercase(*s);
      if (encoding != "raw" && encoding != "base64" && encoding != "b64" && encoding != "gzip" &&
          encoding != "gz") {
        decoder.error(*e, "random_seed.encoding",
                      "unknown encoding '" + *s + "' (raw, base64, b64, gzip or gz)");
      }
    }
  }
  if (const Value* d = v->get("data"); d != nullptr && !d->is_null() && !decoder.failed()) {
    if (auto s = decoder.string(*d, "random_seed.data")) {
      config.data = *s;
      if (encoding == "base64" || encoding == "b64") {
        auto decoded = base64_decode(*s);
        if (!decoded) {
          decoder.error(*d, "random_seed.data", "not valid base64: " + decoded.error().message);
        } else {
          config.data = std::move(*decoded);
        }
      } else if (encoding == "gzip" || encoding == "gz") {
        auto inflated = gunzip(*s, kMaxSeedBytes);
        if (!inflated) {
          decoder.error(*d, "random_seed.data", "not valid gzip: " + inflated.error().message);
        } else {
          config.data = std::move(*inflated);
        }
      }
    }
  }
  if (const Value* c = v->get("command"); c != nullptr && !c->is_null()) {
    config.command_pos = c->pos;
    if (decoder.list(*c, "random_seed.command") != nullptr) {
      for (std::size_t i = 0; i < c->items.size(); ++i) {
        const Value& item = c->items[i];
        std::string path = "random_seed.command[" + std::to_string(i) + "]";
        // cloud-init's schema: strings. Numbers are scalars too, and cloud-init
        // would pass their text.
        if (auto s = item.is_scalar() ? decoder.string(item, path) : std::nullopt) {
          config.command.push_back(*s);
        } else {
          decoder.error(item, path, "expected a string, got " + item.type_name());
        }
      }
      if (c->items.empty()) {
        decoder.error(*c, "random_seed.command", "expected an argv, got an empty list");
      }
    }
  }
  if (const Value* r = v->get("command_required"); r != nullptr && !r->is_null()) {
    config.command_required = decoder.boolean(*r, "random_seed.command_required").value_or(false);
    if (config.command_required && v->get("command") == nullptr && !decoder.failed()) {
      decoder.error(*r, "random_seed.command_required", "true, but there is no command to run");
    }
  }
  if (decoder.failed()) {
    return std::nullopt;
  }
  return config;
}

PlanResult plan_random_seed(const RandomSeedConfig& config, const Facts& facts) {
  PlanResult result;
  if (!config.data.empty()) {
    std::string label =
        "random_seed: " + std::to_string(config.data.size()) + " bytes to " + config.file;
    if (config.file.starts_with("/dev/")) {
      // In place: /dev/urandom stays the device. The data goes through stdin,
      // never the argv or a log.
      RunCommand write{{"dd", "of=" + config.file, "oflag=append", "conv=notrunc", "status=none"},
                       label};
      write.input = config.data;
      write.needs_host = true;
      result.actions.push_back(write);
    } else {
      result.actions.push_back(WriteFile{.path = config.file,
                                         .content = config.data,
                                         .mode = 0600,
                                         .append = true,
                                         .label = label});
    }
  }
  if (!config.command.empty()) {
    const std::string& program = config.command[0];
    if (!command_exists(program, facts.system)) {
      std::string message = "command '" + program + "' is not installed";
      result.diagnostics.push_back(Diagnostic{
          config.command_required ? Diagnostic::Severity::Error : Diagnostic::Severity::Warning,
          config.command_pos, "random_seed.command",
          message + (config.command_required ? " and command_required is true"
                                             : "; not run (command_required is false)")});
      if (config.command_required) {
        // The seed data above is still worth writing; the module fails.
        result.apply_with_errors = true;
      }
    } else {
      // `env` sets RANDOM_SEED_FILE for it, as cloud-init's update_env does.
      std::vector<std::string> argv = {"env", "RANDOM_SEED_FILE=" + config.file};
      argv.insert(argv.end(), config.command.begin(), config.command.end());
      RunCommand run{argv, "random_seed: command " + program};
      run.needs_host = true;  // it seeds the running kernel
      result.actions.push_back(run);
    }
  }
  result.summary = std::to_string(config.data.size()) + " bytes of seed" +
                   (config.command.empty() ? "" : ", then " + config.command[0]);
  return result;
}

}  // namespace amiboot
