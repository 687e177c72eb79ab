#include "magicboot/loader/arch/arm64/consoles.h"

#include <cstdarg>

#include "magicboot/format.h"
#include "magicboot/hypercall/xen.h"

namespace mb::arm64 {
namespace {

// PL011 / SBSA UART registers (byte offsets).
constexpr uint64_t kDr = 0x00;
constexpr uint64_t kFr = 0x18;
constexpr uint64_t kLcrH = 0x2c;  // PL011 only: SBSA UARTs have no LCR_H
constexpr uint32_t kFrRxEmpty = 1 << 4;
constexpr uint32_t kFrTxFull = 1 << 5;
constexpr uint32_t kFrTxEmpty = 1 << 7;
constexpr uint32_t kLcrHFifoEnable = 1 << 4;
// Both a PL011 (r1p4: 16, r1p5: 32) and an SBSA UART hold at least 16.
constexpr unsigned kFifoDepth = 16;

volatile uint32_t* reg(GuestPhys base, uint64_t off) {
  return reinterpret_cast<volatile uint32_t*>(static_cast<uintptr_t>(base.value + off));
}

}  // namespace

Pl011Console::Pl011Console(GuestPhys base, bool sbsa) : base_(base) {
  if (base.value == 0) return;  // placeholder, never written to
  fifo_depth_ = sbsa || (*reg(base_, kLcrH) & kLcrHFifoEnable) ? kFifoDepth : 1;
}

void Pl011Console::put(char c) {
  if (room_ == 0) {
    uint32_t fr;
    while ((fr = *reg(base_, kFr)) & kFrTxFull) {
    }
    room_ = (fr & kFrTxEmpty) ? fifo_depth_ : 1;  // not full: room for one at least
  }
  --room_;
  *reg(base_, kDr) = static_cast<uint8_t>(c);
}

void Pl011Console::write(const char* s, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    if (s[i] == '\n') put('\r');  // terminals on a bare UART want CRLF
    put(s[i]);
  }
}

int Pl011Console::read_key() {
  if (base_.value == 0 || (*reg(base_, kFr) & kFrRxEmpty)) return -1;
  return static_cast<int>(*reg(base_, kDr) & 0xff);
}

void XenConsoleIo::write(const char* s, size_t len) {
  // Xen may take fewer bytes than offered; an error ends the attempt (there
  // is no other console to say so on).
  while (len > 0) {
    auto r = xen::console_write(hyp_, s, len);
    if (!r.ok() || *r == 0) return;
    size_t n = *r < len ? static_cast<size_t>(*r) : len;
    s += n;
    len -= n;
  }
}

void FirmwareConsole::write_others(const char* s, size_t len) {
  if (pl011_on_) pl011_.write(s, len);
  if (io_on_) xen_.write(s, len);
}

void FirmwareConsole::write(const char* s, size_t len) {
  write_others(s, len);
  if (!ring_) return;
  ring_->write(s, len);
  if (ring_->stalled() && !stall_told_) {
    stall_told_ = true;
    char line[160];
    int n = format_to(line, sizeof line,
                      "magicboot: PV console ring pfn %#lx: full and unread after %u yields; its output is "
                      "dropped\n",
                      ring_->place().gfn.value, pv::ConsoleRing::kDefaultMaxYields);
    // Nobody else to tell: console_io, even if Xen may refuse it.
    if (!pl011_on_ && !io_on_) xen_.write(line, static_cast<size_t>(n));
    write_others(line, static_cast<size_t>(n));
  }
}

int FirmwareConsole::read_key() {
  flush();  // a prompt without its newline yet
  const int k = ring_ ? ring_->read_key() : -1;
  return k >= 0 || !pl011_on_ ? k : pl011_.read_key();
}

void FirmwareConsole::flush() {
  if (ring_) ring_->flush();
}

const char* FirmwareConsole::describe(char* buf, size_t len) const {
  size_t at = 0;
  auto room = [&] { return at < len ? len - at : 0; };
  auto sep = [&] { return at ? " + " : ""; };
  format_to(buf, len, "none");
  if (pl011_on_) at += static_cast<size_t>(format_to(buf + at, room(), "%spl011@%#lx", sep(), pl011_.base().value));
  if (ring_ && room())
    at += static_cast<size_t>(format_to(buf + at, room(), "%sxen-pv ring pfn %#lx evtchn %u", sep(),
                                        ring_->place().gfn.value, ring_->place().port));
  if (io_on_ && room()) format_to(buf + at, room(), "%sxen console_io", sep());
  return buf;
}

}  // namespace mb::arm64
