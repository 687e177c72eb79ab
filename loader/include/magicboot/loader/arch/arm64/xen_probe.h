// A temporary end-to-end proof of the platform under real Xen, run until the
// loader core's boot flow replaces it: xen_version, shared_info mapped into
// GUEST_MAGIC, wc_version read through it, the mapping removed. Prints
// "MAGICBOOT-PROBE ok" when every step gave the answer real Xen 4.17 gives.
// With "probe-fault" in /chosen bootargs it then reads the removed page (or,
// without Xen, an unmapped address) to prove the fault report.
#pragma once

#include "magicboot/loader/arch/arm64/firmware_platform.h"

namespace mb::arm64 {

[[noreturn]] void run_xen_probe(FirmwarePlatform& fw);

}  // namespace mb::arm64
