#include "magicboot/xen_stubs/strategies.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <vector>
#include <cstring>

#include "boards/xen_arm64/board.h"
#include "magicboot/hypercall/xen.h"
#include "magicboot/magic_pages/shared_info.h"
#include "magicboot/pv/blkfront.h"
#include "magicboot/pv/xenbus.h"
#include "magicboot/xen_stubs/wall_clock_cpu.h"

namespace mb::model::strategies {

namespace {

namespace board = boards::xen_arm64;

constexpr uint64_t kMiB = uint64_t{1} << 20;

// The loader's payload, written through the model like a real load: uniform
// fills keep the model's pages compact; small headers make them recognisable.
Res<void> load_payload(Model& m, const HandoverView& h) {
  GuestMemory& mem = m.memory("loader");
  MB_CHECK(mem.fill(h.kernel.base, 0x1f, h.kernel.size));
  const uint32_t arm64_magic = 0x644d5241;  // "ARM\x64" at 0x38
  MB_CHECK(mem.write(h.kernel.base + 0x38, &arm64_magic, sizeof arm64_magic));
  if (!h.initrd.empty()) MB_CHECK(mem.fill(h.initrd.base, 0x2e, h.initrd.size));
  const uint8_t fdt_magic[4] = {0xd0, 0x0d, 0xfe, 0xed};
  MB_CHECK(mem.fill(h.dtb.base, 0, h.dtb.size));
  MB_CHECK(mem.write(h.dtb.base, fdt_magic, sizeof fdt_magic));
  return {};
}

Res<void> xen_ok(xen::XenResult<xen::Unit> rc, const char* check, const char* what, Gfn g) {
  if (!rc.ok())
    return MB_ERR(ErrorCode::kHypercall, check, "%s at GFN %#lx -> %s", what, g.value,
                  xen::to_string(rc.error()));
  return {};
}

// Maps shared_info over a RAM page and reads it the way U-Boot does.
Res<void> map_shared_info_on(Model& m, Gfn g, const char* check) {
  MB_CHECK(xen_ok(xen::add_to_physmap(m.hypercalls(), XENMAPSPACE_shared_info, 0, g), check,
                  "add_to_physmap(shared_info)", g));
  uint32_t wc_version = 0;
  MB_CHECK(m.memory("loader").read(g.addr() + offsetof(shared_info, wc_version), &wc_version,
                                   sizeof wc_version));
  return {};
}

Res<HandoverView> loaded(Model& m, HandoverView h) {
  MB_CHECK(load_payload(m, h));
  return h;
}

}  // namespace

Layout layout_for(const boards::RamBanks& ram) {
  const GuestPhys b = ram.bank[0].base;
  const GuestPhys bank0_end = ram.bank[0].end();
  Layout l;
  l.loader_image = {b + 0x80000, 0x80000};
  l.loader_stack = {b + 0x100000, 0x10000};
  l.loader_heap = {b + 0x110000, 0xf0000};
  l.kernel = {b + 2 * kMiB, 8 * kMiB};
  l.initrd = {b + 16 * kMiB, 4 * kMiB};
  GuestPhys dtb_top = std::min(bank0_end, b + 128 * kMiB);
  l.dtb = {GuestPhys{align_down(dtb_top.value, 2 * kMiB) - 2 * kMiB}, 64 * 1024};
  l.uboot_shared_info = Gfn{(bank0_end.value >> kPageShift) - 1};
  l.spare = (b + 24 * kMiB).gfn();
  l.rom = Model::magic_gfn(16);
  l.rom_alias = Model::magic_gfn(17);
  return l;
}

HandoverView base_view(const Model& m) {
  Layout l = layout_for(m.ram());
  HandoverView h;
  h.ram = m.ram();
  h.own_ranges = {{"image", l.loader_image}, {"stack", l.loader_stack}, {"heap", l.loader_heap}};
  for (const auto& own : h.own_ranges) h.reserved.push_back(own.second);
  h.kernel = l.kernel;
  h.kernel_entry = l.kernel.base;
  h.kernel_text_offset = 0;
  h.dtb = l.dtb;
  h.initrd = l.initrd;
  return h;
}

Res<HandoverView> correct(Model& m) {
  HandoverView h = base_view(m);
  PhysRange ram[2] = {h.ram.bank[0], h.ram.bank[1]};
  const std::vector<PhysRange> regions = m.extended_regions();
  magic::SlotRules rules;
  rules.magic = board::kMagic;
  rules.fallback_offset = board::kMagicSharedInfoDefault;
  rules.ram = std::span<const PhysRange>(ram, h.ram.count);
  rules.grant_table = board::kGntTab;
  rules.extended_regions = regions;
  auto slot = MB_TRY(magic::find_slot(m.hypercalls(), rules));
  magic::SharedInfo si;
  MB_CHECK(si.map(m.hypercalls(), slot));
  auto wc = MB_TRY(si.wallclock(m.memory("loader")));
  (void)wc;
  MB_CHECK(load_payload(m, h));
  MB_CHECK(si.remove(m.hypercalls()));
  return h;
}

Res<HandoverView> uboot_legacy(Model& m) {
  HandoverView h = base_view(m);
  MB_CHECK(map_shared_info_on(m, layout_for(h.ram).uboot_shared_info, "strategy-uboot-legacy"));
  return loaded(m, std::move(h));
}

Res<HandoverView> remove_into_hole(Model& m) {
  HandoverView h = base_view(m);
  Gfn g = layout_for(h.ram).uboot_shared_info;
  MB_CHECK(map_shared_info_on(m, g, "strategy-remove-into-hole"));
  MB_CHECK(xen_ok(xen::remove_from_physmap(m.hypercalls(), g), "strategy-remove-into-hole",
                  "remove_from_physmap", g));
  return loaded(m, std::move(h));
}

Res<HandoverView> remove_and_refill(Model& m) {
  HandoverView h = base_view(m);
  Gfn g = layout_for(h.ram).uboot_shared_info;
  MB_CHECK(map_shared_info_on(m, g, "strategy-remove-and-refill"));
  MB_CHECK(xen_ok(xen::remove_from_physmap(m.hypercalls(), g), "strategy-remove-and-refill",
                  "remove_from_physmap", g));
  // U-Boot's fix: refill the hole. Its failure is the scenario (dom0less),
  // not a strategy error: the loader ignores it and jumps.
  xen_pfn_t pfn = g.value;
  (void)xen::populate_physmap(m.hypercalls(), &pfn, 1, 0);
  return loaded(m, std::move(h));
}

Res<HandoverView> vcpu_info_in_ram(Model& m) {
  HandoverView h = base_view(m);
  Gfn g = layout_for(h.ram).spare;
  MB_CHECK(xen_ok(xen::register_vcpu_info(m.hypercalls(), 0, g, 0), "strategy-vcpu-info-in-ram",
                  "register_vcpu_info(vcpu 0)", g));
  return loaded(m, std::move(h));
}

Res<HandoverView> heap_as_free_ram(Model& m) {
  HandoverView h = base_view(m);
  h.reserved.clear();  // the bug: the loader forgets its own ranges
  Gfn g = layout_for(h.ram).loader_heap.first_gfn();
  MB_CHECK(map_shared_info_on(m, g, "strategy-heap-as-free-ram"));
  return loaded(m, std::move(h));
}

Res<HandoverView> kernel_above_48bit(Model& m) {
  HandoverView h = base_view(m);
  // Placed by arithmetic, never loaded: nothing is mapped up there.
  h.kernel = PhysRange{GuestPhys{uint64_t{1} << 48}, 8 * kMiB};
  h.kernel_entry = h.kernel.base;
  GuestMemory& mem = m.memory("loader");
  MB_CHECK(mem.fill(h.dtb.base, 0, h.dtb.size));
  return h;
}

Res<HandoverView> dtb_over_2mib(Model& m) {
  HandoverView h = base_view(m);
  h.dtb.size = 2 * kMiB + kPageSize;
  h.dtb.base = GuestPhys{h.dtb.base.value - 2 * kMiB};  // stays in RAM on a 64 MiB guest
  return loaded(m, std::move(h));
}

Res<HandoverView> hold_left(Model& m) {
  HandoverView h = base_view(m);
  PhysRange dma{layout_for(h.ram).spare.addr(), 64 * 1024};
  if (!m.hold("loader-dma", dma))
    return MB_ERR(ErrorCode::kBusy, "strategy-hold-left", "hold of %#lx+%#lx refused",
                  dma.base.value, dma.size);
  return loaded(m, std::move(h));
}

Res<HandoverView> partial_grant_map(Model& m) {
  HandoverView h = base_view(m);
  auto size = xen::gnttab_query_size(m.hypercalls());
  if (!size.ok())
    return MB_ERR(ErrorCode::kHypercall, "strategy-partial-grant-map", "gnttab_query_size -> %s",
                  xen::to_string(size.error()));
  const Gfn base = board::kGntTab.first_gfn();
  const uint32_t idx[] = {0, 1, 2, 3, size->max_nr_frames};  // the last: one past the end
  unsigned mapped = 0;
  for (uint32_t i = 0; i < 5; ++i) {
    auto rc = xen::add_to_physmap(m.hypercalls(), XENMAPSPACE_grant_table, idx[i], base + i);
    if (!rc.ok()) break;  // the bug: no rollback of 0..i-1
    ++mapped;
  }
  if (mapped == 0 || mapped == 5)
    return MB_ERR(ErrorCode::kHypercall, "strategy-partial-grant-map",
                  "expected a part-way failure, mapped %u of 5 grant frames at GFN %#lx", mapped,
                  base.value);
  return loaded(m, std::move(h));
}

Res<HandoverView> ro_written_through_alias(Model& m) {
  HandoverView h = base_view(m);
  Layout l = layout_for(h.ram);
  m.map_page(l.rom, P2mEntry{m.zero_page(), PageType::kRamRo, Owner::kXen});
  m.map_page(l.rom_alias, P2mEntry{m.zero_page(), PageType::kMmio, Owner::kGuest});
  const uint8_t clobber = 0xff;
  MB_CHECK(m.memory("loader").write(l.rom_alias.addr() + 0x10, &clobber, 1));
  return loaded(m, std::move(h));
}

Res<HandoverView> grant_frame_left_on_ram(Model& m) {
  HandoverView h = base_view(m);
  const Layout l = layout_for(h.ram);
  pv::GrantTable gnt(m.hypercalls(), m.memory("loader"));
  // The bug: the frame goes where the loader had a free page, not in the
  // grant-table region (open() would refuse RAM, so map it by hand).
  MB_CHECK(xen_ok(xen::add_to_physmap(m.hypercalls(), XENMAPSPACE_grant_table, 0, l.spare),
                  "strategy-grant-frame-on-ram", "add_to_physmap(grant frame 0)", l.spare));
  const GuestPhys entry = l.spare.addr() + uint64_t{pv::GrantTable::kFirstFree} * 8;
  const grant_entry_v1_t e{GTF_permit_access, 0, static_cast<uint32_t>((l.spare + 1).value)};
  MB_CHECK(m.memory("loader").write(entry, &e, sizeof e));
  const uint16_t ended = 0;
  MB_CHECK(m.memory("loader").write(entry, &ended, sizeof ended));
  return loaded(m, std::move(h));
}

namespace {


// magicboot's PV layer, connected and the whole disk read, into `h`.
struct OpenDisk {
  explicit OpenDisk(Model& m)
      : mem(m.memory("loader")), ram(m.ram()), gnt(m.hypercalls(), mem) {}
  Res<void> open(Model& m) {
    auto place = pv::find_xenstore(m.hypercalls(), board::kMagic, {ram.bank, ram.count});
    MB_CHECK(place);
    xs.emplace(m.hypercalls(), mem, cpu, *place, 1000);
    MB_CHECK(gnt.open(board::kGntTab, {ram.bank, ram.count}, 1));
    blk.emplace(m.hypercalls(), mem, cpu, *xs, gnt);
    const uint64_t size = uint64_t{pv::Blkfront::kMaxPages} * kPageSize;
    MB_CHECK(blk->connect(PhysRange{GuestPhys{ram.bank[0].base.value + 64 * kMiB}, size}, 0, 1000));
    std::vector<uint8_t> buf(blk->sector_count() * blk->sector_size());
    return blk->read(0, blk->sector_count(), buf.data());
  }
  GuestMemory& mem;
  boards::RamBanks ram;
  WallClockCpu cpu;
  std::optional<pv::XenStore> xs;
  pv::GrantTable gnt;
  std::optional<pv::Blkfront> blk;
};

}  // namespace

Res<HandoverView> disk_left_connected(Model& m) {
  HandoverView h = base_view(m);
  OpenDisk d(m);
  MB_CHECK(d.open(m));
  return loaded(m, std::move(h));
}

Res<HandoverView> disk_closed_without_waiting(Model& m) {
  HandoverView h = base_view(m);
  OpenDisk d(m);
  MB_CHECK(d.open(m));
  MB_CHECK(pv::switch_state(*d.xs, d.blk->frontend(), XenbusStateClosing));
  // No wait: every entry's flags cleared whatever the backend holds.
  for (const GrantInfo& g : m.active_grants()) {
    const uint16_t none = 0;
    MB_CHECK(d.mem.write(board::kGntTab.base + uint64_t{g.ref} * 8, &none, sizeof none));
  }
  (void)xen::evtchn_close(m.hypercalls(), d.blk->port());
  return loaded(m, std::move(h));
}

}  // namespace mb::model::strategies
