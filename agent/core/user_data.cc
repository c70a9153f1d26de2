// SPDX-License-Identifier: Apache-2.0
#include "agent/core/user_data.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

#include "agent/core/codecs.h"
#include "agent/core/config.h"
#include "agent/core/mime.h"

#include "agent/core/strings.h"
#include "agent/core/template.h"

namespace amiboot {

namespace {

// Python's email parser recurses without a limit; a crafted message must not
// exhaust our stack.
constexpr int k_max_mime_depth = 8;
// Keeps script file names well under NAME_MAX once the runner adds a prefix.
constexpr std::size_t k_max_name_length = 100;
// A #cloud-config-archive item may itself be an archive; as deep as MIME.
constexpr int k_max_archive_depth = 8;
constexpr std::string_view k_part_handler_refused =
    "amiboot runs no Python part handlers; the part is rejected";

std::string_view skip_bom(std::string_view s) {
  // Windows editors add a UTF-8 BOM; before "#!" it would break the shebang.
  if (s.starts_with("\xEF\xBB\xBF")) {
    s.remove_prefix(3);
  }
  return s;
}

std::string_view skip_leading_space(std::string_view s) {
  while (!s.empty() && is_space(s.front())) {
    s.remove_prefix(1);
  }
  return s;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), s.begin(), [](char p, char c) {
           return p == std::tolower(static_cast<unsigned char>(c));
         });
}

std::string crlf_to_lf(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') {
      continue;
    }
    out += s[i];
  }
  return out;
}

// For names taken from headers (a MIME type, say) that end up in messages:
// printable, short, and unable to forge a log line.
std::string printable_token(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64)) {
    out += std::isalnum(static_cast<unsigned char>(c)) ||
                   std::string_view("./+-_").find(c) != std::string_view::npos
               ? c
               : '?';
  }
  return out;
}

// The filename becomes a file name in the scripts directory: no separators,
// nothing that walks out of it.
std::string sanitize_name(std::string_view raw) {
  std::string name;
  for (char c : raw.substr(0, k_max_name_length)) {
    name +=
        std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ? c : '_';
  }
  if (name == "." || name == "..") {
    std::replace(name.begin(), name.end(), '.', '_');
  }
  return name;
}

std::string mime_filename(const MimeEntity& entity) {
  // Python's Message.get_filename(): Content-Disposition, then the older
  // Content-Type name parameter.
  if (auto disposition = entity.header("Content-Disposition")) {
    std::string name = parse_mime_header_value(*disposition).param("filename");
    if (!name.empty()) {
      return name;
    }
  }
  if (auto type = entity.header("Content-Type")) {
    return parse_mime_header_value(*type).param("name");
  }
  return "";
}

// cloud-init's CloudConfigPartHandler._extract_mergers: Merge-Type, then
// X-Merge-Type, the first that is not empty. Only the part's own headers
// count: neither a multipart's nor an #include's pass to what is inside.
std::string merge_type_header(const MimeEntity& entity) {
  for (std::string_view name : {"Merge-Type", "X-Merge-Type"}) {
    if (auto value = entity.header(name)) {
      std::string_view v = trim(*value);
      if (!v.empty()) {
        return std::string(v);
      }
    }
  }
  return "";
}

enum class Marker {
  None,
  CloudConfig,
  ShellScript,
  Boothook,
  Include,
  IncludeOnce,
  Archive,
  PartHandler,
  Unsupported,
};

struct MarkerRow {
  std::string_view prefix;
  Marker marker;
};

// cloud-init's INCLUSION_TYPES_MAP, longest prefix first so that
// "#cloud-config-archive" is not taken for "#cloud-config".
constexpr std::array<MarkerRow, 8> k_markers{{
    {"#cloud-config-archive", Marker::Archive},
    {"#cloud-config-jsonp", Marker::Unsupported},
    {"#cloud-boothook", Marker::Boothook},
    {"#cloud-config", Marker::CloudConfig},
    {"#include-once", Marker::IncludeOnce},
    {"#part-handler", Marker::PartHandler},
    {"#include", Marker::Include},
    {"#!", Marker::ShellScript},
}};

// Like cloud-init: case-insensitive, after leading whitespace.
const MarkerRow* find_marker(std::string_view content) {
  std::string_view head = skip_leading_space(skip_bom(content));
  for (const MarkerRow& row : k_markers) {
    if (starts_with_ci(head, row.prefix)) {
      return &row;
    }
  }
  return nullptr;
}

// Names the marker the first line nearly is ("# cloud-config",
// "#cloud_config", "cloud-config"), so the warning can say what to fix. The
// first line itself is never quoted: it may be a secret.
std::string near_miss(std::string_view content) {
  std::string_view head = skip_leading_space(skip_bom(content));
  head = head.substr(0, std::min<std::size_t>(head.find('\n'), 40));
  std::string normalized;
  for (char c : head) {
    if (c == ' ' || c == '\t' || c == '\r') {
      continue;
    }
    normalized += c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (!normalized.starts_with('#')) {
    normalized.insert(0, "#");
  }
  for (std::string_view marker : {"#cloud-config", "#cloud-boothook", "#include", "#!"}) {
    if (normalized.starts_with(marker)) {
      return std::string(marker);
    }
  }
  return "";
}

// Where a part came from; becomes its label.
struct Origin {
  std::string base;        // "user-data" or "include <url>"
  std::string index;       // MIME part number, "2" or "2.1" when nested; "" for none
  std::string filename;    // sanitized MIME filename, "" when none
  std::string merge_type;  // the leaf MIME part's Merge-Type / X-Merge-Type header

  std::string label() const {
    std::string label = base;
    if (!index.empty()) {
      label += " part " + index;
    }
    if (!filename.empty()) {
      label += " (" + filename + ")";
    }
    return label;
  }
};

class UserDataDecoder {
 public:
  explicit UserDataDecoder(const UserDataOptions& options) : m_options(options) {}

  /// A whole document: user data as served or an included URL's content.
  Status decode_document(std::string_view data, const Origin& origin, int include_depth) {
    std::string inflated;
    if (is_gzip(data)) {
      Result<std::string> result = inflate(data, origin);
      if (!result) {
        return result.error();
      }
      inflated = std::move(*result);
      data = inflated;
    }
    std::string_view head = skip_leading_space(skip_bom(data));
    if (head.empty()) {
      return {};
    }
    if (looks_like_mime(head)) {
      return decode_entity(parse_mime_entity(head), origin, include_depth, 0);
    }
    return decode_sniffed(data, origin, include_depth);
  }

  DecodedUserData take() { return std::move(m_out); }

 private:
  Status decode_entity(const MimeEntity& entity, const Origin& origin, int include_depth,
                       int mime_depth) {
    MimeHeaderValue type = parse_mime_header_value(entity.header("Content-Type").value_or(""));
    if (type.value.empty()) {
      type.value = "text/plain";  // RFC 2045's default
    }
    if (type.value.starts_with("multipart/")) {
      return decode_multipart(entity, type, origin, include_depth, mime_depth);
    }

    Origin leaf = origin;
    leaf.filename = sanitize_name(mime_filename(entity));
    leaf.merge_type = merge_type_header(entity);
    Result<std::string> body = decode_transfer_encoding(
        entity.body, entity.header("Content-Transfer-Encoding").value_or(""));
    if (!body) {
      return error(leaf.label() + ": " + body.error().message);
    }
    std::string content = std::move(*body);

    bool declared_gzip = type.value == "application/gzip" || type.value == "application/x-gzip";
    if (declared_gzip || is_gzip(content)) {
      Result<std::string> inflated = inflate(content, leaf);
      if (!inflated) {
        return inflated.error();
      }
      content = std::move(*inflated);
      if (declared_gzip) {
        type.value = "text/plain";  // what is inside says what it is
      }
    }

    return decode_typed(type.value, content, leaf, include_depth);
  }

  // A MIME part's (or an archive item's) body, by its declared type;
  // text/plain and types we do not know are sniffed by their first line.
  Status decode_typed(const std::string& t, std::string_view content, const Origin& leaf,
                      int include_depth) {
    if (t == "text/cloud-config") {
      add(PartType::CloudConfig, content, leaf);
    } else if (t == "text/x-shellscript") {
      add(PartType::ShellScript, content, leaf);
    } else if (t == "text/x-shellscript-per-boot") {
      add(PartType::ScriptPerBoot, content, leaf);
    } else if (t == "text/x-shellscript-per-instance") {
      add(PartType::ScriptPerInstance, content, leaf);
    } else if (t == "text/x-shellscript-per-once") {
      add(PartType::ScriptPerOnce, content, leaf);
    } else if (t == "text/cloud-boothook") {
      add(PartType::Boothook, content, leaf);
    } else if (t == "text/x-include-url") {
      include(content, leaf, include_depth, false);
    } else if (t == "text/x-include-once-url") {
      include(content, leaf, include_depth, true);
    } else if (t == "text/cloud-config-archive") {
      archive(content, leaf, include_depth);
    } else if (t == "text/part-handler") {
      m_out.errors.push_back(leaf.label() + ": " + std::string(k_part_handler_refused));
    } else if (t == "text/jinja2" && !has_jinja_header(skip_leading_space(skip_bom(content)))) {
      // cloud-init's jinja handler wants the header line in the part too.
      warn(leaf.label() + ": text/jinja2 without a '## template: jinja' first line; ignored");
    } else if (t == "text/cloud-config-jsonp" || t.starts_with("text/x-shellscript-per-")) {
      warn(leaf.label() + ": " + printable_token(t) + " is not supported by amiboot; ignored");
    } else {
      return decode_sniffed(content, leaf, include_depth);
    }
    return {};
  }

  // cloud-init's _explode_archive: a YAML list whose items are a string (the
  // content) or a map with `content` and optional `type` (else sniffed, and
  // text/cloud-config when nothing matches), `filename`, `launch-index` and
  // MIME headers (Merge-Type). Each item is decoded as a MIME part of its
  // type. cloud-init skips what it cannot use silently; we warn, naming the
  // item by position.
  void archive(std::string_view content, const Origin& origin, int include_depth) {
    std::string prefix = origin.label() + ": #cloud-config-archive";
    if (m_archive_depth >= k_max_archive_depth) {
      warn(prefix + " nested deeper than " + std::to_string(k_max_archive_depth) +
           " levels; ignored");
      return;
    }
    // The marker line is a YAML comment; lines skipped before it are kept
    // blank, so positions are lines of the part as served.
    std::string_view body = skip_leading_space(skip_bom(content));
    std::size_t skipped = content.size() - body.size();
    std::string text(
        static_cast<std::size_t>(std::count(content.begin(), content.begin() + skipped, '\n')),
        '\n');
    text += body;
    auto doc = parse_yaml(crlf_to_lf(text), origin.label(), m_options.limits);
    if (!doc) {
      warn(prefix + " is not valid YAML (" + doc.error().message + "); ignored");
      return;
    }
    if (doc->is_null()) {
      return;
    }
    if (!doc->is_sequence()) {
      warn(prefix + ": expected a list of parts, got " + doc->type_name() + "; ignored");
      return;
    }
    if (std::string over = count_parts(doc->items.size(), origin); !over.empty()) {
      m_out.errors.push_back(over);
      return;
    }
    ++m_archive_depth;
    for (std::size_t k = 0; k < doc->items.size(); ++k) {
      archive_item(doc->items[k], k + 1, origin, include_depth);
    }
    --m_archive_depth;
  }

  void archive_item(const Value& item, std::size_t k, const Origin& origin, int include_depth) {
    std::string where = origin.label() + " item " + std::to_string(k) +
                        (item.pos.line > 0 ? " (line " + std::to_string(item.pos.line) + ")" : "");
    Origin leaf{origin.label() + " item " + std::to_string(k), "", "", ""};
    if (item.is_scalar()) {
      decode_archive_content(item.scalar, "", leaf, include_depth);
      return;
    }
    if (!item.is_map()) {
      warn(where + ": expected a map with 'content' or a string, got " + item.type_name() +
           "; skipped");
      return;
    }
    const Value* content = item.get("content");
    if (content == nullptr || content->is_null()) {
      warn(where + ": no 'content'; skipped");
      return;
    }
    if (!content->is_scalar()) {
      warn(where + ": 'content' is " + content->type_name() + ", expected a string; skipped");
      return;
    }
    if (const Value* index = item.get("launch-index"); index != nullptr && !index->is_null()) {
      auto n = index->as_int();
      if (!n) {
        warn(where + ": launch-index is not an integer; skipped");
        return;
      }
      if (*n != m_options.launch_index) {
        warn(where + ": launch-index " + std::to_string(*n) + " is not this instance's (" +
             std::to_string(m_options.launch_index) + "); skipped");
        return;
      }
    }
    if (const Value* name = item.get("filename"); name != nullptr && name->is_scalar()) {
      leaf.filename = sanitize_name(name->scalar);
    }
    for (std::string_view header : {"merge-type", "x-merge-type"}) {  // lower case
      const Value* v = nullptr;
      for (const auto& entry : item.entries) {
        if (starts_with_ci(entry.key, header) && entry.key.size() == header.size()) {
          v = &entry.value;
        }
      }
      if (v != nullptr && v->is_scalar() && !trim(v->scalar).empty()) {
        leaf.merge_type = std::string(trim(v->scalar));
        break;
      }
    }
    std::string type;
    if (const Value* t = item.get("type"); t != nullptr && t->is_scalar()) {
      type = std::string(trim(t->scalar));
    }
    decode_archive_content(content->scalar, type, leaf, include_depth);
  }

  void decode_archive_content(const std::string& content, const std::string& type,
                              const Origin& leaf, int include_depth) {
    Status status;
    if (!type.empty()) {
      status = decode_typed(std::string(parse_mime_header_value(type).value), content, leaf,
                            include_depth);
    } else if (find_marker(content) != nullptr ||
               has_jinja_header(skip_leading_space(skip_bom(content)))) {
      status = decode_sniffed(content, leaf, include_depth);
    } else {
      // cloud-init's ARCHIVE_UNDEF_TYPE.
      add(PartType::CloudConfig, content, leaf);
    }
    if (!status) {
      warn(status.error().message + "; skipped");
    }
  }

  Status decode_multipart(const MimeEntity& entity, const MimeHeaderValue& type,
                          const Origin& origin, int include_depth, int mime_depth) {
    if (mime_depth >= k_max_mime_depth) {
      return error(origin.label() + ": MIME multipart nested deeper than " +
                   std::to_string(k_max_mime_depth) + " levels");
    }
    std::string boundary = type.param("boundary");
    if (boundary.empty()) {
      return error(origin.label() + ": multipart message without a boundary parameter");
    }
    Result<std::vector<std::string_view>> bodies = split_multipart(entity.body, boundary);
    if (!bodies) {
      return error(origin.label() + ": " + bodies.error().message);
    }
    if (std::string over = count_parts(bodies->size(), origin); !over.empty()) {
      return error(over);
    }
    for (std::size_t k = 0; k < bodies->size(); ++k) {
      Origin part = origin;
      part.index = (origin.index.empty() ? "" : origin.index + ".") + std::to_string(k + 1);
      part.filename.clear();
      part.merge_type.clear();
      Status status =
          decode_entity(parse_mime_entity((*bodies)[k]), part, include_depth, mime_depth + 1);
      if (!status) {
        return status;
      }
    }
    return {};
  }

  Status decode_sniffed(std::string_view content, const Origin& origin, int include_depth,
                        bool rendered = false) {
    if (skip_leading_space(skip_bom(content)).empty()) {
      return {};
    }
    if (has_jinja_header(skip_leading_space(skip_bom(content)))) {
      return render(content, origin, include_depth, rendered);
    }
    const MarkerRow* row = find_marker(content);
    Marker marker = row != nullptr ? row->marker : Marker::None;
    switch (marker) {
      case Marker::CloudConfig:
        add(PartType::CloudConfig, content, origin);
        break;
      case Marker::ShellScript:
        add(PartType::ShellScript, content, origin);
        break;
      case Marker::Boothook:
        add(PartType::Boothook, content, origin);
        break;
      case Marker::Include:
      case Marker::IncludeOnce:
        include(content, origin, include_depth, false);
        break;
      case Marker::Archive:
        archive(content, origin, include_depth);
        break;
      case Marker::PartHandler:
        m_out.errors.push_back(origin.label() + ": " + std::string(k_part_handler_refused));
        break;
      case Marker::Unsupported:
        warn(origin.label() + ": " + std::string(row->prefix) +
             " is not supported by amiboot; ignored");
        break;
      case Marker::None: {
        std::string hint = near_miss(content);
        hint = hint.empty() ? "does not start with a known marker"
                            : "the first line is close to " + hint + " but is not it";
        warn(origin.label() + ": unrecognized content (" + hint +
             "; expected #cloud-config, #!, #include, #cloud-boothook or MIME multipart); "
             "ignored");
        break;
      }
    }
    return {};
  }

  // cloud-init's jinja handler: the part renders with the instance data,
  // then is what its first rendered line says. The header line is kept
  // blank, so lines in later errors are the lines of the part as served.
  Status render(std::string_view content, const Origin& origin, int include_depth, bool rendered) {
    std::string_view text = skip_leading_space(skip_bom(content));
    std::size_t offset = content.size() - text.size();
    int first_line =
        1 + static_cast<int>(std::count(content.begin(), content.begin() + offset, '\n'));
    if (rendered) {
      m_out.errors.push_back(origin.label() +
                             ": a template renders to another template; "
                             "the part is rejected whole");
      return {};
    }
    if (!m_options.template_context) {
      m_out.errors.push_back(origin.label() +
                             ": a '## template: jinja' part, and no instance data to render it "
                             "with; the part is rejected whole");
      return {};
    }
    if (!m_template_context) {
      m_template_context = m_options.template_context();
    }
    auto out = render_jinja_user_data(text, *m_template_context, origin.label());
    if (!out) {
      m_out.errors.push_back(out.error().message + " (the template part is rejected whole)");
      return {};
    }
    return decode_sniffed(std::string(static_cast<std::size_t>(first_line), '\n') + *out, origin,
                          include_depth, true);
  }

  void add(PartType type, std::string_view raw, const Origin& origin) {
    std::string content = crlf_to_lf(skip_bom(raw));
    if (type != PartType::CloudConfig) {
      // The kernel needs "#!" at offset 0; cloud-init's sniffing skipped the
      // whitespace before it, so we do too when writing the script.
      content.erase(0, content.size() - skip_leading_space(content).size());
    }
    if (type == PartType::Boothook && starts_with_ci(content, "#cloud-boothook")) {
      std::size_t eol = content.find('\n');
      content.erase(0, eol == std::string::npos ? content.size() : eol + 1);
    }
    if (skip_leading_space(content).empty()) {
      return;  // nothing to run or merge
    }
    Part part;
    part.type = type;
    part.name = origin.filename;
    if (part.name.empty()) {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "part-%03zu", m_out.parts.size() + 1);
      part.name = buffer;
    }
    part.label = origin.label();
    part.content = std::move(content);
    part.merge_type = origin.merge_type;
    m_out.parts.push_back(std::move(part));
  }

  // cloud-init's _do_include: one URL a line; "#include" may share its line
  // with a URL; other comment lines and blank lines are skipped. A line
  // "#include-once" makes it and the URLs after it include-once, until a
  // line "#include"; a text/x-include-once-url part starts include-once.
  void include(std::string_view content, const Origin& origin, int include_depth, bool once) {
    content = skip_bom(content);
    std::size_t pos = 0;
    while (pos < content.size()) {
      std::size_t eol = content.find('\n', pos);
      std::size_t end = eol == std::string_view::npos ? content.size() : eol;
      std::string_view line = trim(content.substr(pos, end - pos));
      pos = end + 1;
      if (starts_with_ci(line, "#include-once")) {
        line = trim(line.substr(13));
        once = true;
      } else if (starts_with_ci(line, "#include")) {
        line = trim(line.substr(8));
        once = false;
      }
      if (line.empty() || line.front() == '#') {
        continue;
      }
      fetch_include(std::string(line), origin, include_depth, once);
    }
  }

  void fetch_include(const std::string& url, const Origin& origin, int include_depth, bool once) {
    std::string shown = redact_url(url);
    std::string prefix = origin.label() + (once ? ": #include-once " : ": #include ") + shown;
    if (!m_options.fetch) {
      warn(prefix + " was not fetched (offline); its content was not checked");
      return;
    }
    if (include_depth >= m_options.max_include_depth) {
      m_out.errors.push_back(prefix + " was not fetched: includes nest deeper than " +
                             std::to_string(m_options.max_include_depth) + " levels");
      return;
    }
    if (m_fetches >= m_options.limits.includes) {
      m_out.errors.push_back(prefix + " was not fetched: more than " +
                             std::to_string(m_options.limits.includes) + " includes (" +
                             limit_setting("includes") + ")");
      return;
    }
    ++m_fetches;
    Result<std::string> fetched =
        once && m_options.fetch_once ? m_options.fetch_once(url) : m_options.fetch(url);
    if (!fetched) {
      // What the include held is missing: an error, so the status says so.
      m_out.errors.push_back(prefix + " failed: " + fetched.error().message);
      return;
    }
    if (!charge(fetched->size())) {
      m_out.errors.push_back(prefix + ": the decoded user data exceeds " +
                             size_text(m_options.limits.user_data_bytes) + " (" +
                             limit_setting("user_data_bytes") + ")");
      return;
    }
    // Fetched content that cannot be decoded is treated like a failed fetch;
    // drop whatever of it was already decoded so it is not half-applied.
    std::size_t mark = m_out.parts.size();
    Status status =
        decode_document(*fetched, Origin{"include " + shown, "", "", ""}, include_depth + 1);
    if (!status) {
      m_out.parts.resize(mark);
      m_out.errors.push_back(status.error().message + "; include skipped");
    }
  }

  // MIME parts and archive items, all levels together: each costs a
  // part's bookkeeping, and 16 KiB of gzip holds tens of thousands.
  // Returns the error when the limit is passed, else "".
  std::string count_parts(std::size_t n, const Origin& origin) {
    m_parts_seen += n;
    if (m_parts_seen > static_cast<std::size_t>(m_options.limits.mime_parts)) {
      return origin.label() + ": more than " + std::to_string(m_options.limits.mime_parts) +
             " MIME parts (" + limit_setting("mime_parts") + "); the user data is refused";
    }
    return "";
  }

  bool charge(std::size_t bytes) {
    m_decoded += bytes;
    return m_decoded <= m_options.limits.user_data_bytes;
  }

  // All inflating in one decode shares one budget, so many small gzip parts
  // cannot add up to more than one large one.
  Result<std::string> inflate(std::string_view data, const Origin& origin) {
    std::size_t limit = m_options.limits.user_data_bytes;
    std::size_t budget = limit - std::min(limit, m_decoded);
    Inflated inflated = inflate_gzip(data, budget);
    if (inflated.failure == InflateFailure::TooLarge) {
      std::string message = m_decoded == 0 ? gzip_too_large_message(limit)
                                           : "gzip data inflates past the " + size_text(limit) +
                                                 " limit for all decoded user data; refusing it";
      return error(origin.label() + ": " + message + " (" + limit_setting("user_data_bytes") + ")");
    }
    if (inflated.failure != InflateFailure::None) {
      return error(origin.label() + ": " + inflated.message);
    }
    m_decoded += inflated.data.size();
    return std::move(inflated.data);
  }

  void warn(std::string message) { m_out.warnings.push_back(std::move(message)); }

  const UserDataOptions& m_options;
  std::optional<nlohmann::json> m_template_context;
  DecodedUserData m_out;
  std::size_t m_decoded = 0;  // inflated and fetched bytes
  std::size_t m_parts_seen = 0;
  int m_fetches = 0;
  int m_archive_depth = 0;
};

}  // namespace

Result<DecodedUserData> decode_user_data(const std::string& raw, const UserDataOptions& options) {
  UserDataDecoder decoder(options);
  Status status = decoder.decode_document(raw, Origin{"user-data", "", "", ""}, 0);
  if (!status) {
    return status.error();
  }
  return decoder.take();
}

std::string_view part_type_name(PartType type) {
  switch (type) {
    case PartType::CloudConfig:
      return "cloud-config";
    case PartType::ShellScript:
      return "x-shellscript";
    case PartType::Boothook:
      return "cloud-boothook";
    case PartType::IncludeUrl:
      return "x-include-url";
    case PartType::ScriptPerBoot:
      return "x-shellscript-per-boot";
    case PartType::ScriptPerInstance:
      return "x-shellscript-per-instance";
    case PartType::ScriptPerOnce:
      return "x-shellscript-per-once";
    case PartType::Unknown:
      break;
  }
  return "unknown";
}

std::string redact_url(std::string_view url) {
  std::string out;
  std::size_t scheme = url.find("://");
  std::size_t authority = scheme == std::string_view::npos ? 0 : scheme + 3;
  std::size_t authority_end = url.find_first_of("/?#", authority);
  std::string_view host =
      url.substr(authority, authority_end == std::string_view::npos ? std::string_view::npos
                                                                    : authority_end - authority);
  std::size_t at = host.rfind('@');
  out += url.substr(0, authority);
  out += at == std::string_view::npos ? host : host.substr(at + 1);
  if (authority_end != std::string_view::npos) {
    std::string_view rest = url.substr(authority_end);
    std::size_t query = rest.find_first_of("?#");
    out += rest.substr(0, query);
    if (query != std::string_view::npos) {
      out += "?...";
    }
  }
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      c = '?';
    }
  }
  return out;
}

}  // namespace amiboot
