// Xen's public ABI for an Arm64 guest, from libxen-dev. Host builds (x86_64)
// must see the same Arm layout the firmware sees, so the architecture macros
// are switched around the includes. Include this instead of <xen/...>.
#pragma once

#include <cstddef>
#include <cstdint>

#ifndef __XEN_TOOLS__
#define __XEN_TOOLS__ 1  // arch-arm.h guards the GUEST_* layout with it
#endif

#if defined(__x86_64__)
#pragma push_macro("__x86_64__")
#undef __x86_64__
#define MB_XEN_ABI_HOST_X86_64 1
#endif
#if !defined(__aarch64__)
#define __aarch64__ 1
#define MB_XEN_ABI_FAKE_AARCH64 1
#endif

// Arm's struct arch_vcpu_info and arch_shared_info are empty: 0 bytes in C
// (Xen, Linux), 1 in C++, which made vcpu_info_t 56 bytes here instead of
// 48 and put every shared_info field after vcpu_info[] (evtchn_pending,
// wc_version, ...) 8 bytes away from where Xen writes it. An empty member
// marked [[no_unique_address]] takes no room, as in C. `arch` is only ever
// the name of those two members in these headers; abi_checks.cpp pins the
// C layout.
#define arch arch [[no_unique_address]]
#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/grant_table.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/io/blkif.h>
#include <xen/io/console.h>
#include <xen/io/protocols.h>
#include <xen/io/xenbus.h>
#include <xen/io/xs_wire.h>
#include <xen/memory.h>
#include <xen/sched.h>
#include <xen/vcpu.h>
#include <xen/version.h>
#undef arch

#ifdef MB_XEN_ABI_FAKE_AARCH64
#undef __aarch64__
#undef MB_XEN_ABI_FAKE_AARCH64
#endif
#ifdef MB_XEN_ABI_HOST_X86_64
#pragma pop_macro("__x86_64__")
#undef MB_XEN_ABI_HOST_X86_64
#endif

// Our proposed extension (xen/patches/): the GFN in GUEST_MAGIC where the
// guest may map shared_info, readable like the console and xenstore PFNs.
// Numbered after upstream's last param; stock Xen 4.17 answers -EINVAL for
// it. Headers from a patched Xen define it (and move HVM_NR_PARAMS past it).
#ifdef HVM_PARAM_SHARED_INFO_PFN
#define MB_XEN_HEADERS_PATCHED 1
#else
#define MB_XEN_HEADERS_PATCHED 0
#define HVM_PARAM_SHARED_INFO_PFN HVM_NR_PARAMS
#endif
