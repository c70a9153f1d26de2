// SPDX-License-Identifier: Apache-2.0
#include "agent/retry.h"

#include <algorithm>

namespace amiboot {

Backoff::Backoff(RetryPolicy policy, std::uint64_t seed) : m_policy(policy), m_rng(seed) {}

std::chrono::milliseconds Backoff::delay(int attempt) {
  const double initial = static_cast<double>(std::max<std::int64_t>(m_policy.initial.count(), 0));
  const double cap = static_cast<double>(std::max<std::int64_t>(m_policy.cap.count(), 0));
  // Computed in double and clamped before converting, so a large attempt
  // number saturates at the cap instead of overflowing. A loop, not
  // std::pow: the binary does not link libm (a few hundred KiB of RSS in
  // every command).
  const double factor = std::max(m_policy.factor, 1.0);
  double grown = initial;
  for (int i = 0; i < attempt && grown < cap; ++i) {
    grown *= factor;
  }
  const auto base = static_cast<std::int64_t>(std::min(grown, cap));
  if (base <= 0) {
    return std::chrono::milliseconds{0};
  }
  std::uniform_int_distribution<std::int64_t> jitter(base / 2, base);
  return std::chrono::milliseconds{jitter(m_rng)};
}

}  // namespace amiboot
