// The firmware's boot: loader::boot() over the arm64 platform. Never returns:
// it jumps to the kernel, or prints why not and stops.
#pragma once

#include "magicboot/loader/arch/arm64/firmware_platform.h"

namespace mb::arm64 {

[[noreturn]] void run_boot_flow(FirmwarePlatform& fw);

}  // namespace mb::arm64
