#include "magicboot/loader/pv_disk.h"

#include <cstring>

#include "boards/xen_arm64/board.h"
#include "magicboot/format.h"
#include "magicboot/print.h"
#include "magicboot/loader/payload/hash.h"
#include "magicboot/pv/xenbus.h"

namespace mb::loader {
namespace {

namespace xa = boards::xen_arm64;

void keep(char* out, size_t cap, const char* s) { format_to(out, cap, "%s", s); }

// "<key>=<digits>" as a whole word of `line`: the number, else `otherwise`
// (no such word, or not a number below 2^16).
unsigned word_value(const char* line, const char* key, unsigned otherwise) {
  const size_t n = strlen(key);
  for (const char* p = line; p && *p;) {
    while (*p == ' ') ++p;
    const char* end = p;
    while (*end && *end != ' ') ++end;
    if (static_cast<size_t>(end - p) > n + 1 && strncmp(p, key, n) == 0 && p[n] == '=') {
      unsigned v = 0;
      const char* d = p + n + 1;
      for (; d < end && *d >= '0' && *d <= '9' && v < 0x10000; ++d) v = v * 10 + static_cast<unsigned>(*d - '0');
      if (d == end && v < 0x10000) return v;
    }
    p = end;
  }
  return otherwise;
}

}  // namespace

pv::BlkfrontOptions disk_options(const char* bootargs) {
  pv::BlkfrontOptions o;
  o.ring_order = word_value(bootargs, kDiskRingOrderKey, o.ring_order);
  o.indirect_segments = word_value(bootargs, kDiskIndirectKey, o.indirect_segments);
  o.max_in_flight = word_value(bootargs, kDiskInFlightKey, o.max_in_flight);
  o.max_data_pages = word_value(bootargs, kDiskWindowKey, o.max_data_pages);
  return o;
}

namespace {

}  // namespace

void PvDisk::tally(PvRecord& r) const {
  if (gnt_) {
    r.frames_mapped = gnt_->frames_mapped_total();
    r.frames_removed = gnt_->frames_removed_total();
    r.grants_made = gnt_->granted_total();
    r.grants_ended = gnt_->ended_total();
  }
  if (blk_) {
    const pv::BlkfrontStats& s = blk_->stats();
    r.requests = s.requests;
    r.bytes_read = s.bytes;
    r.max_in_flight = s.max_in_flight;
    r.waits = s.waits;
    r.sleeps = s.sleeps;
    r.data_pages = s.data_pages;
    r.ring_pages = s.ring_pages;
    r.indirect_segments = s.indirect_segments;
    r.offered_ring_order = s.offered_ring_order;
    r.offered_indirect_segments = s.offered_indirect_segments;
    r.backend_final_state = blk_->final_backend_state();
    if (blk_->port() != 0) r.port = blk_->port();
    r.port_closed = r.port != 0 && blk_->port() == 0;
  }
}

Res<void> PvDisk::connect(Platform& p, const DiscoveredDt& dt, MemoryLedger& ledger, GuestPhys shared_info,
                          PvRecord& r) {
  const pv::RingPlace store = MB_TRY(pv::find_xenstore(p.hyp, xa::kMagic, dt.ram()));
  xs_.emplace(p.hyp, p.mem, p.cpu, store, timeout_ms_);
  r.store = true;
  gnt_.emplace(p.hyp, p.mem);
  const PhysRange region = dt.xen.grant_table.empty() ? xa::kGntTab : dt.xen.grant_table;
  // As many pages, and grant frames for them, as the options can use.
  const pv::BlkfrontOptions want = disk_options(dt.bootargs);
  const unsigned pages = pv::Blkfront::pages_for(want);
  MB_CHECK(gnt_->open(region, dt.ram(), pv::Blkfront::grant_frames_for(pages)));
  r.grant_base = gnt_->frame_gfn(0);
  // The ring, data and indirect pages: the loader's own RAM while the disk is open,
  // free RAM again once close() has taken every grant back.
  const uint64_t size = uint64_t{pages} * kPageSize;
  const GuestPhys base = MB_TRY(ledger.allocate(size, kPageSize, dt.ram()[0].end(), RangeType::kLoaderHeap,
                                                Placement::kHighest));
  pages_ = PhysRange{base, size};
  r.pages = pages_;
  blk_.emplace(p.hyp, p.mem, p.cpu, *xs_, *gnt_, shared_info);
  MB_CHECK(blk_->connect(pages_, 0, timeout_ms_, want));
  r.connected = true;
  keep(r.frontend, sizeof r.frontend, blk_->frontend());
  keep(r.backend, sizeof r.backend, blk_->backend());
  r.backend_id = blk_->backend_id();
  r.port = blk_->port();
  r.sector_size = blk_->sector_size();
  r.sectors = blk_->sector_count();
  return {};
}

Res<void> PvDisk::hash(Platform& p, PvRecord& r) {
  struct Hashing {
    Sha256 sha;
    Cpu& cpu;
    uint64_t ticks = 0;
  } h{{}, p.cpu};
  h.sha.init();
  // Hashing is timed apart from reading: the read rate is what a boot from
  // the disk gets.
  auto update = [](void* ctx, const uint8_t* data, size_t len) -> Res<void> {
    auto* s = static_cast<Hashing*>(ctx);
    const uint64_t t = s->cpu.counter();
    s->sha.update(data, len);
    s->ticks += s->cpu.counter() - t;
    return {};
  };
  const uint64_t start = p.cpu.counter();
  MB_CHECK(blk_->read_each(0, blk_->sector_count(), update, &h));
  r.hash_ticks = h.ticks;
  r.read_ticks = p.cpu.counter() - start - h.ticks;
  const Sha256Digest d = h.sha.final();
  static_assert(sizeof d == sizeof r.sha256);
  memcpy(r.sha256, d.data(), sizeof r.sha256);
  r.hashed = true;
  return {};
}

Res<void> PvDisk::open(Platform& p, const DiscoveredDt& dt, MemoryLedger& ledger, bool hash_disk,
                       GuestPhys shared_info) {
  PvRecord& r = r_;
  r.attempted = true;
  auto opened = connect(p, dt, ledger, shared_info, r);
  if (opened.ok() && hash_disk) opened = hash(p, r);
  tally(r);
  if (r.hashed) {
    const uint64_t hz = p.cpu.counter_hz();
    const uint64_t us = hz ? r.read_ticks * 1000000 / hz : 0;
    const uint64_t hash_us = hz ? r.hash_ticks * 1000000 / hz : 0;
    print(p.console, "MAGICBOOT-FW-DISK {\"sha256\":\"");
    for (uint8_t b : r.sha256) print(p.console, "%02x", b);
    // Reading (the ring, blkback, the copy out of the granted pages) and
    // hashing timed apart: the read rate is what a disk boot gets.
    print(p.console, "\",\"bytes\":%lu,\"requests\":%lu,\"max_in_flight\":%u,\"read_us\":%lu,\"hash_us\":%lu,"
          "\"read_kib_per_s\":%lu,",
          r.bytes_read, r.requests, r.max_in_flight, us, hash_us, us ? r.bytes_read * 1000000 / 1024 / us : 0);
    print(p.console, "\"ring_pages\":%u,\"indirect_segments\":%u,\"data_pages\":%u,\"waits\":%lu,\"sleeps\":%lu}\n",
          r.ring_pages, r.indirect_segments, r.data_pages, r.waits, r.sleeps);
  }
  if (!opened.ok()) {
    r.open_failed = true;
    r.open_error = opened.error();
  }
  return opened;
}

Res<void> PvDisk::close(MemoryLedger& ledger) {
  PvRecord& r = r_;
  FirstFailure first;
  if (blk_) first.keep(blk_->disconnect());
  if (gnt_) first.keep(gnt_->close());
  tally(r);
  // Granted pages go back to free RAM only when nothing of them is granted.
  if (!pages_.empty() && r.grants_ended == r.grants_made) {
    first.keep(ledger.release(pages_, RangeType::kLoaderHeap));
    pages_ = {};
  }
  const Res<void> done = first.result();
  r.closed = done.ok();
  if (!done.ok()) {
    r.close_failed = true;
    r.close_error = done.error();
  }
  return done;
}

void PvDisk::print_report(Console& c) const {
  const PvRecord& r = r_;
  if (!r.attempted) return;
  if (r.open_failed) print(c, "  pv disk  not opened: %s: %s\n", r.open_error.check, r.open_error.detail);
  if (r.connected)
    print(c, "  pv disk  %s (backend %s, domain %u): %lu sectors of %u B, %s\n", r.frontend, r.backend, r.backend_id,
          r.sectors, r.sector_size, human_size(r.sectors * r.sector_size).text);
  if (r.bytes_read != 0)
    print(c, "  pv read  %s in %lu requests, up to %u in flight (%u data pages)\n", human_size(r.bytes_read).text,
          r.requests, r.max_in_flight, r.data_pages);
  if (r.connected)
    print(c, "  pv ring  %u page(s), %s (backend offers ring order %u, %u indirect segments)\n", r.ring_pages,
          r.indirect_segments ? "indirect requests" : "direct requests", r.offered_ring_order,
          r.offered_indirect_segments);
  print(c, "  pv opened: %u grant frame(s) at GFN %#lx, %u grant(s) on [%#lx, +%#lx), event channel %u\n",
        r.frames_mapped, r.grant_base.value, r.grants_made, r.pages.base.value, r.pages.size, r.port);
  print(c, "  pv closed: frontend %s (backend %s), %u/%u grant(s) ended, %u/%u frame(s) removed, port %s\n",
        r.connected ? (r.closed ? "Closed, then Initialising" : "NOT CLOSED") : "never connected",
        pv::xenbus_state_name(r.backend_final_state), r.grants_ended, r.grants_made, r.frames_removed,
        r.frames_mapped, r.port == 0 ? "none" : r.port_closed ? "closed" : "OPEN");
  if (r.close_failed) print(c, "  pv close failed: %s: %s\n", r.close_error.check, r.close_error.detail);
}

bool PvDisk::still_open(char* detail, size_t cap) const {
  const PvRecord& r = r_;
  if (!r.anything_open()) return false;
  format_to(detail, cap, "PV: %u/%u grant(s) ended, %u/%u grant frame(s) at GFN %#lx removed, port %u %s, frontend %s",
            r.grants_ended, r.grants_made, r.frames_removed, r.frames_mapped, r.grant_base.value, r.port,
            r.port_closed ? "closed" : "open", r.connected && !r.closed ? "not closed" : "closed");
  return true;
}

void PvDisk::print_json(Console& c) const {
  const PvRecord& r = r_;
  if (!r.attempted) return;
  print(c, "\"pv\":{\"disk\":%s,\"frontend\":\"%s\",\"backend_id\":%u,\"sectors\":%lu,\"sector_size\":%u,",
        r.connected ? "true" : "false", r.frontend, r.backend_id, r.sectors, r.sector_size);
  print(c, "\"bytes_read\":%lu,\"requests\":%lu,\"max_in_flight\":%u,", r.bytes_read, r.requests, r.max_in_flight);
  print(c, "\"ring_pages\":%u,\"indirect_segments\":%u,\"data_pages\":%u,", r.ring_pages, r.indirect_segments,
        r.data_pages);
  print(c, "\"grant_frames\":{\"gfn\":%lu,\"mapped\":%u,\"removed\":%u},\"grants\":{\"made\":%u,\"ended\":%u},",
        r.grant_base.value, r.frames_mapped, r.frames_removed, r.grants_made, r.grants_ended);
  print(c, "\"port\":%u,\"port_closed\":%s,\"backend_final_state\":%u,\"closed\":%s,\"open_error\":\"%s\"},", r.port,
        r.port_closed ? "true" : "false", r.backend_final_state, r.closed ? "true" : "false",
        r.open_failed ? r.open_error.check : "");
}

}  // namespace mb::loader
