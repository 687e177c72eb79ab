// magicboot-conformance: the conformance sequence (hypercall/conformance.h)
// against the model, printed in the firmware probe's format, for
// tests/qemu/check_conformance.py to compare with real Xen's answers.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "magicboot/hypercall/conformance.h"
#include "magicboot/xen_stubs/model.h"

namespace {

constexpr const char* kUsage = R"(usage: magicboot-conformance --domain dom0less|xl --ram-mib N
                            --magic A,B,C --ram A,B [--shared-info-param on|off|zero]

Runs magicboot's fixed conformance sequence of hypercalls against the model
of a Xen 4.17 domU built as given, and prints one line per answer:
  MAGICBOOT-CONFORMANCE <index> <name> <arg> <rc> <value>
as the firmware's probe prints them under real Xen ("magicboot.conformance").
  --domain dom0less|xl       how Xen built the domain
  --ram-mib N                its memory (16..16384)
  --magic A,B,C              the GUEST_MAGIC GFNs the sequence uses (hex)
  --ram A,B                  the RAM GFNs it spends (hex)
  --shared-info-param on|off|zero
                             the patched Xen's param (default off: stock 4.17)
The probe prints these inputs on its MAGICBOOT-CONFORMANCE-INPUTS line. The
model's unmapped guest pointer is null.
Exit 0 when the sequence ran, 2 for a bad argument.
)";

int usage_error(const std::string& what) {
  std::fprintf(stderr, "magicboot-conformance: %s (try --help)\n", what.c_str());
  return 2;
}

// "0x39ffe,0x39ffd": exactly `n` hex numbers.
bool parse_gfns(const char* s, mb::Gfn* out, unsigned n) {
  for (unsigned i = 0; i < n; ++i) {
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(s, &end, 16);
    if (end == s || errno != 0 || v == 0) return false;
    out[i] = mb::Gfn{v};
    if (i + 1 < n) {
      if (*end != ',') return false;
      s = end + 1;
    } else if (*end != '\0') {
      return false;
    }
  }
  return true;
}

void print_entry(void*, const mb::xen::ConformanceEntry& e) {
  std::printf(MB_CONFORMANCE_LINE, e.index, e.name, e.arg, e.rc, e.value);
}

}  // namespace

int main(int argc, char** argv) {
  mb::model::DomainConfig config;
  mb::xen::ConformanceInputs in;
  bool have_domain = false, have_ram_mib = false, have_magic = false, have_ram = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (a != "--domain" && a != "--ram-mib" && a != "--magic" && a != "--ram" && a != "--shared-info-param")
      return usage_error("unknown argument '" + a + "'");
    if (i + 1 >= argc) return usage_error(a + " needs a value");
    const char* v = argv[++i];
    if (a == "--domain") {
      if (!std::strcmp(v, "dom0less")) config.kind = mb::model::DomainKind::kDom0less;
      else if (!std::strcmp(v, "xl")) config.kind = mb::model::DomainKind::kXl;
      else return usage_error(std::string("--domain: '") + v + "' is not dom0less or xl");
      have_domain = true;
    } else if (a == "--ram-mib") {
      char* end = nullptr;
      const unsigned long long n = std::strtoull(v, &end, 10);
      if (end == v || *end != '\0' || n < 16 || n > 16384)
        return usage_error(std::string("--ram-mib: '") + v + "' is not 16..16384");
      config.ram_bytes = n << 20;
      have_ram_mib = true;
    } else if (a == "--magic") {
      if (!parse_gfns(v, in.magic, 3)) return usage_error(std::string("--magic: '") + v + "' is not three hex GFNs A,B,C");
      have_magic = true;
    } else if (a == "--ram") {
      if (!parse_gfns(v, in.ram, 2)) return usage_error(std::string("--ram: '") + v + "' is not two hex GFNs A,B");
      have_ram = true;
    } else {
      if (!std::strcmp(v, "on")) config.shared_info_param = mb::model::SharedInfoParam::kOffered;
      else if (!std::strcmp(v, "off")) config.shared_info_param = mb::model::SharedInfoParam::kAbsent;
      else if (!std::strcmp(v, "zero")) config.shared_info_param = mb::model::SharedInfoParam::kZero;
      else return usage_error(std::string("--shared-info-param: '") + v + "' is not on, off or zero");
    }
  }
  if (!have_domain || !have_ram_mib || !have_magic || !have_ram)
    return usage_error("--domain, --ram-mib, --magic and --ram are all required");
  mb::model::Model m(config);
  const unsigned n = mb::xen::run_conformance(m.hypercalls(), in, print_entry, nullptr);
  std::printf(MB_CONFORMANCE_END, n);
  return 0;
}
