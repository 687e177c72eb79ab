#include "magicboot/loader/report.h"

#include "magicboot/format.h"
#include "magicboot/print.h"

namespace mb::loader {
namespace {


const char* fate(const XenSession& x) {
  if (!x.present) return "no hypervisor";
  if (x.map_failed) return "not mapped";
  if (x.removed()) return "removed before handover";
  return x.mapped() ? "STILL MAPPED" : "not mapped";
}

void range_line(Console& c, const char* name, PhysRange r, const char* how) {
  if (r.empty()) {
    print(c, "  %-8s none\n", name);
    return;
  }
  print(c, "  %-8s [%#011lx, %#011lx) %-9s %s\n", name, r.base.value, r.end().value,
        human_size(r.size).text, how);
}

void json_range(Console& c, const char* name, PhysRange r) {
  print(c, "\"%s\":{\"start\":%lu,\"size\":%lu}", name, r.base.value, r.size);
}

// The pages of GUEST_MAGIC the domain uses, each with its owner: under xl
// the toolstack's console and xenstore rings (magicboot writes only the
// console's, as a console; xenstore's it never touches), and ours.
void magic_pages(Console& c, const XenSession& x, PhysRange magic) {
  auto page = [&](uint64_t pfn, const char* what) {
    if (pfn != 0 && magic.contains(range_of_pages(Gfn{pfn}, 1))) print(c, "      pfn %#lx %s\n", pfn, what);
  };
  page(x.pfns.console_pfn, "console ring (toolstack's; magicboot's PV console writes it)");
  page(x.pfns.store_pfn, "xenstore ring (toolstack's; not touched)");
  if (x.slot_found()) page(x.slot().gfn.value, x.removed() ? "shared_info (magicboot's; removed)" : "shared_info (magicboot's)");
}

}  // namespace

void print_report(Console& c, const BootReport& r) {
  const XenSession& x = r.xen;
  print(c, "magicboot handover report: %s (strategy %s)\n", r.verdict(), to_string(r.strategy));
  if (x.present) {
    print(c, "  xen      %u.%u (/hypervisor %u.%u)\n", x.version >> 16, x.version & 0xffff, x.major, x.minor);
    if (x.slot_found())
      print(c, "  shared_info GFN %#lx (%s): %s\n", x.slot().gfn.value, magic::to_string(x.slot().source), fate(x));
    if (x.map_failed) print(c, "  shared_info map failed: %s: %s\n", x.map_error.check, x.map_error.detail);
    if (x.wallclock_ok)
      print(c, "  wallclock %lu.%09u s (wc_version %u)\n", x.wallclock.sec, x.wallclock.nsec, x.wallclock.version);
    for (const PhysRange& er : r.hypervisor.extended_regions())
      print(c, "  extended region [%#011lx, %#011lx) %s\n", er.base.value, er.end().value, human_size(er.size).text);
    if (r.hypervisor.shared_info_gfn.value != 0)
      print(c, "  /hypervisor xen,shared-info-gfn %#lx\n", r.hypervisor.shared_info_gfn.value);
    print(c, "  magic    console pfn %#lx evtchn %lu, xenstore pfn %#lx evtchn %lu\n", x.pfns.console_pfn,
          x.pfns.console_evtchn, x.pfns.store_pfn, x.pfns.store_evtchn);
  } else {
    print(c, "  xen      none (no /hypervisor node): Xen steps skipped\n");
  }
  if (r.pv_devices != nullptr) r.pv_devices->print_report(c);
  if (r.disk_boot != nullptr) r.disk_boot->print_report(c);
  const char* kernel_how = r.kernel_zero_copy ? "in place (zero-copy)"
                           : r.kernel_compression == Compression::kGzip ? "inflated" : "copied";
  range_line(c, "kernel", r.kernel, kernel_how);
  range_line(c, "initrd", r.initrd, r.initrd_zero_copy ? "in place" : "copied");
  range_line(c, "dtb", r.dtb, "rewritten /chosen");
  print(c, "  bootargs \"%s\"\n", r.bootargs);
  print(c, "  memory ledger:\n");
  for (const LedgerRange& lr : r.ledger.ranges()) {
    char line[128];
    format_ledger_range(line, sizeof line, lr);
    print(c, "  %s\n", line);
    if (lr.type == RangeType::kMagic) magic_pages(c, x, lr.range);
  }
  print(c, "  stages (counter ticks):");
  for (unsigned i = 0; i < kStageCount; ++i)
    print(c, " %s %lu", to_string(static_cast<Stage>(i)), r.stage_ticks[i]);
  print(c, "\n");
  for (unsigned i = 0; i < r.finding_count; ++i)
    print(c, "  FINDING %s: %s\n", r.findings[i].check, r.findings[i].detail);
  if (r.self_check_skipped)
    print(c, "  WARNING: strategy %s leaves shared_info mapped over RAM; the handover was not checked\n",
          to_string(r.strategy));
}

void print_brief(Console& c, const BootReport& r) {
  const XenSession& x = r.xen;
  const SizeText ram = human_size(r.ram_total());
  if (x.present)
    print(c, "magicboot: Xen %u.%u, %s RAM; %s %s at %#lx\n", x.version >> 16, x.version & 0xffff,
          ram.text, to_string(r.payload_kind),
          r.kernel_zero_copy ? "in place" : r.kernel_compression == Compression::kGzip ? "inflated" : "copied",
          r.kernel.base.value);
  else
    print(c, "magicboot: no hypervisor, %s RAM; %s %s at %#lx\n", ram.text,
          to_string(r.payload_kind), r.kernel_zero_copy ? "in place" : "loaded", r.kernel.base.value);
  if (x.slot_found())
    print(c, "magicboot: handover %s: shared_info GFN %#lx (%s) %s (%s for the report)\n", r.verdict(),
          x.slot().gfn.value, magic::to_string(x.slot().source), x.removed() ? "removed" : fate(x), kFullReportWord);
  else
    print(c, "magicboot: handover %s (%s for the report)\n", r.verdict(), kFullReportWord);
}

void print_handover_json(Console& c, const BootReport& r) {
  const XenSession& x = r.xen;
  print(c, "MAGICBOOT-HANDOVER {\"verdict\":\"%s\",\"strategy\":\"%s\",", r.verdict(), to_string(r.strategy));
  print(c, "\"xen\":{\"present\":%s,\"version\":\"%u.%u\",\"ext_regions\":[", x.present ? "true" : "false",
        x.version >> 16, x.version & 0xffff);
  for (size_t i = 0; i < r.hypervisor.ext_region_count; ++i)
    print(c, "%s{\"start\":%lu,\"size\":%lu}", i ? "," : "", r.hypervisor.ext_regions[i].base.value,
          r.hypervisor.ext_regions[i].size);
  print(c, "],\"shared_info_gfn\":%lu},", r.hypervisor.shared_info_gfn.value);
  if (x.slot_found())
    print(c, "\"shared_info\":{\"gfn\":%lu,\"source\":\"%s\",\"mapped\":%s,\"removed\":%s},", x.slot().gfn.value,
          magic::to_string(x.slot().source), x.mapped() ? "true" : "false", x.removed() ? "true" : "false");
  else
    print(c, "\"shared_info\":null,");
  print(c, "\"magic\":{\"console_pfn\":%lu,\"console_evtchn\":%lu,\"store_pfn\":%lu,\"store_evtchn\":%lu},",
        x.pfns.console_pfn, x.pfns.console_evtchn, x.pfns.store_pfn, x.pfns.store_evtchn);
  if (r.pv_devices != nullptr) r.pv_devices->print_json(c);
  if (r.disk_boot != nullptr) r.disk_boot->print_json(c);
  print(c, "\"payload\":{\"kind\":\"%s\",\"compression\":\"%s\",\"kernel_zero_copy\":%s},", to_string(r.payload_kind),
        to_string(r.kernel_compression), r.kernel_zero_copy ? "true" : "false");
  json_range(c, "kernel", r.kernel);
  c.write(",", 1);
  json_range(c, "initrd", r.initrd);
  c.write(",", 1);
  json_range(c, "dtb", r.dtb);
  print(c, ",\"ram\":[");
  for (size_t i = 0; i < r.bank_count; ++i)
    print(c, "%s{\"start\":%lu,\"size\":%lu}", i ? "," : "", r.ram_banks[i].base.value, r.ram_banks[i].size);
  print(c, "],\"findings\":[");
  for (unsigned i = 0; i < r.finding_count; ++i) {
    if (i) c.write(",", 1);
    char buf[200];
    format_to(buf, sizeof buf, "%s: %s", r.findings[i].check, r.findings[i].detail);
    print_json_string(c, buf);
  }
  print(c, "],\"stages\":{");
  for (unsigned i = 0; i < kStageCount; ++i)
    print(c, "%s\"%s\":%lu", i ? "," : "", to_string(static_cast<Stage>(i)), r.stage_ticks[i]);
  print(c, "}}\n");
}

}  // namespace mb::loader
