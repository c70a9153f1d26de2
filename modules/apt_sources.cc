// SPDX-License-Identifier: Apache-2.0
#include "modules/apt_sources.h"

#include <cctype>
#include <sstream>

#include "agent/core/strings.h"

namespace amiboot {

namespace {

bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.';
}

std::vector<std::string> words(std::string_view line) {
  std::vector<std::string> out;
  std::istringstream in{std::string(line)};
  for (std::string w; in >> w;) {
    out.push_back(w);
  }
  return out;
}

struct OneLine {
  std::string type;                                          // deb, deb-src
  std::vector<std::pair<std::string, std::string>> options;  // inside [ ]
  std::string uri;
  std::string suite;
  std::vector<std::string> components;
};

std::optional<OneLine> parse_one_line(std::string_view line) {
  std::string_view rest = trim(line);
  OneLine s;
  std::size_t sp = rest.find_first_of(" \t");
  if (sp == std::string_view::npos) {
    return std::nullopt;
  }
  s.type = std::string(rest.substr(0, sp));
  if (s.type != "deb" && s.type != "deb-src") {
    return std::nullopt;
  }
  rest = trim(rest.substr(sp));
  if (rest.starts_with("[")) {
    std::size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    for (const auto& option : words(rest.substr(1, close - 1))) {
      std::size_t eq = option.find('=');
      if (eq == std::string::npos) {
        return std::nullopt;
      }
      s.options.emplace_back(option.substr(0, eq), option.substr(eq + 1));
    }
    rest = trim(rest.substr(close + 1));
  }
  auto w = words(rest);
  if (w.size() < 2) {
    return std::nullopt;
  }
  s.uri = w[0];
  s.suite = w[1];
  s.components.assign(w.begin() + 2, w.end());
  return s;
}

// sources.list(5): the one-line option names and their deb822 fields.
std::string deb822_field(const std::string& option) {
  static const std::map<std::string, std::string> known = {
      {"arch", "Architectures"}, {"lang", "Languages"},
      {"target", "Targets"},     {"pdiffs", "PDiffs"},
      {"by-hash", "By-Hash"},    {"signed-by", "Signed-By"},
      {"trusted", "Trusted"},    {"check-valid-until", "Check-Valid-Until"}};
  if (auto it = known.find(option); it != known.end()) {
    return it->second;
  }
  std::string field;
  bool upper = true;
  for (char c : option) {
    field += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = c == '-';
  }
  return field;
}

bool is_comment_or_blank(std::string_view line) {
  std::string_view t = trim(line);
  return t.empty() || t.front() == '#';
}

std::string comma_to_space(std::string value) {
  for (char& c : value) {
    if (c == ',') {
      c = ' ';
    }
  }
  return value;
}

}  // namespace

std::string render_apt_template(std::string_view text,
                                const std::map<std::string, std::string>& params) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] != '$') {
      out += text[i++];
      continue;
    }
    std::size_t start = i + 1;
    bool braced = start < text.size() && text[start] == '{';
    std::size_t name_start = braced ? start + 1 : start;
    std::size_t end = name_start;
    while (end < text.size() && name_char(text[end])) {
      ++end;
    }
    std::string name(text.substr(name_start, end - name_start));
    bool closed = !braced || (end < text.size() && text[end] == '}');
    auto it = params.find(name);
    if (name.empty() || !closed || it == params.end()) {
      out += text[i++];
      continue;
    }
    out += it->second;
    i = braced ? end + 1 : end;
  }
  return out;
}

bool uses_deb822_sources(const OsRelease& os) {
  auto major = [&]() -> double {
    try {
      return std::stod(os.version_id);
    } catch (const std::exception&) {
      return 0;
    }
  };
  if (os.id == "ubuntu") {
    return major() >= 24.04;
  }
  if (os.id == "debian") {
    // Debian testing and sid have no VERSION_ID; they are past 12.
    return os.version_id.empty() || major() >= 12;
  }
  return false;
}

bool is_deb822_sources(std::string_view text) {
  bool fields = false;
  for (const auto& line : split_lines(text)) {
    if (line.starts_with("deb ") || line.starts_with("deb-src ")) {
      return false;
    }
    for (const char* f : {"Types: ", "Suites: ", "Components: ", "URIs: "}) {
      fields = fields || line.starts_with(f);
    }
  }
  return fields;
}

std::optional<std::string> one_line_to_deb822(std::string_view text, std::string& error) {
  std::string out;
  for (const auto& line : split_lines(text)) {
    if (is_comment_or_blank(line)) {
      continue;
    }
    auto s = parse_one_line(line);
    if (!s) {
      error = "expected 'deb [option=value ...] URI SUITE [COMPONENT ...]', got '" +
              std::string(trim(line)) + "'";
      return std::nullopt;
    }
    out += out.empty() ? "" : "\n";
    out += "Types: " + s->type + "\nURIs: " + s->uri + "\nSuites: " + s->suite + "\n";
    if (!s->components.empty()) {
      std::string components;
      for (const auto& c : s->components) {
        components += (components.empty() ? "" : " ") + c;
      }
      out += "Components: " + components + "\n";
    }
    for (const auto& [option, value] : s->options) {
      out += deb822_field(option) + ": " + comma_to_space(value) + "\n";
    }
  }
  if (out.empty()) {
    error = "no source line";
    return std::nullopt;
  }
  return out;
}

std::string add_signed_by(std::string_view text, const std::string& keyring) {
  if (is_deb822_sources(text)) {
    std::string out;
    std::string stanza;
    bool has = false;
    auto flush = [&]() {
      if (!stanza.empty() && !has) {
        stanza += "Signed-By: " + keyring + "\n";
      }
      out += stanza;
      stanza.clear();
      has = false;
    };
    for (const auto& line : split_lines(text)) {
      if (trim(line).empty()) {
        flush();
        out += line + "\n";
        continue;
      }
      has = has || line.starts_with("Signed-By:");
      stanza += line + "\n";
    }
    flush();
    return out;
  }
  std::string out;
  for (const auto& line : split_lines(text)) {
    auto s = parse_one_line(line);
    if (is_comment_or_blank(line) || !s || line.find("signed-by=") != std::string::npos) {
      out += line + "\n";
      continue;
    }
    std::size_t type_end = line.find(s->type) + s->type.size();
    std::string_view after = trim(std::string_view(line).substr(type_end));
    if (after.starts_with("[")) {
      std::size_t open = line.find('[', type_end);
      out += line.substr(0, open + 1) + "signed-by=" + keyring + " " +
             std::string(trim(line.substr(open + 1))) + "\n";
    } else {
      out += line.substr(0, type_end) + " [signed-by=" + keyring + "] " + std::string(after) + "\n";
    }
  }
  return out;
}

std::string known_suite(const std::string& suite) {
  static const std::map<std::string, std::string> aliases = {{"updates", "$RELEASE-updates"},
                                                             {"backports", "$RELEASE-backports"},
                                                             {"security", "$RELEASE-security"},
                                                             {"proposed", "$RELEASE-proposed"},
                                                             {"release", "$RELEASE"}};
  auto it = aliases.find(suite);
  return it == aliases.end() ? suite : it->second;
}

std::string disable_apt_suites(std::string_view text, const std::vector<std::string>& suites) {
  auto disabled = [&](const std::string& suite) {
    return std::find(suites.begin(), suites.end(), suite) != suites.end();
  };
  if (suites.empty()) {
    return std::string(text);
  }
  if (!is_deb822_sources(text)) {
    std::string out;
    for (const auto& line : split_lines(text)) {
      auto s = parse_one_line(line);
      bool off = !is_comment_or_blank(line) && s && disabled(s->suite);
      out += (off ? "# suite disabled by cloud-init: " : "") + line + "\n";
    }
    return out;
  }
  // deb822, as cloud-init's disable_suites_deb822: the suites dropped from
  // `Suites:` (the old line kept as a comment), a stanza left with none
  // commented out whole.
  std::string out;
  std::vector<std::string> stanza;
  bool any_suite = false;
  bool has_suites = false;
  auto flush = [&]() {
    if (stanza.empty()) {
      return;
    }
    if (has_suites && !any_suite) {
      out += "## Entry disabled by cloud-init, due to disable_suites\n";
      for (const auto& l : stanza) {
        if (!l.starts_with("Suites:")) {
          std::string shown =
              l.starts_with("# cloud-init disable_suites redacted: ")
                  ? l.substr(std::string_view("# cloud-init disable_suites redacted: ").size())
                  : l;
          out += "# disabled by cloud-init: " + shown + "\n";
        }
      }
    } else {
      for (const auto& l : stanza) {
        out += l + "\n";
      }
    }
    stanza.clear();
    any_suite = false;
    has_suites = false;
  };
  for (const auto& line : split_lines(text)) {
    if (trim(line).empty()) {
      flush();
      out += line + "\n";
      continue;
    }
    if (line.starts_with("#") && stanza.empty()) {
      out += line + "\n";
      continue;
    }
    if (!line.starts_with("Suites:")) {
      stanza.push_back(line);
      continue;
    }
    has_suites = true;
    auto names = words(std::string_view(line).substr(7));
    std::string kept;
    for (const auto& n : names) {
      if (!disabled(n)) {
        kept += " " + n;
      }
    }
    any_suite = !kept.empty();
    if (kept.size() != 0 && words(kept).size() == names.size()) {
      stanza.push_back(line);
      continue;
    }
    stanza.push_back("# cloud-init disable_suites redacted: " + line);
    stanza.push_back("Suites:" + kept);
  }
  flush();
  return out;
}

}  // namespace amiboot
