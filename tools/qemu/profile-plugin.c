/*
 * profile-plugin: where a boot loader's instructions go, per guest PC, up to
 * the next stage's first instruction; then ends QEMU.
 *
 * A TCG plugin for QEMU 7.2 (plugin API v1), the sibling of icount-plugin.c:
 * the same v1 declarations and stop/start arguments (plugin-common.h), the
 * same JSON fields, so
 * tools/bench-boot's command line and result parsing serve both. Built by
 * tools/profile-boot with
 *   gcc -shared -fPIC -O2 -o profile-plugin.so profile-plugin.c
 *
 * Counting. Each guest PC gets one slot {pc, count}; every instruction gets
 * an inline "add 1" to its PC's slot, which TCG runs before the instruction.
 * Per instruction rather than per translation block, for the reason
 * icount-plugin gives (a block left early must not count the instructions
 * it never ran); a PC translated into several blocks shares its one slot.
 * The slots live in one table allocated at start and never moved: TCG keeps
 * the address of each counter. The start, the stop and CNTVCT reads get a
 * callback instead, which counts them too.
 *
 * Phases. At the start and at every executed "mrs Xt, CNTVCT_EL0" (up to
 * 64, the loader's stage timing) the plugin snapshots every slot's count,
 * before that instruction. A tool then gets any phase's profile as the
 * difference of two snapshots (e.g. magicboot's stages, found by matching
 * the reads to the ticks it reports).
 *
 * Arguments (-plugin profile-plugin.so,arg=value,...): out, stop_word,
 * stop_word2, stop_align, start, start_word as in icount-plugin.c.
 *
 * Result (JSON in out=PATH, then QEMU exits with _exit(0)): stop_pc, total,
 * started, at_start, cntvct (the totals at the reads) as icount-plugin
 * writes them, and "hist": one row per PC that ran,
 *   [pc, count, count at the start, count at read 0, count at read 1, ...]
 * (counts before the instruction at the start and at each read; 0 at the
 * start when there was no start). One vCPU only (-smp 1).
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

enum { kStart = 1, kStop = 2, kRead = 4 };

/* Open addressing, never rehashed (TCG holds &count). 2^20 PCs is far more
 * than a loader (or Xen plus a loader) runs before the kernel. */
enum { kSlotBits = 20, kSlots = 1 << kSlotBits };

struct slot {
  uint64_t pc;
  uint64_t count;
  unsigned kinds; /* for the callback instructions */
  bool used;
};

static struct {
  struct boot_window win;

  struct slot *slots;
  uint32_t *order; /* slot indices in first-translation order */
  size_t n_used;
  bool full;

  bool started;
  uint64_t *at_start; /* per order index; n_at_start of them */
  size_t n_at_start;
  uint64_t *reads[kMaxReads];
  size_t n_in_read[kMaxReads];
  unsigned n_reads;
} g;

static struct slot *slot_for(uint64_t pc) {
  uint64_t h = (pc >> 2) * 0x9e3779b97f4a7c15ull;
  size_t i = (size_t)(h >> (64 - kSlotBits));
  for (size_t probe = 0; probe < kSlots; probe++, i = (i + 1) & (kSlots - 1)) {
    struct slot *s = &g.slots[i];
    if (s->used && s->pc == pc) return s;
    if (!s->used) {
      if (g.n_used + 1 >= kSlots) break;
      s->used = true;
      s->pc = pc;
      g.order[g.n_used++] = (uint32_t)i;
      return s;
    }
  }
  if (!g.full) fprintf(stderr, "profile-plugin: more than %d PCs; the rest go uncounted\n", kSlots - 1);
  g.full = true;
  return NULL;
}

static uint64_t sum(const uint64_t *counts, size_t n) {
  uint64_t t = 0;
  for (size_t i = 0; i < n; i++) t += counts[i];
  return t;
}

/* Every slot's count now, in first-translation order. */
static uint64_t *snapshot(size_t *n) {
  uint64_t *c = malloc(g.n_used * sizeof *c + 1);
  if (!c) {
    fprintf(stderr, "profile-plugin: out of memory\n");
    _exit(3);
  }
  for (size_t i = 0; i < g.n_used; i++) c[i] = g.slots[g.order[i]].count;
  *n = g.n_used;
  return c;
}

static uint64_t column(const uint64_t *c, size_t n, size_t i) { return i < n ? c[i] : 0; }

static void finish(uint64_t pc) {
  size_t n;
  uint64_t *final = snapshot(&n);
  FILE *f = fopen(g.win.out, "w");
  if (f) {
    uint64_t start_total = g.started ? sum(g.at_start, g.n_at_start) : 0;
    fprintf(f, "{\"stop_pc\": %" PRIu64 ", \"total\": %" PRIu64 ", \"started\": %s, \"at_start\": %" PRIu64
               ", \"cntvct\": [",
            pc, sum(final, n), g.started ? "true" : "false", start_total);
    for (unsigned r = 0; r < g.n_reads; r++)
      fprintf(f, "%s%" PRIu64, r ? ", " : "", sum(g.reads[r], g.n_in_read[r]));
    fprintf(f, "],\n \"hist\": [");
    bool first = true;
    for (size_t i = 0; i < n; i++) {
      if (!final[i]) continue;
      fprintf(f, "%s\n  [%" PRIu64 ", %" PRIu64 ", %" PRIu64, first ? "" : ",", g.slots[g.order[i]].pc, final[i],
              g.started ? column(g.at_start, g.n_at_start, i) : 0);
      for (unsigned r = 0; r < g.n_reads; r++) fprintf(f, ", %" PRIu64, column(g.reads[r], g.n_in_read[r], i));
      fprintf(f, "]");
      first = false;
    }
    fprintf(f, "\n]}\n");
    if (fclose(f) != 0) f = NULL;
  }
  /* Not exit(): QEMU's atexit handlers would wait for this very vCPU thread. */
  _exit(f ? 0 : 3);
}

static void on_special(unsigned int vcpu, void *userdata) {
  (void)vcpu;
  struct slot *s = userdata;
  if ((s->kinds & kStop) && (!g.win.have_start || g.started)) finish(s->pc);
  if ((s->kinds & kStart) && !g.started) {
    g.started = true;
    g.at_start = snapshot(&g.n_at_start);
  }
  if ((s->kinds & kRead) && g.n_reads < kMaxReads) {
    g.reads[g.n_reads] = snapshot(&g.n_in_read[g.n_reads]);
    g.n_reads++;
  }
  s->count++;
}

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
    struct slot *s = slot_for(pc);
    if (!s) continue;
    /* A PC's kinds depend on its word, which a later translation may see
     * changed (code loaded over code): keep the latest, as QEMU runs it. */
    s->kinds = kinds;
    if (kinds) {
      qemu_plugin_register_vcpu_insn_exec_cb(insn, on_special, QEMU_PLUGIN_CB_NO_REGS, s);
      continue;
    }
    qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &s->count, 1);
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
    if (!parse_window_arg(&g.win, a, klen, v)) goto bad;
  }
  if (!g.win.out[0] || !g.win.have_stop) {
    fprintf(stderr, "profile-plugin: needs out=PATH and stop_word=HEX\n");
    return -1;
  }
  g.slots = calloc(kSlots, sizeof *g.slots);
  g.order = calloc(kSlots, sizeof *g.order);
  if (!g.slots || !g.order) {
    fprintf(stderr, "profile-plugin: out of memory\n");
    return -1;
  }
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb_trans);
  return 0;
bad:
  fprintf(stderr, "profile-plugin: bad argument; see the comment at the top of profile-plugin.c\n");
  return -1;
}
