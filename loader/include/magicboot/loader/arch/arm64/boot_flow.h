// The firmware's boot: loader::boot() over the arm64 platform. Never returns:
// it jumps to the kernel, or prints why not and stops.
#pragma once

#include "magicboot/loader/arch/arm64/firmware_platform.h"

namespace mb::arm64 {

// full_report: BootOptions::full_report (the command line asked for it).
[[noreturn]] void run_boot_flow(FirmwarePlatform& fw, bool full_report);

}  // namespace mb::arm64
