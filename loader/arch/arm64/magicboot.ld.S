/* The firmware's memory image. Preprocessed with the C preprocessor so the
 * sizes come from Kconfig (config.h) and the addresses from link_layout.h.
 * Order: image (header, code, data, bss incl. page tables), stack region,
 * heap. image_size in the arm64 header covers all of it. */
#include "magicboot/config.h"
#include "magicboot/loader/arch/arm64/link_layout.h"

OUTPUT_FORMAT("elf64-littleaarch64")
OUTPUT_ARCH(aarch64)
ENTRY(_head)

PHDRS
{
  image PT_LOAD FLAGS(7);
}

SECTIONS
{
  . = MB_LINK_BASE;
  __image_start = .;

  .head : { KEEP(*(.head)) } :image
  /* VBAR_EL1 needs the vectors 2 KiB-aligned; the code that fits between
   * the 64-byte image header and them goes there rather than padding. */
  .text : {
    *(.text.entry)
    *(.text.mb_memmove .text.mb_memset .text.jump)
    *libmb_arch_arm64.a:exceptions.cpp.obj(.text .text.*)
    . = ALIGN(0x800);
    KEEP(*(.text.vectors))
    *(.text .text.*)
  } :image
  . = ALIGN(16);
  .rodata : { *(.rodata .rodata.*) } :image
  .init_array : {
    __init_array_start = .;
    KEEP(*(SORT_BY_INIT_PRIORITY(.init_array.*) .init_array .ctors))
    __init_array_end = .;
  } :image
  .data : { *(.data .data.*) } :image
  . = ALIGN(16);

  /* Everything from here on is NOBITS: not in magicboot.bin, zeroed by start.S. */
  .bss (NOLOAD) : {
    __bss_start = .;
    *(.bss .bss.* COMMON)
    . = ALIGN(4096);
    __page_tables_start = .;
    . += MB_PAGE_TABLES * 4096;
    __page_tables_end = .;
    . = ALIGN(16);
    __bss_end = .;
  } :image
  . = ALIGN(4096);
  __image_end = .;

  .stack (NOLOAD) : {
    __stack_region_start = .;
    . += MB_STACK_GUARD_SIZE;
    __stack_bottom = .;
    . += CONFIG_LOADER_STACK_SIZE;
    __stack_top = .;
    . += MB_EXCEPTION_STACK_SIZE;
    __exception_stack_top = .;
    __stack_region_end = .;
  } :image

  .heap (NOLOAD) : {
    . = ALIGN(4096);
    __heap_start = .;
    . += CONFIG_LOADER_HEAP_SIZE;
    __heap_end = .;
  } :image
  . = ALIGN(4096);
  __footprint_end = .;
  __image_size = __footprint_end - __image_start;

  /* Facts for tools/check-layout (never loaded): the board's regions. */
  .mb_layout_facts 0 (INFO) : { KEEP(*(.mb_layout_facts)) }

  /DISCARD/ : { *(.comment) *(.note*) *(.eh_frame*) *(.ARM.exidx*) *(.fini_array*) *(.interp) *(.dynamic) }
}

ASSERT(__image_start == MB_LINK_BASE, "image must start at the link base")
ASSERT(mb_arm64_vectors == MB_LINK_BASE + 0x800,
       "the code placed before the vectors outgrew the 1984 bytes after the image header: move some of it after them")
ASSERT((CONFIG_LOADER_STACK_SIZE % 16) == 0, "stack size must be 16-byte aligned")
ASSERT(__footprint_end == __heap_end && __heap_end == __heap_start + CONFIG_LOADER_HEAP_SIZE,
       "the heap must end the footprint, 4 KiB-aligned (layout.cpp computes both ends from the heap size)")
