// printf to a Console, through a bounded stack buffer (no heap, no FILE).
#pragma once

#include <cstdarg>

#include "magicboot/platform.h"

namespace mb {

[[gnu::format(printf, 2, 3)]] void print(Console& c, const char* fmt, ...);
void vprint(Console& c, const char* fmt, va_list ap);
// `s` as a JSON string, quoted: what JSON needs escaped is (strings from a
// DT or a disk are anyone's).
void print_json_string(Console& c, const char* s);

}  // namespace mb
