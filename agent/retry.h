// SPDX-License-Identifier: Apache-2.0
// The IMDS retry schedule, pure so it can be tested without a network.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace amiboot {

struct RetryPolicy {
  std::chrono::milliseconds initial{100};
  std::chrono::milliseconds cap{2000};
  double factor = 2.0;
  /// Overall deadline, all tries included: of the whole metadata fetch
  /// (ImdsClient::fetch_all), or of one ImdsClient::get.
  std::chrono::milliseconds deadline{120000};
};

/// Capped exponential backoff with "full jitter" (a random delay in
/// [base/2, base]), so that many instances booting together do not retry in
/// lockstep against a throttled IMDS.
class Backoff {
 public:
  explicit Backoff(RetryPolicy policy, std::uint64_t seed = std::random_device{}());
  /// Delay before retry number `attempt` (0 for the first retry).
  std::chrono::milliseconds delay(int attempt);

 private:
  RetryPolicy m_policy;
  std::mt19937_64 m_rng;
};

}  // namespace amiboot
