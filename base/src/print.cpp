#include "magicboot/print.h"

#include "magicboot/format.h"

namespace mb {

void vprint(Console& c, const char* fmt, va_list ap) {
  char buf[256];
  int n = vformat_to(buf, sizeof buf, fmt, ap);
  if (n < 0) return;
  size_t len = static_cast<size_t>(n) < sizeof buf ? static_cast<size_t>(n) : sizeof buf - 1;
  c.write(buf, len);
}

void print(Console& c, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprint(c, fmt, ap);
  va_end(ap);
}

void print_json_string(Console& c, const char* s) {
  c.write("\"", 1);
  for (; s && *s; ++s) {
    char ch = *s;
    if (ch == '"' || ch == '\\') {
      char esc[2] = {'\\', ch};
      c.write(esc, 2);
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      print(c, "\\u%04x", static_cast<unsigned>(ch));
    } else {
      c.write(&ch, 1);
    }
  }
  c.write("\"", 1);
}

}  // namespace mb
