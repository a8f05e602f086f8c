// A qemu-user TCG plugin (plugin API version 1, as in Debian 12's qemu 7.2) that counts executed
// guest instructions, in total and per mnemonic. Debian ships no qemu plugin header, so the few
// API functions used are declared here. Single-threaded guests only (plain inline counters).
// Build: gcc -O2 -shared -fPIC -o libinsncount.so bench/qemu-insn-count.c
// Use:   qemu-aarch64 -plugin ./libinsncount.so PROGRAM ...   (report on stderr at exit)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*tb_trans_cb)(qemu_plugin_id_t id, struct qemu_plugin_tb* tb);
typedef void (*udata_cb)(qemu_plugin_id_t id, void* userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, tb_trans_cb cb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, udata_cb cb, void* userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb* tb);
struct qemu_plugin_insn* qemu_plugin_tb_get_insn(const struct qemu_plugin_tb* tb, size_t idx);
char* qemu_plugin_insn_disas(const struct qemu_plugin_insn* insn);
const void* qemu_plugin_insn_data(const struct qemu_plugin_insn* insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn* insn);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn* insn,
                                                enum qemu_plugin_op op, void* ptr, uint64_t imm);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

// One counter per mnemonic (linear table: a kernel uses a few dozen distinct ones).
enum { kMaxMnemonics = 4096 };
struct Counter {
  char name[16];
  uint64_t count;
};
static struct Counter table[kMaxMnemonics];
static int n_mnemonics;

static uint64_t* CounterFor(const char* disas) {
  char name[16] = {0};
  size_t n = strcspn(disas, " \t");
  if (n >= sizeof(name)) n = sizeof(name) - 1;
  memcpy(name, disas, n);
  for (int i = 0; i < n_mnemonics; ++i) {
    if (strcmp(table[i].name, name) == 0) return &table[i].count;
  }
  if (n_mnemonics == kMaxMnemonics) return &table[kMaxMnemonics - 1].count;  // lumped
  strcpy(table[n_mnemonics].name, name);
  return &table[n_mnemonics++].count;
}

// qemu 7.2's disassembler prints the Armv8.2 dot products (and LSE atomics) as ".byte": name
// the dot products from their encoding.
static const char* DotProductName(const struct qemu_plugin_insn* insn) {
  if (qemu_plugin_insn_size(insn) != 4) return NULL;
  uint32_t w;
  memcpy(&w, qemu_plugin_insn_data(insn), 4);
  if ((w & 0xbfe0fc00u) == 0x0e809400u) return "sdot";  // SDOT (vector)
  if ((w & 0xbfe0fc00u) == 0x2e809400u) return "udot";  // UDOT (vector)
  if ((w & 0xbfc0f400u) == 0x0f80e000u) return "sdot";  // SDOT (by element)
  if ((w & 0xbfc0f400u) == 0x2f80e000u) return "udot";  // UDOT (by element)
  return NULL;
}

static void OnTranslate(qemu_plugin_id_t id, struct qemu_plugin_tb* tb) {
  (void)id;
  for (size_t i = 0; i < qemu_plugin_tb_n_insns(tb); ++i) {
    struct qemu_plugin_insn* insn = qemu_plugin_tb_get_insn(tb, i);
    char* disas = qemu_plugin_insn_disas(insn);
    const char* dot = strncmp(disas, ".byte", 5) == 0 ? DotProductName(insn) : NULL;
    qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
                                               CounterFor(dot ? dot : disas), 1);
    free(disas);
  }
}

static int ByCount(const void* a, const void* b) {
  const uint64_t x = ((const struct Counter*)a)->count, y = ((const struct Counter*)b)->count;
  return x < y ? 1 : x > y ? -1 : 0;
}

static void OnExit(qemu_plugin_id_t id, void* userdata) {
  (void)id, (void)userdata;
  uint64_t total = 0;
  for (int i = 0; i < n_mnemonics; ++i) total += table[i].count;
  qsort(table, (size_t)n_mnemonics, sizeof(table[0]), ByCount);
  fprintf(stderr, "insns total %llu\n", (unsigned long long)total);
  for (int i = 0; i < n_mnemonics; ++i) {
    fprintf(stderr, "insns %s %llu\n", table[i].name, (unsigned long long)table[i].count);
  }
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id,
                                                               const void* info, int argc,
                                                               char** argv) {
  (void)info, (void)argc, (void)argv;
  qemu_plugin_register_vcpu_tb_trans_cb(id, OnTranslate);
  qemu_plugin_register_atexit_cb(id, OnExit, NULL);
  return 0;
}
