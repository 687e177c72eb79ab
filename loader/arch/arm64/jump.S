// mb_arm64_jump(entry, x0, x1, x2, x3): hand the CPU to the next stage per
// Linux booting.rst: MMU and D-cache off, I-cache invalidated, D/A/I/F
// masked, EL1h, x0 = DTB, x1..x3 as given (0). The caller cleaned every range
// the next stage needs to PoC. No memory access after SCTLR is written.
  .section .text.jump, "ax"
  .globl mb_arm64_jump
mb_arm64_jump:
  msr daifset, #0xf
  mov x9, x0
  mrs x10, sctlr_el1
  bic x10, x10, #(1 << 0)     // M
  bic x10, x10, #(1 << 2)     // C
  bic x10, x10, #(1 << 12)    // I
  msr sctlr_el1, x10
  isb
  ic iallu
  tlbi vmalle1
  dsb nsh
  isb
  msr spsel, #1               // enter the next stage in EL1h, as Xen would
  mov x0, x1
  mov x1, x2
  mov x2, x3
  mov x3, x4
  // The counter at the last instruction, left in x10 (the next stage ignores
  // it): entry (x21 in start.S) to here is the firmware's whole cost.
  mrs x10, cntvct_el0
  .globl mb_jump_counted
mb_jump_counted:
  br x9
