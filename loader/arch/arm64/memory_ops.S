// memcpy, memmove and memset for the firmware, replacing picolibc's (which
// are built for size and move a few bytes per loop iteration: copying a
// 27 MB kernel took ~6 instructions per byte). Every bulk copy of the loader
// goes through here: the kernel copy (IdentityMemory::copy), the DT write,
// and the inflaters' output.
//
// The bulk loops move 128 bytes per iteration with LD1/ST1 of four q
// registers each (6 instructions per 128 bytes). LD1/ST1 with .16b elements
// have 1-byte element alignment, so they never raise an alignment fault, not
// even on Device memory with the MMU off; the byte loops for the head and
// tail are safe there too. FP/SIMD is enabled by start.S before any C++ runs.
//
// Only v0-v7 and x0-x15 are used (caller-saved in AAPCS64): these are plain
// leaf functions.

  .section .text.mb_memmove, "ax"
  .globl memmove
  .type memmove, %function
  .globl memcpy
  .type memcpy, %function
  .p2align 4
// void* memmove(void* dst x0, const void* src x1, size_t n x2); memcpy is the
// same routine (overlap-safe costs one compare).
memcpy:
memmove:
  mov x3, x0                  // x3 = write cursor, x0 = return value
  sub x4, x0, x1              // dst - src
  cmp x4, x2
  b.lo .Lbackward             // src < dst < src + n: copy from the end
  cmp x2, #128
  b.lo .Lfwd_tail
  // Forward, 128 bytes at a time.
.Lfwd_loop:
  ld1 {v0.16b, v1.16b, v2.16b, v3.16b}, [x1], #64
  ld1 {v4.16b, v5.16b, v6.16b, v7.16b}, [x1], #64
  sub x2, x2, #128
  st1 {v0.16b, v1.16b, v2.16b, v3.16b}, [x3], #64
  st1 {v4.16b, v5.16b, v6.16b, v7.16b}, [x3], #64
  cmp x2, #128
  b.hs .Lfwd_loop
.Lfwd_tail:
  cmp x2, #16
  b.lo .Lfwd_bytes
  ld1 {v0.16b}, [x1], #16
  sub x2, x2, #16
  st1 {v0.16b}, [x3], #16
  b .Lfwd_tail
.Lfwd_bytes:
  tbz x2, #3, 1f
  ld1 {v0.8b}, [x1], #8
  sub x2, x2, #8
  st1 {v0.8b}, [x3], #8
1:
  cbz x2, .Ldone
.Lfwd_byte:
  ldrb w5, [x1], #1
  subs x2, x2, #1
  strb w5, [x3], #1
  b.ne .Lfwd_byte
.Ldone:
  ret

  // Backward: cursors at the ends, moving down. dst > src, so each chunk
  // is loaded completely before it is stored over its own source.
.Lbackward:
  add x1, x1, x2
  add x3, x3, x2
  mov x6, #-64
  cmp x2, #128
  b.lo .Lbwd_tail
.Lbwd_loop:
  sub x1, x1, #64
  ld1 {v0.16b, v1.16b, v2.16b, v3.16b}, [x1], x6
  ld1 {v4.16b, v5.16b, v6.16b, v7.16b}, [x1]
  sub x3, x3, #64
  sub x2, x2, #128
  st1 {v0.16b, v1.16b, v2.16b, v3.16b}, [x3], x6
  st1 {v4.16b, v5.16b, v6.16b, v7.16b}, [x3]
  cmp x2, #128
  b.hs .Lbwd_loop
.Lbwd_tail:
  cbz x2, .Ldone
  ldrb w5, [x1, #-1]!
  subs x2, x2, #1
  strb w5, [x3, #-1]!
  b.ne .Lbwd_tail
  ret
  .size memmove, . - memmove
  .size memcpy, . - memcpy

  .section .text.mb_memset, "ax"
  .globl memset
  .type memset, %function
  .p2align 4
// void* memset(void* dst x0, int c w1, size_t n x2)
memset:
  mov x3, x0
  dup v0.16b, w1
  cmp x2, #128
  b.lo .Lset_tail
  mov v1.16b, v0.16b
  mov v2.16b, v0.16b
  mov v3.16b, v0.16b
.Lset_loop:
  st1 {v0.16b, v1.16b, v2.16b, v3.16b}, [x3], #64
  sub x2, x2, #128
  st1 {v0.16b, v1.16b, v2.16b, v3.16b}, [x3], #64
  cmp x2, #128
  b.hs .Lset_loop
.Lset_tail:
  cmp x2, #16
  b.lo .Lset_bytes
  st1 {v0.16b}, [x3], #16
  sub x2, x2, #16
  b .Lset_tail
.Lset_bytes:
  tbz x2, #3, 1f
  st1 {v0.8b}, [x3], #8
  sub x2, x2, #8
1:
  cbz x2, .Lset_done
.Lset_byte:
  strb w1, [x3], #1
  subs x2, x2, #1
  b.ne .Lset_byte
.Lset_done:
  ret
  .size memset, . - memset
