// Where the firmware is linked. Shared by the linker script (through the C
// preprocessor), start.S and C++, so the three cannot disagree.
//
// Why 0x40200000 and text_offset 0x200000: the image is linked at a fixed
// address (no self-relocation, so flags bit 3 stays clear) and every loader
// we care about must put it exactly there:
//  - Xen's domain builder loads an arm64 Image at RAM bank 0 (0x40000000)
//    + text_offset;
//  - QEMU -kernel loads it at RAM base + text_offset, but moves an image
//    whose text_offset is below 4 KiB up by 2 MiB (its boot stub sits at
//    the RAM base), so text_offset 0 would land at 0x40200000 there and at
//    0x40000000 under Xen;
//  - U-Boot booti and xl place it at a 2 MiB-aligned RAM base + text_offset.
// start.S stops if it finds itself anywhere else.
#pragma once

#define MB_RAM_BASE 0x40000000
#define MB_TEXT_OFFSET 0x200000
#define MB_LINK_BASE (MB_RAM_BASE + MB_TEXT_OFFSET)

// Stack layout inside the stack region, bottom to top: an unmapped guard
// page (an overflow faults instead of corrupting the image), the main stack
// (SP_EL0) and the exception stack (SP_EL1), so a fault on a broken main
// stack can still be reported.
#define MB_STACK_GUARD_SIZE 0x1000
#define MB_EXCEPTION_STACK_SIZE 0x2000

// Identity-map translation tables (4 KiB each) reserved in .bss.
#define MB_PAGE_TABLES 16
