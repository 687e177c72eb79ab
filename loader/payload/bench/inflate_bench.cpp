// The loader core's gzip path (gunzip_to_guest, our own inflater) against
// plain zlib inflate and libdeflate as yardsticks, on the same data: by
// default Debian's arm64 kernel cached by tools/setup, gzip -9'd here with
// zlib (or the file named by MB_BENCH_GZIP). Two GuestMemory flavours show
// the loader's two paths:
//   - FlatMemory: guest RAM over a host buffer that offers writable(), as the
//     firmware's identity map does -> inflate in place;
//   - StreamOnlyMemory: the same buffer through write() only, as the model
//     does -> inflate through a 64 KiB window plus mem.write().
// Both include the CRC32 check the loader always makes. At the end the
// ratios to plain zlib inflate are printed.
#include <benchmark/benchmark.h>
#include <libdeflate.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "magicboot/arena.h"
#include "magicboot/loader/payload/gzip.h"

namespace {

using Bytes = std::vector<uint8_t>;
constexpr uint64_t kGuestBase = 0x40000000;

struct Data {
  Bytes gz;
  size_t raw_size = 0;
  std::string source;
};

Bytes read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

Bytes gzip9(const Bytes& raw) {
  z_stream zs{};
  if (deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  Bytes out(deflateBound(&zs, raw.size()) + 64);
  zs.next_in = const_cast<Bytef*>(raw.data());
  zs.avail_in = static_cast<uInt>(raw.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// The kernel, or a synthetic 8 MiB of compressible data if none is cached.
Data load_data() {
  Data d;
  if (const char* p = std::getenv("MB_BENCH_GZIP")) {
    d.gz = read_file(p);
    d.source = p;
  } else {
    const char* home = std::getenv("HOME");
    std::filesystem::path boot = std::filesystem::path(home ? home : "/") / ".cache/magicboot/arm64/boot";
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(boot, ec))
      if (e.path().filename().string().rfind("vmlinuz-", 0) == 0) {
        d.gz = gzip9(read_file(e.path()));
        d.source = e.path().string() + " (gzip -9 by zlib)";
        break;
      }
  }
  if (d.gz.empty()) {
    Bytes raw(8u << 20);
    for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<uint8_t>((i * 2654435761u) >> 27);
    d.gz = gzip9(raw);
    d.source = "synthetic 8 MiB (no cached kernel; run tools/setup)";
  }
  uint64_t isize = 0;
  auto r = mb::loader::gzip_isize(d.gz.data(), d.gz.size());
  if (!r.ok()) {
    std::fprintf(stderr, "not a gzip member: %s\n", r.error().detail);
    std::exit(2);
  }
  isize = *r;
  d.raw_size = static_cast<size_t>(isize);
  return d;
}

const Data& data() {
  static const Data d = load_data();
  return d;
}

// Guest RAM [kGuestBase, +size) over a host buffer.
class FlatMemory : public mb::GuestMemory {
 public:
  FlatMemory(size_t size, bool direct) : ram_(size), direct_(direct) {}
  mb::Res<void> read(mb::GuestPhys src, void* dst, size_t len) override {
    MB_CHECK(check(src, len));
    std::memcpy(dst, at(src), len);
    return {};
  }
  mb::Res<void> write(mb::GuestPhys dst, const void* src, size_t len) override {
    MB_CHECK(check(dst, len));
    std::memcpy(at(dst), src, len);
    return {};
  }
  mb::Res<void> copy(mb::GuestPhys dst, mb::GuestPhys src, size_t len) override {
    MB_CHECK(check(dst, len));
    MB_CHECK(check(src, len));
    std::memmove(at(dst), at(src), len);
    return {};
  }
  mb::Res<void> fill(mb::GuestPhys dst, uint8_t byte, size_t len) override {
    MB_CHECK(check(dst, len));
    std::memset(at(dst), byte, len);
    return {};
  }
  mb::Res<const uint8_t*> view(mb::GuestPhys b, size_t len) override {
    MB_CHECK(check(b, len));
    return static_cast<const uint8_t*>(at(b));
  }
  mb::Res<uint8_t*> writable(mb::GuestPhys b, size_t len) override {
    if (!direct_) return mb::GuestMemory::writable(b, len);
    MB_CHECK(check(b, len));
    return at(b);
  }

 private:
  mb::Res<void> check(mb::GuestPhys a, size_t len) const {
    if (a.value < kGuestBase || a.value - kGuestBase > ram_.size() || len > ram_.size() - (a.value - kGuestBase))
      return MB_ERR(mb::ErrorCode::kBadInput, "bench-range", "[%#lx, +%#zx) outside bench RAM",
                    a.value, len);
    return {};
  }
  uint8_t* at(mb::GuestPhys a) { return ram_.data() + (a.value - kGuestBase); }
  Bytes ram_;
  bool direct_;
};

void loader_path(benchmark::State& state, bool direct) {
  const Data& d = data();
  FlatMemory mem(d.raw_size + (1u << 20), direct);
  std::vector<uint8_t> arena_buf(mb::loader::kGunzipArenaBytes);
  for (auto _ : state) {
    mb::Arena arena(arena_buf.data(), arena_buf.size());
    auto r = mb::loader::gunzip_to_guest(mem, d.gz.data(), d.gz.size(), mb::GuestPhys{kGuestBase},
                                         d.raw_size + (1u << 20), arena, nullptr);
    if (!r.ok() || *r != d.raw_size) state.SkipWithError(r.ok() ? "short output" : r.error().detail);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * d.raw_size));
}

void BM_LoaderOneShot(benchmark::State& state) { loader_path(state, true); }
void BM_LoaderStreaming(benchmark::State& state) { loader_path(state, false); }

// zlib's own gzip inflate (it checks the CRC32 too), one call into one buffer.
void BM_ZlibInflate(benchmark::State& state) {
  const Data& d = data();
  Bytes out(d.raw_size);
  for (auto _ : state) {
    z_stream zs{};
    inflateInit2(&zs, 15 + 16);
    zs.next_in = const_cast<Bytef*>(d.gz.data());
    zs.avail_in = static_cast<uInt>(d.gz.size());
    zs.next_out = out.data();
    zs.avail_out = static_cast<uInt>(out.size());
    int rc = inflate(&zs, Z_FINISH);
    inflateEnd(&zs);
    if (rc != Z_STREAM_END) state.SkipWithError("zlib inflate failed");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * d.raw_size));
}

// libdeflate's gzip decompress (with its CRC32 check), one call.
void BM_Libdeflate(benchmark::State& state) {
  const Data& d = data();
  Bytes out(d.raw_size);
  libdeflate_decompressor* dec = libdeflate_alloc_decompressor();
  for (auto _ : state) {
    size_t n = 0;
    if (libdeflate_gzip_decompress(dec, d.gz.data(), d.gz.size(), out.data(), out.size(), &n) !=
        LIBDEFLATE_SUCCESS)
      state.SkipWithError("libdeflate failed");
    benchmark::DoNotOptimize(out.data());
  }
  libdeflate_free_decompressor(dec);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * d.raw_size));
}

BENCHMARK(BM_ZlibInflate)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_Libdeflate)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_LoaderStreaming)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_LoaderOneShot)->Unit(benchmark::kMillisecond)->MinTime(1.0);

// Console output as usual, plus the ratio of each to plain zlib inflate.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs)
      if (!r.error_occurred && r.iterations > 0) ns_[r.benchmark_name()] = r.GetAdjustedCPUTime();
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    auto zlib = ns_.find("BM_ZlibInflate/min_time:1.000");
    if (zlib == ns_.end()) return;
    const Data& d = data();
    std::printf("\ndata: %s: %zu -> %zu bytes\n", d.source.c_str(), d.gz.size(), d.raw_size);
    std::printf("%-40s %10s %12s\n", "benchmark (CPU time)", "MB/s", "vs zlib");
    for (const auto& [name, t] : ns_)
      std::printf("%-40s %10.1f %11.2fx\n", name.c_str(), double(d.raw_size) / (t * 1e-3) / 1e6,
                  zlib->second / t);
  }

 private:
  // CPU time (ms): on a machine shared with other jobs, wall time is noise.
  std::map<std::string, double> ns_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  (void)data();  // gzip the kernel before any timing
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
