// Step 9: the handover report. A person reads the first; tests and tools
// parse the second, one line: MAGICBOOT-HANDOVER {json}.
#pragma once

#include "magicboot/loader/boot.h"
#include "magicboot/platform.h"

namespace mb::loader {

void print_report(Console& c, const BootReport& r);
// The same in two lines, for a clean boot: what was booted from where, and
// the verdict with shared_info's fate.
void print_brief(Console& c, const BootReport& r);
// JSON fields: verdict, strategy, shared_info {gfn, source, mapped, removed},
// magic {console_pfn, console_evtchn, store_pfn, store_evtchn}, xen {...},
// payload {kind, ...}, kernel/initrd/dtb {start, size}, ram [{start,size}],
// findings [strings], stages {name: ticks}.
void print_handover_json(Console& c, const BootReport& r);

}  // namespace mb::loader
