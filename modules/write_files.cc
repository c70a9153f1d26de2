// SPDX-License-Identifier: Apache-2.0
#include "modules/write_files.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <tuple>

#include "agent/core/codecs.h"
#include "agent/core/colon_file.h"
#include "agent/core/owner.h"
#include "agent/core/settings.h"
#include "agent/core/strings.h"
#include "agent/core/user_data.h"
#include "modules/image_program.h"

namespace amiboot {

namespace {

constexpr std::size_t kMaxInflated = 64 << 20;

// cloud-init: a string is octal text; an integer is taken as it is, and an
// unquoted 0644 is already octal in YAML 1.1.
std::optional<mode_t> decode_permissions(const Value& v, const std::string& path,
                                         Decoder& decoder) {
  if (!v.is_scalar()) {
    decoder.error(v, path, "expected an octal string such as '0644', got " + v.type_name());
    return std::nullopt;
  }
  std::string text = v.scalar;
  long long mode = -1;
  bool octal = !v.plain || (text.size() > 1 && text[0] == '0');
  if (text.rfind("0o", 0) == 0) {
    text = text.substr(2);
    octal = true;
  }
  try {
    std::size_t used = 0;
    mode = std::stoll(text, &used, octal ? 8 : 10);
    if (used != text.size()) {
      mode = -1;
    }
  } catch (const std::exception&) {
    mode = -1;
  }
  if (mode < 0 || mode > 07777) {
    decoder.error(v, path,
                  "expected an octal mode between '0000' and '07777', got '" + v.scalar + "'");
    return std::nullopt;
  }
  return static_cast<mode_t>(mode);
}

std::optional<std::string> decode_content(const std::string& content, const std::string& encoding,
                                          const Value& at, const std::string& path,
                                          Decoder& decoder) {
  bool gz = encoding == "gz" || encoding == "gzip" || encoding.rfind("gz+", 0) == 0 ||
            encoding.rfind("gzip+", 0) == 0;
  bool b64 =
      encoding.find("b64") != std::string::npos || encoding.find("base64") != std::string::npos;
  std::string data = content;
  if (b64) {
    auto decoded = base64_decode(data);
    std::string kept = decoded ? "" : base64_alphabet_only(data);
    if (!decoded && kept.size() < data.size() && base64_decode(kept)) {
      // cloud-init's documented example ends its content in "...".
      decoder.warning(at, path,
                      std::to_string(data.size() - kept.size()) +
                          " characters outside base64's alphabet skipped, as cloud-init's "
                          "decoder (Python's base64.b64decode) skips them");
      decoded = base64_decode(kept);
    }
    if (!decoded) {
      decoder.error(at, path, "content is not valid: " + decoded.error().message);
      return std::nullopt;
    }
    data = std::move(*decoded);
  }
  if (gz) {
    auto inflated = gunzip(data, kMaxInflated);
    if (!inflated) {
      decoder.error(at, path, "content is not valid gzip: " + inflated.error().message);
      return std::nullopt;
    }
    data = std::move(*inflated);
  }
  return data;
}

bool is_known_encoding(const std::string& e) {
  for (const char* known : {"gz", "gzip", "gz+base64", "gzip+base64", "gz+b64", "gzip+b64", "b64",
                            "base64", "text/plain"}) {
    if (e == known) {
      return true;
    }
  }
  return false;
}

std::optional<std::string> decode_path(const Value& v, const std::string& path, Decoder& decoder) {
  auto p = decoder.string(v, path);
  if (!p) {
    return std::nullopt;
  }
  // A NUL would cut the path short at run time, after other entries were
  // written; a control character has no business in a file name.
  if (auto problem = absolute_path_problem(*p); !problem.empty()) {
    decoder.error(v, path, problem);
    return std::nullopt;
  }
  if (p->back() == '/') {
    decoder.error(v, path, "'" + *p + "' names a folder, expected a file path");
    return std::nullopt;
  }
  return p;
}

bool is_header_name(const std::string& name) {
  // RFC 9110's token: what may stand before the colon.
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

// `source: {uri, headers}`. cloud-init reads the URI with read_file_or_url:
// http(s), file:// and ftp(s). amiboot fetches http:// and https:// through
// its HTTP client and reads file:///path on the target (under --root, in the
// root); anything else is an error here rather than a surprise at boot.
std::optional<WriteFileSource> decode_source(const Value& v, const std::string& path,
                                             Decoder& decoder) {
  if (decoder.map(v, path) == nullptr) {
    return std::nullopt;
  }
  decoder.unknown_keys(v, path, {"uri", "headers"});
  WriteFileSource source;
  bool ok = true;
  const Value* uri = v.get("uri");
  if (uri == nullptr) {
    decoder.error(v, path, "missing required key 'uri'");
    return std::nullopt;
  }
  if (auto s = decoder.string(*uri, path + ".uri")) {
    std::string lower = lowercase(*s);
    bool web = (lower.rfind("http://", 0) == 0 && lower.size() > 7) ||
               (lower.rfind("https://", 0) == 0 && lower.size() > 8);
    bool file = lower.rfind("file:///", 0) == 0 && s->size() > 8;
    if (!web && !file) {
      decoder.error(
          *uri, path + ".uri",
          "expected an http://, https:// or file:///path URI, got '" + redact_url(*s) + "'");
      ok = false;
    } else if (s->find_first_of(std::string_view("\0\r\n \t", 5)) != std::string::npos) {
      decoder.error(*uri, path + ".uri", "the URI contains a space or a control character");
      ok = false;
    } else if (file && s->substr(7).find("/../") != std::string::npos) {
      decoder.error(*uri, path + ".uri", "a file:// URI must not contain '..'");
      ok = false;
    } else {
      source.uri = *s;
    }
  } else {
    ok = false;
  }
  if (const Value* h = v.get("headers"); h != nullptr && !h->is_null()) {
    std::string hpath = path + ".headers";
    if (decoder.map(*h, hpath) == nullptr) {
      return std::nullopt;
    }
    for (const auto& entry : h->entries) {
      std::string at = hpath + "." + entry.key;
      if (!is_header_name(entry.key)) {
        decoder.error(entry.value, hpath, "'" + entry.key + "' is not a valid HTTP header name");
        ok = false;
        continue;
      }
      auto value = decoder.string(entry.value, at);
      if (!value) {
        ok = false;
        continue;
      }
      // The value itself is never shown: it may be a token.
      if (value->find_first_of(std::string_view("\0\r\n", 3)) != std::string::npos) {
        decoder.error(entry.value, at, "a header value must not contain a line break");
        ok = false;
        continue;
      }
      source.headers[entry.key] = *value;
    }
  }
  if (!ok) {
    return std::nullopt;
  }
  return source;
}

}  // namespace

bool check_write_files_size(const Value& config, std::size_t& used, std::size_t limit,
                            Diagnostics& out) {
  const Value* list = config.get("write_files");
  if (list == nullptr || !list->is_sequence()) {
    return true;
  }
  for (std::size_t i = 0; i < list->items.size(); ++i) {
    const Value* content = list->items[i].get("content");
    if (content == nullptr || !content->is_scalar()) {
      continue;
    }
    const Value* e = list->items[i].get("encoding");
    std::string encoding = e != nullptr && e->is_scalar() ? e->scalar : "text/plain";
    bool gz = encoding.starts_with("gz");
    bool b64 =
        encoding.find("b64") != std::string::npos || encoding.find("base64") != std::string::npos;
    std::size_t size = b64 ? content->scalar.size() / 4 * 3 : content->scalar.size();
    if (gz) {
      std::string data = content->scalar;
      if (b64) {
        auto bytes = base64_decode(base64_alphabet_only(data));
        data = bytes ? std::move(*bytes) : std::string();
      }
      // Corrupt data is the decoder's to report; a bomb stops at the limit.
      Inflated inflated = gzip_inflated_size(data, limit - std::min(limit, used));
      size = inflated.failure == InflateFailure::TooLarge ? limit + 1 : inflated.size;
    }
    used += size;
    if (used > limit) {
      out.push_back(Diagnostic{Diagnostic::Severity::Error, content->pos,
                               "write_files[" + std::to_string(i) + "].content",
                               "the decoded write_files content of the user data exceeds " +
                                   size_text(limit) + " (" + limit_setting("write_files_bytes") +
                                   ")"});
      return false;
    }
  }
  return true;
}

std::optional<std::vector<WriteFileEntry>> decode_write_files(const Value& config,
                                                              Diagnostics& out) {
  const Value* list = config.get("write_files");
  if (list == nullptr || list->is_null()) {
    return std::nullopt;
  }
  Decoder decoder(out);
  if (decoder.list(*list, "write_files") == nullptr) {
    return std::nullopt;
  }
  std::vector<WriteFileEntry> entries;
  for (std::size_t i = 0; i < list->items.size(); ++i) {
    const Value& item = list->items[i];
    std::string base = "write_files[" + std::to_string(i) + "]";
    if (decoder.map(item, base) == nullptr) {
      continue;
    }
    decoder.unknown_keys(
        item, base,
        {"path", "content", "encoding", "owner", "permissions", "append", "defer", "source"});
    WriteFileEntry entry;
    const Value* path = item.get("path");
    if (path == nullptr) {
      decoder.error(item, base, "missing required key 'path'");
      continue;
    }
    if (auto p = decode_path(*path, base + ".path", decoder)) {
      entry.path = *p;
    }
    std::string encoding = "text/plain";
    if (const Value* e = item.get("encoding")) {
      if (auto s = decoder.string(*e, base + ".encoding")) {
        encoding = *s;
        if (!is_known_encoding(encoding)) {
          decoder.error(*e, base + ".encoding",
                        "expected one of b64, base64, gz, gzip, gz+b64, gz+base64, gzip+b64, "
                        "gzip+base64, text/plain; got '" +
                            encoding + "'");
        }
      }
    }
    if (const Value* c = item.get("content"); c != nullptr && !c->is_null()) {
      entry.has_content = true;
      if (auto s = decoder.string(*c, base + ".content"); s && is_known_encoding(encoding)) {
        if (auto d = decode_content(*s, encoding, *c, base + ".content", decoder)) {
          entry.content = std::move(*d);
        }
      }
    }
    if (const Value* src = item.get("source"); src != nullptr && !src->is_null()) {
      entry.source = decode_source(*src, base + ".source", decoder);
    }
    if (const Value* o = item.get("owner")) {
      if (auto s = decoder.string(*o, base + ".owner")) {
        if (auto problem = owner_problem(*s); !problem.empty()) {
          decoder.error(*o, base + ".owner", problem);
        } else {
          entry.owner = *s;
        }
      }
    }
    if (const Value* m = item.get("permissions")) {
      if (auto mode = decode_permissions(*m, base + ".permissions", decoder)) {
        entry.mode = *mode;
      }
    }
    if (const Value* a = item.get("append")) {
      entry.append = decoder.boolean(*a, base + ".append").value_or(false);
    }
    if (const Value* d = item.get("defer")) {
      entry.defer = decoder.boolean(*d, base + ".defer").value_or(false);
    }
    entries.push_back(std::move(entry));
  }
  if (decoder.failed()) {
    return std::nullopt;
  }
  return entries;
}

namespace {

PlanResult plan_entries(const std::vector<WriteFileEntry>& entries, bool deferred,
                        const Facts& facts) {
  PlanResult result;
  // `source:` is fetched at run time, so the decode-time check of
  // write_files_bytes cannot see it: the downloads share what the limit
  // leaves once the entries' own content (both stages') is counted, and the
  // executor counts what the other stage's downloads brought
  // (ExecContext::fetched).
  Diagnostics ignored;  // the runner reports the image config's problems
  std::size_t limit = decode_settings(facts.image_config, ignored).limits.write_files_bytes;
  std::size_t content = 0;
  for (const auto& e : entries) {
    content += e.content.size();
  }
  FetchBudget budget{.bytes = limit - std::min(limit, content),
                     .limit = limit,
                     .setting = limit_setting("write_files_bytes")};
  // Every owner is looked up before anything is written: cloud-init writes
  // the entries before an unknown one and then fails; here the module
  // fails whole. The users this stage creates exist by now (users runs
  // first), and so do those the packages add for deferred entries.
  std::optional<std::string> passwd;
  std::optional<std::string> group;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const WriteFileEntry& e = entries[i];
    auto parts = split_owner(e.owner);
    if (e.defer != deferred || !parts) {
      continue;
    }
    auto missing = [&](const std::string& name, const char* file,
                       std::optional<std::string>& text) {
      if (name.empty() || all_digits(name) || name == "root") {
        return false;  // ids are not looked up; root is there, as the executor assumes
      }
      if (!text) {
        text = facts.system.read_text(file).value_or("");
      }
      return !colon_file_entry(*text, name);
    };
    for (auto [name, file, text, kind] :
         {std::tuple{parts->user, "/etc/passwd", &passwd, "user"},
          std::tuple{parts->group, "/etc/group", &group, "group"}}) {
      if (missing(name, file, *text)) {
        result.diagnostics.push_back({Diagnostic::Severity::Error,
                                      {},
                                      "write_files[" + std::to_string(i) + "].owner",
                                      std::string("no ") + kind + " '" + name + "' in " + file +
                                          "; no entry of write_files was written"});
      }
    }
  }
  if (!result.diagnostics.empty()) {
    return result;
  }
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const WriteFileEntry& e = entries[i];
    if (e.defer != deferred) {
      continue;
    }
    std::string label = "write_files[" + std::to_string(i) + "]";
    if (e.source) {
      FetchFile fetch{.path = e.path,
                      .url = e.source->uri,
                      .headers = e.source->headers,
                      .mode = e.mode,
                      .owner = e.owner,
                      .append = e.append,
                      .label = label,
                      .max_bytes = kMaxInflated,
                      .shared_budget = budget};
      if (e.has_content) {
        fetch.fallback = e.content;
      }
      result.actions.push_back(std::move(fetch));
      continue;
    }
    result.actions.push_back(WriteFile{e.path, e.content, e.mode, e.owner, e.append, label});
  }
  return result;
}

}  // namespace

void to_json(nlohmann::json& json, const WriteFileEntry& entry) {
  json = {{"path", entry.path},
          {"content", base64_encode(entry.content)},
          {"owner", entry.owner},
          {"mode", entry.mode},
          {"append", entry.append},
          {"defer", entry.defer},
          {"has_content", entry.has_content}};
  if (entry.source) {
    json["source"] = {{"uri", entry.source->uri}, {"headers", entry.source->headers}};
  }
}

void from_json(const nlohmann::json& json, WriteFileEntry& entry) {
  auto content = base64_decode(json.at("content").get<std::string>());
  if (!content) {
    throw nlohmann::json::other_error::create(
        501, "write_files content: " + content.error().message, &json);
  }
  entry = WriteFileEntry{json.at("path").get<std::string>(),  std::move(*content),
                         json.at("owner").get<std::string>(), json.at("mode").get<mode_t>(),
                         json.at("append").get<bool>(),       json.at("defer").get<bool>()};
  // A file written before `source` existed has neither key.
  entry.has_content = json.value("has_content", !entry.content.empty());
  if (auto it = json.find("source"); it != json.end()) {
    entry.source = WriteFileSource{
        it->at("uri").get<std::string>(),
        it->value("headers", nlohmann::json::object()).get<std::map<std::string, std::string>>()};
  }
}

PlanResult plan_write_files(const std::vector<WriteFileEntry>& entries, const Facts& facts) {
  return plan_entries(entries, false, facts);
}

PlanResult plan_write_files_deferred(const std::vector<WriteFileEntry>& entries,
                                     const Facts& facts) {
  return plan_entries(entries, true, facts);
}

}  // namespace amiboot
