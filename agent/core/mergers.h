// SPDX-License-Identifier: Apache-2.0
// cloud-init's mergers (cloudinit/mergers/): how one cloud-config part is
// merged into the parts before it. A merge spec comes from the part's
// `merge_how` / `merge_type` key, from its MIME `Merge-Type` /
// `X-Merge-Type` header, or is cloud-init's default for user data,
// `dict(replace)+list()+str()` (cloudinit/handlers/cloud_config.py).
//
// The three mergers, as cloud-init implements them (m_dict.py, m_list.py,
// m_str.py):
//   dict: `no_replace` (the merger's default) keeps a key's earlier value,
//     except that a map is merged into a map (recurse_dict is always on), a
//     list is merged with `recurse_list` / `recurse_array`, a string with
//     `recurse_str`; `replace` takes the later value as it is, without
//     merging anything below it; `allow_delete` lets a later null remove
//     the key. New keys are always added.
//   list: `replace` (the default) merges index by index and keeps the earlier
//     list's length (an item is replaced, or merged with the recurse_*
//     options); `append` / `prepend` join the lists; `no_replace` keeps the
//     earlier list. A later value that is not a list replaces it.
//   str: the later value replaces it; `append` joins the strings.
// What a merger is picked by is the earlier value's type; a value of a type
// without a merger in the spec (numbers, booleans, null, or a type the spec
// names no merger for) is kept as it was.
//
// Pure: no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "agent/core/config.h"

namespace amiboot {

struct DictMerger {
  bool replace = false;  // false: no_replace
  bool recurse_str = false;
  bool recurse_array = false;  // recurse_list, recurse_array
  bool allow_delete = false;
  bool operator==(const DictMerger&) const = default;
};

struct ListMerger {
  enum class Method { Replace, Append, Prepend, NoReplace };
  Method method = Method::Replace;
  bool recurse_str = false;
  bool recurse_dict = false;
  bool recurse_array = false;  // recurse_list, recurse_array
  bool operator==(const ListMerger&) const = default;
};

struct StrMerger {
  bool append = false;
  bool operator==(const StrMerger&) const = default;
};

/// A parsed merge spec. As in cloud-init's LookupMerger, the first merger
/// named for a type is the one used; a type with none keeps earlier values.
struct MergeSpec {
  std::optional<DictMerger> dict;
  std::optional<ListMerger> list;
  std::optional<StrMerger> str;

  bool empty() const { return !dict && !list && !str; }
  /// The mergers of `later` for the types this spec names none for: the
  /// part's own key first, then its header, as cloud-init joins them.
  void add_missing(const MergeSpec& later);
  /// "dict(replace)+list()+str()", options in a fixed order.
  std::string to_string() const;
  bool operator==(const MergeSpec&) const = default;
};

/// What cloud-init merges cloud-config parts with when a part names nothing:
/// dict(replace)+list()+str(), i.e. a later part's top-level keys replace
/// the earlier ones whole.
MergeSpec default_user_data_mergers();

/// Parses the string form, "list(append)+dict(recurse_array,no_replace)+str()"
/// (a Merge-Type header or a string merge_how). Names and options are
/// case-insensitive and '-' counts as '_', as in cloud-init; an empty text
/// is an empty spec. On an error (a segment that is not `name(options)`,
/// a merger other than list, dict and str, an option outside cloud-init's
/// schema) it adds a diagnostic at `at` naming the character where the
/// segment starts, with `path`, and returns nullopt.
std::optional<MergeSpec> parse_merge_spec(std::string_view text, const Position& at,
                                          const std::string& path, Diagnostics& out);

/// The spec a cloud-config document gives itself: `merge_how`, or when that
/// is absent or null `merge_type`; either the string form or a list of
/// `{name: list, settings: [append]}` maps (or `[list, append]` lists). An
/// empty spec when the document has neither; nullopt, with errors at the
/// offending value, when it is malformed.
std::optional<MergeSpec> merge_spec_of(const Value& doc, Diagnostics& out);

/// The keys merge_spec_of() reads. cloud-init removes them before merging.
bool is_merge_key(std::string_view key);

/// Merges `over` into `base` the way cloud-init's merger built from `spec`
/// does (merger.merge(base, over)). Values keep the positions they were
/// written at; an appended string keeps the earlier one's. nullopt, with an
/// error at the later value, where cloud-init's merge would fail (appending
/// something that is not a string to a string, or something that is not a
/// list to a list: cloud-init raises, or splits a string into characters).
/// `base` is merged in place: pass it moved to merge in linear time.
std::optional<Value> merge_values(Value base, const Value& over, const MergeSpec& spec,
                                  Diagnostics& out);

/// Whether two values hold the same data (positions and quoting aside).
bool same_data(const Value& a, const Value& b);

}  // namespace amiboot
