#include "modules/write_files.h"

#include "agent/core/codecs.h"

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
  if (p->empty() || (*p)[0] != '/') {
    decoder.error(v, path, "expected an absolute path, got '" + *p + "'");
    return std::nullopt;
  }
  std::size_t start = 0;
  while (start <= p->size()) {
    std::size_t end = p->find('/', start);
    if (end == std::string::npos) {
      end = p->size();
    }
    if (p->compare(start, end - start, "..") == 0 && end - start == 2) {
      decoder.error(v, path, "'" + *p + "' contains '..'; paths must not leave their folder");
      return std::nullopt;
    }
    start = end + 1;
  }
  if (p->back() == '/') {
    decoder.error(v, path, "'" + *p + "' names a folder, expected a file path");
    return std::nullopt;
  }
  return p;
}

}  // namespace

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
        item, base, {"path", "content", "encoding", "owner", "permissions", "append", "defer"});
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
      if (auto s = decoder.string(*c, base + ".content"); s && is_known_encoding(encoding)) {
        if (auto d = decode_content(*s, encoding, *c, base + ".content", decoder)) {
          entry.content = std::move(*d);
        }
      }
    }
    if (const Value* o = item.get("owner")) {
      if (auto s = decoder.string(*o, base + ".owner")) {
        entry.owner = *s;
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

PlanResult plan_entries(const std::vector<WriteFileEntry>& entries, bool deferred) {
  PlanResult result;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const WriteFileEntry& e = entries[i];
    if (e.defer != deferred) {
      continue;
    }
    result.actions.push_back(WriteFile{e.path, e.content, e.mode, e.owner, e.append,
                                       "write_files[" + std::to_string(i) + "]"});
  }
  return result;
}

}  // namespace

void to_json(nlohmann::json& json, const WriteFileEntry& entry) {
  json = {{"path", entry.path},     {"content", base64_encode(entry.content)},
          {"owner", entry.owner},   {"mode", entry.mode},
          {"append", entry.append}, {"defer", entry.defer}};
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
}

PlanResult plan_write_files(const std::vector<WriteFileEntry>& entries, const Facts&) {
  return plan_entries(entries, false);
}

PlanResult plan_write_files_deferred(const std::vector<WriteFileEntry>& entries, const Facts&) {
  return plan_entries(entries, true);
}

}  // namespace amiboot
