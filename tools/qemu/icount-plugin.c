/*
 * icount-plugin: counts the guest instructions a boot loader executes until
 * the next stage's first instruction, exactly, then ends QEMU.
 *
 * A TCG plugin for QEMU 7.2 (plugin API v1). Debian ships the plugin loader
 * but not qemu-plugin.h, so the few v1 entry points used here are declared
 * by hand in plugin-common.h; tools/bench-boot builds this file with
 *   gcc -shared -fPIC -O2 -o icount-plugin.so icount-plugin.c
 *
 * Counting. Every instruction gets an inline "add 1" that TCG runs before
 * the instruction. Per instruction rather than per translation block: a
 * block left early (an I/O instruction recompiled under -icount, a data
 * abort) would otherwise count instructions that never ran. QEMU re-runs a
 * recompiled I/O instruction in a block marked "memory callbacks only", so
 * that instruction is still counted once. A few instructions get a callback
 * instead (which also counts them): the start, the stop and counter reads.
 *
 * Arguments (-plugin icount-plugin.so,arg=value,...):
 *   out=PATH        where the result line goes (required)
 *   stop_word=HEX   first 32-bit word of the next stage (e.g. Linux's "MZ"
 *                   ccmp, 0xfa405a4d); the first executed block that starts
 *                   with it on a stop_align boundary is the stop
 *   stop_word2=HEX  optional second word (checked when the block has one)
 *   stop_align=HEX  alignment of the stop address (default 0x1000)
 *   start=HEX       optional: the first execution of this address (with
 *                   start_word at it) starts the "since start" counts
 *   start_word=HEX  the word expected at start (tells a loader that shares
 *                   its address with earlier code, e.g. Xen's own head)
 *   range=LO-HI     optional: also count, separately, instructions whose
 *                   address lies in [LO, HI) (under Xen: the domU's RAM,
 *                   which Xen's own code, at EL2 VA 2-12 MiB, never uses)
 *
 * Result (one line of JSON in out=PATH, then QEMU exits with _exit(0)):
 *   stop_pc, total (instructions before the stop instruction, from the
 *   first one QEMU ran), at_start (total when start first ran), in_range
 *   (instructions in range since start, start included), and cntvct: the
 *   total at each executed "mrs Xt, CNTVCT_EL0" (before it), up to 64.
 * One vCPU only (-smp 1): the counters are not per vCPU.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugin-common.h"


/* Callback kinds, packed into the userdata pointer with the in-range bit. */
enum { kStart = 1, kStop = 2, kRead = 4, kInRange = 8 };

static struct {
  struct boot_window win;
  bool have_range;
  uint64_t range_lo, range_hi;

  uint64_t total;    /* every instruction run so far */
  uint64_t in_range; /* instructions in range, once started */
  bool started;
  uint64_t at_start;
  uint64_t reads[kMaxReads];
  unsigned n_reads;
} g;

static void finish(uint64_t pc) {
  FILE *f = fopen(g.win.out, "w");
  if (f) {
    fprintf(f, "{\"stop_pc\": %" PRIu64 ", \"total\": %" PRIu64 ", \"started\": %s, \"at_start\": %" PRIu64
               ", \"in_range\": %" PRIu64 ", \"cntvct\": [",
            pc, g.total, g.started ? "true" : "false", g.at_start, g.in_range);
    for (unsigned i = 0; i < g.n_reads; i++) fprintf(f, "%s%" PRIu64, i ? ", " : "", g.reads[i]);
    fprintf(f, "]}\n");
    fclose(f);
  }
  /* Not exit(): QEMU's atexit handlers would wait for this very vCPU thread. */
  _exit(f ? 0 : 3);
}

/* userdata: the instruction's address in the upper bits, kinds in the low 4
 * (instructions are 4-byte aligned, so bits 0-1 are free; the kinds use
 * bits 0-3, hence the shift). */
static void on_special(unsigned int vcpu, void *userdata) {
  (void)vcpu;
  uintptr_t u = (uintptr_t)userdata;
  uint64_t pc = (uint64_t)(u >> 4);
  if ((u & kStop) && (!g.win.have_start || g.started)) finish(pc);
  if ((u & kStart) && !g.started) {
    g.started = true;
    g.at_start = g.total;
    g.in_range = 0;
  }
  if ((u & kRead) && g.n_reads < kMaxReads) g.reads[g.n_reads++] = g.total;
  g.total++;
  if ((u & kInRange) && g.started) g.in_range++;
}

static bool in_range(uint64_t pc) { return g.have_range && pc >= g.range_lo && pc < g.range_hi; }

static void on_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  size_t n = qemu_plugin_tb_n_insns(tb);
  for (size_t i = 0; i < n; i++) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    uint64_t pc = qemu_plugin_insn_vaddr(insn);
    uint32_t w = word_at(insn);
    unsigned kinds = 0;
    if (is_stop(&g.win, tb, i, n, pc, w)) kinds |= kStop;
    if (is_start(&g.win, pc, w)) kinds |= kStart;
    if ((w & kMrsCntvctMask) == kMrsCntvct) kinds |= kRead;
    if (in_range(pc)) kinds |= kInRange;
    if (kinds & (kStop | kStart | kRead)) {
      qemu_plugin_register_vcpu_insn_exec_cb(insn, on_special, QEMU_PLUGIN_CB_NO_REGS,
                                             (void *)(uintptr_t)((pc << 4) | kinds));
      continue;
    }
    qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &g.total, 1);
    /* Before the start every in-range count is wiped by the start itself. */
    if (kinds & kInRange) qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &g.in_range, 1);
  }
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                                               int argc, char **argv) {
  (void)info;
  g.win.stop_align = 0x1000;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    const char *eq = strchr(a, '=');
    if (!eq) goto bad;
    size_t klen = (size_t)(eq - a);
    const char *v = eq + 1;
    if (parse_window_arg(&g.win, a, klen, v)) continue;
    if (klen == strlen("range") && !strncmp(a, "range", klen)) {
      char lo[32], hi[32];
      const char *dash = strchr(v, '-');
      if (!dash || (size_t)(dash - v) >= sizeof lo || strlen(dash + 1) >= sizeof hi) goto bad;
      memcpy(lo, v, (size_t)(dash - v));
      lo[dash - v] = 0;
      strcpy(hi, dash + 1);
      if (!parse_hex(lo, &g.range_lo) || !parse_hex(hi, &g.range_hi)) goto bad;
      g.have_range = true;
      continue;
    }
    goto bad;
  }
  if (!g.win.out[0] || !g.win.have_stop) {
    fprintf(stderr, "icount-plugin: needs out=PATH and stop_word=HEX\n");
    return -1;
  }
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb_trans);
  return 0;
bad:
  fprintf(stderr, "icount-plugin: bad argument; see the comment at the top of icount-plugin.c\n");
  return -1;
}
