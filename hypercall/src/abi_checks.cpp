// The layouts we pass to Xen and read from it, pinned. A libxen-dev update or
// a host/firmware mismatch that changes any of them breaks the build here.
#include "magicboot/hypercall/xen_abi.h"

static_assert(sizeof(xen_pfn_t) == 8 && sizeof(xen_ulong_t) == 8);
static_assert(sizeof(xen_add_to_physmap_t) == 24);
static_assert(offsetof(xen_add_to_physmap_t, space) == 4);
static_assert(offsetof(xen_add_to_physmap_t, idx) == 8);
static_assert(offsetof(xen_add_to_physmap_t, gpfn) == 16);
static_assert(sizeof(xen_remove_from_physmap_t) == 16);
static_assert(offsetof(xen_remove_from_physmap_t, gpfn) == 8);
static_assert(sizeof(xen_memory_reservation_t) == 32);
static_assert(offsetof(xen_memory_reservation_t, nr_extents) == 8);
static_assert(offsetof(xen_memory_reservation_t, domid) == 24);
static_assert(sizeof(xen_hvm_param_t) == 16);
static_assert(offsetof(xen_hvm_param_t, value) == 8);
static_assert(sizeof(sched_shutdown_t) == 4);
static_assert(sizeof(evtchn_alloc_unbound_t) == 8);
static_assert(sizeof(evtchn_close_t) == 4);
static_assert(sizeof(evtchn_send_t) == 4);
static_assert(sizeof(evtchn_status_t) == 24);
static_assert(sizeof(gnttab_query_size_t) == 16);
static_assert(sizeof(gnttab_setup_table_t) == 24);
static_assert(offsetof(gnttab_setup_table_t, frame_list) == 16);
static_assert(sizeof(vcpu_register_vcpu_info_t) == 16);

// shared_info: what the loader and the model read and write, laid out as
// Xen (C) lays it out, checked against aarch64-linux-gnu-gcc's C view of the
// same header: the empty arch_* members take no room (xen_abi.h). C++'s own
// view (56-byte vcpu_info_t) read wc_nsec where wc_version is.
static_assert(sizeof(shared_info_t) == 1088);
static_assert(offsetof(shared_info_t, vcpu_info) == 0);
static_assert(XEN_LEGACY_MAX_VCPUS == 1 && sizeof(vcpu_info_t) == 48);
static_assert(offsetof(vcpu_info_t, evtchn_pending_sel) == 8);
static_assert(offsetof(vcpu_info_t, time) == 16 && sizeof(vcpu_time_info_t) == 32);
static_assert(offsetof(shared_info_t, evtchn_pending) == 48);
static_assert(offsetof(shared_info_t, evtchn_mask) == 560);
static_assert(offsetof(shared_info_t, wc_version) == 1072);
static_assert(offsetof(shared_info_t, wc_sec) == 1076);
static_assert(offsetof(shared_info_t, wc_nsec) == 1080);
static_assert(offsetof(shared_info_t, wc_sec_hi) == 1084);

// The guest layout the boards are built from.
static_assert(GUEST_GNTTAB_BASE == 0x38000000 && GUEST_GNTTAB_SIZE == 0x01000000);
static_assert(GUEST_MAGIC_BASE == 0x39000000 && GUEST_MAGIC_SIZE == 0x01000000);
static_assert(GUEST_RAM0_BASE == 0x40000000 && GUEST_RAM0_SIZE == 0xc0000000);
// The index the loader asks for is 39 against either header: stock 4.17
// ends at 38 (HVM_NR_PARAMS 39), the patched headers define it as 39 and
// count it (HVM_NR_PARAMS 40). tests/cli's abi_checks_patched_headers
// compiles this file against the patched tree.
static_assert(HVM_PARAM_SHARED_INFO_PFN == 39);
static_assert(MB_XEN_HEADERS_PATCHED ? HVM_NR_PARAMS == HVM_PARAM_SHARED_INFO_PFN + 1 : HVM_NR_PARAMS == 39);
#ifdef GUEST_SHARED_INFO_BASE
// The patch's slot is GUEST_MAGIC's last page, where the model puts it by
// default (DomainConfig::shared_info_magic_offset).
static_assert(GUEST_SHARED_INFO_BASE == GUEST_MAGIC_BASE + GUEST_MAGIC_SIZE - 0x1000 && GUEST_SHARED_INFO_SIZE == 0x1000);
#endif

// The PV console ring (io/console.h): the frontend writes out[] and out_prod,
// the backend (xenconsoled) out_cons. Indices are free-running 32-bit counts.
static_assert(sizeof(XENCONS_RING_IDX) == 4);
static_assert(offsetof(struct xencons_interface, in) == 0);
static_assert(offsetof(struct xencons_interface, out) == 1024);
static_assert(offsetof(struct xencons_interface, out_cons) == 3080);
static_assert(offsetof(struct xencons_interface, out_prod) == 3084);
