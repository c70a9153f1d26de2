// SPDX-License-Identifier: Apache-2.0
// zlib as codecs.cc calls it: through a table of its functions, filled when
// gzip data is first met by agent/libz.cc (dlopen of libz.so.1, named in the
// binary's .note.dlopen, agent/dynamic_library.h). Loading a library is the
// agent's business, so agent/core only declares the table; commands and
// boots that never meet gzip data (validate, status, query, version, most
// runs) do not load zlib.
#pragma once

#include <zlib.h>

#include "agent/core/result.h"

namespace amiboot {

// Every zlib function amiboot calls (inflateInit2 is a macro around
// inflateInit2_).
#define AMIBOOT_ZLIB_FUNCTIONS(X) \
  X(inflateInit2_)                \
  X(inflate)                      \
  X(inflateEnd)                   \
  X(inflateReset)

struct Zlib {
  // decltype of the real declaration: a mismatch with zlib.h is a compile
  // error.
#define AMIBOOT_ZLIB_MEMBER(name) decltype(&::name) name;
  AMIBOOT_ZLIB_FUNCTIONS(AMIBOOT_ZLIB_MEMBER)
#undef AMIBOOT_ZLIB_MEMBER
};

/// libz.so.1, loaded once, on the first call from any thread; the error
/// names the library, what needs it and its package. Defined in
/// agent/libz.cc.
Result<const Zlib*> zlib();

}  // namespace amiboot
