// SPDX-License-Identifier: Apache-2.0
// /etc/fstab as the volumes module edits it: every line it does not own is
// kept byte for byte; its own entries carry a marker comment line above them
// ("# amiboot: ebs1") and are replaced as a whole on each run, so running
// twice writes the same bytes.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace amiboot {

struct FstabEntry {
  std::string spec;  // "UUID=...", "/swap.img", "server:/export"
  std::string file;  // mount point, "none" for swap
  std::string type = "auto";
  std::string options = "defaults";
  std::string freq = "0";
  std::string passno = "0";
  bool operator==(const FstabEntry&) const = default;
};

/// An entry amiboot owns; `name` is what the config called it ("ebs1",
/// "swap file") and goes into the marker line.
struct OwnedFstabEntry {
  std::string name;
  FstabEntry entry;
  bool operator==(const OwnedFstabEntry&) const = default;
};

struct FstabLine {
  std::string text;                 // as in the file, line terminator included when present
  std::optional<FstabEntry> entry;  // when the line is an entry
  int number = 0;                   // 1-based line number in the file
};

struct ParsedFstab {
  std::vector<FstabLine> foreign;  // every line amiboot does not own, in order
  std::vector<OwnedFstabEntry> owned;
};

inline constexpr std::string_view kFstabMarker = "# amiboot: ";

ParsedFstab parse_fstab(std::string_view text);

/// The file with `owned` in place of whatever amiboot owned before: foreign
/// lines first, unchanged, then the owned entries in order.
std::string merge_fstab(std::string_view current, const std::vector<OwnedFstabEntry>& owned);

/// One entry as a line (tab separated, \040-style escapes, no newline).
std::string format_fstab_entry(const FstabEntry& entry);

/// Splits an entry line into its fields, undoing \040-style escapes;
/// nullopt for blank lines, comments and lines with fewer than two fields.
std::optional<FstabEntry> parse_fstab_entry(std::string_view line);

}  // namespace amiboot
