// Entry: the arm64 Image header (Linux booting.rst), then the code that
// brings the CPU to a state C++ can run in, and calls firmware_main.
//
// At entry (Xen, QEMU -kernel, U-Boot booti, xl): x0 = DTB, MMU off, EL1 or
// EL2, D/A/I/F maybe unmasked. Nothing here touches memory before the
// image's cache lines are invalidated (stale lines would later shadow what
// we write with the MMU off).
#include "magicboot/loader/arch/arm64/link_layout.h"

#define SCTLR_EL1_RES1 ((3 << 28) | (3 << 22) | (1 << 20) | (1 << 11))
#define SPSR_EL1H_DAIF_MASKED 0x3c5
#define HCR_EL2_RW (1 << 31)
#define CPTR_EL2_RES1 0x33ff
#define ICC_SRE_EL2 S3_4_C12_C9_5

  .section .head, "ax"
  .globl _head
_head:
  b primary_entry             // code0
  .long 0                     // code1
  .quad MB_TEXT_OFFSET        // text_offset
  .quad __image_size          // image_size: image, bss, stack, heap
  .quad 0x2                   // flags: little endian, 4 KiB pages, fixed placement (bit 3 clear)
  .quad 0, 0, 0               // res2..res4
  .ascii "ARM\x64"            // magic
  .long 0                     // res5: no PE header

  .section .text.entry, "ax"
primary_entry:
  // The counter at the first instruction: the boot's cost is measured from
  // here (firmware_main's third argument; tools read x21 at mb_entry_counted).
  mrs x21, cntvct_el0
  .globl mb_entry_counted
mb_entry_counted:
  mov x19, x0                 // DTB
  msr daifset, #0xf

  // Linked at a fixed address: anywhere else every absolute address is wrong.
  adr x1, _head
  ldr x2, =_head
  cmp x1, x2
  b.ne wrong_place

  mrs x20, CurrentEL
  lsr x20, x20, #2            // entry EL, reported by firmware_main
  cmp x20, #2
  b.ne at_el1

  // EL2 (bare QEMU with virtualization=on): run at EL1 as Xen would start
  // us. EL1 is AArch64, its counters and FP/SIMD untrapped, no stage 2.
  mov x1, #HCR_EL2_RW
  msr hcr_el2, x1
  mov x1, #3                  // EL1PCTEN | EL1PCEN
  msr cnthctl_el2, x1
  msr cntvoff_el2, xzr
  mov x1, #CPTR_EL2_RES1
  msr cptr_el2, x1
  msr hstr_el2, xzr
  msr vttbr_el2, xzr
  mrs x1, id_aa64pfr0_el1     // GICv3 system registers: let EL1 use them
  ubfx x1, x1, #24, #4
  cbz x1, 1f
  mrs x1, ICC_SRE_EL2
  orr x1, x1, #0xf            // SRE | DFB | DIB | Enable
  msr ICC_SRE_EL2, x1
1:
  ldr x1, =SCTLR_EL1_RES1
  msr sctlr_el1, x1
  mov x1, #SPSR_EL1H_DAIF_MASKED
  msr spsr_el2, x1
  adr x1, at_el1
  msr elr_el2, x1
  isb
  eret

at_el1:
  ldr x1, =SCTLR_EL1_RES1     // MMU, caches and alignment checks off
  msr sctlr_el1, x1
  isb

  // Invalidate to PoC what is written with the MMU off: .bss (with the page
  // tables) and the stacks. A line there left by an earlier user of this
  // memory would, clean, shadow what we write now once caches are on, or,
  // dirty, be evicted over it. The rest of the footprint needs nothing: the
  // image is only read before the MMU is on (the previous stage cleaned it
  // to PoC, booting.rst), and the heap is first touched with caches on,
  // where a stale line is simply ours to overwrite. (The whole 1.25 MiB
  // footprint cost ~80 K instructions; the heap alone is 1 MiB of it.)
  ldr x0, =__bss_start
  ldr x1, =__stack_region_end
  mrs x3, ctr_el0
  ubfx x3, x3, #16, #4
  mov x2, #4
  lsl x2, x2, x3              // D-cache line size
  sub x3, x2, #1
  bic x0, x0, x3
2:
  dc ivac, x0
  add x0, x0, x2
  cmp x0, x1
  b.lo 2b
  dsb sy
  isb

  // Zero .bss (16-byte aligned, aligned stores only: memory is Device now).
  ldr x0, =__bss_start
  ldr x1, =__bss_end
3:
  cmp x0, x1
  b.hs 4f
  stp xzr, xzr, [x0], #16
  b 3b
4:
  // Exceptions run on their own stack (SP_EL1), the firmware on SP_EL0.
  msr spsel, #1
  ldr x1, =__exception_stack_top
  mov sp, x1
  msr spsel, #0
  ldr x1, =__stack_top
  mov sp, x1

  mov x1, #(3 << 20)          // CPACR_EL1.FPEN: no FP/SIMD traps
  msr cpacr_el1, x1
  ldr x1, =mb_arm64_vectors
  msr vbar_el1, x1
  msr tpidr_el1, xzr          // no fault reporter yet
  isb

  // MMU and caches on for the footprint and the DTB (mmu.cpp), so all the
  // C++ that follows runs on Normal memory.
  mov x0, x19
  bl mb_arm64_early_mmu
  mov x0, x19
  mov x1, x20
  mov x2, x21
  bl firmware_main
halt:
  wfi
  b halt

wrong_place:
  wfe
  b wrong_place
  .ltorg
