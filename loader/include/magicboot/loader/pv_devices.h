// The loader's PV devices (pv/: xenstore, grant table, blkfront), seen from
// the boot flow: an optional part the firmware plugs in (CONFIG_PV_BLOCK)
// and the one record of what it opened with Xen and dom0 and how each thing
// was closed -- what quiesce undoes, the self-check checks and the report
// lists.
#pragma once

#include <cstdint>

#include "magicboot/addr.h"
#include "magicboot/arena.h"
#include "magicboot/error.h"
#include "magicboot/loader/disk/block_device.h"
#include "magicboot/loader/dt.h"
#include "magicboot/loader/ledger.h"
#include "magicboot/platform.h"

namespace mb::loader {

struct PvRecord {
  bool attempted = false;  // the boot asked for the PV disk
  bool store = false;      // the xenstore ring was found and used
  Error open_error{};      // why the disk is not there (open_failed)
  bool open_failed = false;

  // Opened, in order; each with what closed it.
  Gfn grant_base{};  // where the grant frames were mapped (outside RAM)
  unsigned frames_mapped = 0, frames_removed = 0;
  unsigned grants_made = 0, grants_ended = 0;
  PhysRange pages{};  // the ring and data pages granted (the loader's, in RAM)
  uint32_t port = 0;  // the event channel the backend bound
  bool port_closed = false;
  bool connected = false;  // the frontend reached Connected
  unsigned backend_final_state = 0;  // XenbusState seen after our Initialising
  bool closed = false;               // close() ran to its end
  Error close_error{};
  bool close_failed = false;

  // The disk.
  char frontend[24] = {};
  char backend[64] = {};
  uint16_t backend_id = 0;
  uint32_t sector_size = 0;
  uint64_t sectors = 0;
  // What the boot read: bytes, requests, the most on the ring at once, and
  // the counter ticks it took (counter_hz per second).
  uint64_t bytes_read = 0, requests = 0, read_ticks = 0, hash_ticks = 0;
  // Pauses waiting for the backend's answers, and how many of them slept in
  // Xen (SCHEDOP_poll) rather than spun.
  uint64_t waits = 0, sleeps = 0;
  unsigned max_in_flight = 0, data_pages = 0;
  // How: the ring's pages, the pages per indirect request (0: direct
  // requests of up to 11), and what the backend offered.
  unsigned ring_pages = 0, indirect_segments = 0;
  unsigned offered_ring_order = 0, offered_indirect_segments = 0;
  bool hashed = false;  // the whole disk, "magicboot.disk-sha256"
  uint8_t sha256[32] = {};

  // Something is still open with Xen or a backend.
  bool anything_open() const {
    return frames_removed != frames_mapped || grants_ended != grants_made || (port != 0 && !port_closed) ||
           (connected && !closed);
  }
};

// What the firmware plugs into BootOptions::pv; it keeps its own PvRecord.
// open() runs in step 3 (after shared_info), close() in step 8 before
// shared_info is removed -- and after a failed boot too, so nothing is left
// open by an error. Everything PV-specific the core needs goes through
// here, so a firmware without PV devices carries none of it.
class PvDevices {
 public:
  // `hash_disk`: read the whole disk, keep its SHA-256 in the record and
  // print it as MAGICBOOT-FW-DISK {"sha256":...,"bytes":...} (the tests
  // hold it to dom0's sha256sum of the image).
  // `shared_info`: where the loader has it mapped (0: not mapped), so
  // waits for a backend can sleep on its port.
  virtual Res<void> open(Platform& p, const DiscoveredDt& dt, MemoryLedger& ledger, bool hash_disk,
                         GuestPhys shared_info) = 0;
  virtual Res<void> close(MemoryLedger& ledger) = 0;
  virtual const PvRecord& record() const = 0;
  // The connected disk, for the disk boot to read (nullptr: not connected).
  virtual BlockDevice* block_device() = 0;
  // The record's lines in the handover report, and its "pv" JSON member
  // (with a trailing comma).
  virtual void print_report(Console& c) const = 0;
  virtual void print_json(Console& c) const = 0;
  // The self-check's no-foreign-access: true, with what is still open in
  // `detail`, when something is.
  virtual bool still_open(char* detail, size_t cap) const = 0;

 protected:
  ~PvDevices() = default;
};

// The word on the kernel command line that asks for the disk's hash.
inline constexpr const char* kDiskHashWord = "magicboot.disk-sha256";
// "<key>=N" words that choose how the PV disk is read, as far as the
// backend offers it (bench-boot --disk measures each): the ring's page
// order, the pages per indirect request (0: none), the requests in flight,
// the data pages in flight (the window).
inline constexpr const char* kDiskRingOrderKey = "magicboot.disk-ring-order";
inline constexpr const char* kDiskIndirectKey = "magicboot.disk-indirect";
inline constexpr const char* kDiskInFlightKey = "magicboot.disk-in-flight";
inline constexpr const char* kDiskWindowKey = "magicboot.disk-window";

}  // namespace mb::loader
