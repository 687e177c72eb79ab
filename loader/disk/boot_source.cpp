#include "magicboot/loader/disk/boot_source.h"

#include <cstring>

#include "magicboot/format.h"

namespace mb::loader {
namespace {

constexpr size_t kMaxConfigBytes = size_t{64} << 10;
constexpr size_t kMaxName = 256;
constexpr const char* kExtlinuxFiles[] = {"/boot/extlinux/extlinux.conf", "/extlinux/extlinux.conf"};
constexpr const char* kBlsDirs[] = {"/loader/entries", "/boot/loader/entries"};

// A path that is simply not there (or runs through a file): the next place
// is tried. Anything else (a damaged filesystem, a read error) stops the
// search with its own name.
bool missing(const Error& f) {
  const char* c = f.check;
  return std::strcmp(c, "ext4-not-found") == 0 || std::strcmp(c, "fat-not-found") == 0 ||
         std::strcmp(c, "ext4-not-dir") == 0 || std::strcmp(c, "fat-not-dir") == 0;
}

bool set(char* out, size_t cap, const char* s) { return format_to(out, cap, "%s", s) < static_cast<int>(cap); }

// A whole small file, NUL-terminated, in the arena (released by the caller's scope).
Res<const char*> read_text(Volume& v, const VolumeFile& f, const char* path, Arena& arena, size_t& len) {
  if (f.size > kMaxConfigBytes)
    return MB_ERR(ErrorCode::kBadInput, "boot-config-size", "%s is %lu bytes: a boot configuration is at most %zu",
                  path, f.size, kMaxConfigBytes);
  len = static_cast<size_t>(f.size);
  auto* text = static_cast<char*>(arena.allocate(len + 1, 1));
  if (text == nullptr) return MB_ERR(ErrorCode::kNoMemory, "arena", "%zu bytes for %s", len + 1, path);
  const size_t got = MB_TRY(v.read(f, 0, reinterpret_cast<uint8_t*>(text), len));
  if (got != len) return MB_ERR(ErrorCode::kBadInput, "disk-read", "%s: %zu of %zu bytes read", path, got, len);
  text[len] = '\0';
  return static_cast<const char*>(text);
}

// The names in a directory that end in `suffix` (or start with `prefix`),
// kept in the arena: the directory walk is over before any file is opened.
struct Names {
  char (*name)[kMaxName] = nullptr;
  size_t count = 0, cap = 0, dropped = 0;
  const char* prefix = "";
  const char* suffix = "";
};

Res<bool> list_names(Volume& v, const char* dir, Names& out, Arena& arena) {
  out.name = arena.allocate_array<char[kMaxName]>(out.cap);
  if (out.name == nullptr) return MB_ERR(ErrorCode::kNoMemory, "arena", "names of %s", dir);
  auto r = v.list(
      dir,
      [](void* c, const char* n, size_t len) {
        auto& o = *static_cast<Names*>(c);
        const size_t pl = std::strlen(o.prefix), sl = std::strlen(o.suffix);
        if (len >= kMaxName || len < pl + sl || std::memcmp(n, o.prefix, pl) != 0 ||
            std::memcmp(n + len - sl, o.suffix, sl) != 0)
          return true;
        if (o.count == o.cap) {
          ++o.dropped;
          return true;
        }
        std::memcpy(o.name[o.count], n, len);
        o.name[o.count++][len] = '\0';
        return true;
      },
      &out);
  if (!r.ok()) {
    if (missing(r.error())) return false;
    return Failure{r.error()};
  }
  return true;
}

Res<bool> try_extlinux(Volume& v, Arena& arena, BootMenu& menu, BootSource& s) {
  for (const char* path : kExtlinuxFiles) {
    auto f = v.open(path);
    if (!f.ok()) {
      if (missing(f.error())) continue;
      return Failure{f.error()};
    }
    ArenaScope text_scope(arena);
    size_t len = 0;
    const char* text = MB_TRY(read_text(v, *f, path, arena, len));
    MB_CHECK(parse_extlinux(text, len, menu));
    s.kind = ConfigKind::kExtlinux;
    set(s.config, sizeof s.config, path);
    // Its directory, with the slash.
    const size_t dir = static_cast<size_t>(std::strrchr(path, '/') - path) + 1;
    format_to(s.base, sizeof s.base, "%.*s", static_cast<int>(dir), path);
    return true;
  }
  return false;
}

Res<bool> try_bls(Volume& v, Arena& arena, BootMenu& menu, BootSource& s) {
  for (const char* dir : kBlsDirs) {
    ArenaScope scope(arena);
    Names names;
    names.cap = BootMenu::kMaxEntries * 2;
    names.suffix = ".conf";
    if (!MB_TRY(list_names(v, dir, names, arena)) || names.count == 0) continue;
    for (size_t i = 0; i < names.count; ++i) {
      char path[kMaxName + 32];
      format_to(path, sizeof path, "%s/%s", dir, names.name[i]);
      auto f = v.open(path);
      if (!f.ok() && std::strcmp(f.error().check, "volume-not-file") == 0) continue;
      ArenaScope text_scope(arena);
      size_t len = 0;
      const VolumeFile file = MB_TRY(f);
      const char* text = MB_TRY(read_text(v, file, path, arena, len));
      (void)MB_TRY(add_bls_entry(names.name[i], text, len, menu));
    }
    menu.dropped += names.dropped;
    if (menu.count == 0) continue;  // only other architectures' or EFI entries
    sort_bls(menu);
    s.kind = ConfigKind::kBls;
    set(s.config, sizeof s.config, dir);
    // $BOOT: the directory holding loader/.
    format_to(s.base, sizeof s.base, "%.*s/", static_cast<int>(std::strlen(dir) - std::strlen("/loader/entries")), dir);
    return true;
  }
  return false;
}

Res<bool> try_fallback(Volume& v, Arena& arena, BootMenu& menu, BootSource& s) {
  BootEntry& e = menu.entries[0];
  e = BootEntry{};
  if (v.exists("/boot/Image")) {
    set(e.linux_path, sizeof e.linux_path, "/boot/Image");
    set(e.id, sizeof e.id, "Image");
  } else {
    ArenaScope scope(arena);
    Names names;
    names.cap = 64;
    names.prefix = "vmlinuz-";
    if (!MB_TRY(list_names(v, "/boot", names, arena)) || names.count == 0) return false;
    size_t newest = 0;
    for (size_t i = 1; i < names.count; ++i)
      if (version_compare(names.name[i] + 8, names.name[newest] + 8) > 0) newest = i;
    const char* version = names.name[newest] + 8;
    format_to(e.linux_path, sizeof e.linux_path, "/boot/vmlinuz-%s", version);
    format_to(e.id, sizeof e.id, "vmlinuz-%s", version);
    set(e.version, sizeof e.version, version);
    char initrd[kMaxName + 16];
    format_to(initrd, sizeof initrd, "/boot/initrd.img-%s", version);
    if (v.exists(initrd)) {
      set(e.initrd, sizeof e.initrd, initrd);
      e.has_initrd = true;
    }
  }
  e.has_linux = true;
  set(e.title, sizeof e.title, e.id);
  menu.count = 1;
  menu.default_index = 0;
  menu.timeout_ds = 0;
  s.kind = ConfigKind::kFallback;
  set(s.config, sizeof s.config, "/boot");
  set(s.base, sizeof s.base, "/");
  return true;
}

// What each partition held, for the error when none can boot.
struct Notes {
  char text[192] = {};
  size_t len = 0;
  void add(unsigned part, const char* what) {
    if (len < sizeof text)
      len += static_cast<size_t>(format_to(text + len, sizeof text - len, "%sp%u %s", len ? ", " : "", part, what));
  }
};

}  // namespace

const char* to_string(ConfigKind k) {
  return k == ConfigKind::kExtlinux ? "extlinux" : k == ConfigKind::kBls ? "bls" : "fallback";
}

Res<BootSource> find_boot_source(BlockDevice& disk, Arena& arena, BootMenu& menu) {
  const PartitionTable table = MB_TRY(read_partitions(disk));
  BootSource s;
  s.table = table.kind;
  s.gpt_backup_used = table.gpt_backup_used;
  Notes notes;
  // Configurations first on every partition; a bare kernel only when no
  // partition has one.
  ArenaScope scope(arena);
  Volume* v = Volume::new_in(arena);
  if (v == nullptr) return MB_ERR(ErrorCode::kNoMemory, "arena", "%zu bytes for a volume", sizeof(Volume));
  for (int pass = 0; pass < 2; ++pass) {
    for (const Partition& p : table.partitions()) {
      PartitionDevice dev(disk, p.first_lba, p.sectors);
      if (!v->mount(dev).ok()) {
        if (pass == 0) notes.add(p.number, "no filesystem");
        continue;
      }
      menu.reset();
      s.partition = p.number;
      s.first_lba = p.first_lba;
      s.sectors = p.sectors;
      s.fs = v->kind();
      bool found = false;
      if (pass == 1) found = MB_TRY(try_fallback(*v, arena, menu, s));
      else if (!(found = MB_TRY(try_extlinux(*v, arena, menu, s)))) found = MB_TRY(try_bls(*v, arena, menu, s));
      if (found) return s;
      if (pass == 0) notes.add(p.number, to_string(v->kind()));
    }
  }
  return MB_ERR(ErrorCode::kBadInput, "disk-no-boot",
                "%s disk, %zu partition(s), none with extlinux.conf, BLS entries or /boot/vmlinuz-*: %s",
                to_string(table.kind), table.count, notes.len ? notes.text : "no partitions");
}

Res<void> resolve_boot_path(const BootSource& s, const char* path, char* out, size_t cap) {
  const bool absolute = path[0] == '/';
  // BLS paths are relative to $BOOT even when they start with a slash.
  const char* base = s.kind == ConfigKind::kBls || !absolute ? s.base : "";
  const char* rest = s.kind == ConfigKind::kBls && absolute ? path + 1 : path;
  const int n = format_to(out, cap, "%s%s", base, rest);
  if (n < 0 || static_cast<size_t>(n) >= cap)
    return MB_ERR(ErrorCode::kBadInput, "boot-path", "%s%s: longer than %zu bytes", base, rest, cap - 1);
  return {};
}

}  // namespace mb::loader
