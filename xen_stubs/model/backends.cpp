#include "backends.h"

#include <algorithm>
#include <cstring>

#include "boards/xen_arm64/board.h"
#include "model_impl.h"

namespace mb::model {
namespace {

namespace board = boards::xen_arm64;
using Ring = xenstore_domain_interface;
constexpr uint32_t kRing = XENSTORE_RING_SIZE;
constexpr uint16_t kDom0 = 0;
constexpr uint8_t kDmaByte = 0xb1;  // what a late backend write leaves

std::string full(const std::string& p) {
  return !p.empty() && p[0] == '/' ? p : "/local/domain/" + std::to_string(Model::Impl::kDomid) + "/" + p;
}

template <class T>
T rd(Model::Impl& m, uint64_t mfn, size_t off) {
  T v{};
  m.store.read(mfn, off, &v, sizeof v);
  return v;
}
template <class T>
void wr(Model::Impl& m, uint64_t mfn, size_t off, const T& v) {
  m.store.write(mfn, off, &v, sizeof v);
}

// --- the grant table, as Xen's gnttab_map_grant_ref sees it -----------------

uint64_t entry_mfn(Model::Impl& m, uint32_t ref) { return m.grant_mfn + ref / (kPageSize / 8); }
size_t entry_off(uint32_t ref) { return (ref % (kPageSize / 8)) * 8; }

// The guest page behind a grant dom0 may map (writable unless `ro`), with
// the entry's reading/writing flags set; nullopt when Xen would refuse.
std::optional<uint64_t> map_grant(Model::Impl& m, uint32_t ref, bool ro) {
  if (ref >= m.grant_nr_frames * (kPageSize / 8)) return std::nullopt;
  auto e = rd<grant_entry_v1_t>(m, entry_mfn(m, ref), entry_off(ref));
  if (!(e.flags & GTF_permit_access) || e.domid != kDom0 || (!ro && (e.flags & GTF_readonly))) return std::nullopt;
  auto s = m.p2m.slot(e.frame);
  if (!s || s->hole) return std::nullopt;
  auto f = m.frames.info(s->mfn);
  if (!f || f->owner != Owner::kGuest || (f->type != PageType::kRamRw && f->type != PageType::kMagic))
    return std::nullopt;
  e.flags |= GTF_reading | (ro ? 0 : GTF_writing);
  wr(m, entry_mfn(m, ref), entry_off(ref), e);
  return s->mfn;
}

void unmap_grant(Model::Impl& m, uint32_t ref) {
  auto e = rd<grant_entry_v1_t>(m, entry_mfn(m, ref), entry_off(ref));
  e.flags &= static_cast<uint16_t>(~(GTF_reading | GTF_writing));
  wr(m, entry_mfn(m, ref), entry_off(ref), e);
}

// --- xenstored ---------------------------------------------------------------

std::string answer(Model::Impl& m, Backends& b, uint32_t& type, uint32_t tx, const std::string& body) {
  auto err = [&type](const char* e) {
    type = XS_ERROR;
    return std::string(e) + '\0';
  };
  const std::string path = full(body.substr(0, body.find('\0')));
  switch (type) {
    case XS_READ: {
      auto it = b.tree.find(path);
      return it == b.tree.end() ? err("ENOENT") : it->second;
    }
    case XS_WRITE: {
      const size_t nul = body.find('\0');
      if (nul == std::string::npos) return err("EINVAL");
      b.tree[path] = body.substr(nul + 1);
      return std::string("OK") + '\0';
    }
    case XS_MKDIR:
      b.tree.emplace(path, "");
      return std::string("OK") + '\0';
    case XS_RM: {
      if (!b.tree.count(path)) return err("ENOENT");
      for (auto it = b.tree.lower_bound(path); it != b.tree.end() && it->first.rfind(path, 0) == 0;)
        it = (it->first == path || it->first[path.size()] == '/') ? b.tree.erase(it) : std::next(it);
      return std::string("OK") + '\0';
    }
    case XS_DIRECTORY: {
      std::string out;
      std::string last;
      for (auto it = b.tree.upper_bound(path + "/"); it != b.tree.end() && it->first.rfind(path + "/", 0) == 0; ++it) {
        std::string child = it->first.substr(path.size() + 1);
        child = child.substr(0, child.find('/'));
        if (child != last) out += child + '\0';
        last = child;
      }
      if (out.empty() && !b.tree.count(path)) return err("ENOENT");
      return out;
    }
    case XS_TRANSACTION_START:
      return std::to_string(b.next_tx++) + '\0';
    case XS_TRANSACTION_END:
      // Writes in a transaction were applied as they came: nobody else
      // writes the guest's device directory meanwhile, so every commit
      // succeeds (xenstored would answer EAGAIN only on a conflict).
      (void)tx;
      return std::string("OK") + '\0';
    case XS_WATCH:
    case XS_UNWATCH:
      return std::string("OK") + '\0';
    default:
      (void)m;
      return err("EINVAL");
  }
}

void serve_xenstore(Model::Impl& m, Backends& b) {
  if (b.store_mfn == 0 || b.store_broken || !m.config.xenstore_answers) return;
  for (;;) {
    // What is waiting to go out first.
    if (!b.pending_reply.empty()) {
      const uint32_t cons = rd<uint32_t>(m, b.store_mfn, offsetof(Ring, rsp_cons));
      uint32_t prod = rd<uint32_t>(m, b.store_mfn, offsetof(Ring, rsp_prod));
      if (prod - cons > kRing) {
        b.store_broken = true;
        m.ring_errors.push_back("xenstore: rsp_cons " + std::to_string(cons) + " is more than a ring behind rsp_prod " +
                                std::to_string(prod));
        return;
      }
      size_t n = std::min<size_t>(b.pending_reply.size(), kRing - (prod - cons));
      for (size_t i = 0; i < n; ++i, ++prod)
        wr<char>(m, b.store_mfn, offsetof(Ring, rsp) + (prod & (kRing - 1)), b.pending_reply[i]);
      wr(m, b.store_mfn, offsetof(Ring, rsp_prod), prod);
      b.pending_reply.erase(0, n);
      if (!b.pending_reply.empty()) return;  // the guest must make room
    }
    const uint32_t cons = rd<uint32_t>(m, b.store_mfn, offsetof(Ring, req_cons));
    const uint32_t prod = rd<uint32_t>(m, b.store_mfn, offsetof(Ring, req_prod));
    if (prod - cons > kRing) {
      b.store_broken = true;
      m.ring_errors.push_back("xenstore: req_prod " + std::to_string(prod) + " is more than a ring ahead of req_cons " +
                              std::to_string(cons));
      return;
    }
    if (prod - cons < sizeof(xsd_sockmsg)) return;
    xsd_sockmsg h;
    for (size_t i = 0; i < sizeof h; ++i)
      reinterpret_cast<char*>(&h)[i] = rd<char>(m, b.store_mfn, offsetof(Ring, req) + ((cons + i) & (kRing - 1)));
    if (h.len > XENSTORE_PAYLOAD_MAX) {
      b.store_broken = true;
      m.ring_errors.push_back("xenstore: a request of " + std::to_string(h.len) + " bytes");
      return;
    }
    if (prod - cons < sizeof h + h.len) return;  // the rest is still coming
    std::string body(h.len, '\0');
    for (size_t i = 0; i < h.len; ++i)
      body[i] = rd<char>(m, b.store_mfn, offsetof(Ring, req) + ((cons + sizeof h + i) & (kRing - 1)));
    wr(m, b.store_mfn, offsetof(Ring, req_cons), static_cast<uint32_t>(cons + sizeof h + h.len));
    uint32_t type = h.type;
    std::string payload = answer(m, b, type, h.tx_id, body);
    if (b.reply_filter) b.reply_filter(type, payload);
    xsd_sockmsg r{type, h.req_id, h.tx_id, static_cast<uint32_t>(payload.size())};
    b.pending_reply.append(reinterpret_cast<const char*>(&r), sizeof r);
    b.pending_reply += payload;
  }
}

// --- blkback -----------------------------------------------------------------

std::string get(Backends& b, const std::string& path) {
  auto it = b.tree.find(path);
  return it == b.tree.end() ? "" : it->second;
}
int state(Backends& b, const std::string& dir) {
  const std::string s = get(b, dir + "/state");
  return s.empty() ? 0 : std::atoi(s.c_str());
}
void set_state(Backends& b, int s) { b.tree[b.be + "/state"] = std::to_string(s); }

uint64_t ring_mfn(Model::Impl& m, Backends& b) {
  auto s = m.p2m.slot(b.ring_gfn);
  return s && !s->hole ? s->mfn : 0;
}

void connect(Model::Impl& m, Backends& b) {
  const std::string ref = get(b, b.fe + "/ring-ref"), port = get(b, b.fe + "/event-channel"),
                    proto = get(b, b.fe + "/protocol");
  auto fatal = [&](const std::string& why) {
    b.tree[b.be + "/error"] = why;
    set_state(b, XenbusStateClosing);
  };
  if (ref.empty() || port.empty()) return fatal("reading ring-ref/event-channel");
  if (!proto.empty() && proto != XEN_IO_PROTO_ABI_ARM) return fatal("unknown fe protocol " + proto);
  b.ring_ref = static_cast<uint32_t>(std::stoul(ref));
  auto e = rd<grant_entry_v1_t>(m, entry_mfn(m, b.ring_ref), entry_off(b.ring_ref));
  if (!map_grant(m, b.ring_ref, false)) return fatal("mapping ring-ref " + ref);
  b.ring_gfn = e.frame;
  const uint32_t p = static_cast<uint32_t>(std::stoul(port));
  if (p >= m.ports.size() || m.ports[p].state != PortState::kUnbound || m.ports[p].remote != kDom0) {
    unmap_grant(m, b.ring_ref);
    return fatal("binding port " + port);
  }
  m.ports[p] = Port{PortState::kInterdomain, kDom0};
  b.port = p;
  b.connected = true;
  b.req_cons = b.rsp_prod = rd<uint32_t>(m, ring_mfn(m, b), offsetof(blkif_sring, req_prod));
  set_state(b, XenbusStateConnected);
}

void disconnect(Model::Impl& m, Backends& b) {
  if (!b.connected) return;
  unmap_grant(m, b.ring_ref);
  // The other end of an interdomain channel closed: the guest's port is
  // unbound again (Xen's evtchn_close on the remote side).
  if (b.port < m.ports.size() && m.ports[b.port].state == PortState::kInterdomain)
    m.ports[b.port] = Port{PortState::kUnbound, kDom0};
  b.connected = false;
  b.port = 0;
}

int16_t do_read(Model::Impl& m, Backends& b, const blkif_request_t& req) {
  const DiskConfig& d = *m.config.disk;
  if (req.operation != BLKIF_OP_READ) return BLKIF_RSP_EOPNOTSUPP;
  if (req.nr_segments == 0 || req.nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST) return BLKIF_RSP_ERROR;
  uint64_t sector = req.sector_number;
  for (unsigned i = 0; i < req.nr_segments; ++i) {
    const blkif_request_segment& s = req.seg[i];
    if (s.first_sect > s.last_sect || s.last_sect >= kPageSize / 512) return BLKIF_RSP_ERROR;
    const uint64_t n = s.last_sect - s.first_sect + 1;
    if ((sector + n) * 512 > d.image.size()) return BLKIF_RSP_ERROR;
    auto mfn = map_grant(m, s.gref, false);
    if (!mfn) return BLKIF_RSP_ERROR;
    m.store.write(*mfn, s.first_sect * 512, d.image.data() + sector * 512, n * 512);
    unmap_grant(m, s.gref);
    sector += n;
  }
  (void)b;
  return BLKIF_RSP_OKAY;
}

void serve_ring(Model::Impl& m, Backends& b) {
  const uint64_t ring = ring_mfn(m, b);
  if (!b.connected || ring == 0) return;
  const uint32_t prod = rd<uint32_t>(m, ring, offsetof(blkif_sring, req_prod));
  if (prod - b.req_cons > 32) {
    m.ring_errors.push_back("blkif: req_prod " + std::to_string(prod) + " is more than a ring ahead");
    return;
  }
  b.max_in_flight = std::max(b.max_in_flight, prod - b.req_cons);
  constexpr size_t kSlot = sizeof(blkif_sring_entry);
  for (; b.req_cons != prod; ++b.req_cons) {
    blkif_request_t req;
    m.store.read(ring, offsetof(blkif_sring, ring) + (b.req_cons % 32) * kSlot, &req, sizeof req);
    BlkbackResponse r{req.id, req.operation, do_read(m, b, req)};
    if (b.response_filter) b.response_filter(r);
    blkif_response_t rsp{};
    rsp.id = r.id;
    rsp.operation = r.operation;
    rsp.status = r.status;
    m.store.write(ring, offsetof(blkif_sring, ring) + (b.rsp_prod % 32) * kSlot, &rsp, sizeof rsp);
    ++b.rsp_prod;
    ++b.requests;
  }
  wr(m, ring, offsetof(blkif_sring, rsp_prod), b.rsp_prod);
}

void run_blkback(Model::Impl& m, Backends& b) {
  if (b.fe.empty()) return;
  const int fe = state(b, b.fe), be = state(b, b.be);
  if (be == XenbusStateInitWait && (fe == XenbusStateInitialised || fe == XenbusStateConnected)) {
    if (m.config.disk->backend_connects) connect(m, b);
  } else if (be == XenbusStateConnected && fe == XenbusStateClosing) {
    set_state(b, XenbusStateClosing);
  } else if (fe == XenbusStateClosed && be != XenbusStateClosed) {
    disconnect(m, b);
    set_state(b, XenbusStateClosed);  // online: it stays, for the next frontend
  } else if (fe == XenbusStateInitialising && be == XenbusStateClosed) {
    set_state(b, XenbusStateInitWait);
  }
  serve_ring(m, b);
}

}  // namespace

void backends_init(Model::Impl& m) {
  m.backends = std::make_unique<Backends>();
  Backends& b = *m.backends;
  if (m.config.kind != DomainKind::kXl) return;
  auto s = m.p2m.slot(Model::magic_gfn(board::kMagicXenstore).value);
  b.store_mfn = s ? s->mfn : 0;
  Ring ring{};
  ring.connection = XENSTORE_CONNECTED;
  m.store.write(b.store_mfn, 0, &ring, sizeof ring);
  const std::string me = full("");
  auto put = [&b](const std::string& k, const std::string& v) { b.tree[k] = v; };
  put(me + "name", "guest");
  put(me + "domid", std::to_string(Model::Impl::kDomid));
  put(me + "memory/static-max", std::to_string(m.config.ram_bytes >> 10));
  put(me + "memory/target", std::to_string(m.config.ram_bytes >> 10));
  put(me + "console/ring-ref", std::to_string(m.params[HVM_PARAM_CONSOLE_PFN]));
  put(me + "console/port", std::to_string(m.params[HVM_PARAM_CONSOLE_EVTCHN]));
  put(me + "store/ring-ref", std::to_string(m.params[HVM_PARAM_STORE_PFN]));
  put(me + "store/port", std::to_string(m.params[HVM_PARAM_STORE_EVTCHN]));
  if (!m.config.disk) return;
  const DiskConfig& d = *m.config.disk;
  const std::string v = std::to_string(d.vdev);
  b.fe = me + "device/vbd/" + v;
  b.be = "/local/domain/0/backend/vbd/" + std::to_string(Model::Impl::kDomid) + "/" + v;
  put(b.fe + "/backend", b.be);
  put(b.fe + "/backend-id", "0");
  put(b.fe + "/state", std::to_string(XenbusStateInitialising));
  put(b.fe + "/virtual-device", v);
  put(b.fe + "/device-type", "disk");
  put(b.be + "/frontend", b.fe);
  put(b.be + "/frontend-id", std::to_string(Model::Impl::kDomid));
  put(b.be + "/online", "1");
  put(b.be + "/state", std::to_string(XenbusStateInitWait));
  put(b.be + "/mode", "r");
  put(b.be + "/type", "phy");
  // blkback counts 512-byte sectors whatever the sector size.
  put(b.be + "/sectors", std::to_string(d.image.size() / 512));
  put(b.be + "/sector-size", std::to_string(d.sector_size));
  put(b.be + "/info", std::to_string(VDISK_READONLY));
  put(b.be + "/feature-flush-cache", "0");
}

void backends_run(Model::Impl& m) {
  if (!m.backends) return;
  // blkback first: it sees what the store held before this turn's writes,
  // as a watch fires after the write, in dom0's own time.
  run_blkback(m, *m.backends);
  serve_xenstore(m, *m.backends);
}

void backends_tick(Model::Impl& m) {
  if (!m.backends) return;
  Backends& b = *m.backends;
  if (b.connected)
    if (uint64_t ring = ring_mfn(m, b)) {
      const uint8_t late[sizeof(blkif_response_t)] = {kDmaByte, kDmaByte, kDmaByte, kDmaByte};
      m.store.write(ring, offsetof(blkif_sring, ring), late, sizeof late);
    }
  // Every page still granted to dom0 writable: blkback may DMA into it.
  const uint32_t n = m.grant_nr_frames * (kPageSize / 8);
  for (uint32_t ref = 0; ref < n; ++ref) {
    auto e = rd<grant_entry_v1_t>(m, entry_mfn(m, ref), entry_off(ref));
    if (!(e.flags & GTF_permit_access) || (e.flags & GTF_readonly) || e.domid != kDom0 || ref < 8) continue;
    if (auto mfn = map_grant(m, ref, false)) {
      const uint8_t dma[8] = {kDmaByte, kDmaByte, kDmaByte, kDmaByte, kDmaByte, kDmaByte, kDmaByte, kDmaByte};
      m.store.write(*mfn, 0, dma, sizeof dma);
      unmap_grant(m, ref);
    }
  }
}

// --- the introspection API ------------------------------------------------------

std::vector<GrantInfo> Model::active_grants() const {
  std::vector<GrantInfo> out;
  Impl& m = *impl_;
  const uint32_t n = m.grant_nr_frames * (kPageSize / 8);
  for (uint32_t ref = 8; ref < n; ++ref) {
    auto e = rd<grant_entry_v1_t>(m, entry_mfn(m, ref), entry_off(ref));
    if (e.flags & (GTF_permit_access | GTF_reading | GTF_writing)) out.push_back({ref, e.flags, e.domid, e.frame});
  }
  return out;
}

std::vector<Gfn> Model::grant_frame_gfns() const {
  std::vector<Gfn> out;
  for (const auto& g : impl_->grant_gfn)
    if (g) out.push_back(Gfn{*g});
  return out;
}

int Model::backend_state() const {
  Backends& b = *impl_->backends;
  return b.fe.empty() ? -1 : state(b, b.be);
}
bool Model::backend_connected() const { return impl_->backends->connected; }
std::optional<Gfn> Model::backend_ring_gfn() const {
  return impl_->backends->connected ? std::optional<Gfn>(Gfn{impl_->backends->ring_gfn}) : std::nullopt;
}

std::vector<Gfn> Model::backend_writable_gfns() const {
  std::vector<Gfn> out;
  if (auto r = backend_ring_gfn()) out.push_back(*r);
  for (const GrantInfo& g : active_grants())
    if ((g.flags & GTF_permit_access) && !(g.flags & GTF_readonly) && g.domid == kDom0) out.push_back(Gfn{g.frame});
  return out;
}

std::optional<std::string> Model::xenstore_read(const std::string& path) const {
  auto it = impl_->backends->tree.find(full(path));
  return it == impl_->backends->tree.end() ? std::nullopt : std::optional<std::string>(it->second);
}
uint64_t Model::backend_requests() const { return impl_->backends->requests; }
unsigned Model::backend_max_in_flight() const { return impl_->backends->max_in_flight; }

std::vector<uint32_t> Model::loader_bound_ports() const {
  std::vector<uint32_t> out;
  for (uint32_t p : bound_ports())
    if (!(impl_->config.kind == DomainKind::kXl && (p == kXlConsolePort || p == kXlStorePort))) out.push_back(p);
  return out;
}

void Model::set_xenstore_reply_filter(std::function<void(uint32_t, std::string&)> f) {
  impl_->backends->reply_filter = std::move(f);
}
void Model::set_blkback_response_filter(std::function<void(BlkbackResponse&)> f) {
  impl_->backends->response_filter = std::move(f);
}

}  // namespace mb::model
