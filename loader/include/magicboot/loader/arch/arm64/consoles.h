// Consoles of the arm64 firmware (mb::Console):
//  - Pl011Console: a PL011 or SBSA UART (Xen's vpl011 for dom0less domUs at
//    the DT's address, 0x22000000; bare QEMU virt at 0x09000000). Polled,
//    no set-up: whoever started us already configured the UART.
//  - XenConsoleIo: HYPERVISOR_console_io(CONSOLEIO_write), for a Xen guest
//    without a UART.
//  - FirmwareConsole: whichever of those the DT selects, or none.
#pragma once

#include "magicboot/platform.h"
#include "magicboot/print.h"  // mb::print, the one printf to a Console

namespace mb::arm64 {

class Pl011Console final : public Console {
 public:
  // sbsa: an SBSA generic UART (Xen's vpl011), whose FIFOs are always on.
  // A PL011's are on when LCR_H.FEN says so.
  explicit Pl011Console(GuestPhys base, bool sbsa = false);
  void write(const char* s, size_t len) override;
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
  enum class Kind : uint8_t { kNone, kPl011, kXenConsoleIo };

  explicit FirmwareConsole(Hypercalls& hyp) : pl011_(GuestPhys{0}), xen_(hyp) {}
  void use_pl011(GuestPhys base, bool sbsa) {
    pl011_ = Pl011Console(base, sbsa);
    kind_ = Kind::kPl011;
  }
  void use_xen_console_io() { kind_ = Kind::kXenConsoleIo; }
  void write(const char* s, size_t len) override;

  Kind kind() const { return kind_; }
  const char* describe(char* buf, size_t len) const;  // "pl011@0x9000000"

 private:
  Kind kind_ = Kind::kNone;
  Pl011Console pl011_;
  XenConsoleIo xen_;
};

}  // namespace mb::arm64
