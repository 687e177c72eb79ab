// magicboot-sim: boot a payload with the real loader code in a model Xen
// domain; print the handover report, each invariant's verdict and what a
// Linux-like next stage saw. Exit 0 clean, 1 violated/corrupted, 2 bad input.
#include <sys/stat.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "magicboot/format.h"
#include "magicboot/sim/sim.h"

namespace {

using mb::sim::SimOptions;
using mb::sim::SimResult;

constexpr const char* kUsage = R"(usage: magicboot-sim --payload FILE [options]

Boots FILE (a FIT from mkimage, an arm64 Image, or a gzip'd Image) with the
real magicboot loader code in a model of an Arm64 Xen 4.17 domU: the domain is
built as Xen builds one (guest DT with /memory, /chosen, /hypervisor; the
payload as the ramdisk module near the top of the first 128 MiB), the loader
runs through the model's hypercalls and P2M, and at the jump the validator
checks the six handover invariants; then a Linux-like next stage maps its own
shared_info, writes every page it was told is free, lets Xen tick, and checks
every page.

options:
  --payload FILE             the payload (required)
  --ram-mib N                guest RAM in MiB (default 1024; > 3072 uses RAM1)
  --domain dom0less|xl       how the domain is built (default dom0less)
  --bootargs STR             kernel command line given to the loader
  --shared-info-param on|off|zero
                             model Xen with our HVM_PARAM_SHARED_INFO_PFN
                             (on: the patched Xen's slot; zero: it offers
                             none; default off: like Xen 4.17, -EINVAL)
  --extended-regions on|off  /hypervisor reg with Xen's extended regions
                             (default on, as Xen 4.17; the loader takes a page
                             of the first when the param offers nothing, and
                             CONFIG_SHARED_INFO_MAGIC_OFFSET without either)
  --shared-info-dt on|off    with the param on, also write the offer into the
                             guest DT (/hypervisor xen,shared-info-gfn) as
                             the patched Xen does for dom0less (default on;
                             off: an xl guest under a stock libxl)
  --strategy magic|ram-legacy
                             magic (default): shared_info in GUEST_MAGIC,
                             removed before the jump. ram-legacy: U-Boot's way,
                             on a RAM page left mapped -- to see what it costs
  --fit-config NAME          FIT configuration (default: the FIT's default)
  --payload-align BYTES      module alignment (default 2 MiB; e.g. 4096 makes
                             a raw Image need a copy instead of zero-copy)
  --json                     one JSON document on stdout instead of text
  --quiet                    only the verdict lines
  -h, --help                 this text

exit status: 0 clean handover, 1 an invariant violated or corruption seen,
2 bad input or usage (the message names the failed check, or the option).
)";

// One line on stderr, naming the option; exit status 2.
[[gnu::format(printf, 1, 2)]] int usage_error(const char* fmt, ...) {
  std::va_list ap;
  va_start(ap, fmt);
  std::fprintf(stderr, "magicboot-sim: ");
  std::vfprintf(stderr, fmt, ap);
  std::fprintf(stderr, " (try --help)\n");
  va_end(ap);
  return 2;
}

// The payload file's bytes, or the reason it has none: it does not exist,
// is a directory (or no regular file), cannot be read, or is empty.
bool read_payload(const std::string& path, std::vector<uint8_t>& out, std::string& why) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    why = std::strerror(errno);
    return false;
  }
  if (S_ISDIR(st.st_mode)) {
    why = "is a directory";
    return false;
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    why = std::strerror(errno);
    return false;
  }
  uint8_t buf[1 << 16];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.insert(out.end(), buf, buf + n);
  const bool failed = std::ferror(f) != 0;
  const int err = errno;
  std::fclose(f);
  if (failed) {
    why = std::string("cannot be read: ") + std::strerror(err);
    return false;
  }
  if (out.empty()) {
    why = "is empty";
    return false;
  }
  return true;
}

bool parse_u64(const char* s, uint64_t& out) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s, &end, 0);
  if (errno || !end || *end || !*s) return false;
  out = v;
  return true;
}

std::string json_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\', o += c;
    else if (static_cast<unsigned char>(c) < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else o += c;
  }
  return o;
}

void print_text(const SimResult& r, bool quiet) {
  if (!quiet) std::fputs(r.console.c_str(), stdout);
  if (!r.jumped) {
    std::printf("magicboot-sim: the loader refused to boot: %s: step %s: %s: %s\n", mb::to_string(r.error.code),
                mb::loader::to_string(r.report.step), r.error.check, r.error.detail);
    std::printf("magicboot-sim: domain after the refusal: %s\n",
                r.findings.empty() ? "nothing left mapped, no hole, nothing corrupted" : "FINDINGS:");
    for (const auto& f : r.findings) std::printf("  %s\n", mb::model::to_string(f).c_str());
    return;
  }
  std::printf("\nvalidator at the jump:\n");
  for (const auto& d : mb::model::kDetectors) {
    auto mine = mb::model::findings_of(r.findings, d.invariant);
    std::printf("  %-24s %s\n", d.invariant, mine.empty() ? "PASS" : "FAIL");
    for (const auto& f : mine) std::printf("      %s\n", mb::model::to_string(f).c_str());
  }
  std::printf("next stage (Linux-like): xen_guest_init %s, %lu pages (%s) written, %lu verified\n",
              r.next.xen_guest_init_ok ? "ok" : "FAILED", r.next.pages_written,
              mb::human_size(r.next.pages_written * mb::kPageSize).text, r.next.pages_verified);
  if (!r.next.bug.empty()) std::printf("  BUG: %s\n", r.next.bug.c_str());
  for (const auto& f : r.next.corruption) std::printf("  CORRUPTION %s\n", mb::model::to_string(f).c_str());
  for (const auto& f : r.next.faults) std::printf("  FAULT %s\n", mb::model::to_string(f).c_str());
  std::printf("magicboot-sim: %s (%.2f s, %zu host pages (%s) touched)\n",
              r.outcome == SimResult::Outcome::kClean ? "CLEAN handover" : "HANDOVER VIOLATED", r.seconds,
              r.touched_pages, mb::human_size(uint64_t{r.touched_pages} * mb::kPageSize).text);
}

void print_json(const SimResult& r) {
  std::printf("{\"exit\":%d,\"jumped\":%s,", r.exit_code(), r.jumped ? "true" : "false");
  if (!r.jumped)
    std::printf("\"error\":{\"code\":\"%s\",\"step\":\"%s\",\"check\":\"%s\",\"detail\":\"%s\"},",
                mb::to_string(r.error.code), mb::loader::to_string(r.report.step), r.error.check,
                json_escape(r.error.detail).c_str());
  std::printf("\"handover\":%s,", r.handover_json.empty() ? "null" : r.handover_json.c_str());
  std::printf("\"invariants\":{");
  bool first = true;
  for (const auto& d : mb::model::kDetectors) {
    std::printf("%s\"%s\":\"%s\"", first ? "" : ",", d.invariant,
                mb::model::findings_of(r.findings, d.invariant).empty() ? "pass" : "fail");
    first = false;
  }
  std::printf("},\"findings\":[");
  first = true;
  for (const auto& f : r.findings) {
    std::printf("%s{\"invariant\":\"%s\",\"gfn\":%lu,\"count\":%lu,\"text\":\"%s\"}", first ? "" : ",",
                f.invariant.c_str(), f.first.value, f.count,
                json_escape(mb::model::to_string(f)).c_str());
    first = false;
  }
  std::printf("],\"next_stage\":{\"xen_guest_init_ok\":%s,\"bug\":\"%s\",\"pages_written\":%lu,"
              "\"corruption\":%zu,\"faults\":%zu},",
              r.next.xen_guest_init_ok ? "true" : "false", json_escape(r.next.bug).c_str(),
              r.next.pages_written, r.next.corruption.size(), r.next.faults.size());
  std::printf("\"seconds\":%.3f,\"touched_pages\":%zu}\n", r.seconds, r.touched_pages);
}

}  // namespace

int main(int argc, char** argv) {
  SimOptions o;
  std::string payload_path;
  bool have_payload = false, json = false, quiet = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) return nullptr;
      (void)name;
      return argv[++i];
    };
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--quiet") {
      quiet = true;
    } else if (a == "--payload" || a == "--ram-mib" || a == "--domain" || a == "--bootargs" ||
               a == "--shared-info-param" || a == "--extended-regions" || a == "--shared-info-dt" || a == "--strategy" || a == "--fit-config" || a == "--payload-align") {
      const char* v = value(a.c_str());
      if (!v) return usage_error("%s needs a value", a.c_str());
      uint64_t n = 0;
      if (a == "--payload") payload_path = v, have_payload = true;
      else if (a == "--ram-mib") {
        if (!parse_u64(v, n) || n < 16 || n > 16384) return usage_error("--ram-mib: '%s' is not 16..16384", v);
        o.ram_mib = n;
      } else if (a == "--domain") {
        if (!std::strcmp(v, "dom0less")) o.domain = mb::model::DomainKind::kDom0less;
        else if (!std::strcmp(v, "xl")) o.domain = mb::model::DomainKind::kXl;
        else return usage_error("--domain: '%s' is not dom0less or xl", v);
      } else if (a == "--bootargs") {
        o.bootargs_override = v;
      } else if (a == "--shared-info-param") {
        if (!std::strcmp(v, "on")) o.shared_info_param = mb::model::SharedInfoParam::kOffered;
        else if (!std::strcmp(v, "off")) o.shared_info_param = mb::model::SharedInfoParam::kAbsent;
        else if (!std::strcmp(v, "zero")) o.shared_info_param = mb::model::SharedInfoParam::kZero;
        else return usage_error("--shared-info-param: '%s' is not on, off or zero", v);
      } else if (a == "--extended-regions") {
        if (!std::strcmp(v, "on")) o.extended_regions = true;
        else if (!std::strcmp(v, "off")) o.extended_regions = false;
        else return usage_error("--extended-regions: '%s' is not on or off", v);
      } else if (a == "--shared-info-dt") {
        if (!std::strcmp(v, "on")) o.shared_info_dt_property = true;
        else if (!std::strcmp(v, "off")) o.shared_info_dt_property = false;
        else return usage_error("--shared-info-dt: '%s' is not on or off", v);
      } else if (a == "--strategy") {
        if (!std::strcmp(v, "magic")) o.strategy = mb::loader::SharedInfoStrategy::kMagic;
        else if (!std::strcmp(v, "ram-legacy")) o.strategy = mb::loader::SharedInfoStrategy::kRamLegacy;
        else return usage_error("--strategy: '%s' is not magic or ram-legacy", v);
      } else if (a == "--fit-config") {
        o.fit_config = v;
      } else if (a == "--payload-align") {
        if (!parse_u64(v, n) || !mb::is_pow2(n) || n < 8) return usage_error("--payload-align: '%s' is not a power of two >= 8", v);
        o.payload_align = n;
      }
    } else {
      return usage_error("unknown argument '%s'", a.c_str());
    }
  }
  if (!have_payload) return usage_error("--payload FILE is required");
  std::string why;
  if (!read_payload(payload_path, o.payload, why))
    return usage_error("--payload '%s': %s", payload_path.c_str(), why.c_str());
  o.progress = !json && !quiet;

  SimResult r = mb::sim::run_sim(o);
  if (json) print_json(r);
  else print_text(r, quiet);
  return r.exit_code();
}
