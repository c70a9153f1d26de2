// SPDX-License-Identifier: Apache-2.0
#include "agent/command_line.h"

#include <getopt.h>

#include <algorithm>

namespace amiboot {

bool ParsedOptions::has(const std::string& long_name) const {
  return std::any_of(m_found.begin(), m_found.end(),
                     [&](const auto& f) { return f.first == long_name; });
}

std::optional<std::string> ParsedOptions::value(const std::string& long_name) const {
  for (auto it = m_found.rbegin(); it != m_found.rend(); ++it) {
    if (it->first == long_name) {
      return it->second;
    }
  }
  return std::nullopt;
}

ParsedOptions parse_options(const std::vector<std::string>& args, std::span<const OptionSpec> specs,
                            std::size_t max_positionals, bool options_first) {
  // getopt_long wants a mutable, null-terminated argv with a program name.
  std::vector<std::string> storage;
  storage.reserve(args.size() + 1);
  storage.push_back("amiboot");
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : storage) {
    argv.push_back(s.data());
  }
  argv.push_back(nullptr);

  // Index i + 1 of `longopts` is specs[i]; val is 256 + i so that it never
  // collides with a short option's character.
  constexpr int kHelp = 256;
  std::vector<option> longopts;
  // ':' first: a missing value returns ':' (after '+', which stops at the
  // first positional).
  std::string shortopts = options_first ? "+:h" : ":h";
  longopts.push_back(option{"help", no_argument, nullptr, kHelp});
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const auto& s = specs[i];
    longopts.push_back(option{s.long_name, s.takes_value ? required_argument : no_argument, nullptr,
                              kHelp + 1 + static_cast<int>(i)});
    if (s.short_name != 0) {
      shortopts += s.short_name;
      if (s.takes_value) {
        shortopts += ':';
      }
    }
  }
  longopts.push_back(option{nullptr, 0, nullptr, 0});

  ParsedOptions parsed;
  auto spec_name = [&](int c) -> std::string {
    if (c > kHelp) {
      return specs[static_cast<std::size_t>(c - kHelp - 1)].long_name;
    }
    for (const auto& s : specs) {
      if (s.short_name == c) {
        return s.long_name;
      }
    }
    return {};
  };
  // The option as the user wrote it, for messages: argv[optind - 1] is the
  // one just read, except for a short option grouped with others.
  auto written = [&](int index) { return std::string(argv[static_cast<std::size_t>(index)]); };

  opterr = 0;  // our messages, not getopt's
  optind = 0;  // 0 makes glibc start afresh (a parse may have run before)
  int argc = static_cast<int>(argv.size() - 1);
  for (;;) {
    int c = getopt_long(argc, argv.data(), shortopts.c_str(), longopts.data(), nullptr);
    if (c == -1) {
      break;
    }
    if (c == '?') {
      if (optopt != 0 && optopt < kHelp) {
        throw UsageError(std::string("unknown option -") + static_cast<char>(optopt));
      }
      if (optopt >= kHelp) {  // a long flag given a value: --json=yes
        throw UsageError("option --" + spec_name(optopt) + " takes no value");
      }
      std::string arg = written(optind - 1);
      throw UsageError("unknown option " + arg.substr(0, arg.find('=')));
    }
    if (c == ':') {
      std::string name = optopt >= kHelp || optopt == 0
                             ? written(optind - 1)
                             : "-" + std::string(1, static_cast<char>(optopt));
      throw UsageError("option " + name + " needs a value");
    }
    if (c == 'h' || c == kHelp) {
      parsed.help = true;
      continue;
    }
    parsed.m_found.emplace_back(spec_name(c), optarg != nullptr ? optarg : "");
  }
  for (int i = optind; i < argc; ++i) {
    parsed.positionals.emplace_back(argv[static_cast<std::size_t>(i)]);
  }
  if (parsed.positionals.size() > max_positionals && !parsed.help) {
    throw UsageError(max_positionals == 0
                         ? "unexpected argument '" + parsed.positionals.front() + "'"
                         : "unexpected argument '" + parsed.positionals[max_positionals] + "'");
  }
  return parsed;
}

}  // namespace amiboot
