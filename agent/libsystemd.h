// SPDX-License-Identifier: Apache-2.0
// libsystemd, loaded when the journal or the notify socket is first used
// (agent/dynamic_library.h).
#pragma once

#include "agent/core/result.h"

struct iovec;

namespace amiboot {

struct Libsystemd {
  int (*journal_sendv)(const struct iovec* iov, int n);
  int (*notify)(int unset_environment, const char* state);
};

/// libsystemd.so.0, loaded once, on the first call from any thread; the same
/// error on every later call when it cannot be.
Result<const Libsystemd*> libsystemd();

}  // namespace amiboot
