// Loader strategies as small functions that drive the model the way a loader
// would, and return what they hand the next stage. One is correct (what
// magicboot does); the others are the bugs the validator must catch, each
// named after the invariant that catches it. Shared by the invariant tests,
// the demo and the benchmark. Host only.
//
// Every strategy fails (an Error) only when a step the scenario depends on
// does not happen (e.g. Xen refused the mapping the bug needs): a strategy
// that "succeeds" has really built the state it claims.
#pragma once

#include "magicboot/error.h"
#include "magicboot/xen_stubs/model.h"
#include "magicboot/xen_stubs/validator.h"

namespace mb::model::strategies {

// Where every strategy puts things, from the domain's RAM (>= 64 MiB), so a
// test can name the GFN it expects.
struct Layout {
  PhysRange loader_image;  // where Xen loaded the loader: bank 0 + 0x80000
  PhysRange loader_stack;
  PhysRange loader_heap;
  PhysRange kernel;        // 2 MiB aligned, text_offset 0, 8 MiB image_size
  PhysRange initrd;        // 4 MiB
  PhysRange dtb;           // 64 KiB, 2 MiB below min(bank 0 end, bank 0 + 128 MiB)
  Gfn uboot_shared_info;   // (a)(b)(c): the last page of RAM bank 0
  Gfn spare;               // (d)(h): a free page at bank 0 + 24 MiB
  Gfn rom;                 // (f): the zero page mapped read-only, GUEST_MAGIC + 16 pages
  Gfn rom_alias;           // (f): the same page mapped again as device memory, + 17 pages
};
Layout layout_for(const boards::RamBanks& ram);

// The view a well-behaved loader hands over: RAM as Xen gave it, the loader's
// own ranges reserved, the payload where Layout says. Writes nothing.
HandoverView base_view(const Model& m);

// magicboot's way, with the real magic_pages code: shared_info in the
// GUEST_MAGIC slot (HVM_PARAM_SHARED_INFO_PFN if Xen has it, else the last
// magic page), wc_version read through it, removed before the jump.
Res<HandoverView> correct(Model& m);

// (a) no-xen-page-in-ram: the U-Boot way. shared_info on a RAM page
// (Layout::uboot_shared_info), read, left mapped.
Res<HandoverView> uboot_legacy(Model& m);
// (b) no-ram-hole: as (a), then remove_from_physmap without refill: a hole.
Res<HandoverView> remove_into_hole(Model& m);
// (c) no-ram-hole on dom0less: as (b), then populate_physmap to refill; with
// max_pages == RAM (dom0less) the refill fails and the hole stays.
// Seen live (tools/compare-peers: U-Boot 2023.01 from Debian's source, Xen
// 4.17.7, 512 MiB, raw and gzip'd Image): dom0less refuses the refill (Xen:
// "Over-allocation for d1: 131073 > 131072") and U-Boot panics ("Failed to
// populate memory on HYPERVISOR_shared_info addr") instead of jumping over
// the hole as modelled here; under xl the refill succeeds and Linux boots.
Res<HandoverView> remove_and_refill(Model& m);
// (d) no-xen-page-in-ram: VCPUOP_register_vcpu_info on RAM (Layout::spare).
Res<HandoverView> vcpu_info_in_ram(Model& m);
// (e) image-outside-free-ram: the loader's image, stack and heap handed over
// unreserved, while shared_info stays mapped on the heap's first page (U-Boot
// keeps its shared_info buffer in its own image).
Res<HandoverView> heap_as_free_ram(Model& m);
// (f) ro-stays-ro: a read-only page written through a writable alias. The
// (buggy) toolstack maps Xen's zero page read-only at Layout::rom and, by
// mistake, as device memory at Layout::rom_alias; the loader writes a byte
// through the alias and so clobbers the zero page for everyone.
Res<HandoverView> ro_written_through_alias(Model& m);
// (g) addressable-layout: the kernel placed at 2^48.
Res<HandoverView> kernel_above_48bit(Model& m);
// (g) addressable-layout: a DTB of 2 MiB + 4 KiB.
Res<HandoverView> dtb_over_2mib(Model& m);
// (h) exclusive-access: a DMA-like hold on Layout::spare (64 KiB) never released.
Res<HandoverView> hold_left(Model& m);
// (h) exclusive-access: grant frames 0..3 mapped at the grant-table region,
// then frame max_nr_frames (an off-by-one) fails and 0..3 stay mapped.
Res<HandoverView> partial_grant_map(Model& m);

// (i) no-foreign-access: a grant frame mapped on a RAM page (Layout::spare),
// a page granted to dom0 and ended again, the frame left mapped.
Res<HandoverView> grant_frame_left_on_ram(Model& m);
// The PV disk strategies need an xl domain with a disk (DomainConfig::disk);
// they are not in kStrategies, which run on any domain.
// (j) no-foreign-access: magicboot's PV layer reads the disk and jumps with
// it still connected (no disconnect, grants valid, port bound).
Res<HandoverView> disk_left_connected(Model& m);
// (k) no-foreign-access: the frontend written Closing, and without waiting
// for the backend to go Closing and then Closed (when blkback unmaps), the
// grants' flags cleared by force (ignoring GTF_reading/writing) and the port
// closed: blkback still has the ring mapped.
Res<HandoverView> disk_closed_without_waiting(Model& m);

struct Strategy {
  const char* name;
  const char* catches;  // the invariant that must catch it ("" for correct)
  Res<HandoverView> (*run)(Model&);
};
inline constexpr Strategy kStrategies[] = {
    {"correct", "", correct},
    {"uboot_legacy", "no-xen-page-in-ram", uboot_legacy},
    {"remove_into_hole", "no-ram-hole", remove_into_hole},
    {"remove_and_refill", "no-ram-hole", remove_and_refill},
    {"vcpu_info_in_ram", "no-xen-page-in-ram", vcpu_info_in_ram},
    {"heap_as_free_ram", "image-outside-free-ram", heap_as_free_ram},
    {"ro_written_through_alias", "ro-stays-ro", ro_written_through_alias},
    {"kernel_above_48bit", "addressable-layout", kernel_above_48bit},
    {"dtb_over_2mib", "addressable-layout", dtb_over_2mib},
    {"hold_left", "exclusive-access", hold_left},
    {"partial_grant_map", "exclusive-access", partial_grant_map},
    {"grant_frame_left_on_ram", "no-foreign-access", grant_frame_left_on_ram},
};

}  // namespace mb::model::strategies
