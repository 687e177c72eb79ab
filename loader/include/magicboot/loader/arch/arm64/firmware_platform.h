// The arm64 firmware's mb::Platform: every backend in one object, brought up
// in the order the hardware needs (MMU on for the image and the DTB, then
// the DT read -- once, by the loader core's discover(), whose result the
// core reuses -- then RAM/devices mapped and a console chosen).
//
//   FirmwarePlatform fw(dtb);
//   if (!fw.bring_up().ok()) ...;       // prints why on whatever console exists
//   mb::Platform p = fw.platform();     // what the loader core takes
#pragma once

#include "magicboot/hypercall/arm64_hvc.h"
#include "magicboot/loader/arch/arm64/consoles.h"
#include "magicboot/loader/arch/arm64/cpu.h"
#include "magicboot/loader/arch/arm64/exceptions.h"
#include "magicboot/loader/arch/arm64/identity_memory.h"
#include "magicboot/loader/arch/arm64/layout.h"
#include "magicboot/loader/arch/arm64/mmu.h"
#include "magicboot/loader/arch/arm64/platform_uart.h"
#include "magicboot/loader/dt.h"

namespace mb::arm64 {

class FirmwarePlatform {
 public:
  // entry_counter: CNTVCT_EL0 at the first instruction (start.S).
  FirmwarePlatform(GuestPhys dtb, unsigned entry_el, uint64_t entry_counter);
  FirmwarePlatform(const FirmwarePlatform&) = delete;
  FirmwarePlatform& operator=(const FirmwarePlatform&) = delete;

  // MMU, discover(), memory map, console, fault reporter. On failure the
  // error says which step; when discover() fails a UART found by compatible
  // is still the console, and kNone only if the blob has none.
  Res<void> bring_up();

  Platform platform() { return Platform{hyp_, mem_, console_, cpu_, loader_layout()}; }

  GuestPhys dtb() const { return dtb_; }
  uint32_t dtb_size() const { return dtb_size_; }
  unsigned entry_el() const { return entry_el_; }
  // Valid after a successful bring_up(); strings point into the DTB.
  const loader::DiscoveredDt& dt() const { return dt_; }
  const PlatformUart& uart() const { return uart_; }
  // Why the toolstack's PV console ring was not used although the domain
  // names one (e.g. its PFN lies in RAM); nullptr when there is nothing to say.
  const Error* ring_refused() const { return ring_refused_.check[0] ? &ring_refused_ : nullptr; }
  FirmwareConsole& console() { return console_; }
  FaultReporter& faults() { return faults_; }
  xen::HvcHypercalls& hypercalls() { return hyp_; }
  Arm64Cpu& cpu() { return cpu_; }
  IdentityMap& mmu() { return mmu_; }
  uint64_t entry_counter() const { return entry_counter_; }

 private:
  GuestPhys dtb_;
  uint32_t dtb_size_ = 0;
  unsigned entry_el_;
  uint64_t entry_counter_;
  xen::HvcHypercalls hyp_;
  IdentityMemory mem_;
  FirmwareConsole console_;
  Arm64Cpu cpu_;
  IdentityMap mmu_;
  FaultReporter faults_;
  loader::DiscoveredDt dt_;
  PlatformUart uart_;
  Error ring_refused_{ErrorCode::kBadInput, ""};
};

}  // namespace mb::arm64
