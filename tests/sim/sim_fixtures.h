// Shared helpers for the sim suite: the payloads (the real Debian kernel raw,
// gzip'd and in a FIT, built once per build tree by make_payloads.sh; small
// synthetic Images and FITs built per test), guest-memory read-back through
// the model, and an outgoing-DT reader over libfdt (independent of the
// loader's own DT code).
#pragma once

#include <gtest/gtest.h>
#include <libfdt.h>
#include <sys/wait.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "boards/xen_arm64/board.h"
#include "magicboot/sim/sim.h"
#include "magicboot_test/gzip.h"

namespace mb::sim {
// gtest prints outcomes by name instead of as bytes.
inline void PrintTo(SimResult::Outcome o, std::ostream* os) {
  *os << (o == SimResult::Outcome::kClean ? "kClean" : o == SimResult::Outcome::kViolation ? "kViolation" : "kBadInput");
}
}  // namespace mb::sim

namespace mb::sim::test {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

inline constexpr uint64_t kMiB = uint64_t{1} << 20;
inline constexpr uint64_t kGiB = uint64_t{1} << 30;
namespace xa = boards::xen_arm64;
// The loader's image, stack and heap in the sim (sim.cpp's LoaderLayout).
inline constexpr PhysRange kLoaderSpan{GuestPhys{0x40000000}, 0x130000};

inline Bytes read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

inline void write_file(const fs::path& p, const Bytes& b) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  ASSERT_TRUE(f.good()) << p;
}

inline void write_text(const fs::path& p, const std::string& s) {
  std::ofstream f(p);
  f << s;
  ASSERT_TRUE(f.good()) << p;
}

// Runs a shell command, returns its exit status and captures stdout (stderr
// too when `merge_stderr`).
struct Command {
  int status = -1;
  std::string out;
};
inline Command run(const std::string& cmd, bool merge_stderr = false) {
  Command c;
  FILE* p = popen((cmd + (merge_stderr ? " 2>&1" : "")).c_str(), "r");
  if (!p) return c;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) c.out.append(buf, n);
  int st = pclose(p);
  c.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return c;
}

inline std::string quote(const std::string& s) {
  std::string o = "'";
  for (char ch : s) o += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return o + "'";
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "mb-simtest-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp";
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  fs::path operator/(const std::string& name) const { return path_ / name; }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// FNV-1a 64: a hash of our own, so a whole-kernel comparison does not lean on
// any code under test.
inline uint64_t fnv1a(const uint8_t* p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

// --- the real kernel's payloads ------------------------------------------

inline fs::path find_kernel() {
  const char* home = std::getenv("HOME");
  if (home == nullptr) return {};
  std::error_code ec;
  for (auto& e : fs::directory_iterator(fs::path(home) / ".cache/magicboot/arm64/boot", ec))
    if (e.path().filename().string().rfind("vmlinuz-", 0) == 0) return e.path();
  return {};
}

// The payload directory, made on first use (make_payloads.sh is idempotent
// and locks, so parallel test processes share one build). Fails the test
// when the kernel is not cached.
inline fs::path real_payloads() {
  fs::path kernel = find_kernel();
  if (kernel.empty()) {
    ADD_FAILURE() << "no ~/.cache/magicboot/arm64/boot/vmlinuz-*: run tools/setup (tools/test runs it first)";
    return {};
  }
  fs::path dir = MB_SIM_PAYLOAD_DIR;
  // "auto": the script picks the kernel itself, as the ctest setup step does.
  std::string cmd = std::string("sh ") + quote(MB_SIM_MAKE_PAYLOADS) + " auto " +
                    quote(dir.string()) + " " + quote(MB_MKIMAGE) + " " + quote(MB_DTC);
  Command c = run(cmd, true);
  if (c.status != 0) {
    ADD_FAILURE() << cmd << " failed:\n" << c.out;
    return {};
  }
  return dir;
}

// The payload files are tens of MiB: each is read on first use, once per
// process (ctest runs every test in its own process).
class RealPayloads {
 public:
  fs::path dir;
  bool ok() const { return !dir.empty(); }
  const Bytes& image() const { return file("kernel.img"); }
  const Bytes& image_gz() const { return file("kernel.img.gz"); }
  const Bytes& ramdisk() const { return file("ramdisk.bin"); }
  // default conf-raw: raw kernel + ramdisk + fdt
  const Bytes& fit_raw() const { return file("kernel-raw.fit"); }
  // default conf-gz-fdt: gzip kernel + ramdisk + fdt; named conf-gz: no fdt
  const Bytes& fit_gz() const { return file("kernel-gz.fit"); }

 private:
  const Bytes& file(const std::string& name) const {
    auto it = cache_.find(name);
    if (it == cache_.end()) it = cache_.emplace(name, ok() ? read_file(dir / name) : Bytes{}).first;
    return it->second;
  }
  mutable std::map<std::string, Bytes> cache_;
};
inline const RealPayloads& real() {
  static RealPayloads r = [] {
    RealPayloads p;
    p.dir = real_payloads();
    return p;
  }();
  return r;
}

// --- synthetic payloads --------------------------------------------------

inline void put_le(Bytes& b, size_t off, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) b[off + i] = static_cast<uint8_t>(v >> (8 * i));
}

// An arm64 Image: a valid 64-byte header (magic "ARM\x64" at 0x38, little
// endian, 4 KiB pages, bit 3 "anywhere") and a compressible body;
// image_size covers a bss beyond the file.
inline Bytes synthetic_image(size_t file_size = 256 * 1024, uint64_t image_size = 1024 * 1024,
                             uint64_t text_offset = 0, uint32_t seed = 7) {
  std::mt19937 rng(seed);
  Bytes b(file_size);
  for (size_t i = 0; i < file_size; ++i)
    b[i] = (rng() % 4 == 0) ? static_cast<uint8_t>(rng()) : static_cast<uint8_t>(i / 64);
  std::memset(b.data(), 0, 64);
  put_le(b, 0x00, 0x91005a4d, 4);  // "MZ" + add x13 (the EFI stub's first word)
  put_le(b, 0x08, text_offset, 8);
  put_le(b, 0x10, image_size, 8);
  put_le(b, 0x18, 0xa, 8);  // LE, 4 KiB pages, anywhere
  put_le(b, 0x38, 0x644d5241, 4);
  return b;
}

using mb::test_support::gzip_bytes;

inline Bytes random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

// Builds FITs with mkimage from named data files in a temporary directory.
class FitBuilder {
 public:
  void add_file(const std::string& name, const Bytes& data) { write_file(dir_ / name, data); }
  static std::string all_hashes() {
    return "hash-1 { algo = \"crc32\"; }; hash-2 { algo = \"sha1\"; }; hash-3 { algo = \"sha256\"; };";
  }
  static std::string image(const std::string& node, const std::string& file, const std::string& type,
                           const std::string& compression, const std::string& hashes = all_hashes()) {
    return "    " + node + " { data = /incbin/(\"" + file + "\"); type = \"" + type +
           "\"; arch = \"arm64\"; os = \"linux\"; compression = \"" + compression +
           "\"; load = <0x40000000>; entry = <0x40000000>; " + hashes + " };\n";
  }
  // mkimage -f over the .its; an empty result fails the test.
  Bytes build(const std::string& images, const std::string& configs) {
    std::string its = "/dts-v1/;\n/ {\n  description = \"magicboot sim test\";\n  #address-cells = <1>;\n"
                      "  images {\n" + images + "  };\n  configurations {\n" + configs + "  };\n};\n";
    write_text(dir_ / "x.its", its);
    fs::remove(dir_ / "x.fit");
    Command c = run("cd " + quote(dir_.path().string()) + " && " + quote(MB_MKIMAGE) + " -f x.its x.fit", true);
    EXPECT_EQ(c.status, 0) << c.out << "\n" << its;
    Bytes fit = read_file(dir_ / "x.fit");
    EXPECT_FALSE(fit.empty()) << its;
    return fit;
  }

 private:
  TempDir dir_;
};

// Offset of `needle` in `hay` (the first match), or npos.
inline size_t find_bytes(const Bytes& hay, const Bytes& needle) {
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end());
  return it == hay.end() ? std::string::npos : static_cast<size_t>(it - hay.begin());
}

// --- reading the handover back ---------------------------------------------

inline Bytes read_guest(model::Model& m, GuestPhys at, size_t len) {
  Bytes b(len);
  auto r = m.memory("sim-test").read(at, b.data(), len);
  EXPECT_TRUE(r.ok()) << "read [" << std::hex << at.value << ", +" << len << "): " << (r.ok() ? "" : r.error().detail);
  return b;
}

// What the outgoing DT tells the kernel, read with libfdt directly.
struct KernelDt {
  bool valid = false;
  std::optional<uint64_t> initrd_start, initrd_end;
  std::string bootargs;
  bool hypervisor = false;
  std::vector<PhysRange> memory;
};

inline uint64_t be_cells(const fdt32_t* p, int cells) {
  uint64_t v = 0;
  for (int i = 0; i < cells; ++i) v = v << 32 | fdt32_to_cpu(p[i]);
  return v;
}

inline std::optional<uint64_t> fdt_number(const void* fdt, int node, const char* name) {
  int len = 0;
  auto* p = static_cast<const fdt32_t*>(fdt_getprop(fdt, node, name, &len));
  if (p == nullptr || (len != 4 && len != 8)) return std::nullopt;
  return be_cells(p, len / 4);
}

inline KernelDt read_kernel_dt(const Bytes& blob) {
  KernelDt k;
  const void* fdt = blob.data();
  if (blob.size() < sizeof(fdt_header) || fdt_check_header(fdt) != 0 || fdt_totalsize(fdt) > blob.size()) return k;
  k.valid = true;
  int chosen = fdt_path_offset(fdt, "/chosen");
  if (chosen >= 0) {
    k.initrd_start = fdt_number(fdt, chosen, "linux,initrd-start");
    k.initrd_end = fdt_number(fdt, chosen, "linux,initrd-end");
    int len = 0;
    auto* args = static_cast<const char*>(fdt_getprop(fdt, chosen, "bootargs", &len));
    if (args != nullptr && len > 0) k.bootargs.assign(args, strnlen(args, static_cast<size_t>(len)));
  }
  k.hypervisor = fdt_path_offset(fdt, "/hypervisor") >= 0;
  int ac = fdt_address_cells(fdt, 0), sc = fdt_size_cells(fdt, 0);
  for (int n = fdt_next_node(fdt, -1, nullptr); n >= 0; n = fdt_next_node(fdt, n, nullptr)) {
    auto* type = static_cast<const char*>(fdt_getprop(fdt, n, "device_type", nullptr));
    if (type == nullptr || std::strcmp(type, "memory") != 0) continue;
    int len = 0;
    auto* reg = static_cast<const fdt32_t*>(fdt_getprop(fdt, n, "reg", &len));
    for (int i = 0; reg != nullptr && (i + ac + sc) * 4 <= len; i += ac + sc)
      k.memory.push_back(PhysRange{GuestPhys{be_cells(reg + i, ac)}, be_cells(reg + i + ac, sc)});
  }
  return k;
}

inline bool inside_ram(const boards::RamBanks& ram, PhysRange r) {
  for (unsigned i = 0; i < ram.count; ++i)
    if (ram.bank[i].contains(r)) return true;
  return false;
}

inline std::string describe(const SimResult& r) {
  std::string s = "outcome " + std::to_string(r.exit_code());
  if (!r.jumped) s += std::string(", error ") + r.error.check + ": " + r.error.detail;
  for (const auto& f : r.findings) s += "\n  finding " + model::to_string(f);
  if (!r.next.bug.empty()) s += "\n  next-stage bug: " + r.next.bug;
  for (const auto& f : r.next.corruption) s += "\n  corruption " + model::to_string(f);
  for (const auto& f : r.next.faults) s += "\n  fault " + model::to_string(f);
  s += "\n--- console ---\n" + r.console;
  return s;
}

}  // namespace mb::sim::test
