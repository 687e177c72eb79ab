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

}  // namespace mb
