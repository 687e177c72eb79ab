// The handover property over random domains: whatever Xen built (RAM size
// and banks, where the module lies and how big it is, what kind of payload,
// the shared_info param offered, absent or 0, extended regions or none, a
// DT copy of the offer or not), the loader either boots clean -- the
// validator's seven invariants and the Linux-like next stage agree -- or
// refuses with a named error and leaves the domain as it found it. Never a
// violation.
//
// MAGICBOOT_PROPERTY_LAYOUTS sets the count (CI: 1000; the nightly-sized
// run is 100000), MAGICBOOT_PROPERTY_SEED the first seed. A failure prints
// the seed of the layout and what it was, so one layout can be replayed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <random>

#include "sim_fixtures.h"

namespace mb::sim::test {
namespace {

uint64_t env_or(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 0) : fallback;
}

struct Payload {
  std::string name;
  Bytes bytes;
};

// Built once: FITs come from mkimage, too slow to run per layout.
const std::vector<Payload>& payloads() {
  static const std::vector<Payload> all = [] {
    std::vector<Payload> p;
    for (uint64_t text_offset : {uint64_t{0}, uint64_t{0x80000}})
      for (size_t file : {size_t{4096}, size_t{64 * 1024}, size_t{1536 * 1024}}) {
        Bytes img = synthetic_image(file, std::max<uint64_t>(file, 3 * kMiB), text_offset, static_cast<uint32_t>(file));
        p.push_back({"image " + std::to_string(file) + " B, text_offset " + std::to_string(text_offset), img});
        p.push_back({"gzip image " + std::to_string(file) + " B", gzip_bytes(img, 6)});
      }
    Bytes pinned = synthetic_image(128 * 1024, 2 * kMiB);
    put_le(pinned, 0x18, 0x2, 8);  // bit 3 clear: the kernel must stay in the lowest bank
    p.push_back({"image, not anywhere", pinned});
    FitBuilder fit;
    fit.add_file("k", synthetic_image(96 * 1024, 2 * kMiB));
    fit.add_file("kgz", gzip_bytes(synthetic_image(96 * 1024, 2 * kMiB), 6));
    fit.add_file("rd", random_bytes(40 * 1024, 3));
    p.push_back({"FIT kernel", fit.build(FitBuilder::image("kernel-1", "k", "kernel", "none"),
                                         "    default = \"conf-1\";\n    conf-1 { kernel = \"kernel-1\"; };\n")});
    p.push_back({"FIT gzip kernel + ramdisk",
                 fit.build(FitBuilder::image("kernel-1", "kgz", "kernel", "gzip") +
                               FitBuilder::image("ramdisk-1", "rd", "ramdisk", "none"),
                           "    default = \"conf-1\";\n    conf-1 { kernel = \"kernel-1\"; ramdisk = \"ramdisk-1\"; };\n")});
    p.push_back({"random bytes", random_bytes(200 * 1024, 11)});
    return p;
  }();
  return all;
}

struct Layout {
  SimOptions options;
  std::string text;  // for a failure message
};

Layout random_layout(uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto pick = [&](uint64_t n) { return rng() % n; };
  Layout l;
  SimOptions& o = l.options;
  const Payload& p = payloads()[pick(payloads().size())];
  o.payload = p.bytes;
  std::string mutated;
  if (pick(8) == 0) {  // a damaged payload: a few bytes of its first 4 KiB changed
    for (int i = 0, n = 1 + static_cast<int>(pick(4)); i < n; ++i) {
      const size_t at = pick(std::min<size_t>(o.payload.size(), 4096));
      o.payload[at] = static_cast<uint8_t>(rng());
      mutated += " " + std::to_string(at);
    }
  }
  // RAM: mostly small, sometimes past 3 GiB (a second bank), sometimes tiny.
  const uint64_t sizes[] = {16, 48, 128, 256, 512, 1024, 3072, 3200, 4096, 6144};
  o.ram_mib = pick(3) == 0 ? 16 + pick(8000) : sizes[pick(std::size(sizes))];
  o.domain = pick(2) ? model::DomainKind::kXl : model::DomainKind::kDom0less;
  o.shared_info_param = static_cast<model::SharedInfoParam>(pick(3));
  o.extended_regions = pick(4) != 0;
  o.shared_info_dt_property = pick(2) != 0;
  if (pick(10) == 0) o.shared_info_magic_offset = static_cast<unsigned>(pick(0x3000));  // in, next to or past GUEST_MAGIC
  const uint64_t aligns[] = {8, 4096, uint64_t{2} << 20, uint64_t{1} << 30};
  o.payload_align = aligns[pick(std::size(aligns))];
  if (pick(4) == 0) {  // the module at an arbitrary address in (or just past) RAM
    const uint64_t span = std::min<uint64_t>(o.ram_mib, 3072) * kMiB + kMiB;
    o.payload_address = 0x40000000 + (pick(span) & ~(pick(2) ? uint64_t{7} : uint64_t{0xfff}));
  }
  if (pick(6) == 0) o.bootargs = std::string(pick(2100), 'a');
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "seed %lu: %s%s%s, %lu MiB %s, param %s (offset %#x, DT %s), regions %s, align %#lx, at %#lx, bootargs %zu B",
                seed, p.name.c_str(), mutated.empty() ? "" : ", bytes changed at", mutated.c_str(), o.ram_mib,
                o.domain == model::DomainKind::kXl ? "xl" : "dom0less", model::to_string(o.shared_info_param),
                o.shared_info_magic_offset, o.shared_info_dt_property ? "on" : "off",
                o.extended_regions ? "on" : "off", o.payload_align, o.payload_address, o.bootargs.size());
  l.text = buf;
  return l;
}

TEST(HandoverProperty, RandomDomainsBootCleanOrRefuseByName) {
  const uint64_t count = env_or("MAGICBOOT_PROPERTY_LAYOUTS", 1000);
  const uint64_t first = env_or("MAGICBOOT_PROPERTY_SEED", 1);
  std::map<std::string, uint64_t> refusals;
  uint64_t clean = 0, unplaceable = 0, failures = 0;
  for (uint64_t seed = first; seed < first + count; ++seed) {
    const Layout l = random_layout(seed);
    bool mapped_after = false;
    const SimResult r = run_sim(l.options, [&](model::Model& m, const SimResult&) {
      mapped_after = m.shared_info_gfn().has_value();
    });
    std::string why;
    if (r.outcome == SimResult::Outcome::kViolation) why = "invariant violated";
    else if (!r.domain_built)
      ++unplaceable;  // the sim could not build this domain (module over the DT, past RAM): no boot at all
    else if (!r.jumped && (r.error.check == nullptr || r.error.check[0] == '\0')) why = "refused without a named error";
    else if (!r.jumped && !r.findings.empty()) why = "refusal left the domain broken";
    else if (mapped_after) why = "shared_info left mapped";
    else if (r.jumped) ++clean;
    else ++refusals[std::string(r.error.check)];
    if (!why.empty()) {
      ADD_FAILURE() << why << "\n  " << l.text << "\n" << describe(r);
      if (++failures == 5) break;
    }
  }
  uint64_t refused = 0;
  std::string table;
  for (const auto& [check, n] : refusals) {
    refused += n;
    table += "  " + std::to_string(n) + "\t" + check + "\n";
  }
  std::printf("handover property: %lu layouts from seed %lu: %lu clean, %lu refused, %lu not buildable\n%s", count,
              first, clean, refused, unplaceable, table.c_str());
  // The generator must reach both outcomes, and the refusals must be many
  // kinds, or it proves little.
  EXPECT_GT(clean, count / 3);
  EXPECT_GT(refused, count / 50);
  EXPECT_GE(refusals.size(), 5u);
}

}  // namespace
}  // namespace mb::sim::test
