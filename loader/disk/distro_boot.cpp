#include "magicboot/loader/disk/distro_boot.h"

#include <cstring>
#include <new>

#include "magicboot/bytes.h"
#include "magicboot/format.h"
#include "magicboot/loader/payload/image.h"
#include "magicboot/print.h"

namespace mb::loader {
namespace {

constexpr uint64_t kStageAlign = uint64_t{2} << 20;  // a raw Image there can run in place
constexpr size_t kBounce = size_t{256} << 10;

// The volume's error, with the entry and the file it was about.
Failure about(const char* label, const char* what, const char* path, const Error& e) {
  return MB_ERR(e.code, e.check, "entry \"%s\": %s %s: %s", label, what, path, e.detail);
}

// The file into guest memory at `dst`: straight from the disk where guest
// memory is plain memory (the firmware), else through a bounce buffer and
// write(), so the model sees every byte arrive.
Res<void> read_to_guest(GuestMemory& mem, Arena& arena, Volume& v, const VolumeFile& f, GuestPhys dst) {
  auto direct = mem.writable(dst, f.size);
  if (direct.ok()) {
    const size_t got = MB_TRY(v.read(f, 0, *direct, f.size));
    if (got != f.size) return MB_ERR(ErrorCode::kBadInput, "disk-read", "%zu of %lu bytes", got, f.size);
    return {};
  }
  ArenaScope scope(arena);
  auto* buf = static_cast<uint8_t*>(arena.allocate(kBounce, 16));
  if (buf == nullptr) return MB_ERR(ErrorCode::kNoMemory, "arena", "%zu bytes to read a file through", kBounce);
  for (uint64_t off = 0; off < f.size;) {
    const size_t want = f.size - off < kBounce ? static_cast<size_t>(f.size - off) : kBounce;
    const size_t got = MB_TRY(v.read(f, off, buf, want));
    if (got != want) return MB_ERR(ErrorCode::kBadInput, "disk-read", "%zu of %zu bytes at %lu", got, want, off);
    MB_CHECK(mem.write(dst + off, buf, got));
    off += got;
  }
  return {};
}

// A raw Image needs image_size bytes where it lies (its bss) to run in
// place; anything else needs its file's size.
Res<uint64_t> room_for_kernel(Volume& v, const VolumeFile& f) {
  uint8_t head[kImageHeaderSize];
  const size_t got = MB_TRY(v.read(f, 0, head, sizeof head));
  if (got == sizeof head) {
    auto image = parse_image_header(head, got);
    if (image.ok() && image->image_size > f.size) return image->image_size;
  }
  return f.size;
}

void keep(char* out, size_t cap, const char* s) { format_to(out, cap, "%s", s); }

}  // namespace

size_t DistroBoot::choose(Platform& p, const BootMenu& m) {
  Console& c = p.console;
  print(c, "magicboot: disk: %s\n", m.title[0] ? m.title : "boot menu");
  for (size_t i = 0; i < m.count; ++i)
    print(c, "  %c %zu  %s (%s)\n", i == m.default_index ? '*' : ' ', i + 1, m.entries[i].title, m.entries[i].id);
  if (keys_ == nullptr || m.timeout_ds == 0 || m.count < 2) return m.default_index;
  const size_t keys = m.count < 9 ? m.count : 9;
  print(c, "MAGICBOOT-MENU {\"entries\":%zu,\"default\":%zu,\"timeout_ds\":%u,\"labels\":[", m.count,
        m.default_index + 1, m.timeout_ds);
  for (size_t i = 0; i < m.count; ++i) {
    if (i) c.write(",", 1);
    print_json_string(c, m.entries[i].id);
  }
  print(c, "]} keys 1-%zu choose, Enter boots the default\n", keys);
  const uint64_t start = p.cpu.counter(), ticks = p.cpu.counter_hz() / 10 * m.timeout_ds;
  while (p.cpu.counter() - start < ticks) {
    const int k = keys_->poll_key();
    const bool enter = k == '\r' || k == '\n';
    if (enter || (k >= '1' && k < '1' + static_cast<int>(keys))) {
      r_.by_key = true;
      const size_t i = enter ? m.default_index : static_cast<size_t>(k - '1');
      const char name[2] = {static_cast<char>(k), '\0'};
      print(c, "magicboot: disk: key '%s': entry %zu\n", enter ? "Enter" : name, i + 1);
      return i;
    }
  }
  return m.default_index;
}

Res<StagedDisk> DistroBoot::stage(Platform& p, Arena& arena, BlockDevice& disk, std::span<const PhysRange> ram,
                                  MemoryLedger& ledger) {
  r_ = DiskBootRecord{};
  r_.used = true;
  ArenaScope scope(arena);
  void* menu_mem = arena.allocate(sizeof(BootMenu), alignof(BootMenu));
  if (menu_mem == nullptr) return MB_ERR(ErrorCode::kNoMemory, "arena", "%zu bytes for the boot menu", sizeof(BootMenu));
  BootMenu& menu = *new (menu_mem) BootMenu;
  r_.source = MB_TRY(find_boot_source(disk, arena, menu));
  const BootSource& s = r_.source;
  r_.entries = static_cast<unsigned>(menu.count);
  print(p.console, "magicboot: disk: %s partition %u (%s), %s %s\n", to_string(s.table), s.partition,
        to_string(s.fs), to_string(s.kind), s.config);

  r_.chosen = static_cast<unsigned>(choose(p, menu));
  const BootEntry& e = menu.entries[r_.chosen];
  keep(r_.label, sizeof r_.label, e.id);
  if (!e.has_linux) return MB_ERR(ErrorCode::kBadInput, "boot-entry", "entry \"%s\" names no kernel", e.id);
  MB_CHECK(resolve_boot_path(s, e.linux_path, r_.kernel_path, sizeof r_.kernel_path));
  if (e.has_initrd) MB_CHECK(resolve_boot_path(s, e.initrd, r_.initrd_path, sizeof r_.initrd_path));
  keep(options_, sizeof options_, e.options);
  if (e.has_fdt) print(p.console, "magicboot: disk: entry \"%s\" names a DT (fdt/fdtdir/devicetree): not used, Xen's DT is\n", e.id);

  PartitionDevice part(disk, s.first_lba, s.sectors);
  Volume* volume = Volume::new_in(arena);
  if (volume == nullptr) return MB_ERR(ErrorCode::kNoMemory, "arena", "%zu bytes for a volume", sizeof(Volume));
  Volume& v = *volume;
  MB_CHECK(v.mount(part));
  auto kernel = v.open(r_.kernel_path);
  if (!kernel.ok()) return about(e.id, "kernel", r_.kernel_path, kernel.error());
  VolumeFile initrd{};
  if (e.has_initrd) {
    auto f = v.open(r_.initrd_path);
    if (!f.ok()) return about(e.id, "initrd", r_.initrd_path, f.error());
    initrd = *f;
  }
  if (kernel->size == 0)
    return MB_ERR(ErrorCode::kBadInput, "disk-file-size", "entry \"%s\": kernel %s is empty", e.id, r_.kernel_path);
  r_.kernel_bytes = kernel->size;
  r_.initrd_bytes = initrd.size;

  // Kernel file, then the initrd on the next page: one range, high in the
  // first bank (where a kernel may run), held as the payload.
  auto room = room_for_kernel(v, *kernel);
  if (!room.ok()) return about(e.id, "kernel", r_.kernel_path, room.error());
  const uint64_t kernel_span = align_up(*room, kPageSize);
  const uint64_t total = kernel_span + initrd.size;
  if (kernel_span < *room || total < kernel_span || total > ram.front().size)
    return MB_ERR(ErrorCode::kNoMemory, "disk-file-size", "entry \"%s\": %lu + %lu bytes do not fit %s of RAM", e.id,
                  kernel->size, initrd.size, human_size(ram.front().size).text);
  const GuestPhys base = MB_TRY(ledger.allocate(total, kStageAlign, ram.front().end(), RangeType::kPayload,
                                                Placement::kHighest));
  print(p.console, "magicboot: disk: entry \"%s\": %s (%s)%s%s%s\n", e.id, r_.kernel_path,
        human_size(kernel->size).text, e.has_initrd ? ", " : "", e.has_initrd ? r_.initrd_path : "",
        e.has_initrd ? "" : ", no initrd");
  const uint64_t t0 = p.cpu.counter();
  auto read = read_to_guest(p.mem, arena, v, *kernel, base);
  if (!read.ok()) return about(e.id, "kernel", r_.kernel_path, read.error());
  if (e.has_initrd) {
    read = read_to_guest(p.mem, arena, v, initrd, base + kernel_span);
    if (!read.ok()) return about(e.id, "initrd", r_.initrd_path, read.error());
  }
  const uint64_t hz = p.cpu.counter_hz();
  r_.read_us = hz != 0 ? (p.cpu.counter() - t0) * 1000000 / hz : 0;

  StagedDisk out;
  out.whole = PhysRange{base, total};
  out.kernel_file = PhysRange{base, kernel->size};
  out.initrd = PhysRange{base + kernel_span, initrd.size};
  out.options = options_[0] != '\0' ? options_ : nullptr;
  return out;
}

void DistroBoot::print_report(Console& c) const {
  const DiskBootRecord& r = r_;
  if (!r.used) return;
  const BootSource& s = r.source;
  print(c, "  disk     %s partition %u (%s%s), %s %s: entry %u of %u \"%s\"%s\n", to_string(s.table), s.partition,
        to_string(s.fs), s.gpt_backup_used ? ", backup GPT" : "", to_string(s.kind), s.config, r.chosen + 1, r.entries,
        r.label, r.by_key ? " (by key)" : "");
  if (r.kernel_bytes != 0)
    print(c, "  disk     kernel %s %s, initrd %s %s, read in %lu us\n", r.kernel_path, human_size(r.kernel_bytes).text,
          r.initrd_path[0] ? r.initrd_path : "none", human_size(r.initrd_bytes).text, r.read_us);
}

void DistroBoot::print_json(Console& c) const {
  const DiskBootRecord& r = r_;
  if (!r.used) return;
  const BootSource& s = r.source;
  print(c, "\"disk\":{\"table\":\"%s\",\"backup_gpt\":%s,\"partition\":%u,\"fs\":\"%s\",\"config\":\"%s\",\"path\":",
        to_string(s.table), s.gpt_backup_used ? "true" : "false", s.partition, to_string(s.fs), to_string(s.kind));
  print_json_string(c, s.config);
  print(c, ",\"entries\":%u,\"chosen\":%u,\"by_key\":%s,\"label\":", r.entries, r.chosen + 1, r.by_key ? "true" : "false");
  print_json_string(c, r.label);
  print(c, ",\"kernel\":");
  print_json_string(c, r.kernel_path);
  print(c, ",\"initrd\":");
  print_json_string(c, r.initrd_path);
  print(c, ",\"kernel_bytes\":%lu,\"initrd_bytes\":%lu,\"read_us\":%lu},", r.kernel_bytes, r.initrd_bytes,
        r.read_us);
}

}  // namespace mb::loader
