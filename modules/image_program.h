// SPDX-License-Identifier: Apache-2.0
// A program of the image itself, looked up through the SystemView's paths
// (under --root: inside the root), unlike SystemView::has_program, which asks
// the machine that runs the commands. For tools that must run in the image
// (update-ca-certificates, chronyd, rsyslogd) and for cloud-init's
// `check_exe` keys, which name either a program or its absolute path.
#pragma once

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "modules/module.h"

namespace amiboot {

/// The program's path in the image, or "" when it has none. An absolute
/// `name` is looked at as it is; a bare name in the usual PATH folders.
inline std::string find_image_program(const SystemView& system, std::string_view name) {
  if (name.empty()) {
    return "";
  }
  if (name.front() == '/') {
    return system.path_exists(std::string(name)) ? std::string(name) : "";
  }
  for (const char* dir :
       {"/usr/local/sbin/", "/usr/local/bin/", "/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/"}) {
    std::string path = dir + std::string(name);
    if (system.path_exists(path)) {
      return path;
    }
  }
  return "";
}

/// Why `path` is not an absolute path that stays where it says (no '..'
/// component, no control character), or "" when it is one.
inline std::string absolute_path_problem(const std::string& path) {
  if (path.empty() || path.front() != '/') {
    return "expected an absolute path, got '" + path + "'";
  }
  if (std::any_of(path.begin(), path.end(),
                  [](char c) { return std::iscntrl(static_cast<unsigned char>(c)) != 0; })) {
    return path.find('\0') != std::string::npos
               ? "a NUL byte in the path (no file name can hold one)"
               : "a control character in the path";
  }
  if (("/" + path + "/").find("/../") != std::string::npos) {
    return "'" + path + "' contains '..'; refusing a path that can leave its folder";
  }
  return "";
}

/// Runs a tool of the image in the image. `chroot /` changes nothing on an
/// instance; under --root the executor maps "/" to the root, so the root's
/// own tool acts on the root's files (update-ca-certificates rebuilds the
/// root's bundle with the root's openssl and hooks), as packages run
/// `chroot ROOT apt-get`.
inline RunCommand in_image(const std::vector<std::string>& argv, std::string label) {
  RunCommand r{{"chroot"}, std::move(label)};
  r.target_path("/");
  r.argv.insert(r.argv.end(), argv.begin(), argv.end());
  return r;
}

/// A `check_exe` value: a program name (`rsyslogd`) or an absolute path
/// (`/opt/sbin/rsyslogd`), without spaces.
inline bool is_program_name_or_path(const std::string& s) {
  if (s.empty() || s.find_first_of(" \t") != std::string::npos) {
    return false;
  }
  return s.front() == '/'
             ? absolute_path_problem(s).empty()
             : s.find('/') == std::string::npos && std::none_of(s.begin(), s.end(), [](char c) {
                 return std::iscntrl(static_cast<unsigned char>(c)) != 0;
               });
}

/// A `check_exe` key (ntp, rsyslog) as the decoders take it: nullopt, and
/// an error at `path`, unless it is a program name or an absolute path.
inline std::optional<std::string> decode_check_exe(Decoder& d, const Value& v,
                                                   const std::string& path) {
  auto s = d.string(v, path);
  if (s && !is_program_name_or_path(*s)) {
    d.error(v, path, "expected a program name or an absolute path, got '" + *s + "'");
    return std::nullopt;
  }
  return s;
}

}  // namespace amiboot
