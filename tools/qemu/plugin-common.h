/*
 * What icount-plugin.c and profile-plugin.c share: the QEMU 7.2 plugin API
 * v1 declarations (Debian ships the plugin loader but no qemu-plugin.h, so
 * the few entry points used are declared by hand), and the boot window both
 * plugins watch: where to write the result, how to recognise the next
 * stage's first instruction (the stop) and magicboot's (the start), and the
 * CNTVCT reads of its stage timing. One translation unit includes it per
 * plugin (it defines qemu_plugin_version).
 */
#ifndef MAGICBOOT_TOOLS_QEMU_PLUGIN_COMMON_H
#define MAGICBOOT_TOOLS_QEMU_PLUGIN_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- QEMU 7.2 plugin API v1 (include/qemu/qemu-plugin.h), by hand ---- */
typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t; /* not read */
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, enum qemu_plugin_op op,
                                                void *ptr, uint64_t imm);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;
/* ---------------------------------------------------------------------- */

enum { kMaxReads = 64 };
/* MRS Xt, CNTVCT_EL0 (op0 3, op1 3, CRn 14, CRm 0, op2 2), any Xt. */
enum { kMrsCntvctMask = 0xffffffe0u, kMrsCntvct = 0xd53be040u };

/* The arguments both plugins take: out, stop_word, stop_word2, stop_align,
 * start, start_word (documented at the top of icount-plugin.c). */
struct boot_window {
  char out[4096];
  bool have_stop;
  uint32_t stop_word, stop_word2;
  bool have_stop_word2;
  uint64_t stop_align;
  bool have_start;
  uint64_t start;
  uint32_t start_word;
  bool have_start_word;
};

static inline uint32_t word_at(const struct qemu_plugin_insn *insn) {
  uint32_t w = 0;
  if (qemu_plugin_insn_size(insn) >= 4) memcpy(&w, qemu_plugin_insn_data(insn), 4);
  return w; /* arm64 hosts and guests here are little-endian */
}

static inline bool parse_hex(const char *s, uint64_t *v) {
  char *end;
  *v = strtoull(s, &end, 16);
  return *s && !*end;
}

/* Takes key=v (the key's klen characters at key) when it is one of the
 * window's arguments and valid; false otherwise. */
static inline bool parse_window_arg(struct boot_window *w, const char *key, size_t klen, const char *v) {
  uint64_t x;
#define KEY(k) (klen == strlen(k) && !strncmp(key, k, klen))
  if (KEY("out")) {
    snprintf(w->out, sizeof w->out, "%s", v);
  } else if (KEY("stop_word") && parse_hex(v, &x)) {
    w->stop_word = (uint32_t)x;
    w->have_stop = true;
  } else if (KEY("stop_word2") && parse_hex(v, &x)) {
    w->stop_word2 = (uint32_t)x;
    w->have_stop_word2 = true;
  } else if (KEY("stop_align") && parse_hex(v, &x) && x && !(x & (x - 1))) {
    w->stop_align = x;
  } else if (KEY("start") && parse_hex(v, &x)) {
    w->start = x;
    w->have_start = true;
  } else if (KEY("start_word") && parse_hex(v, &x)) {
    w->start_word = (uint32_t)x;
    w->have_start_word = true;
  } else {
    return false;
  }
#undef KEY
  return true;
}

/* Instruction i of tb at pc, whose first word is w: the stop is the first
 * instruction of a block on a stop_align boundary that starts with the
 * stop word(s); the start is the start address holding start_word. */
static inline bool is_stop(const struct boot_window *win, const struct qemu_plugin_tb *tb, size_t i, size_t n,
                           uint64_t pc, uint32_t w) {
  return i == 0 && (pc & (win->stop_align - 1)) == 0 && w == win->stop_word &&
         (!win->have_stop_word2 || n < 2 || word_at(qemu_plugin_tb_get_insn(tb, 1)) == win->stop_word2);
}
static inline bool is_start(const struct boot_window *win, uint64_t pc, uint32_t w) {
  return win->have_start && pc == win->start && (!win->have_start_word || w == win->start_word);
}

#endif
