// SPDX-License-Identifier: Apache-2.0
// boothooks: `#cloud-boothook` parts, run early in the init stage on every
// boot, as cloud-init's boothook handler runs them.
#pragma once

#include "modules/module.h"

namespace amiboot {

PlanResult plan_boothooks(const NoKeys&, const Facts& facts);

}  // namespace amiboot
