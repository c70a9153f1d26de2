// SPDX-License-Identifier: Apache-2.0
#include "modules/boothooks.h"

#include "modules/scripts.h"

namespace amiboot {

PlanResult plan_boothooks(const NoKeys&, const Facts& facts) {
  return write_and_run(facts, PartType::Boothook, "boothooks");
}

}  // namespace amiboot
