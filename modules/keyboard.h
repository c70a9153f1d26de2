// SPDX-License-Identifier: Apache-2.0
// keyboard: the keyboard layout of the console and X (cloud-init's
// cc_keyboard). Debian and Ubuntu: /etc/default/keyboard as cloud-init writes
// it (localectl is broken on some of their releases; keyboard(5) serves the
// console and X alike), then console-setup is restarted where the image has
// it. Elsewhere (Amazon Linux, Fedora, RHEL, SUSE): `localectl
// set-x11-keymap`, as cloud-init does; systemd-localed writes the X11 file
// and the matching console keymap. That acts on the running system through
// D-Bus, so it is not run under --root.
//
// Init stage, per instance (cloud-init: config stage): gettys and display
// managers start after amiboot.service with the layout in place.
#pragma once

#include <optional>
#include <string>

#include "modules/module.h"

namespace amiboot {

struct KeyboardConfig {
  std::string layout;           // XKBLAYOUT, required: "us", "de", "us,de"
  std::string model = "pc105";  // XKBMODEL (cloud-init's default)
  std::string variant;          // XKBVARIANT
  std::string options;          // XKBOPTIONS: "compose:rwin"
};

/// nullopt when `keyboard` is absent or malformed (reported in `out`).
std::optional<KeyboardConfig> decode_keyboard(const Value& doc, Diagnostics& out);

PlanResult plan_keyboard(const KeyboardConfig& config, const Facts& facts);

}  // namespace amiboot
