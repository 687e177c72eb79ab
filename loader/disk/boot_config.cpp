#include "magicboot/loader/disk/boot_config.h"

#include <cstring>

namespace mb::loader {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

// A line of the file, its keyword and the rest, trimmed.
struct Line {
  const char* key;
  size_t key_len;
  const char* value;
  size_t value_len;
};

Line split(const char* s, size_t len) {
  size_t i = 0;
  while (i < len && is_space(s[i])) ++i;
  const size_t k = i;
  while (i < len && !is_space(s[i])) ++i;
  Line l{s + k, i - k, nullptr, 0};
  while (i < len && is_space(s[i])) ++i;
  size_t end = len;
  while (end > i && is_space(s[end - 1])) --end;
  l.value = s + i;
  l.value_len = end - i;
  return l;
}

bool is(const char* s, size_t len, const char* word) {
  const size_t n = std::strlen(word);
  if (len != n) return false;
  for (size_t i = 0; i < n; ++i)
    if (lower(s[i]) != word[i]) return false;
  return true;
}

// Copies value into a field; false when it does not fit.
template <size_t N>
bool set(char (&field)[N], const char* v, size_t len) {
  if (len >= N) return false;
  std::memcpy(field, v, len);
  field[len] = '\0';
  return true;
}

// Walks `text` line by line: fn(line number, pointer, length) -> Res<void>.
template <class Fn>
Res<void> each_line(const char* text, size_t len, Fn&& fn) {
  size_t at = 0;
  for (unsigned number = 1; at < len; ++number) {
    size_t end = at;
    while (end < len && text[end] != '\n') ++end;
    MB_CHECK(fn(number, text + at, end - at));
    at = end + 1;
  }
  return {};
}

}  // namespace

int version_compare(const char* a, const char* b) {
  auto valid = [](char c) { return is_digit(c) || is_alpha(c) || c == '-' || c == '.' || c == '~' || c == '^'; };
  // A separator that only one side has there sorts that side lower; both
  // having it skips it. 2: not at this separator.
  auto separator = [&](char sep) -> int {
    if (*a != sep && *b != sep) return 2;
    if (*a != sep) return 1;
    if (*b != sep) return -1;
    ++a, ++b;
    return 0;
  };
  for (;;) {
    while (*a != '\0' && !valid(*a)) ++a;
    while (*b != '\0' && !valid(*b)) ++b;
    int r = separator('~');
    if (r != 2) {
      if (r != 0) return r;
      continue;
    }
    if (*a == '\0' || *b == '\0') return *a != '\0' ? 1 : *b != '\0' ? -1 : 0;
    for (char sep : {'-', '^', '.'})
      if ((r = separator(sep)) != 2) break;
    if (r != 2) {
      if (r != 0) return r;
      continue;
    }
    if (is_digit(*a) || is_digit(*b)) {
      while (*a == '0') ++a;
      while (*b == '0') ++b;
      size_t la = 0, lb = 0;
      while (is_digit(a[la])) ++la;
      while (is_digit(b[lb])) ++lb;
      if (la != lb) return la > lb ? 1 : -1;
      const int c = std::memcmp(a, b, la);
      if (c != 0) return c > 0 ? 1 : -1;
      a += la, b += lb;
      continue;
    }
    while (is_alpha(*a) && is_alpha(*b)) {
      if (*a != *b) return *a > *b ? 1 : -1;  // ASCII: capitals below lower case
      ++a, ++b;
    }
    if (is_alpha(*a) != is_alpha(*b)) return is_alpha(*a) ? 1 : -1;
  }
}

Res<void> parse_extlinux(const char* text, size_t len, BootMenu& menu) {
  char default_label[64] = {};
  bool menu_default = false;
  BootEntry* e = nullptr;
  MB_CHECK(each_line(text, len, [&](unsigned number, const char* s, size_t n) -> Res<void> {
    if (n >= kLinuxCommandLineSize)
      return MB_ERR(ErrorCode::kBadInput, "extlinux-line", "line %u is %zu bytes (at most %zu)", number, n,
                    kLinuxCommandLineSize - 1);
    Line l = split(s, n);
    if (l.key_len == 0 || l.key[0] == '#') return {};
    bool fits = true;
    if (is(l.key, l.key_len, "label")) {
      if (menu.count == BootMenu::kMaxEntries) {
        ++menu.dropped;
        e = nullptr;
        return {};
      }
      e = &menu.entries[menu.count++];
      *e = BootEntry{};
      fits = set(e->id, l.value, l.value_len) && set(e->title, l.value, l.value_len);
    } else if (is(l.key, l.key_len, "default")) {
      fits = set(default_label, l.value, l.value_len);
    } else if (is(l.key, l.key_len, "timeout")) {
      uint32_t t = 0;
      for (size_t i = 0; i < l.value_len && is_digit(l.value[i]) && t < 100000; ++i) t = t * 10 + (l.value[i] - '0');
      menu.timeout_ds = t;
    } else if (is(l.key, l.key_len, "menu")) {
      const Line sub = split(l.value, l.value_len);
      if (is(sub.key, sub.key_len, "title")) fits = set(menu.title, sub.value, sub.value_len);
      else if (is(sub.key, sub.key_len, "label") && e != nullptr) fits = set(e->title, sub.value, sub.value_len);
      else if (is(sub.key, sub.key_len, "default") && e != nullptr) {
        menu.default_index = static_cast<size_t>(e - menu.entries);
        menu_default = true;
      } else ++menu.ignored_lines;
    } else if (e == nullptr) {
      if (!is(l.key, l.key_len, "prompt")) ++menu.ignored_lines;  // prompt: the menu is ours
    } else if (is(l.key, l.key_len, "linux") || is(l.key, l.key_len, "kernel")) {
      fits = set(e->linux_path, l.value, l.value_len);
      e->has_linux = fits;
    } else if (is(l.key, l.key_len, "initrd")) {
      fits = set(e->initrd, l.value, l.value_len);
      e->has_initrd = fits;
    } else if (is(l.key, l.key_len, "append")) {
      fits = set(e->options, l.value, l.value_len);
    } else if (is(l.key, l.key_len, "fdt") || is(l.key, l.key_len, "devicetree") || is(l.key, l.key_len, "fdtdir") ||
               is(l.key, l.key_len, "devicetreedir") || is(l.key, l.key_len, "fdtoverlays")) {
      e->has_fdt = true;
    } else {
      ++menu.ignored_lines;
    }
    if (!fits)
      return MB_ERR(ErrorCode::kBadInput, "extlinux-line", "line %u: \"%.*s\" is too long", number,
                    static_cast<int>(l.key_len), l.key);
    return {};
  }));
  if (menu.count == 0) return MB_ERR(ErrorCode::kBadInput, "extlinux-no-label", "no label: nothing to boot");
  if (default_label[0] != '\0' && !menu_default) {
    size_t i = 0;
    while (i < menu.count && std::strcmp(menu.entries[i].id, default_label) != 0) ++i;
    if (i == menu.count)
      return MB_ERR(ErrorCode::kBadInput, "extlinux-default", "default \"%s\" names no label", default_label);
    menu.default_index = i;
  }
  const BootEntry& d = menu.entries[menu.default_index];
  if (!d.has_linux)
    return MB_ERR(ErrorCode::kBadInput, "extlinux-no-kernel", "label \"%s\" has no linux/kernel line", d.id);
  return {};
}

Res<bool> add_bls_entry(const char* file_name, const char* text, size_t len, BootMenu& menu) {
  BootEntry e;
  // "name+LEFT-DONE.conf": the id is the name; no tries left is "bad".
  size_t name_len = std::strlen(file_name);
  if (name_len >= 5 && std::strcmp(file_name + name_len - 5, ".conf") == 0) name_len -= 5;
  const char* plus = static_cast<const char*>(std::memchr(file_name, '+', name_len));
  if (plus != nullptr) {
    size_t i = static_cast<size_t>(plus - file_name) + 1;
    bool digits = i < name_len && is_digit(file_name[i]);
    bool zero = true;
    for (; i < name_len && is_digit(file_name[i]); ++i) zero = zero && file_name[i] == '0';
    if (i < name_len && file_name[i] == '-') {
      ++i;
      while (i < name_len && is_digit(file_name[i])) ++i;
    }
    if (digits && i == name_len) {
      e.bad = zero;
      name_len = static_cast<size_t>(plus - file_name);
    }
  }
  if (!set(e.id, file_name, name_len))
    return MB_ERR(ErrorCode::kBadInput, "bls-line", "entry file name \"%s\" is too long", file_name);
  bool other_arch = false, efi = false;
  size_t options_len = 0;
  MB_CHECK(each_line(text, len, [&](unsigned number, const char* s, size_t n) -> Res<void> {
    Line l = split(s, n);
    if (l.key_len == 0 || l.key[0] == '#') return {};
    bool fits = true;
    if (is(l.key, l.key_len, "title")) fits = set(e.title, l.value, l.value_len);
    else if (is(l.key, l.key_len, "version")) fits = set(e.version, l.value, l.value_len);
    else if (is(l.key, l.key_len, "sort-key")) fits = set(e.sort_key, l.value, l.value_len);
    else if (is(l.key, l.key_len, "machine-id")) fits = set(e.machine_id, l.value, l.value_len);
    else if (is(l.key, l.key_len, "linux")) fits = e.has_linux = set(e.linux_path, l.value, l.value_len);
    else if (is(l.key, l.key_len, "initrd")) {
      if (e.has_initrd) ++menu.ignored_lines;  // one initrd is handed over; more are not
      else fits = e.has_initrd = set(e.initrd, l.value, l.value_len);
    } else if (is(l.key, l.key_len, "options")) {
      // Every options line, joined with a space.
      const size_t need = options_len + (options_len ? 1 : 0) + l.value_len;
      fits = need < sizeof e.options;
      if (fits) {
        if (options_len) e.options[options_len++] = ' ';
        std::memcpy(e.options + options_len, l.value, l.value_len);
        options_len += l.value_len;
        e.options[options_len] = '\0';
      }
    } else if (is(l.key, l.key_len, "devicetree") || is(l.key, l.key_len, "devicetree-overlay")) {
      e.has_fdt = true;
    } else if (is(l.key, l.key_len, "architecture")) {
      other_arch = !is(l.value, l.value_len, "aa64");
    } else if (is(l.key, l.key_len, "efi")) {
      efi = true;
    } else {
      ++menu.ignored_lines;
    }
    if (!fits)
      return MB_ERR(ErrorCode::kBadInput, "bls-line", "%s line %u: \"%.*s\" is too long", file_name, number,
                    static_cast<int>(l.key_len), l.key);
    return {};
  }));
  if (other_arch || (efi && !e.has_linux)) return false;
  if (!e.has_linux) return MB_ERR(ErrorCode::kBadInput, "bls-no-linux", "%s has no linux line", file_name);
  if (e.title[0] == '\0') std::memcpy(e.title, e.id, sizeof e.id);
  if (menu.count == BootMenu::kMaxEntries) {
    ++menu.dropped;
    return false;
  }
  menu.entries[menu.count++] = e;
  return true;
}

namespace {

// Alphanumerical order, an empty string lowest.
int text_compare(const char* a, const char* b) {
  const int c = std::strcmp(a, b);
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

// <0: a before b on the menu.
int bls_order(const BootEntry& a, const BootEntry& b) {
  if (a.bad != b.bad) return a.bad ? 1 : -1;
  const bool ka = a.sort_key[0] != '\0', kb = b.sort_key[0] != '\0';
  if (ka && kb) {
    if (int c = text_compare(a.sort_key, b.sort_key)) return c;
    if (int c = text_compare(a.machine_id, b.machine_id)) return c;
    if (int c = version_compare(a.version, b.version)) return -c;  // newest first
  } else if (ka != kb) {
    return ka ? -1 : 1;
  }
  return -version_compare(a.id, b.id);
}

}  // namespace

void sort_bls(BootMenu& menu) {
  // Insertion sort: a few entries, stable, no heap.
  for (size_t i = 1; i < menu.count; ++i) {
    for (size_t j = i; j > 0 && bls_order(menu.entries[j], menu.entries[j - 1]) < 0; --j) {
      BootEntry t = menu.entries[j];
      menu.entries[j] = menu.entries[j - 1];
      menu.entries[j - 1] = t;
    }
  }
  menu.default_index = 0;
}

}  // namespace mb::loader
