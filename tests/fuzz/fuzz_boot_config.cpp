// extlinux.conf and BLS entries from arbitrary text (the first byte picks
// which; for BLS the text is split into entries at NUL bytes), and UAPI.10
// version order on pairs of lines: never a fault; on success every field is
// a terminated string, the default is an entry; the order is antisymmetric.
#include <cstring>
#include <memory>

#include "fuzz_check.h"
#include "magicboot/loader/disk/boot_config.h"

namespace {

using namespace mb::loader;

template <size_t N>
void terminated(const char (&field)[N], const char* what) {
  FUZZ_CHECK(std::memchr(field, '\0', N) != nullptr, "%s not terminated", what);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static auto menu = std::make_unique<BootMenu>();
  *menu = BootMenu{};
  const char* text = reinterpret_cast<const char*>(data + 1);
  const size_t len = size - 1;
  if (data[0] % 2 == 0) {
    auto r = parse_extlinux(text, len, *menu);
    if (!r.ok()) {
      FUZZ_CHECK(r.error().check[0] != '\0', "extlinux error without a name");
      return 0;
    }
    FUZZ_CHECK(menu->count > 0 && menu->default_index < menu->count, "default %zu of %zu", menu->default_index, menu->count);
    FUZZ_CHECK(menu->entries[menu->default_index].has_linux, "the default has no kernel");
  } else {
    size_t at = 0;
    for (unsigned k = 0; at < len && k < 24; ++k) {
      const void* nul = std::memchr(text + at, '\0', len - at);
      const size_t end = nul ? static_cast<size_t>(static_cast<const char*>(nul) - text) : len;
      char name[32];
      std::snprintf(name, sizeof name, "e%u+%u-%u.conf", k, data[0] / 2 % 3, k % 2);
      auto r = add_bls_entry(name, text + at, end - at, *menu);
      if (!r.ok()) FUZZ_CHECK(r.error().check[0] != '\0', "BLS error without a name");
      at = end + 1;
    }
    sort_bls(*menu);
    for (size_t i = 1; i < menu->count; ++i) {
      const BootEntry &a = menu->entries[i - 1], &b = menu->entries[i];
      FUZZ_CHECK(a.bad <= b.bad, "a bad entry before a good one");
    }
  }
  FUZZ_CHECK(menu->count <= BootMenu::kMaxEntries, "%zu entries", menu->count);
  terminated(menu->title, "menu title");
  for (const BootEntry& e : menu->list()) {
    terminated(e.id, "id");
    terminated(e.title, "title");
    terminated(e.linux_path, "linux");
    terminated(e.initrd, "initrd");
    terminated(e.options, "options");
    terminated(e.version, "version");
  }
  // Version order on the first two lines.
  char a[64] = {}, b[64] = {};
  const char* nl = static_cast<const char*>(std::memchr(text, '\n', len));
  const size_t la = nl ? static_cast<size_t>(nl - text) : len;
  std::memcpy(a, text, la < 63 ? la : 63);
  if (nl) {
    const size_t rest = len - la - 1;
    std::memcpy(b, nl + 1, rest < 63 ? rest : 63);
  }
  const int ab = version_compare(a, b), ba = version_compare(b, a);
  FUZZ_CHECK(ab == -ba && ab >= -1 && ab <= 1, "version_compare('%s', '%s') = %d, reversed %d", a, b, ab, ba);
  FUZZ_CHECK(version_compare(a, a) == 0, "'%s' is not equal to itself", a);
  return 0;
}
