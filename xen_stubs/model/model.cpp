// Building the domain, Xen's tick, the fixtures and the introspection API.
#include <algorithm>
#include <cstring>

#include "blkback_twin.h"
#include "boards/xen_arm64/board.h"
#include "grant_twin.h"
#include "model_impl.h"
#include "xenstore_twin.h"

namespace mb::model {

namespace board = boards::xen_arm64;

namespace {

// The wallclock Xen reports: fixed so runs repeat exactly.
constexpr uint64_t kWallclockBaseSec = 1700000000;
constexpr uint64_t kTickNs = 10'000'000;
constexpr unsigned kMaxVcpus = 128;

uint64_t pages_of(uint64_t bytes) { return bytes >> kPageShift; }

}  // namespace

// --- FrameTable -------------------------------------------------------------

uint64_t FrameTable::allocate(uint64_t count, PageType type, Owner owner) {
  uint64_t first = next_;
  if (count) ranges_.emplace(first, Range{count, type, owner});
  next_ += count;
  return first;
}

std::optional<P2mEntry> FrameTable::info(uint64_t mfn) const {
  if (cached_ == nullptr || mfn < cached_first_ || mfn - cached_first_ >= cached_->count) {
    auto it = ranges_.upper_bound(mfn);
    if (it == ranges_.begin()) return std::nullopt;
    --it;
    if (mfn - it->first >= it->second.count) return std::nullopt;
    cached_first_ = it->first;
    cached_ = &it->second;
  }
  return P2mEntry{Mfn{mfn}, cached_->type, cached_->owner};
}

// --- the domain -------------------------------------------------------------

Model::Impl::Impl(const DomainConfig& c) : config(c) {
  uint64_t bytes = align_down(config.ram_bytes, kPageSize);
  bytes = std::min(bytes, board::kRam0.size + board::kRam1.size);
  config.ram_bytes = bytes;
  ram = board::ram_banks(bytes);
  for (unsigned i = 0; i < ram.count; ++i) {
    uint64_t n = pages_of(ram.bank[i].size);
    uint64_t mfn = frames.allocate(n, PageType::kRamRw, Owner::kGuest);
    p2m.map(ram.bank[i].base.gfn().value, n, mfn, PageType::kRamRw, Owner::kGuest);
    tot_pages += n;
  }
  uint64_t ram_pages = tot_pages;

  // vpl011 is emulated by Xen: a device page, not the guest's.
  uint64_t uart = frames.allocate(1, PageType::kMmio, Owner::kXen);
  p2m.map(board::kVpl011.base.gfn().value, 1, uart, PageType::kMmio, Owner::kXen);

  shared_info_mfn = frames.allocate(1, PageType::kXenShared, Owner::kXen);
  grant_mfn = frames.allocate(kMaxGrantFrames, PageType::kXenShared, Owner::kXen);
  grant_nr_frames = std::clamp<uint32_t>(config.grant_frames, 1, kMaxGrantFrames);
  zero_mfn = frames.allocate(1, PageType::kRamRo, Owner::kXen);
  vcpus.resize(std::clamp<unsigned>(config.vcpus, 1, kMaxVcpus));

  ports.resize(64);
  ports[0].state = PortState::kReserved;  // port 0 is never a channel

  // Xen set the wallclock when it built the domain: wc_version is 2 when the
  // guest first looks, under dom0less and xl alike (seen on real Xen 4.17).
  // Its time is what Xen knows: nothing without a dom0 to tell it (0 under
  // dom0less), the date dom0 set under xl.
  wallclock_base_sec = config.kind == DomainKind::kXl ? kWallclockBaseSec : 0;
  shared_info_t si{};
  si.wc_version = 2;
  si.wc_sec = static_cast<uint32_t>(wallclock_base_sec);
  store.write(shared_info_mfn, 0, &si, sizeof si);

  if (config.kind == DomainKind::kXl) {
    // The toolstack (xg_dom_arm.c) populates the magic pages as guest pages
    // and binds an interdomain port to dom0 for xenstore and the console.
    for (unsigned off = 0; off < kXlMagicPagesPopulated; ++off) {
      uint64_t mfn = frames.allocate(1, PageType::kMagic, Owner::kGuest);
      p2m.map(Model::magic_gfn(off).value, 1, mfn, PageType::kMagic, Owner::kGuest);
      if (off == board::kMagicConsole) console_mfn = mfn;
      ++tot_pages;
    }
    params[HVM_PARAM_CONSOLE_PFN] = Model::magic_gfn(board::kMagicConsole).value;
    // libxl names the event channel interrupt as Xen's /hypervisor node
    // does: a PPI (type 2 in bits 63:56), level-low (flag 2 in bits 15:8),
    // PPI 31 (real Xen's answer under xl; dom0less leaves it 0).
    params[HVM_PARAM_CALLBACK_IRQ] = (uint64_t{HVM_PARAM_CALLBACK_TYPE_PPI} << 56) |
                                     (uint64_t{HVM_PARAM_CALLBACK_TYPE_PPI_FLAG_LOW_LEVEL} << 8) | board::kEvtchnPpi;
    params[HVM_PARAM_STORE_PFN] = Model::magic_gfn(board::kMagicXenstore).value;
    params[HVM_PARAM_CONSOLE_EVTCHN] = kXlConsolePort;
    params[HVM_PARAM_STORE_EVTCHN] = kXlStorePort;
    ports[kXlConsolePort] = Port{PortState::kInterdomain, 0};
    ports[kXlStorePort] = Port{PortState::kInterdomain, 0};
    max_pages = ram_pages + kXlSlackPages;
  } else {
    max_pages = ram_pages;  // dom0less: exactly the memory size
  }
  if (config.shared_info_param == SharedInfoParam::kOffered)
    params[HVM_PARAM_SHARED_INFO_PFN] = Model::magic_gfn(config.shared_info_magic_offset).value;

  // dom0's side: xenstored with the toolstack's tree, the console and store
  // rings granted to dom0, and blkback when there is a disk.
  grants = std::make_unique<GrantTwin>(*this);
  if (config.kind == DomainKind::kXl) {
    const uint64_t store_gfn = Model::magic_gfn(board::kMagicXenstore).value;
    grants->seed_toolstack_entries(Model::magic_gfn(board::kMagicConsole).value, store_gfn);
    xenstore = std::make_unique<XenstoreTwin>(*this, p2m.slot(store_gfn)->mfn);
    xenstore->populate_domain();
    if (config.disk) blkback = std::make_unique<BlkbackTwin>(*this, *xenstore, *grants, *config.disk);
  }
}

void Model::Impl::dom0_turn() {
  if (blkback) blkback->run();
  if (xenstore) xenstore->serve();
}

namespace {
constexpr uint32_t kBits = sizeof(xen_ulong_t) * 8;
// The 2-level ABI's word for `port` in one of shared_info's bit arrays.
constexpr uint64_t port_word(size_t array, uint32_t port) { return array + (port / kBits) * sizeof(xen_ulong_t); }
}  // namespace

void Model::Impl::raise_event(uint32_t port) {
  if (port == 0 || port >= EVTCHN_2L_NR_CHANNELS) return;
  const xen_ulong_t bit = xen_ulong_t{1} << (port % kBits);
  const uint64_t word = port_word(offsetof(shared_info_t, evtchn_pending), port);
  const uint64_t mask = port_word(offsetof(shared_info_t, evtchn_mask), port);
  xen_ulong_t pending = 0, masked = 0;
  store.read(shared_info_mfn, word, &pending, sizeof pending);
  if (pending & bit) return;
  pending |= bit;
  store.write(shared_info_mfn, word, &pending, sizeof pending);
  ++polls.raised;
  store.read(shared_info_mfn, mask, &masked, sizeof masked);
  if (masked & bit) return;
  // vCPU 0's vcpu_info: in shared_info until the guest registered its own.
  const VcpuState& v = vcpus[0];
  const uint64_t mfn = v.info_gfn ? v.info_mfn : shared_info_mfn;
  const uint64_t at = v.info_gfn ? v.info_offset : offsetof(shared_info_t, vcpu_info);
  vcpu_info_t vi;
  store.read(mfn, at, &vi, sizeof vi);
  const xen_ulong_t sel = xen_ulong_t{1} << (port / kBits);
  if (vi.evtchn_pending_sel & sel) return;
  vi.evtchn_pending_sel |= sel;
  vi.evtchn_upcall_pending = 1;
  store.write(mfn, at, &vi, sizeof vi);
}

bool Model::Impl::is_pending(uint32_t port) const {
  if (port >= EVTCHN_2L_NR_CHANNELS) return false;
  xen_ulong_t pending = 0;
  store.read(shared_info_mfn, port_word(offsetof(shared_info_t, evtchn_pending), port), &pending, sizeof pending);
  return (pending >> (port % kBits)) & 1;
}

Model::Impl::~Impl() = default;

void Model::Impl::forget(uint64_t gfn) {
  auto s = p2m.slot(gfn);
  if (!s || s->hole) return;
  if (s->mfn == shared_info_mfn) {
    if (shared_info_gfn == gfn) shared_info_gfn.reset();
    return;
  }
  if (s->mfn >= grant_mfn && s->mfn - grant_mfn < kMaxGrantFrames) {
    auto& g = grant_gfn[s->mfn - grant_mfn];
    if (g == gfn) g.reset();
    return;
  }
  auto f = frames.info(s->mfn);
  // The page stays allocated to the domain (Xen drops only the mapping):
  // counted in tot_pages, reachable by no GFN.
  if (f && f->owner == Owner::kGuest && (f->type == PageType::kRamRw || f->type == PageType::kMagic))
    ++leaked;
}

void Model::Impl::map(uint64_t gfn, uint64_t mfn, PageType type, Owner owner) {
  forget(gfn);
  p2m.map(gfn, 1, mfn, type, owner);
  if (mfn == shared_info_mfn && !shared_info_gfn) shared_info_gfn = gfn;
  if (mfn >= grant_mfn && mfn - grant_mfn < kMaxGrantFrames && !grant_gfn[mfn - grant_mfn])
    grant_gfn[mfn - grant_mfn] = gfn;
}

void Model::Impl::remove(uint64_t gfn) {
  forget(gfn);
  p2m.make_hole(gfn, 1);
}

bool Model::Impl::is_xen_written(uint64_t mfn) const {
  if (mfn == shared_info_mfn) return true;
  if (mfn >= grant_mfn && mfn - grant_mfn < grant_nr_frames) return true;
  for (const auto& v : vcpus)
    if (v.info_gfn && v.info_mfn == mfn) return true;
  return false;
}

// --- Model ------------------------------------------------------------------

Model::Model(const DomainConfig& config) : impl_(std::make_unique<Impl>(config)) {}
Model::~Model() = default;

const DomainConfig& Model::config() const { return impl_->config; }
Hypercalls& Model::hypercalls() { return impl_->hypercalls; }

GuestMemory& Model::memory(const std::string& accessor) {
  auto& slot = impl_->memories[accessor];
  if (!slot) slot = std::make_unique<AccessorMemory>(*impl_, accessor);
  return *slot;
}

bool Model::hold(const std::string& accessor, PhysRange range) {
  for (const auto& h : impl_->holds)
    if (h.accessor != accessor && h.range.overlaps(range)) return false;
  if (!range.empty()) impl_->holds.push_back(Hold{accessor, range});
  return true;
}

void Model::release(const std::string& accessor, PhysRange range) {
  auto& hs = impl_->holds;
  auto exact = [&](const Hold& h) { return h.accessor == accessor && h.range == range; };
  if (std::any_of(hs.begin(), hs.end(), exact)) {
    hs.erase(std::find_if(hs.begin(), hs.end(), exact));
    return;
  }
  std::erase_if(hs, [&](const Hold& h) { return h.accessor == accessor && range.contains(h.range); });
}

std::vector<Model::Hold> Model::holds() const { return impl_->holds; }

Mfn Model::allocate_page(PageType type, Owner owner) { return Mfn{impl_->frames.allocate(1, type, owner)}; }

void Model::map_page(Gfn gfn, const P2mEntry& entry) {
  if (gfn.value >= Impl::kMaxGfn) return;
  impl_->map(gfn.value, entry.mfn.value, entry.type, entry.owner);
}

Mfn Model::zero_page() const { return Mfn{impl_->zero_mfn}; }

void Model::tick() {
  Impl& m = *impl_;
  if (m.blkback) m.blkback->tick();  // what dom0's blkback had in flight lands
  ++m.ticks;
  m.now_ns += kTickNs;

  // Which ports fire: every bound one, as if its peer had just signalled.
  xen_ulong_t pending[sizeof(xen_ulong_t) * 8] = {};
  xen_ulong_t sel = 0;
  for (size_t p = 1; p < m.ports.size() && p < EVTCHN_2L_NR_CHANNELS; ++p) {
    if (m.ports[p].state != PortState::kUnbound && m.ports[p].state != PortState::kInterdomain) continue;
    pending[p / 64] |= xen_ulong_t{1} << (p % 64);
    sel |= xen_ulong_t{1} << (p / 64);
  }
  auto update_vcpu = [&](vcpu_info_t& vi) {
    vi.time.version += 2;
    vi.time.system_time = m.now_ns;
    if (sel) {
      vi.evtchn_upcall_pending = 1;
      vi.evtchn_pending_sel |= sel;
    }
  };

  shared_info_t si;
  m.store.read(m.shared_info_mfn, 0, &si, sizeof si);
  si.wc_version += 2;
  si.wc_sec = static_cast<uint32_t>(m.wallclock_base_sec + m.now_ns / 1'000'000'000);
  si.wc_nsec = static_cast<uint32_t>(m.now_ns % 1'000'000'000);
  for (size_t i = 0; i < std::size(pending); ++i) si.evtchn_pending[i] |= pending[i];
  // vCPU 0's vcpu_info lives in shared_info until it is registered elsewhere.
  if (!m.vcpus[0].info_gfn) update_vcpu(si.vcpu_info[0]);
  m.store.write(m.shared_info_mfn, 0, &si, sizeof si);

  // Registered vcpu_info: the pinned machine page, whatever maps it now.
  for (const auto& v : m.vcpus) {
    if (!v.info_gfn) continue;
    vcpu_info_t vi;
    m.store.read(v.info_mfn, v.info_offset, &vi, sizeof vi);
    update_vcpu(vi);
    m.store.write(v.info_mfn, v.info_offset, &vi, sizeof vi);
  }

  // Grant frames: Xen writes the flags of the entries in use (a backend's
  // pins), and no other entry -- a frame's free entries are the guest's.
  if (m.grants) m.grants->restamp_pinned();
}

boards::RamBanks Model::ram() const { return impl_->ram; }

std::vector<PhysRange> Model::extended_regions() const {
  std::vector<PhysRange> regions;
  if (!impl_->config.extended_regions) return regions;
  const uint64_t reach = uint64_t{1} << impl_->config.ipa_bits;
  const PhysRange windows[] = {board::kRam0, board::kRam1};
  const boards::RamBanks& ram = impl_->ram;
  for (unsigned w = 0; w < 2; ++w) {
    const uint64_t used = w < ram.count ? ram.bank[w].size : 0;
    const uint64_t start = align_up(windows[w].base.value + used, uint64_t{2} << 20);
    const uint64_t end = std::min(windows[w].end().value, reach);
    if (end > start && end - start >= (uint64_t{64} << 20)) regions.push_back(PhysRange{GuestPhys{start}, end - start});
  }
  return regions;
}

std::optional<Gfn> Model::shared_info_dt_offer() const {
  const DomainConfig& c = impl_->config;
  if (c.shared_info_param != SharedInfoParam::kOffered || !c.shared_info_dt_property) return std::nullopt;
  return magic_gfn(c.shared_info_magic_offset);
}

const char* to_string(SharedInfoParam p) {
  switch (p) {
    case SharedInfoParam::kAbsent: return "absent";
    case SharedInfoParam::kOffered: return "offered";
    case SharedInfoParam::kZero: return "zero";
  }
  return "?";
}

std::optional<P2mEntry> Model::lookup(Gfn gfn) const {
  auto s = impl_->p2m.slot(gfn.value);
  if (!s || s->hole) return std::nullopt;
  return P2mEntry{Mfn{s->mfn}, s->type, s->owner};
}

bool Model::is_hole(Gfn gfn) const {
  auto s = impl_->p2m.slot(gfn.value);
  return s && s->hole;
}

std::vector<Gfn> Model::xen_written_gfns() const {
  const Impl& m = *impl_;
  std::vector<uint64_t> mfns{m.shared_info_mfn};
  for (uint32_t i = 0; i < m.grant_nr_frames; ++i) mfns.push_back(m.grant_mfn + i);
  for (const auto& v : m.vcpus)
    if (v.info_gfn) mfns.push_back(v.info_mfn);
  std::vector<Gfn> out;
  m.p2m.for_each([&](uint64_t g, uint64_t n, const P2mSlot& s) {
    if (s.hole) return;
    for (uint64_t mfn : mfns)
      if (mfn >= s.mfn && mfn - s.mfn < n) out.push_back(Gfn{g + (mfn - s.mfn)});
  });
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::optional<Gfn> Model::shared_info_gfn() const {
  if (!impl_->shared_info_gfn) return std::nullopt;
  return Gfn{*impl_->shared_info_gfn};
}

std::optional<Gfn> Model::vcpu_info_gfn(unsigned vcpu) const {
  if (vcpu >= impl_->vcpus.size() || !impl_->vcpus[vcpu].info_gfn) return std::nullopt;
  return Gfn{*impl_->vcpus[vcpu].info_gfn};
}

Mfn Model::shared_info_mfn() const { return Mfn{impl_->shared_info_mfn}; }
uint64_t Model::max_pages() const { return impl_->max_pages; }
uint64_t Model::tot_pages() const { return impl_->tot_pages; }
uint64_t Model::leaked_pages() const { return impl_->leaked; }
std::vector<Fault> Model::faults() const { return impl_->faults; }
size_t Model::touched_pages() const { return impl_->store.materialised(); }

namespace {
bool is_bound(const Port& p) { return p.state == PortState::kUnbound || p.state == PortState::kInterdomain; }
}  // namespace

unsigned Model::bound_evtchns() const {
  return static_cast<unsigned>(std::count_if(impl_->ports.begin(), impl_->ports.end(), is_bound));
}

std::vector<uint32_t> Model::bound_ports() const {
  std::vector<uint32_t> out;
  for (size_t p = 0; p < impl_->ports.size(); ++p)
    if (is_bound(impl_->ports[p])) out.push_back(static_cast<uint32_t>(p));
  return out;
}

const std::string& Model::console_output() const { return impl_->console; }
const std::string& Model::pv_console_output() const { return impl_->pv_console; }
const std::vector<std::string>& Model::ring_protocol_errors() const { return impl_->ring_errors; }
Model::PollCounts Model::polls() const { return impl_->polls; }

uint64_t Model::notifies(uint32_t port) const {
  auto it = impl_->notifies.find(port);
  return it == impl_->notifies.end() ? 0 : it->second;
}

// --- xl's PV console backend --------------------------------------------------

namespace {
using Ring = xencons_interface;
constexpr uint64_t kOutProd = offsetof(Ring, out_prod);
constexpr uint64_t kOutCons = offsetof(Ring, out_cons);
constexpr uint64_t kOut = offsetof(Ring, out);
constexpr uint32_t kOutSize = sizeof(Ring::out);
}  // namespace

void Model::Impl::note_write(uint64_t mfn, uint64_t offset, uint64_t len) {
  if (grants) grants->note_write(mfn, offset, len);
  if (xenstore) xenstore->note_write(mfn, offset, len);
  if (blkback) blkback->note_write(mfn, offset, len);
  if (console_mfn == 0 || mfn != console_mfn) return;
  uint64_t end = offset + len;
  if (offset < kOutProd + sizeof(uint32_t) && end > kOutProd && ring_unfenced.console)
    ring_errors.push_back("out_prod written while ring text written before it is not yet ordered by a barrier");
  if (offset < kOut + kOutSize && end > kOut) ring_unfenced = true;
}

void Model::Impl::drain_console() {
  if (console_mfn == 0 || !config.console_backend) return;
  uint32_t cons = 0, prod = 0;
  store.read(console_mfn, kOutCons, &cons, sizeof cons);
  store.read(console_mfn, kOutProd, &prod, sizeof prod);
  if (prod - cons > kOutSize) {
    ring_errors.push_back("out_prod " + std::to_string(prod) + " is more than a ring ahead of out_cons " +
                          std::to_string(cons));
    return;
  }
  for (; cons != prod; ++cons) {
    char c = 0;
    store.read(console_mfn, kOut + (cons & (kOutSize - 1)), &c, 1);
    pv_console.push_back(c);
  }
  store.write(console_mfn, kOutCons, &cons, sizeof cons);
}
std::optional<unsigned> Model::shutdown_reason() const { return impl_->shutdown; }
uint64_t Model::ticks() const { return impl_->ticks; }

void Model::read_mfn(Mfn mfn, uint64_t offset, void* dst, size_t len) const {
  auto* out = static_cast<uint8_t*>(dst);
  uint64_t page = mfn.value + offset / kPageSize;
  uint64_t off = offset % kPageSize;
  while (len) {
    size_t n = std::min<uint64_t>(len, kPageSize - off);
    impl_->store.read(page, off, out, n);
    out += n;
    len -= n;
    ++page;
    off = 0;
  }
}

P2mEntry Model::mfn_info(Mfn mfn) const {
  if (auto f = impl_->frames.info(mfn.value)) return *f;
  return P2mEntry{mfn, PageType::kForeign, Owner::kXen};
}

std::vector<Gfn> Model::pages_not_filled_with(PhysRange range, uint8_t byte, size_t limit) const {
  std::vector<Gfn> out;
  uint64_t count = range.page_count();
  if (count == 0 || limit == 0) return out;
  std::vector<uint64_t> mfns;
  impl_->p2m.visit(range.first_gfn().value, count, [&](uint64_t g, uint64_t n, const P2mSlot* s) {
    if (!s || s->hole) {
      for (uint64_t i = 0; i < n && out.size() < limit; ++i) out.push_back(Gfn{g + i});
    } else {
      mfns.clear();
      impl_->store.pages_not_filled_with(s->mfn, n, byte, limit - out.size(), mfns);
      for (uint64_t m : mfns) out.push_back(Gfn{g + (m - s->mfn)});
    }
    return out.size() < limit;
  });
  return out;
}

size_t Model::host_bytes() const {
  const Impl& m = *impl_;
  constexpr size_t kNode = 64;  // a std::map node with its payload, roughly
  return m.store.materialised() * (kPageSize + kNode) + m.store.runs() * kNode +
         m.p2m.extents() * kNode;
}

// --- dom0's backends --------------------------------------------------------

namespace {
// dom0's paths are absolute; a relative one is below the guest's home.
std::string store_path(const std::string& p) {
  return !p.empty() && p[0] == '/' ? p : XenstoreTwin::domain_path(Model::Impl::kDomid) + "/" + p;
}
}  // namespace

std::vector<GrantInfo> Model::active_grants() const { return impl_->grants->active(GNTTAB_NR_RESERVED_ENTRIES); }

std::vector<Gfn> Model::grant_frame_gfns() const {
  std::vector<Gfn> out;
  for (const auto& g : impl_->grant_gfn)
    if (g) out.push_back(Gfn{*g});
  return out;
}

int Model::backend_state() const { return impl_->blkback ? impl_->blkback->state() : -1; }
bool Model::backend_connected() const { return impl_->blkback && impl_->blkback->connected(); }

std::optional<Gfn> Model::backend_ring_gfn() const {
  if (!impl_->blkback) return std::nullopt;
  auto g = impl_->blkback->ring_gfn();
  return g ? std::optional<Gfn>(Gfn{*g}) : std::nullopt;
}

std::vector<Gfn> Model::backend_writable_gfns() const {
  std::vector<Gfn> out;
  if (impl_->blkback)
    for (uint64_t g : impl_->blkback->writable_gfns()) out.push_back(Gfn{g});
  return out;
}

std::vector<uint32_t> Model::backend_bound_ports() const {
  return impl_->blkback ? impl_->blkback->bound_ports() : std::vector<uint32_t>{};
}

std::optional<std::string> Model::xenstore_read(const std::string& path) const {
  return impl_->xenstore ? impl_->xenstore->read(store_path(path)) : std::nullopt;
}

std::vector<std::string> Model::xenstore_directory(const std::string& path) const {
  return impl_->xenstore ? impl_->xenstore->directory(store_path(path)) : std::vector<std::string>{};
}

void Model::xenstore_write(const std::string& path, const std::string& value) {
  if (impl_->xenstore) impl_->xenstore->write(store_path(path), value);
}

uint64_t Model::backend_requests() const { return impl_->blkback ? impl_->blkback->requests() : 0; }
unsigned Model::backend_max_in_flight() const { return impl_->blkback ? impl_->blkback->max_in_flight() : 0; }

std::vector<uint32_t> Model::loader_bound_ports() const {
  std::vector<uint32_t> out;
  for (uint32_t p : bound_ports())
    if (!(impl_->config.kind == DomainKind::kXl && (p == kXlConsolePort || p == kXlStorePort))) out.push_back(p);
  return out;
}

void Model::set_xenstore_reply_filter(std::function<void(uint32_t, std::string&)> f) {
  if (impl_->xenstore) impl_->xenstore->reply_filter = std::move(f);
}
void Model::set_xenstore_message_filter(std::function<void(XenstoreMessage&)> f) {
  if (impl_->xenstore) impl_->xenstore->message_filter = std::move(f);
}
void Model::set_blkback_response_filter(std::function<void(BlkbackResponse&)> f) {
  if (impl_->blkback) impl_->blkback->response_filter = std::move(f);
}

Gfn Model::magic_gfn(unsigned offset) { return Gfn{board::kMagic.base.gfn().value + offset}; }

const char* to_string(PageType t) {
  switch (t) {
    case PageType::kRamRw: return "ram_rw";
    case PageType::kRamRo: return "ram_ro";
    case PageType::kMmio: return "mmio";
    case PageType::kMagic: return "magic";
    case PageType::kXenShared: return "xen_shared";
    case PageType::kForeign: return "foreign";
  }
  return "?";
}

const char* to_string(Owner o) { return o == Owner::kGuest ? "guest" : "xen"; }

const char* to_string(FaultKind k) {
  switch (k) {
    case FaultKind::kHole: return "hole";
    case FaultKind::kUnmapped: return "unmapped";
    case FaultKind::kReadOnly: return "read-only";
    case FaultKind::kBusy: return "busy";
  }
  return "?";
}

}  // namespace mb::model
