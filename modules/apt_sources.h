// SPDX-License-Identifier: Apache-2.0
// APT source texts, pure: cloud-init's `$NAME` substitution, the one-line
// format turned into deb822 stanzas, `signed-by` added to a source, and
// cloud-init's disable_suites over either format. The apt module
// (modules/apt_configure.h) decides where each text goes.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modules/os_release.h"

namespace amiboot {

/// cloud-init's basic templater: `$NAME` and `${NAME}` replaced when NAME
/// is in `params`; any other `$` text is left as it is.
std::string render_apt_template(std::string_view text,
                                const std::map<std::string, std::string>& params);

/// Debian 12 and later, Ubuntu 24.04 and later keep their sources in deb822
/// `.sources` files; older releases in one-line `.list` files.
bool uses_deb822_sources(const OsRelease& os);

/// The text has deb822 fields (Types:, URIs:, Suites:, Components:) and no
/// `deb ` or `deb-src ` line, as cloud-init's is_deb822_sources_format.
bool is_deb822_sources(std::string_view text);

/// One-line sources (`deb [arch=amd64 signed-by=/k.asc] URI suite comp...`,
/// one a line, comments and blank lines skipped) as deb822 stanzas, blank
/// lines between; nullopt and `error` set for a line that is not a source.
std::optional<std::string> one_line_to_deb822(std::string_view text, std::string& error);

/// Each one-line source without a `signed-by` option gets
/// `signed-by=KEYRING` (inside its existing `[...]`, or a new one); each
/// deb822 stanza without `Signed-By:` gets one.
std::string add_signed_by(std::string_view text, const std::string& keyring);

/// cloud-init's aliases for disable_suites (`updates` is `$RELEASE-updates`).
std::string known_suite(const std::string& suite);

/// The sources text with `suites` (already rendered) commented out as
/// cloud-init does: a one-line entry is commented whole, a deb822 stanza
/// loses the suite from `Suites:` and is commented whole when none is left.
std::string disable_apt_suites(std::string_view text, const std::vector<std::string>& suites);

}  // namespace amiboot
