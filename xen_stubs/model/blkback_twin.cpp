#include "blkback_twin.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace mb::model {
namespace {

constexpr uint32_t kGuest = Model::Impl::kDomid;
constexpr domid_t kDom0 = 0;
constexpr uint32_t kSector = 512;  // blkif counts 512-byte sectors, whatever the disk's
constexpr uint32_t kSectorsPerPage = kPageSize / kSector;
constexpr uint32_t kSegsPerIndirectPage = kPageSize / sizeof(blkif_request_segment);
constexpr unsigned kMaxQueues = 1;
constexpr unsigned kMaxRingOrder = 4;  // XENBUS_MAX_RING_GRANT_ORDER
constexpr size_t kMaxPersistentGrants = 1056;  // xen_blkif_max_pgrants' default
constexpr uint64_t kSlots = offsetof(blkif_sring, ring);
constexpr size_t kSlot = sizeof(blkif_sring_entry);
constexpr uint8_t kDmaByte = 0xb1;  // what a late backend write leaves
constexpr uint64_t kLateId = 0xb1b1b1b1b1b1b1b1;
static_assert(sizeof(blkif_request_t) == 112 && kSlot == 112 && kSlots == 64, "arm64's native blkif layout");
static_assert(sizeof(blkif_request_indirect_t) <= sizeof(blkif_request_t));

using Perm = XenstoreTwin::Perm;

// xenbus_scanf("%u"): digits after optional blanks and sign; nullopt: none.
std::optional<unsigned> parse_uint(const std::optional<std::string>& s) {
  if (!s) return std::nullopt;
  size_t i = s->find_first_not_of(" \t\n");
  if (i == std::string::npos) return std::nullopt;
  bool neg = false;
  if ((*s)[i] == '+' || (*s)[i] == '-') neg = (*s)[i++] == '-';
  if (i >= s->size() || (*s)[i] < '0' || (*s)[i] > '9') return std::nullopt;
  uint32_t v = 0;
  for (; i < s->size() && (*s)[i] >= '0' && (*s)[i] <= '9'; ++i) v = v * 10 + static_cast<uint32_t>((*s)[i] - '0');
  return neg ? 0u - v : v;
}

// xenbus_read_driver_state(): the state key read with "%d", Unknown if not.
int driver_state(const std::optional<std::string>& s) {
  auto v = parse_uint(s);
  return v ? static_cast<int>(*v) : XenbusStateUnknown;
}

}  // namespace

BlkbackTwin::BlkbackTwin(Model::Impl& m, XenstoreTwin& xs, GrantTwin& gnt, const DiskConfig& disk)
    : m_(m), xs_(xs), gnt_(gnt), disk_(disk) {
  disk_.max_ring_page_order = std::min(disk_.max_ring_page_order, kMaxRingOrder);
  const std::string v = std::to_string(disk.vdev);
  const std::string id = std::to_string(kGuest);
  fe_ = XenstoreTwin::domain_path(kGuest) + "/device/vbd/" + v;
  be_ = XenstoreTwin::domain_path(0) + "/backend/vbd/" + id + "/" + v;
  error_path_ = XenstoreTwin::domain_path(0) + "/error/backend/vbd/" + id + "/" + v + "/error";

  // libxl__device_generic_add: the frontend is the guest's and dom0 may read
  // it, the backend is dom0's and the guest may read it.
  xs_.mkdir(fe_, {Perm{kGuest, 0}, Perm{0, XenstoreTwin::kRead}});
  xs_.write(fe_ + "/backend", be_);
  xs_.write(fe_ + "/backend-id", "0");
  xs_.write(fe_ + "/state", std::to_string(XenbusStateInitialising));
  xs_.write(fe_ + "/virtual-device", v);
  xs_.write(fe_ + "/device-type", "disk");
  xs_.mkdir(be_, {Perm{0, 0}, Perm{kGuest, XenstoreTwin::kRead}});
  xs_.write(be_ + "/frontend", fe_);
  xs_.write(be_ + "/frontend-id", id);
  xs_.write(be_ + "/online", "1");
  xs_.write(be_ + "/state", std::to_string(XenbusStateInitialising));
  xs_.write(be_ + "/mode", "r");
  xs_.write(be_ + "/removable", "0");
  xs_.write(be_ + "/type", "phy");
  xs_.write(be_ + "/device-type", "disk");

  // xen_blkbk_probe: the features, then InitWait; xenbus then watches the
  // frontend's state (the watch fires once at once: Initialising, nothing to do).
  if (disk_.max_indirect_segments)
    xs_.write(be_ + "/feature-max-indirect-segments", std::to_string(disk_.max_indirect_segments));
  xs_.write(be_ + "/multi-queue-max-queues", std::to_string(kMaxQueues));
  if (disk_.max_ring_page_order)
    xs_.write(be_ + "/max-ring-page-order", std::to_string(disk_.max_ring_page_order));
  switch_state(XenbusStateInitWait);
  xs_.watch(fe_ + "/state", "otherend");
}

std::optional<std::string> BlkbackTwin::fe_read(const std::string& key) const { return xs_.read(fe_ + "/" + key); }
std::optional<unsigned> BlkbackTwin::fe_uint(const std::string& key) const { return parse_uint(fe_read(key)); }

int BlkbackTwin::state() const { return driver_state(xs_.read(be_ + "/state")); }

void BlkbackTwin::switch_state(int s) {
  if (s == state_) return;
  // xenbus_switch_state writes only a state that is there to change.
  if (!xs_.read(be_ + "/state")) return;
  state_ = s;
  xs_.write(be_ + "/state", std::to_string(s));
}

void BlkbackTwin::fatal(int err, const std::string& what) {
  // xenbus_dev_fatal: "<-err> <message>" under dom0's error/, then Closing.
  xs_.write(error_path_, std::to_string(err) + " " + what);
  switch_state(XenbusStateClosing);
}

// --- the xenbus state machine --------------------------------------------------

void BlkbackTwin::run() {
  for (size_t n = xs_.take_events("otherend").size(); n > 0; --n)
    frontend_changed(driver_state(xs_.read(fe_ + "/state")));
  serve();
}

void BlkbackTwin::frontend_changed(int fe) {
  if (gone_ || !disk_.backend_connects) return;  // a dead backend answers nothing
  switch (fe) {
    case XenbusStateInitialising:
      if (state_ == XenbusStateClosed) switch_state(XenbusStateInitWait);  // ready for the next frontend
      break;
    case XenbusStateInitialised:
    case XenbusStateConnected:
      // Two watches in quick succession: already connected is fine.
      if (state_ == XenbusStateConnected) break;
      disconnect();
      if (!connect_ring()) {
        disconnect();
        break;
      }
      connect();
      break;
    case XenbusStateClosing:
      switch_state(XenbusStateClosing);
      break;
    case XenbusStateClosed:
      disconnect();
      switch_state(XenbusStateClosed);
      if (parse_uint(xs_.read(be_ + "/online")).value_or(0) != 0) break;
      gone_ = true;  // not online: the device is unregistered
      break;
    case XenbusStateUnknown:
      disconnect();
      switch_state(XenbusStateClosed);
      gone_ = true;
      break;
    default:
      fatal(EINVAL, "saw state " + std::to_string(fe) + " at frontend");
      break;
  }
}

bool BlkbackTwin::connect_ring() {
  // connect_ring(): the protocol first. On arm64 the native one is arm-abi.
  const auto proto = fe_read("protocol");
  const int scanned = proto ? 1 : -ENOENT;  // what xenbus_scanf answered, printed by the fatals below
  if (proto && *proto != XEN_IO_PROTO_ABI_ARM) {
    fatal(-scanned, "unknown fe protocol " + *proto);
    return false;
  }
  const bool persistent = fe_uint("feature-persistent").value_or(0) != 0;
  const unsigned queues = fe_uint("multi-queue-num-queues").value_or(1);
  if (queues == 0 || queues > kMaxQueues) {
    fatal(-scanned, "guest requested " + std::to_string(queues) + " queues, exceeding the maximum of " +
                        std::to_string(kMaxQueues) + ".");
    return false;
  }

  // read_per_ring_refs()
  const auto evtchn = fe_uint("event-channel");
  if (!evtchn) {
    fatal(EINVAL, "reading " + fe_ + "/event-channel");
    return false;
  }
  std::vector<uint32_t> refs;
  if (const auto order = fe_uint("ring-page-order")) {
    if (*order > disk_.max_ring_page_order) {
      fatal(EINVAL, fe_ + "/request " + std::to_string(*order) + " ring page order exceed max:" +
                        std::to_string(disk_.max_ring_page_order));
      return false;
    }
    for (unsigned i = 0; i < (1u << *order); ++i) {
      const auto ref = fe_uint("ring-ref" + std::to_string(i));
      if (!ref) {
        fatal(EINVAL, "reading " + fe_ + "/ring-ref" + std::to_string(i));
        return false;
      }
      refs.push_back(*ref);
    }
  } else {
    const auto ref = fe_uint("ring-ref");
    if (!ref) {
      fatal(EINVAL, "reading " + fe_ + "/ring-ref");
      return false;
    }
    refs.push_back(*ref);
  }

  // xen_blkif_map(): the ring's pages, then its indices, then the port.
  const std::string port_msg = "mapping ring-ref port " + std::to_string(*evtchn);
  std::vector<GrantTwin::Mapped> ring;
  auto unmap_ring = [&] {
    for (size_t i = 0; i < ring.size(); ++i) gnt_.unmap(refs[i], false);
  };
  for (uint32_t ref : refs) {
    GrantTwin::Mapped page;
    const int16_t st = gnt_.map(ref, kDom0, false, &page);
    if (st != GNTST_okay) {
      xs_.write(error_path_, std::to_string(-st) + " mapping in shared page " + std::to_string(ref) +
                                 " from domain " + std::to_string(kGuest));
      unmap_ring();
      fatal(ENOENT, port_msg);
      return false;
    }
    ring.push_back(page);
  }
  uint32_t req_prod = 0, rsp_prod = 0;
  m_.store.read(ring[0].mfn, offsetof(blkif_sring, req_prod), &req_prod, sizeof req_prod);
  m_.store.read(ring[0].mfn, offsetof(blkif_sring, rsp_prod), &rsp_prod, sizeof rsp_prod);
  const auto slots = static_cast<uint32_t>(__CONST_RING_SIZE(blkif, kPageSize * ring.size()));
  // BACK_RING_ATTACH at the ring's rsp_prod; more requests than fit is -EIO.
  if (req_prod - rsp_prod > slots) {
    unmap_ring();
    fatal(EIO, port_msg);
    return false;
  }
  // bind_interdomain: the guest's port, unbound and offered to dom0.
  const uint32_t p = *evtchn;
  if (p >= m_.ports.size() || m_.ports[p].state != PortState::kUnbound || m_.ports[p].remote != kDom0) {
    unmap_ring();
    fatal(EINVAL, port_msg);
    return false;
  }
  m_.ports[p] = Port{PortState::kInterdomain, kDom0};
  Conn c;
  c.ring_refs = refs;
  c.ring = std::move(ring);
  c.slots = slots;
  c.port = p;
  c.req_cons = c.rsp_prod_pvt = rsp_prod;
  c.persistent = persistent;
  conn_ = std::move(c);
  return true;
}

void BlkbackTwin::connect() {
  // connect(): what the frontend needs, in one transaction, then Connected.
  const uint64_t sectors = disk_.image.size() / kSector;
  xs_.write(be_ + "/feature-flush-cache", "0");
  xs_.write(be_ + "/feature-barrier", "0");
  xs_.write(be_ + "/feature-persistent", "1");
  xs_.write(be_ + "/sectors", std::to_string(sectors));
  xs_.write(be_ + "/info", std::to_string(VDISK_READONLY));
  xs_.write(be_ + "/sector-size", std::to_string(disk_.sector_size));
  xs_.write(be_ + "/physical-sector-size", std::to_string(disk_.sector_size));
  switch_state(XenbusStateConnected);
}

bool BlkbackTwin::bound() const {
  return conn_ && conn_->port < m_.ports.size() && m_.ports[conn_->port].state == PortState::kInterdomain &&
         m_.ports[conn_->port].remote == kDom0;
}

void BlkbackTwin::disconnect() {
  if (!conn_) return;
  // xen_blkif_disconnect(): unbind (the guest's end of an interdomain
  // channel whose other end closes is unbound again), drop the persistent
  // grants, unmap the ring.
  if (bound()) m_.ports[conn_->port] = Port{PortState::kUnbound, kDom0};
  for (const auto& [ref, page] : conn_->pgrants) gnt_.unmap(ref, false);
  for (uint32_t ref : conn_->ring_refs) gnt_.unmap(ref, false);
  conn_.reset();
}

// --- the ring ------------------------------------------------------------------

void BlkbackTwin::ring_read(uint64_t at, void* dst, size_t len) const {
  auto* out = static_cast<uint8_t*>(dst);
  while (len > 0) {
    const size_t page = at / kPageSize, off = at % kPageSize;
    const size_t n = std::min<size_t>(len, kPageSize - off);
    if (page < conn_->ring.size()) m_.store.read(conn_->ring[page].mfn, off, out, n);
    out += n;
    at += n;
    len -= n;
  }
}

void BlkbackTwin::ring_write(uint64_t at, const void* src, size_t len) {
  const auto* in = static_cast<const uint8_t*>(src);
  while (len > 0) {
    const size_t page = at / kPageSize, off = at % kPageSize;
    const size_t n = std::min<size_t>(len, kPageSize - off);
    if (page < conn_->ring.size()) m_.store.write(conn_->ring[page].mfn, off, in, n);
    in += n;
    at += n;
    len -= n;
  }
}

void BlkbackTwin::serve() {
  if (!conn_ || conn_->halted) return;
  Conn& c = *conn_;
  for (;;) {
    uint32_t rp = 0;
    ring_read(offsetof(blkif_sring, req_prod), &rp, sizeof rp);
    if (rp - c.rsp_prod_pvt > c.slots) {
      m_.ring_errors.push_back("blkif: frontend provided bogus ring requests (req_prod " + std::to_string(rp) +
                               ", rsp_prod " + std::to_string(c.rsp_prod_pvt) + ", " + std::to_string(c.slots) +
                               " slots): ring halted");
      c.halted = true;
      return;
    }
    max_in_flight_ = std::max(max_in_flight_, rp - c.req_cons);
    const unsigned limit = disk_.answers_per_turn;
    for (unsigned answered = 0; c.req_cons != rp && c.req_cons - c.rsp_prod_pvt < c.slots; ++answered) {
      if (limit != 0 && answered == limit) return;  // the rest next turn, as if still in flight
      blkif_request_t req;
      ring_read(kSlots + uint64_t{c.req_cons % c.slots} * kSlot, &req, sizeof req);
      ++c.req_cons;
      ++requests_;
      uint8_t op = req.operation;
      const int16_t status = dispatch(req, op);
      make_response(req.id, op, status);
    }
    // RING_FINAL_CHECK_FOR_REQUESTS: ask for an event at the next request.
    const uint32_t event = c.req_cons + 1;
    ring_write(offsetof(blkif_sring, req_event), &event, sizeof event);
    ring_read(offsetof(blkif_sring, req_prod), &rp, sizeof rp);
    if (rp == c.req_cons) return;
  }
}

int16_t BlkbackTwin::dispatch(const blkif_request_t& req, uint8_t& op) {
  switch (req.operation) {
    case BLKIF_OP_READ:
    case BLKIF_OP_WRITE:
    case BLKIF_OP_WRITE_BARRIER:
    case BLKIF_OP_FLUSH_DISKCACHE:
      break;
    case BLKIF_OP_INDIRECT:
      if (disk_.max_indirect_segments == 0) return BLKIF_RSP_EOPNOTSUPP;  // never offered
      break;
    case BLKIF_OP_DISCARD: {
      // dispatch_discard_io: no secure discard offered; the disk is read-only.
      blkif_request_discard_t d;
      memcpy(&d, &req, sizeof d);
      return (d.flag & BLKIF_DISCARD_SECURE) ? BLKIF_RSP_EOPNOTSUPP : BLKIF_RSP_ERROR;
    }
    default:
      return BLKIF_RSP_EOPNOTSUPP;  // dispatch_other_io
  }
  // dispatch_rw_block_io()
  blkif_request_indirect_t ind;
  memcpy(&ind, &req, sizeof ind);
  const bool indirect = req.operation == BLKIF_OP_INDIRECT;
  op = indirect ? ind.indirect_op : req.operation;
  if (indirect && op != BLKIF_OP_READ && op != BLKIF_OP_WRITE) return BLKIF_RSP_ERROR;
  const bool flush = op == BLKIF_OP_WRITE_BARRIER || op == BLKIF_OP_FLUSH_DISKCACHE;
  const unsigned nseg = indirect ? ind.nr_segments : req.nr_segments;
  if ((nseg == 0 && !flush) || (!indirect && nseg > BLKIF_MAX_SEGMENTS_PER_REQUEST) ||
      (indirect && nseg > disk_.max_indirect_segments))
    return BLKIF_RSP_ERROR;
  const uint64_t sector = indirect ? ind.sector_number : req.sector_number;
  std::vector<Segment> segs;
  if (!indirect) {
    for (unsigned i = 0; i < nseg; ++i) segs.push_back({req.seg[i].gref, req.seg[i].first_sect, req.seg[i].last_sect});
  } else {
    // xen_blkbk_parse_indirect: the indirect pages, mapped read-only (or
    // persistently) while the segments are read out of them.
    const unsigned pages = (nseg + kSegsPerIndirectPage - 1) / kSegsPerIndirectPage;
    if (pages > BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST) return BLKIF_RSP_ERROR;
    std::vector<std::pair<uint32_t, GrantTwin::Mapped>> mapped;
    bool ok = true;
    for (unsigned i = 0; i < pages && ok; ++i) {
      GrantTwin::Mapped page;
      if (conn_->persistent) {
        bool transient = false;
        auto p = map_data(ind.indirect_grefs[i], transient);
        ok = p.has_value();
        if (ok) page = *p;
        if (ok && transient) mapped.emplace_back(ind.indirect_grefs[i], page);
      } else {
        ok = gnt_.map(ind.indirect_grefs[i], kDom0, true, &page) == GNTST_okay;
        if (ok) mapped.emplace_back(ind.indirect_grefs[i], page);
      }
      for (unsigned n = i * kSegsPerIndirectPage; ok && n < std::min(nseg, (i + 1) * kSegsPerIndirectPage); ++n) {
        blkif_request_segment s;
        m_.store.read(page.mfn, (n % kSegsPerIndirectPage) * sizeof s, &s, sizeof s);
        segs.push_back({s.gref, s.first_sect, s.last_sect});
      }
    }
    for (const auto& [ref, page] : mapped) gnt_.unmap(ref, !conn_->persistent);
    if (!ok) return BLKIF_RSP_ERROR;
  }
  uint64_t nr_sects = 0;
  for (const Segment& s : segs) {
    if (s.last >= kSectorsPerPage || s.last < s.first) return BLKIF_RSP_ERROR;
    nr_sects += s.last - s.first + 1u;
  }
  // xen_vbd_translate: nothing but reads of a read-only vbd, inside it.
  if (op != BLKIF_OP_READ) return BLKIF_RSP_ERROR;
  const uint64_t end = sector + nr_sects;
  if (end < sector || end > disk_.image.size() / kSector) return BLKIF_RSP_ERROR;
  // A disk of larger sectors takes only I/O aligned to them.
  const uint32_t per = std::max<uint32_t>(disk_.sector_size / kSector, 1);
  for (const Segment& s : segs)
    if (((sector | (s.last - s.first + 1u)) & (per - 1)) != 0) return BLKIF_RSP_ERROR;
  return read_segments(sector, segs);
}

std::optional<GrantTwin::Mapped> BlkbackTwin::map_data(uint32_t ref, bool& transient) {
  transient = false;
  if (conn_->persistent) {
    if (auto it = conn_->pgrants.find(ref); it != conn_->pgrants.end()) return it->second;
    if (conn_->pgrants.size() < kMaxPersistentGrants) {
      GrantTwin::Mapped page;
      if (gnt_.map(ref, kDom0, false, &page) != GNTST_okay) return std::nullopt;
      conn_->pgrants.emplace(ref, page);
      return page;
    }
  }
  GrantTwin::Mapped page;
  if (gnt_.map(ref, kDom0, false, &page) != GNTST_okay) return std::nullopt;
  transient = true;
  return page;
}

int16_t BlkbackTwin::read_segments(uint64_t sector, const std::vector<Segment>& segs) {
  // Every grant mapped before any data moves: one refused fails the request
  // with nothing written (xen_blkbk_map_seg, then fail_flush).
  std::vector<std::pair<GrantTwin::Mapped, bool>> pages;
  auto unmap = [&] {
    for (size_t i = 0; i < pages.size(); ++i)
      if (pages[i].second) gnt_.unmap(segs[i].gref, false);
  };
  for (const Segment& s : segs) {
    bool transient = false;
    auto page = map_data(s.gref, transient);
    if (!page) {
      unmap();
      return BLKIF_RSP_ERROR;
    }
    pages.emplace_back(*page, transient);
  }
  for (size_t i = 0; i < segs.size(); ++i) {
    const uint64_t n = segs[i].last - segs[i].first + 1u;
    m_.store.write(pages[i].first.mfn, size_t{segs[i].first} * kSector, disk_.image.data() + sector * kSector,
                   n * kSector);
    sector += n;
  }
  unmap();
  return BLKIF_RSP_OKAY;
}

void BlkbackTwin::make_response(uint64_t id, uint8_t op, int16_t status, bool filter) {
  Conn& c = *conn_;
  BlkbackResponse r{id, op, status};
  if (filter && response_filter) response_filter(r);
  blkif_response_t rsp{};
  rsp.id = r.id;
  rsp.operation = r.operation;
  rsp.status = r.status;
  ring_write(kSlots + uint64_t{c.rsp_prod_pvt % c.slots} * kSlot, &rsp, sizeof rsp);
  ++c.rsp_prod_pvt;
  // RING_PUSH_RESPONSES_AND_CHECK_NOTIFY
  uint32_t old = 0, event = 0;
  ring_read(offsetof(blkif_sring, rsp_prod), &old, sizeof old);
  ring_write(offsetof(blkif_sring, rsp_prod), &c.rsp_prod_pvt, sizeof c.rsp_prod_pvt);
  ring_read(offsetof(blkif_sring, rsp_event), &event, sizeof event);
  const uint32_t now = c.rsp_prod_pvt;
  if (now - event < now - old && bound()) m_.raise_event(c.port);
}

void BlkbackTwin::note_write(uint64_t mfn, uint64_t offset, uint64_t len) {
  if (!conn_ || conn_->halted) return;
  Conn& c = *conn_;
  for (size_t i = 0; i < c.ring.size(); ++i) {
    if (c.ring[i].mfn != mfn) continue;
    const uint64_t end = offset + len;
    const uint64_t idx = offsetof(blkif_sring, req_prod);
    const bool index = i == 0 && offset < idx + sizeof(uint32_t) && end > idx;
    if (index && c.slots_written == m_.ring_unfenced.barriers) {
      m_.ring_errors.push_back("blkif: req_prod written while request slots written before it are not yet "
                               "ordered by a barrier: ring halted");
      c.halted = true;
      return;
    }
    if (i * kPageSize + end > kSlots) c.slots_written = m_.ring_unfenced.barriers;
  }
}

// --- time passes -----------------------------------------------------------------

void BlkbackTwin::tick() {
  if (conn_) make_response(kLateId, BLKIF_OP_READ, BLKIF_RSP_OKAY, false);  // a late response
  // A DMA that was in flight lands in every page dom0 may write: each grant
  // to dom0 that is valid and writable, and each page it holds mapped.
  uint8_t dma[kSector];
  memset(dma, kDmaByte, sizeof dma);
  const uint32_t n = gnt_.entries();
  for (uint32_t ref = GNTTAB_NR_RESERVED_ENTRIES; ref < n; ++ref) {
    if (conn_ && std::count(conn_->ring_refs.begin(), conn_->ring_refs.end(), ref)) continue;  // the ring: above
    const grant_entry_v1_t e = gnt_.entry(ref);
    if ((e.flags & GTF_type_mask) != GTF_permit_access || (e.flags & GTF_readonly) || e.domid != kDom0) continue;
    GrantTwin::Mapped page;
    if (gnt_.map(ref, kDom0, false, &page) != GNTST_okay) continue;
    m_.store.write(page.mfn, 0, dma, sizeof dma);
    gnt_.unmap(ref, false);
  }
  if (conn_)
    for (const auto& [ref, page] : conn_->pgrants) m_.store.write(page.mfn, 0, dma, sizeof dma);
}

// --- introspection -------------------------------------------------------------

std::optional<uint64_t> BlkbackTwin::ring_gfn() const {
  if (!conn_) return std::nullopt;
  return conn_->ring[0].gfn;
}

std::vector<uint64_t> BlkbackTwin::writable_gfns() const {
  std::vector<uint64_t> out;
  if (conn_) {
    for (const auto& page : conn_->ring) out.push_back(page.gfn);
    for (const auto& [ref, page] : conn_->pgrants) out.push_back(page.gfn);
  }
  for (const GrantInfo& g : gnt_.active(GNTTAB_NR_RESERVED_ENTRIES))
    if ((g.flags & GTF_type_mask) == GTF_permit_access && !(g.flags & GTF_readonly) && g.domid == kDom0)
      out.push_back(g.frame);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<uint32_t> BlkbackTwin::bound_ports() const {
  if (!bound()) return {};
  return {conn_->port};
}

}  // namespace mb::model
