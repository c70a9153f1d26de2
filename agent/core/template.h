// SPDX-License-Identifier: Apache-2.0
// A small Jinja engine for cloud-init's `## template: jinja` user data and
// `amiboot query --format`. Hand-written lexer, recursive-descent parser into
// an AST, then an evaluator over nlohmann::json values; no I/O.
//
// The subset (anything else is an error with line and column):
//   {{ expr }}, {% if %}/{% elif %}/{% else %}/{% endif %},
//   {% for x in seq %}...{% else %}...{% endfor %} (lists; a map's keys, in
//   sorted order; strings are not iterable), loop.index, loop.index0,
//   loop.revindex, loop.first, loop.last, loop.length,
//   {% raw %}...{% endraw %}, {# comments #}, whitespace control with `-`
//   (and `+` to keep the newline) on every delimiter.
//   Expressions: names, `a.b` and `a['b']`/`a[0]`/`a[-1]` access (`a.0`
//   indexes too), string/int/float/true/false/none literals (True, False,
//   None as well), list literals `[a, b]` and tuples `(a, b)`, parentheses,
//   `==` `!=` `<` `<=` `>` `>=` (chained as in Python), `in`, `not in`,
//   `and`, `or`, `not`, `~` (concatenate as strings), `+` (numbers, strings,
//   lists), tests `is [not] defined|undefined|none`.
//   Filters, chained with `|`: default(x='', boolean=false) and its alias d,
//   lower, upper, replace(old, new[, count]), trim, join(sep=''), length
//   (alias count), string.
//
// As cloud-init renders (Jinja with trim_blocks=True): the first newline
// after a block tag or comment is removed; a template's final newline is
// kept. Unlike cloud-init, whose undefined variables render as
// "CI_MISSING_JINJA_VAR/name", an undefined variable or attribute is an
// error naming it, unless `default` (or `is defined`) looks at it; a path
// below an undefined name stays undefined (`a.b.c | default('x')` is 'x'
// when `a` has no `b`).
//
// Output of values: strings as they are; integers plain; floats as Python's
// repr (1.0, 0.1, 1e+20); true/false/null as True/False/None; lists and maps
// as Python's repr (['a', 1], {'k': 'v'}; map keys in sorted order).
// lower/upper change ASCII letters only; length counts bytes.
//
// Limits, each named in its error: nesting (blocks inside blocks, and the
// depth of one expression) at most kTemplateMaxDepth; the output, and any
// string made on the way, at most kTemplateMaxOutput bytes; at most
// kTemplateMaxSteps nodes evaluated (loops included). Rendering is linear in
// the size of the template and of the output.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "agent/core/result.h"

namespace amiboot {

inline constexpr int kTemplateMaxDepth = 64;
inline constexpr std::size_t kTemplateMaxOutput = 16u << 20;  // 16 MiB
inline constexpr std::size_t kTemplateMaxSteps = 4u << 20;    // nodes evaluated

/// Renders `text` against `context` (a JSON object: the top-level names).
/// Errors read "SOURCE:LINE:COL: what, expected what", with `source` as the
/// file name ("user-data", "part-002") and LINE counted from `first_line`
/// (2 for a body that followed a header line). Columns count bytes from 1.
Result<std::string> render_template(std::string_view text, const nlohmann::json& context,
                                    std::string_view source, int first_line = 1);

/// True when the first line is cloud-init's `## template: jinja` header
/// (case-insensitive, spaces allowed as cloud-init's `##\s*template:(.*)`).
bool has_jinja_header(std::string_view text);

/// For user data or a MIME part that starts with `## template: jinja`: drops
/// that line and renders the rest, with line numbers as in `text` (the body
/// starts on line 2). Without the header, an error.
Result<std::string> render_jinja_user_data(std::string_view text, const nlohmann::json& context,
                                           std::string_view source);

}  // namespace amiboot
