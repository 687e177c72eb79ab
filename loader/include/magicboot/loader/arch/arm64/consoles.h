// Consoles of the arm64 firmware (mb::Console):
//  - Pl011Console: a PL011 or SBSA UART (Xen's vpl011 for dom0less domUs at
//    the DT's address, 0x22000000; bare QEMU virt at 0x09000000). Polled,
//    no set-up: whoever started us already configured the UART.
//  - XenConsoleIo: HYPERVISOR_console_io(CONSOLEIO_write), for a Xen guest
//    without a UART.
//  - pv::ConsoleRing: the PV console ring of an xl guest (pv/).
//  - FirmwareConsole: every console the domain has -- the PV ring when the
//    params give one and the UART from the DT, both at once; console_io only
//    when there is neither -- or none.
#pragma once

#include <optional>

#include "magicboot/platform.h"
#include "magicboot/print.h"  // mb::print, the one printf to a Console
#include "magicboot/pv/console_ring.h"

namespace mb::arm64 {

class Pl011Console final : public Console {
 public:
  // sbsa: an SBSA generic UART (Xen's vpl011), whose FIFOs are always on.
  // A PL011's are on when LCR_H.FEN says so.
  explicit Pl011Console(GuestPhys base, bool sbsa = false);
  void write(const char* s, size_t len) override;
  // A received byte, or -1 (the receive FIFO is empty).
  int read_key();
  GuestPhys base() const { return base_; }

 private:
  void put(char c);
  GuestPhys base_;
  // Characters that may follow a TXFE (FIFO empty) reading without another
  // look at FR. Under Xen every UART register access traps to the
  // hypervisor: polling FR before each character doubled the cost of
  // printing the handover report (~3 M instructions).
  unsigned fifo_depth_ = 1;
  unsigned room_ = 0;
};

class XenConsoleIo final : public Console {
 public:
  explicit XenConsoleIo(Hypercalls& hyp) : hyp_(hyp) {}
  void write(const char* s, size_t len) override;

 private:
  Hypercalls& hyp_;
};

class FirmwareConsole final : public Console {
 public:
  FirmwareConsole(Hypercalls& hyp, GuestMemory& mem) : hyp_(hyp), mem_(mem), pl011_(GuestPhys{0}), xen_(hyp) {}
  void use_pl011(GuestPhys base, bool sbsa) {
    pl011_ = Pl011Console(base, sbsa);
    pl011_on_ = true;
  }
  void use_pv_ring(pv::ConsoleRingPlace place) { ring_.emplace(hyp_, mem_, place); }
  // The last resort: only when no other console was chosen.
  void use_xen_console_io_if_alone() { io_on_ = !pl011_on_ && !ring_; }
  // To every console chosen. When the PV ring stalls (nobody reads it) the
  // others say so, once.
  void write(const char* s, size_t len) override;
  // The PV ring's unfinished line, e.g. before the jump.
  void flush();
  // A key typed on the PV console, else on the UART; -1: none yet.
  int read_key();
  // The PV ring's backend has read everything (true without a ring).
  bool drained() { return !ring_ || ring_->drained(); }

  bool any() const { return pl011_on_ || ring_ || io_on_; }
  // "pl011@0x22000000 + xen-pv ring pfn 0x39000 evtchn 2", or "none".
  const char* describe(char* buf, size_t len) const;
  const pv::ConsoleRing* ring() const { return ring_ ? &*ring_ : nullptr; }

 private:
  void write_others(const char* s, size_t len);
  Hypercalls& hyp_;
  GuestMemory& mem_;
  bool pl011_on_ = false;
  bool io_on_ = false;
  bool stall_told_ = false;
  Pl011Console pl011_;
  XenConsoleIo xen_;
  std::optional<pv::ConsoleRing> ring_;
};

}  // namespace mb::arm64
