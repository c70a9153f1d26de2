// SPDX-License-Identifier: Apache-2.0
#include "modules/locale.h"

#include <cctype>
#include <sstream>
#include <vector>

#include "agent/core/strings.h"
#include "modules/os_release.h"

namespace amiboot {

namespace {

constexpr const char* kSupported = "/usr/share/i18n/SUPPORTED";
constexpr const char* kLocaleGen = "/etc/locale.gen";

// language[_territory][.codeset][@modifier], as glibc names locales; also C,
// C.UTF-8 and POSIX. Nothing else reaches a file or an argv.
bool valid_locale_name(const std::string& s) {
  std::size_t i = 0;
  auto run = [&](auto ok) {
    std::size_t start = i;
    while (i < s.size() && ok(static_cast<unsigned char>(s[i]))) {
      ++i;
    }
    return i > start;
  };
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) {
    return false;
  }
  run([](unsigned char c) { return std::isalnum(c) || c == '_'; });
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!run([](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; })) {
      return false;
    }
  }
  if (i < s.size() && s[i] == '@') {
    ++i;
    if (!run([](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; })) {
      return false;
    }
  }
  return i == s.size();
}

// Locales glibc has without generating them (cloud-init's list).
bool needs_no_generation(const std::string& locale) {
  std::string l = lowercase(locale);
  return l == "c" || l == "c.utf-8" || l == "c.utf8" || l == "posix";
}

// "en_US.UTF-8@x" -> base "en_US", charset "utf8", modifier "x": glibc's
// normalized codeset (case and '-', '_' ignored).
struct LocaleParts {
  std::string base, charset, modifier;
};
LocaleParts parts_of(const std::string& name) {
  LocaleParts p;
  std::string rest = name;
  if (auto at = rest.find('@'); at != std::string::npos) {
    p.modifier = rest.substr(at + 1);
    rest = rest.substr(0, at);
  }
  if (auto dot = rest.find('.'); dot != std::string::npos) {
    for (char c : rest.substr(dot + 1)) {
      if (c != '-' && c != '_') {
        p.charset += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
    }
    rest = rest.substr(0, dot);
  }
  p.base = rest;
  return p;
}

}  // namespace

std::string supported_line(const std::string& supported, const std::string& locale) {
  LocaleParts wanted = parts_of(locale);
  std::string close;
  for (const auto& raw : split_lines(supported)) {
    std::istringstream words(raw);
    std::string name, charset;
    if (!(words >> name >> charset) || name[0] == '#') {
      continue;
    }
    if (name == locale) {
      return name + " " + charset;
    }
    LocaleParts have = parts_of(name);
    if (close.empty() && !wanted.charset.empty() && have.base == wanted.base &&
        have.charset == wanted.charset && have.modifier == wanted.modifier) {
      close = name + " " + charset;
    }
  }
  return close;
}

std::string enable_in_locale_gen(const std::string& existing, const std::string& line) {
  auto words = [](const std::string& s) {
    std::istringstream in(s);
    std::string out;
    for (std::string w; in >> w;) {
      out += (out.empty() ? "" : " ") + w;
    }
    return out;
  };
  std::vector<std::string> lines = split_lines(existing);
  bool found = false;
  for (auto& raw : lines) {
    std::string s(trim(raw));
    bool commented = !s.empty() && s[0] == '#';
    if (words(std::string(trim(s, "# \t"))) == line) {
      if (commented && !found) {
        raw = line;
      }
      found = true;
    }
  }
  if (!found) {
    lines.push_back(line);
  }
  return join_lines(lines);
}

std::string set_lang(const std::string& existing, const std::string& locale) {
  std::vector<std::string> out;
  bool set = false;
  for (const auto& raw : split_lines(existing)) {
    std::string_view s = trim(raw);
    if (s.starts_with("export ")) {
      s = trim(s.substr(7));
    }
    if (s.starts_with("LANG=")) {
      if (!set) {
        out.push_back("LANG=" + locale);
        set = true;
      }
      continue;
    }
    out.push_back(raw);
  }
  if (!set) {
    out.push_back("LANG=" + locale);
  }
  return join_lines(out);
}

std::optional<LocaleConfig> decode_locale(const Value& doc, Diagnostics& out) {
  Decoder decoder(out);
  std::optional<std::string> config_file;
  const Value* file = doc.get("locale_configfile");
  if (file != nullptr && !file->is_null()) {
    config_file = decoder.file_path(*file, "locale_configfile");
  }
  const Value* v = doc.get("locale");
  if (v == nullptr || v->is_null()) {
    if (config_file) {
      decoder.warning(*file, "locale_configfile",
                      "no `locale` is set, so nothing is written (amiboot sets no default "
                      "locale; cloud-init would write its distribution default)");
    }
    return std::nullopt;
  }
  if (auto b = v->as_bool()) {
    if (!*b) {
      return std::nullopt;  // `locale: false`: leave the locale alone
    }
    decoder.error(*v, "locale",
                  "true names no locale; expected one like en_US.UTF-8, or false to leave the "
                  "locale alone");
    return std::nullopt;
  }
  auto name = decoder.string(*v, "locale");
  if (!name) {
    return std::nullopt;
  }
  std::string l = lowercase(std::string(trim(*name)));
  if (l == "false" || l == "off" || l == "no" || l == "0") {
    return std::nullopt;  // cloud-init's util.is_false
  }
  if (!valid_locale_name(*name)) {
    decoder.error(*v, "locale", "'" + *name + "' is not a locale name like en_US.UTF-8 or C.UTF-8");
    return std::nullopt;
  }
  if (decoder.failed()) {
    return std::nullopt;
  }
  return LocaleConfig{*name, config_file, v->pos};
}

PlanResult plan_locale(const LocaleConfig& config, const Facts& facts) {
  PlanResult result;
  auto fail = [&](const std::string& message) {
    result.diagnostics.push_back(
        Diagnostic{Diagnostic::Severity::Error, config.pos, "locale", message});
    return result;
  };
  auto os = read_os_release(facts.system);
  bool debian = os && os->is_debian_family();
  std::string file =
      config.config_file.value_or(debian ? "/etc/default/locale" : "/etc/locale.conf");
  auto existing = facts.system.read_text(file);
  std::string wanted = set_lang(existing.value_or(""), config.locale);
  if (existing == wanted) {
    // As cloud-init: a system that already has the locale is not regenerated.
    result.summary = "LANG=" + config.locale + " already in " + file;
    return result;
  }
  if (debian && !needs_no_generation(config.locale)) {
    if (!facts.system.has_program("locale-gen")) {
      return fail("locale-gen is not installed (Debian's `locales` package), so '" + config.locale +
                  "' cannot be generated; the locale is left as it is");
    }
    std::string line;
    if (auto supported = facts.system.read_text(kSupported)) {
      line = supported_line(*supported, config.locale);
      if (line.empty()) {
        return fail("unknown locale '" + config.locale + "': not in the image's " +
                    std::string(kSupported));
      }
    } else {
      LocaleParts p = parts_of(config.locale);
      auto dot = config.locale.find('.');
      if (p.charset.empty()) {
        return fail("cannot tell the charset of '" + config.locale + "' without " +
                    std::string(kSupported) + "; name one, as in " + config.locale + ".UTF-8");
      }
      std::string charset = config.locale.substr(dot + 1);
      line = config.locale + " " + charset.substr(0, charset.find('@'));
    }
    auto gen = facts.system.read_text(kLocaleGen);
    std::string enabled = enable_in_locale_gen(gen.value_or(""), line);
    if (gen != enabled) {
      result.actions.push_back(WriteFile{
          .path = kLocaleGen, .content = enabled, .label = "locale: " + std::string(kLocaleGen)});
    }
    // Debian's locale-gen builds what /etc/locale.gen lists and ignores
    // names (--keep-existing: the others are not rebuilt); Ubuntu's builds
    // the names it is given.
    bool ubuntu = os->is("ubuntu");
    RunCommand generate{ubuntu ? std::vector<std::string>{"locale-gen", config.locale}
                               : std::vector<std::string>{"locale-gen", "--keep-existing"},
                        "locale: locale-gen " + config.locale};
    // It compiles into the running system's /usr/lib/locale from the running
    // system's /etc/locale.gen: under --root that would be the host's.
    generate.needs_host = true;
    result.actions.push_back(generate);
  }
  result.actions.push_back(
      WriteFile{.path = file, .content = wanted, .label = "locale: LANG in " + file});
  result.summary = "LANG=" + config.locale + " in " + file;
  return result;
}

}  // namespace amiboot
