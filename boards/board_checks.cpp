// Compiles every board so their static_asserts run in both presets.
#include "boards/qemu_virt/board.h"
#include "boards/xen_arm64/board.h"
#include "magicboot/hypercall/xen_abi.h"

namespace xa = mb::boards::xen_arm64;
static_assert(xa::kGntTab.base.value == GUEST_GNTTAB_BASE && xa::kGntTab.size == GUEST_GNTTAB_SIZE);
static_assert(xa::kMagic.base.value == GUEST_MAGIC_BASE && xa::kMagic.size == GUEST_MAGIC_SIZE);
static_assert(xa::kRam0.base.value == GUEST_RAM0_BASE && xa::kRam0.size == GUEST_RAM0_SIZE);
static_assert(xa::kRam1.base.value == GUEST_RAM1_BASE && xa::kRam1.size == GUEST_RAM1_SIZE);
static_assert(xa::kVpl011.base.value == GUEST_PL011_BASE);
static_assert(xa::kEvtchnPpi == GUEST_EVTCHN_PPI);
