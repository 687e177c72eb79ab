// Exception vectors (VBAR_EL1). The firmware runs with SP_EL0, so its own
// faults arrive in the "current EL, SP0" group on the separate SP_EL1 stack.
// Every entry saves the registers into an ExceptionFrame (exceptions.h) and
// calls mb_arm64_exception(kind, frame), which reports and never returns.
// kind = group * 4 + type; type 0 sync, 1 IRQ, 2 FIQ, 3 SError.

#define FRAME_SIZE 288

.macro ventry kind
  .balign 0x80
  sub sp, sp, #FRAME_SIZE
  stp x0, x1, [sp, #0]
  mov x0, #\kind
  b exception_common
.endm

  // The linker script places this at MB_LINK_BASE + 2 KiB (VBAR_EL1 needs
  // 2 KiB alignment); a .balign here would align the whole .text section.
  .section .text.vectors, "ax"
  .balign 0x80
  .globl mb_arm64_vectors
mb_arm64_vectors:
  ventry 0
  ventry 1
  ventry 2
  ventry 3
  ventry 4
  ventry 5
  ventry 6
  ventry 7
  ventry 8
  ventry 9
  ventry 10
  ventry 11
  ventry 12
  ventry 13
  ventry 14
  ventry 15

exception_common:
  stp x2, x3, [sp, #16]
  stp x4, x5, [sp, #32]
  stp x6, x7, [sp, #48]
  stp x8, x9, [sp, #64]
  stp x10, x11, [sp, #80]
  stp x12, x13, [sp, #96]
  stp x14, x15, [sp, #112]
  stp x16, x17, [sp, #128]
  stp x18, x19, [sp, #144]
  stp x20, x21, [sp, #160]
  stp x22, x23, [sp, #176]
  stp x24, x25, [sp, #192]
  stp x26, x27, [sp, #208]
  stp x28, x29, [sp, #224]
  str x30, [sp, #240]
  mrs x1, elr_el1
  mrs x2, spsr_el1
  stp x1, x2, [sp, #248]
  mrs x1, esr_el1
  mrs x2, far_el1
  stp x1, x2, [sp, #264]
  mov x1, sp
  bl mb_arm64_exception
1:
  wfi
  b 1b
