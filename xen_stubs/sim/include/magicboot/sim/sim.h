// magicboot-sim: the exact loader code booting a payload in a model domain
// built the way Xen builds one, then judged by the validator and a Linux-like
// next stage. The CLI (main.cpp) is a thin layer over run_sim().
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "magicboot/loader/boot.h"
#include "magicboot/xen_stubs/model.h"
#include "magicboot/xen_stubs/validator.h"

namespace mb::sim {

// One hypercall the guest made, as the sim saw it: `cmd` is the first
// argument (the sub-op of memory_op, hvm_op, event_channel_op, ...).
struct HypercallRecord {
  unsigned op;
  uint64_t cmd;
  long result;    // what the guest got back
  bool injected;  // the result is the fault's, not the model's
};
// "memory_op/add_to_physmap", "hvm_op/get_param", ...: for messages.
std::string hypercall_name(unsigned op, uint64_t cmd);

// Fault injection: the guest's `call`-th hypercall (0-based, counting from
// the firmware's bring-up) answers `result` (a negative errno) without
// reaching the model; with `persistent`, so does every later call of the
// same op and sub-op (a Xen that keeps refusing).
struct InjectedFault {
  size_t call = SIZE_MAX;
  long result = 0;
  bool persistent = false;
};

struct SimOptions {
  std::vector<uint8_t> payload;      // the ramdisk module's bytes
  uint64_t ram_mib = 1024;
  model::DomainKind domain = model::DomainKind::kDom0less;
  model::SharedInfoParam shared_info_param = model::SharedInfoParam::kAbsent;  // absent: Xen 4.17
  bool extended_regions = true;      // /hypervisor reg carries Xen's extended regions
  loader::SharedInfoStrategy strategy = loader::SharedInfoStrategy::kMagic;
  std::string bootargs;              // /chosen bootargs in the guest DT
  std::string bootargs_override;     // given to the loader (wins over /chosen)
  std::string fit_config;            // empty: the FIT's default
  uint64_t payload_align = uint64_t{2} << 20;  // where the module starts
  bool hypervisor_node = true;       // false: a DT without /hypervisor (bare)
  bool progress = false;             // progress lines on stderr
  // For bad-input tests: rewrite the guest DT bytes before the boot.
  std::vector<uint8_t> (*mangle_dt)(std::vector<uint8_t>) = nullptr;
  // Extra /memory banks ([base, size] pairs) replacing Xen's, for bad layouts.
  std::vector<PhysRange> ram_override;
  std::vector<PhysRange> memreserve;  // added to the guest DT
  uint64_t payload_address = 0;       // nonzero: put the module exactly here
  // For bad-input tests: a /chosen without linux,initrd-* (the module is
  // still written to memory, but nothing points at it).
  bool omit_initrd = false;
  // DomainConfig::shared_info_magic_offset: where the param (when on) says
  // shared_info goes, in pages from GUEST_MAGIC; large values land in RAM.
  unsigned shared_info_magic_offset = model::DomainConfig{}.shared_info_magic_offset;
  InjectedFault fault;               // none by default
  // DomainConfig::shared_info_dt_property: with the param on, the guest DT
  // carries the offer in /hypervisor xen,shared-info-gfn too.
  bool shared_info_dt_property = model::DomainConfig{}.shared_info_dt_property;
  // xl: the vbd dom0's blkback serves (DomainConfig::disk). The loader's PV
  // disk (loader::PvDisk) is always plugged in; hash_disk asks it to read
  // the whole disk, as "magicboot.disk-sha256" does in the firmware.
  std::optional<model::DiskConfig> disk;
  bool hash_disk = false;
  uint32_t pv_timeout_ms = 500;  // the PV layer's bounded waits
  // The xl firmware's disk boot (loader::DistroBoot) is plugged in: with no
  // payload (an empty `payload`: no module in the DT) the boot comes from
  // `disk`. `menu_keys`: typed on the console while the menu waits, one
  // per poll.
  bool disk_boot = false;
  std::string menu_keys;
  // Called on the model before the boot: fault hooks for dom0's backends.
  std::function<void(model::Model&)> setup_model;
};

struct SimResult;
// Called once the loader has returned (jumped or refused), before the
// validator and the next stage run: tests read guest memory and the model's
// state as the kernel would receive it.
using SimInspector = std::function<void(model::Model&, const SimResult&)>;

struct SimResult {
  enum class Outcome { kClean, kViolation, kBadInput };
  Outcome outcome = Outcome::kBadInput;
  bool domain_built = false;    // false: the layout asked for could not be built; the loader never ran
  bool jumped = false;
  Error error{};                 // when the loader refused to boot
  std::string console;           // everything the loader printed
  // xl: what the console backend read from the PV console ring (the same
  // text, when the ring works), and breaches of the ring protocol it saw.
  std::string pv_console;
  std::vector<std::string> ring_errors;
  std::string handover_json;     // the MAGICBOOT-HANDOVER object (without the prefix)
  std::vector<HypercallRecord> hypercalls;  // every call the guest made, in order
  loader::BootReport report;  // owns its strings: it outlives the model
  model::HandoverView view;
  std::vector<model::Finding> findings;
  model::NextStageResult next;
  GuestPhys dtb_in, payload_at;
  uint64_t faults_before_jump = 0;
  size_t touched_pages = 0;
  double seconds = 0;

  int exit_code() const { return outcome == Outcome::kClean ? 0 : outcome == Outcome::kViolation ? 1 : 2; }
};

SimResult run_sim(const SimOptions& o, const SimInspector& inspect = {});

// Where Xen puts the domU's DT and modules: the top of the first 128 MiB of
// RAM (or of RAM, if smaller). Exposed for tests.
struct DomainLayout {
  GuestPhys dtb;
  GuestPhys payload;
};

}  // namespace mb::sim
