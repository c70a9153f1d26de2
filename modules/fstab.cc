// SPDX-License-Identifier: Apache-2.0
#include "modules/fstab.h"

namespace amiboot {

namespace {

std::string escape_field(std::string_view field) {
  std::string out;
  for (char c : field) {
    switch (c) {
      case ' ':
        out += "\\040";
        break;
      case '\t':
        out += "\\011";
        break;
      case '\n':
        out += "\\012";
        break;
      case '\\':
        out += "\\134";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string unescape_field(std::string_view field) {
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && field[i + 1] >= '0' && field[i + 1] <= '3' &&
        field[i + 2] >= '0' && field[i + 2] <= '7' && field[i + 3] >= '0' && field[i + 3] <= '7') {
      out += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 +
                               (field[i + 3] - '0'));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

std::string_view without_terminator(std::string_view line) {
  if (!line.empty() && line.back() == '\n') {
    line.remove_suffix(1);
  }
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  return line;
}

// A marker's name is one line of text, whatever the config held.
std::string marker_line(const std::string& name) {
  std::string clean;
  for (char c : name) {
    clean += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  }
  return std::string(kFstabMarker) + clean + "\n";
}

}  // namespace

std::optional<FstabEntry> parse_fstab_entry(std::string_view line) {
  line = without_terminator(line);
  std::vector<std::string> fields;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
      ++i;
    }
    if (i >= line.size()) {
      break;
    }
    if (fields.empty() && line[i] == '#') {
      return std::nullopt;
    }
    std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
      ++i;
    }
    fields.push_back(unescape_field(line.substr(start, i - start)));
  }
  if (fields.size() < 2) {
    return std::nullopt;
  }
  FstabEntry e;
  e.spec = fields[0];
  e.file = fields[1];
  // fstab(5) defaults for the optional fields.
  e.type = fields.size() > 2 ? fields[2] : "auto";
  e.options = fields.size() > 3 ? fields[3] : "defaults";
  e.freq = fields.size() > 4 ? fields[4] : "0";
  e.passno = fields.size() > 5 ? fields[5] : "0";
  return e;
}

std::string format_fstab_entry(const FstabEntry& e) {
  return escape_field(e.spec) + "\t" + escape_field(e.file) + "\t" + escape_field(e.type) + "\t" +
         escape_field(e.options) + "\t" + escape_field(e.freq) + "\t" + escape_field(e.passno);
}

ParsedFstab parse_fstab(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    std::size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
    lines.emplace_back(text.substr(start, end - start));
    start = end;
  }
  ParsedFstab parsed;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string_view content = without_terminator(lines[i]);
    if (content.substr(0, kFstabMarker.size()) == kFstabMarker) {
      // Ours: the marker and the entry under it. A marker with no entry
      // under it is a leftover of ours and goes too.
      std::string name(content.substr(kFstabMarker.size()));
      if (i + 1 < lines.size()) {
        if (auto entry = parse_fstab_entry(lines[i + 1])) {
          parsed.owned.push_back({name, *entry});
          ++i;
        }
      }
      continue;
    }
    parsed.foreign.push_back({lines[i], parse_fstab_entry(lines[i]), static_cast<int>(i + 1)});
  }
  return parsed;
}

std::string merge_fstab(std::string_view current, const std::vector<OwnedFstabEntry>& owned) {
  ParsedFstab parsed = parse_fstab(current);
  std::string out;
  for (const auto& line : parsed.foreign) {
    out += line.text;
  }
  if (!out.empty() && out.back() != '\n' && !owned.empty()) {
    out += '\n';
  }
  for (const auto& o : owned) {
    out += marker_line(o.name);
    out += format_fstab_entry(o.entry) + "\n";
  }
  return out;
}

}  // namespace amiboot
