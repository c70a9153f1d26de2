// SPDX-License-Identifier: Apache-2.0
#include "modules/os_release.h"

#include <algorithm>
#include <sstream>

namespace amiboot {

namespace {

std::string unquote(std::string value) {
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
      value.back() == value.front()) {
    value = value.substr(1, value.size() - 2);
  }
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    // os-release(5) allows shell-style backslash escapes inside double quotes.
    if (value[i] == '\\' && i + 1 < value.size()) {
      ++i;
    }
    out += value[i];
  }
  return out;
}

}  // namespace

bool OsRelease::is(std::string_view name) const {
  return id == name || std::find(id_like.begin(), id_like.end(), name) != id_like.end();
}

bool OsRelease::is_redhat_family() const {
  return is("amzn") || is("rhel") || is("fedora") || is("centos");
}

bool OsRelease::is_debian_family() const {
  return is("debian") || is("ubuntu");
}

bool OsRelease::is_suse_family() const {
  return is("suse") || is("opensuse") || is("sles") || id.rfind("opensuse", 0) == 0 ||
         id.rfind("sle", 0) == 0;
}

OsRelease parse_os_release(const std::string& text) {
  OsRelease os;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::size_t eq = line.find('=');
    if (line.empty() || line[0] == '#' || eq == std::string::npos) {
      continue;
    }
    std::string key = line.substr(0, eq);
    std::string value = unquote(line.substr(eq + 1));
    if (key == "ID") {
      os.id = value;
    } else if (key == "ID_LIKE") {
      std::istringstream words(value);
      for (std::string w; words >> w;) {
        os.id_like.push_back(w);
      }
    } else if (key == "VERSION_ID") {
      os.version_id = value;
    } else if (key == "VERSION_CODENAME" ||
               (key == "UBUNTU_CODENAME" && os.version_codename.empty())) {
      os.version_codename = value;
    }
  }
  return os;
}

std::optional<OsRelease> read_os_release(const SystemView& system) {
  for (const char* path : {"/etc/os-release", "/usr/lib/os-release"}) {
    if (auto text = system.read_text(path)) {
      return parse_os_release(*text);
    }
  }
  return std::nullopt;
}

}  // namespace amiboot
