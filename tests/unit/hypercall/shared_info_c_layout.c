/* The shared_info layout as C sees it -- Xen and Linux are C -- compiled by
 * the aarch64 C compiler from libxen-dev's headers. The numbers are the ones
 * hypercall/src/abi_checks.cpp pins for our C++ view: if C++ and C ever
 * disagree again (an empty struct is 1 byte in C++), one of the two fails. */
#define __XEN_TOOLS__ 1
#include <stddef.h>
#include <stdint.h>
#include <xen/xen.h>

_Static_assert(sizeof(shared_info_t) == 1088, "shared_info_t");
_Static_assert(sizeof(vcpu_info_t) == 48, "vcpu_info_t");
_Static_assert(offsetof(vcpu_info_t, evtchn_pending_sel) == 8, "evtchn_pending_sel");
_Static_assert(offsetof(vcpu_info_t, time) == 16, "vcpu_info_t.time");
_Static_assert(offsetof(shared_info_t, evtchn_pending) == 48, "evtchn_pending");
_Static_assert(offsetof(shared_info_t, evtchn_mask) == 560, "evtchn_mask");
_Static_assert(offsetof(shared_info_t, wc_version) == 1072, "wc_version");
_Static_assert(offsetof(shared_info_t, wc_sec) == 1076, "wc_sec");
_Static_assert(offsetof(shared_info_t, wc_nsec) == 1080, "wc_nsec");
_Static_assert(offsetof(shared_info_t, wc_sec_hi) == 1084, "wc_sec_hi");
