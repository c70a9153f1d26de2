// SPDX-License-Identifier: Apache-2.0
// amiboot's subcommands: run, status, query, validate, analyze, clean, version.
#pragma once

#include <string>
#include <vector>

namespace amiboot {

/// args excludes the program name. Returns the process exit code.
int cli_main(const std::vector<std::string>& args);

}  // namespace amiboot
