// The model's dom0 twins -- xenstored, blkback, and Xen's grant table as
// they use it -- driven by a minimal client scripted here from raw guest
// memory writes and hypercalls, not by pv/: each protocol step is spelled
// out, so a test can also break one on purpose. What is expected is what
// xenstored 4.17, Linux 6.1's blkback and Xen 4.17's grant table do
// (xen_stubs/README.md, "The backend twins").
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "boards/xen_arm64/board.h"
#include "magicboot/hypercall/xen.h"
#include "magicboot/xen_stubs/model.h"
#include "magicboot/xen_stubs/validator.h"
#include "pattern_disk.h"

namespace mb::model {
namespace {

namespace board = boards::xen_arm64;
using Ring = xenstore_domain_interface;

constexpr uint64_t kMiB = uint64_t{1} << 20;
const std::string kFe = "/local/domain/1/device/vbd/51712";
const std::string kBe = "/local/domain/0/backend/vbd/1/51712";
const std::string kError = "/local/domain/0/error/backend/vbd/1/51712/error";

std::string z(const std::string& s) { return s + '\0'; }

using mb::pv::test::pattern_disk;

DomainConfig xl(std::optional<DiskConfig> disk = std::nullopt) {
  DomainConfig c;
  c.kind = DomainKind::kXl;
  c.ram_bytes = uint64_t{256} << 20;
  c.disk = std::move(disk);
  return c;
}

DiskConfig disk_of(size_t bytes = 2 * kMiB) {
  DiskConfig d;
  d.image = pattern_disk(bytes);
  return d;
}

uint32_t u32(const Res<uint32_t>& r) {
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : 0;
}

// --- a scripted xenstore client ------------------------------------------------

struct Msg {
  uint32_t type = ~0u, req_id = 0, tx_id = 0;
  std::string payload;
  bool ok() const { return type != XS_ERROR && type != ~0u; }
};

class XsClient {
 public:
  explicit XsClient(Model& m)
      : m_(m), mem_(m.memory("loader")), ring_(Model::magic_gfn(board::kMagicXenstore).addr()) {}

  uint32_t index(size_t field) { return u32(mem_.load32(ring_ + field)); }

  // Request bytes onto the ring, waiting (yielding) for room; `fence` false
  // publishes req_prod without the barrier before it.
  bool put(const std::string& bytes, bool fence = true) {
    size_t done = 0;
    for (int idle = 0; done < bytes.size();) {
      const uint32_t cons = index(offsetof(Ring, req_cons)), prod = index(offsetof(Ring, req_prod));
      const uint32_t room = XENSTORE_RING_SIZE - (prod - cons);
      if (room == 0) {
        if (++idle > 20) return false;
        (void)xen::sched_yield(m_.hypercalls());
        continue;
      }
      const size_t at = MASK_XENSTORE_IDX(prod);
      const size_t n = std::min({size_t{room}, bytes.size() - done, XENSTORE_RING_SIZE - at});
      EXPECT_TRUE(mem_.write(ring_ + offsetof(Ring, req) + at, bytes.data() + done, n).ok());
      if (fence) mem_.barrier();
      EXPECT_TRUE(mem_.store32(ring_ + offsetof(Ring, req_prod), prod + static_cast<uint32_t>(n)).ok());
      (void)xen::evtchn_send(m_.hypercalls(), kXlStorePort);
      done += n;
    }
    return true;
  }

  std::optional<std::string> get(size_t len, int yields) {
    std::string out;
    while (out.size() < len) {
      const uint32_t cons = index(offsetof(Ring, rsp_cons)), prod = index(offsetof(Ring, rsp_prod));
      if (prod == cons) {
        if (yields-- <= 0) return std::nullopt;
        (void)xen::sched_yield(m_.hypercalls());
        continue;
      }
      mem_.barrier();
      const size_t at = MASK_XENSTORE_IDX(cons);
      const size_t n = std::min({size_t{prod - cons}, len - out.size(), XENSTORE_RING_SIZE - at});
      std::string part(n, '\0');
      EXPECT_TRUE(mem_.read(ring_ + offsetof(Ring, rsp) + at, part.data(), n).ok());
      out += part;
      mem_.barrier();
      EXPECT_TRUE(mem_.store32(ring_ + offsetof(Ring, rsp_cons), cons + static_cast<uint32_t>(n)).ok());
    }
    return out;
  }

  std::optional<Msg> recv(int yields = 8) {
    auto head = get(sizeof(xsd_sockmsg), yields);
    if (!head) return std::nullopt;
    xsd_sockmsg h;
    memcpy(&h, head->data(), sizeof h);
    Msg msg{h.type, h.req_id, h.tx_id, {}};
    auto body = get(h.len, yields);
    if (!body) return std::nullopt;
    msg.payload = *body;
    return msg;
  }

  void send(uint32_t type, const std::string& payload, uint32_t tx = 0, bool fence = true) {
    const xsd_sockmsg h{type, ++req_id_, tx, static_cast<uint32_t>(payload.size())};
    EXPECT_TRUE(put(std::string(reinterpret_cast<const char*>(&h), sizeof h) + payload, fence));
  }

  // One request and its reply (watch events on the way are kept in events).
  Msg call(uint32_t type, const std::string& payload, uint32_t tx = 0) {
    send(type, payload, tx);
    for (;;) {
      auto msg = recv();
      if (!msg) return Msg{};
      if (msg->type == XS_WATCH_EVENT) {
        events.push_back(*msg);
        continue;
      }
      EXPECT_EQ(msg->req_id, req_id_) << "the reply echoes req_id";
      EXPECT_EQ(msg->tx_id, tx) << "the reply echoes tx_id";
      return *msg;
    }
  }

  Msg read(const std::string& path, uint32_t tx = 0) { return call(XS_READ, z(path), tx); }
  Msg write(const std::string& path, const std::string& value, uint32_t tx = 0) {
    return call(XS_WRITE, z(path) + value, tx);
  }
  std::string value(const std::string& path) {
    Msg m = read(path);
    EXPECT_TRUE(m.ok()) << path << ": " << m.payload;
    return m.payload;
  }
  uint32_t last_req_id() const { return req_id_; }

  std::vector<Msg> events;

 private:
  Model& m_;
  GuestMemory& mem_;
  GuestPhys ring_;
  uint32_t req_id_ = 100;
};

std::string printable(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '\0' ? std::string("\\0") : std::string(1, c);
  return out;
}

::testing::AssertionResult IsXsError(const Msg& m, const char* err) {
  if (m.type == XS_ERROR && m.payload == z(err)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "type " << m.type << ", payload \"" << printable(m.payload) << "\", not "
                                       << err;
}
#define EXPECT_XS_ERROR(msg, err) EXPECT_TRUE(IsXsError(msg, err))

// --- a scripted blkfront -------------------------------------------------------

class Front {
 public:
  Front(Model& m, XsClient& xs)
      : m_(m), xs_(xs), mem_(m.memory("loader")), h_(m.hypercalls()), ram_(m.ram().bank[0].base) {}

  GuestPhys page(unsigned i) const { return ram_ + 64 * kMiB + uint64_t{i} * kPageSize; }  // i = 0: the ring
  GuestPhys entry(uint32_t ref) const { return board::kGntTab.base + uint64_t{ref} * 8; }

  void map_grant_frame() {
    ASSERT_TRUE(xen::add_to_physmap(h_, XENMAPSPACE_grant_table, 0, board::kGntTab.base.gfn()).ok());
  }
  // Frame and domid, a barrier, then the flags that make the entry valid.
  uint32_t grant(Gfn frame, bool readonly, uint16_t domid = 0, bool fence = true) {
    const uint32_t ref = next_ref_++;
    EXPECT_TRUE(mem_.store32(entry(ref) + 4, static_cast<uint32_t>(frame.value)).ok());
    EXPECT_TRUE(mem_.store32(entry(ref), uint32_t{domid} << 16).ok());
    if (fence) mem_.barrier();
    EXPECT_TRUE(
        mem_.store32(entry(ref), (uint32_t{domid} << 16) | GTF_permit_access | (readonly ? GTF_readonly : 0u)).ok());
    return ref;
  }
  uint16_t flags(uint32_t ref) { return static_cast<uint16_t>(u32(mem_.load32(entry(ref))) & 0xffff); }

  // A fresh ring page, granted; a port offered to dom0.
  void prepare(unsigned ring_pages = 1) {
    map_grant_frame();
    for (unsigned i = 0; i < ring_pages; ++i) ASSERT_TRUE(mem_.fill(page(i), 0, kPageSize).ok());
    ASSERT_TRUE(mem_.store32(page(0) + offsetof(blkif_sring, req_event), 1).ok());
    ASSERT_TRUE(mem_.store32(page(0) + offsetof(blkif_sring, rsp_event), 1).ok());
    mem_.barrier();
    for (unsigned i = 0; i < ring_pages; ++i) ring_refs.push_back(grant(page(i).gfn(), false));
    slots_ = static_cast<uint32_t>(__CONST_RING_SIZE(blkif, kPageSize * ring_pages));
    data_ = ring_pages;
    auto p = xen::evtchn_alloc_unbound(h_, 0);
    ASSERT_TRUE(p.ok());
    port = *p;
  }
  void publish() {
    if (ring_refs.size() == 1) {
      EXPECT_TRUE(xs_.write(kFe + "/ring-ref", std::to_string(ring_refs[0])).ok());
    } else {
      unsigned order = 0;
      while ((1u << order) < ring_refs.size()) ++order;
      EXPECT_TRUE(xs_.write(kFe + "/ring-page-order", std::to_string(order)).ok());
      for (size_t i = 0; i < ring_refs.size(); ++i)
        EXPECT_TRUE(xs_.write(kFe + "/ring-ref" + std::to_string(i), std::to_string(ring_refs[i])).ok());
    }
    EXPECT_TRUE(xs_.write(kFe + "/event-channel", std::to_string(port)).ok());
    EXPECT_TRUE(xs_.write(kFe + "/protocol", XEN_IO_PROTO_ABI_ARM).ok());
  }
  void set_state(int s) { EXPECT_TRUE(xs_.write(kFe + "/state", std::to_string(s)).ok()); }
  // The backend's state as the guest reads it, after up to `turns` yields.
  int wait_backend(int want, int turns = 8) {
    int s = -1;
    for (int i = 0; i <= turns; ++i) {
      s = std::stoi(xs_.value(kBe + "/state"));
      if (s == want) return s;
      (void)xen::sched_yield(h_);
    }
    return s;
  }
  bool connect(unsigned ring_pages = 1) {
    prepare(ring_pages);
    publish();
    set_state(XenbusStateInitialised);
    if (wait_backend(XenbusStateConnected) != XenbusStateConnected) return false;
    set_state(XenbusStateConnected);
    return true;
  }

  // A data page of ours, granted to dom0 (writable unless `readonly`).
  uint32_t data_page(unsigned i, bool readonly = false) { return grant(page(data_ + i).gfn(), readonly); }
  GuestPhys data_addr(unsigned i) const { return page(data_ + i); }

  GuestPhys slot(uint32_t i) const {
    const uint64_t at = offsetof(blkif_sring, ring) + uint64_t{i % slots_} * sizeof(blkif_sring_entry);
    return page(static_cast<unsigned>(at / kPageSize)) + at % kPageSize;
  }
  // Requests on the ring, published and notified (`fence` false: no barrier).
  void submit(const std::vector<blkif_request_t>& reqs, bool fence = true) {
    for (const auto& r : reqs) EXPECT_TRUE(mem_.write(slot(req_prod_++), &r, sizeof r).ok());
    if (fence) mem_.barrier();
    EXPECT_TRUE(mem_.store32(page(0) + offsetof(blkif_sring, req_prod), req_prod_).ok());
    (void)xen::evtchn_send(h_, port);
  }
  std::vector<blkif_response_t> responses() {
    std::vector<blkif_response_t> out;
    const uint32_t prod = u32(mem_.load32(page(0) + offsetof(blkif_sring, rsp_prod)));
    mem_.barrier();
    for (; rsp_cons_ != prod; ++rsp_cons_) {
      blkif_response_t r;
      EXPECT_TRUE(mem_.read(slot(rsp_cons_), &r, sizeof r).ok());
      out.push_back(r);
    }
    mem_.barrier();
    EXPECT_TRUE(mem_.store32(page(0) + offsetof(blkif_sring, rsp_event), rsp_cons_ + 1).ok());
    return out;
  }
  // One request, its one response.
  blkif_response_t one(const blkif_request_t& r) {
    submit({r});
    auto rs = responses();
    EXPECT_EQ(rs.size(), 1u);
    return rs.empty() ? blkif_response_t{~uint64_t{0}, 0xff, 99} : rs[0];
  }

  std::vector<uint32_t> ring_refs;
  uint32_t port = 0;
  uint32_t req_prod() const { return req_prod_; }
  void set_req_prod(uint32_t v) { req_prod_ = v; }

 private:
  Model& m_;
  XsClient& xs_;
  GuestMemory& mem_;
  Hypercalls& h_;
  GuestPhys ram_;
  uint32_t next_ref_ = GNTTAB_NR_RESERVED_ENTRIES;
  uint32_t slots_ = 32;
  unsigned data_ = 1;
  uint32_t req_prod_ = 0, rsp_cons_ = 0;
};

blkif_request_t read_req(uint64_t id, uint64_t sector, std::vector<blkif_request_segment> segs) {
  blkif_request_t r{};
  r.operation = BLKIF_OP_READ;
  r.handle = 51712;
  r.id = id;
  r.sector_number = sector;
  r.nr_segments = static_cast<uint8_t>(segs.size());
  for (size_t i = 0; i < segs.size() && i < BLKIF_MAX_SEGMENTS_PER_REQUEST; ++i) r.seg[i] = segs[i];
  return r;
}

std::vector<uint8_t> bytes_at(Model& m, GuestPhys at, size_t n) {
  std::vector<uint8_t> b(n);
  EXPECT_TRUE(m.memory("loader").read(at, b.data(), n).ok());
  return b;
}
std::vector<uint8_t> image_at(const DomainConfig& c, uint64_t sector, size_t n) {
  return std::vector<uint8_t>(c.disk->image.begin() + static_cast<long>(sector * 512),
                              c.disk->image.begin() + static_cast<long>(sector * 512 + n));
}

bool has_error(const Model& m, const std::string& what) {
  for (const auto& e : m.ring_protocol_errors())
    if (e.find(what) != std::string::npos) return true;
  return false;
}

// =============================================================================
// xenstored
// =============================================================================

TEST(XenstoredTwin, TheToolstacksTreeAsTheGuestSeesIt) {
  Model m(xl(disk_of()));
  XsClient xs(m);
  EXPECT_EQ(xs.value("name"), "guest");
  EXPECT_EQ(xs.value("domid"), "1");
  EXPECT_EQ(xs.value("memory/target"), std::to_string(256 * 1024));
  EXPECT_EQ(xs.value("memory/static-max"), std::to_string(256 * 1024));
  EXPECT_EQ(xs.value("console/ring-ref"), std::to_string(Model::magic_gfn(board::kMagicConsole).value));
  EXPECT_EQ(xs.value("console/port"), std::to_string(kXlConsolePort));
  EXPECT_EQ(xs.value("/local/domain/1/store/ring-ref"), std::to_string(Model::magic_gfn(board::kMagicXenstore).value));
  EXPECT_EQ(xs.value("store/port"), std::to_string(kXlStorePort));
  EXPECT_EQ(xs.call(XS_DIRECTORY, z("device/vbd")).payload, z("51712"));
  // The vbd as libxl writes it, the backend readable by the guest.
  EXPECT_EQ(xs.value(kFe + "/backend"), kBe);
  EXPECT_EQ(xs.value(kFe + "/backend-id"), "0");
  EXPECT_EQ(xs.value(kFe + "/state"), "1");
  EXPECT_EQ(xs.value(kFe + "/virtual-device"), "51712");
  EXPECT_EQ(xs.value(kFe + "/device-type"), "disk");
  EXPECT_EQ(xs.value(kBe + "/frontend"), kFe);
  EXPECT_EQ(xs.value(kBe + "/frontend-id"), "1");
  EXPECT_EQ(xs.value(kBe + "/online"), "1");
  EXPECT_EQ(xs.value(kBe + "/state"), "2") << "blkback's probe left it InitWait";
  EXPECT_EQ(xs.value(kBe + "/mode"), "r");
  EXPECT_EQ(xs.value(kBe + "/removable"), "0");
  EXPECT_EQ(xs.value(kBe + "/type"), "phy");
  // The size is told at connect, as Linux's blkback does: not yet.
  EXPECT_XS_ERROR(xs.read(kBe + "/sectors"), "ENOENT");
  EXPECT_XS_ERROR(xs.read(kBe + "/feature-max-indirect-segments"), "ENOENT");  // not offered by default
  // Nothing else of dom0's is the guest's to see.
  EXPECT_XS_ERROR(xs.read("/local/domain/0/name"), "EACCES");
  EXPECT_XS_ERROR(xs.call(XS_DIRECTORY, z("/local/domain/0/backend/vbd")), "EACCES");
  EXPECT_XS_ERROR(xs.call(XS_DIRECTORY, z("/local/domain")), "EACCES");
  EXPECT_XS_ERROR(xs.read("/local/domain/0/no-such-node"), "EACCES") << "not ENOENT: the parent is unreadable";
  EXPECT_XS_ERROR(xs.read("no-such-node"), "ENOENT");
  // dom0's view.
  EXPECT_EQ(m.xenstore_read(kBe + "/state"), std::string("2"));
  EXPECT_EQ(m.backend_state(), XenbusStateInitWait);
  EXPECT_EQ(m.xenstore_read("/local/domain/0/name"), std::string("Domain-0"));
}

TEST(XenstoredTwin, WritesMkdirRmAndDirectoriesFollowThePermissions) {
  Model m(xl());
  XsClient xs(m);
  EXPECT_EQ(xs.write("data/greeting", "hello").payload, z("OK"));
  EXPECT_EQ(xs.value("data/greeting"), "hello");
  EXPECT_EQ(m.xenstore_read("data/greeting"), std::string("hello"));
  EXPECT_EQ(xs.call(XS_GET_PERMS, z("data/greeting")).payload, z("n1")) << "the guest owns what it creates";
  EXPECT_EQ(xs.call(XS_GET_PERMS, z("name")).payload, z("n0") + z("r1")) << "libxl's roperm";
  EXPECT_XS_ERROR(xs.write("name", "other"), "EACCES");
  EXPECT_XS_ERROR(xs.write("newkey", "x"), "EACCES") << "the home directory is read-only to the guest";
  EXPECT_XS_ERROR(xs.write(kBe + "/state", "4"), "EACCES");
  EXPECT_EQ(m.xenstore_read(kBe + "/state"), std::nullopt) << "no disk: no vbd";
  // mkdir makes the parents; directory lists children in creation order.
  EXPECT_EQ(xs.call(XS_MKDIR, z("data/a/b/c")).payload, z("OK"));
  EXPECT_EQ(xs.call(XS_MKDIR, z("data/a/b/c")).payload, z("OK")) << "there already: fine";
  EXPECT_TRUE(xs.write("data/a/b/d", "1").ok());
  EXPECT_EQ(xs.call(XS_DIRECTORY, z("data/a/b")).payload, z("c") + z("d"));
  EXPECT_EQ(xs.call(XS_DIRECTORY, z("data/a/b/c")).payload, "") << "a node without children";
  EXPECT_EQ(xs.read("data/a/b/c").payload, "");
  // rm takes the subtree; a missing node with a parent is fine, without one not.
  EXPECT_EQ(xs.call(XS_RM, z("data/a")).payload, z("OK"));
  EXPECT_XS_ERROR(xs.read("data/a/b/d"), "ENOENT");
  EXPECT_EQ(xs.call(XS_RM, z("data/zz")).payload, z("OK"));
  EXPECT_XS_ERROR(xs.call(XS_RM, z("data/yy/zz")), "ENOENT");
  EXPECT_XS_ERROR(xs.call(XS_RM, z("name")), "EACCES");
  EXPECT_EQ(xs.call(XS_GET_DOMAIN_PATH, z("7")).payload, z("/local/domain/7"));
  // A guest may narrow its own node's permissions, not give it away.
  EXPECT_EQ(xs.call(XS_SET_PERMS, z("data/greeting") + z("n1") + z("r0")).payload, z("OK"));
  EXPECT_EQ(xs.call(XS_GET_PERMS, z("data/greeting")).payload, z("n1") + z("r0"));
  EXPECT_XS_ERROR(xs.call(XS_SET_PERMS, z("data/greeting") + z("n0")), "EPERM");
  EXPECT_XS_ERROR(xs.call(XS_SET_PERMS, z("name") + z("n0")), "EACCES");
  EXPECT_XS_ERROR(xs.call(XS_SET_PERMS, z("data/greeting") + z("x1")), "EINVAL");
}

TEST(XenstoredTwin, ErrorsAreXenstoredsErrnoNames) {
  Model m(xl());
  XsClient xs(m);
  EXPECT_XS_ERROR(xs.read("data//x"), "EINVAL");
  EXPECT_XS_ERROR(xs.read("data/x/"), "EINVAL");
  EXPECT_XS_ERROR(xs.read("data/x y"), "EINVAL");
  EXPECT_XS_ERROR(xs.read(""), "EINVAL") << "the home with a trailing slash";
  EXPECT_XS_ERROR(xs.read("/" + std::string(XENSTORE_ABS_PATH_MAX, 'a')), "EINVAL");
  EXPECT_XS_ERROR(xs.call(XS_READ, "name"), "EINVAL") << "no NUL";
  EXPECT_XS_ERROR(xs.call(XS_READ, z("name") + z("more")), "EINVAL") << "two strings";
  EXPECT_XS_ERROR(xs.call(XS_WRITE, "no-nul"), "EINVAL");
  EXPECT_XS_ERROR(xs.call(99, z("name")), "ENOSYS") << "xenstored's answer to a type it does not know";
  EXPECT_XS_ERROR(xs.call(XS_WATCH_EVENT, z("name")), "ENOSYS");
  EXPECT_XS_ERROR(xs.call(XS_ERROR, z("name")), "ENOSYS");
  EXPECT_XS_ERROR(xs.call(XS_INTRODUCE, z("1") + z("2") + z("3")), "EACCES") << "dom0's alone";
  EXPECT_XS_ERROR(xs.call(XS_CONTROL, z("log")), "EACCES");
  EXPECT_XS_ERROR(xs.read("name", 4242), "ENOENT") << "no such transaction";
  EXPECT_XS_ERROR(xs.write("data/big", std::string(2100, 'v')), "ENOSPC") << "xenstored's node quota";
  EXPECT_TRUE(xs.write("data/fits", std::string(1500, 'v')).ok());
  EXPECT_EQ(xs.value("data/fits"), std::string(1500, 'v'));
}

TEST(XenstoredTwin, AReplyOverThePayloadMaxIsE2bigAndDirectoryPartPagesIt) {
  Model m(xl());
  XsClient xs(m);
  // dom0 (no quota) makes a directory whose list is over 4096 bytes.
  std::string all;
  for (int i = 0; i < 150; ++i) {
    const std::string name = "child-with-a-long-name-number-" + std::to_string(1000 + i);
    m.xenstore_write("data/many/" + name, "x");
    all += z(name);
  }
  ASSERT_GT(all.size(), size_t{XENSTORE_PAYLOAD_MAX});
  EXPECT_XS_ERROR(xs.call(XS_DIRECTORY, z("data/many")), "E2BIG");
  // XS_DIRECTORY_PART: the node's generation, then whole names from the
  // offset; the last part ends with an empty name.
  std::string got;
  for (size_t off = 0;;) {
    Msg part = xs.call(XS_DIRECTORY_PART, z("data/many") + z(std::to_string(off)));
    ASSERT_TRUE(part.ok()) << part.payload;
    ASSERT_LE(part.payload.size(), size_t{XENSTORE_PAYLOAD_MAX});
    const size_t gen = part.payload.find('\0');
    std::string names = part.payload.substr(gen + 1);
    const bool last = names.size() >= 2 && names.compare(names.size() - 2, 2, std::string(2, '\0')) == 0;
    if (last) names.pop_back();
    got += names;
    off += names.size();
    if (last || names.empty()) break;
  }
  EXPECT_EQ(got, all);
}

TEST(XenstoredTwin, TransactionsAreIsolatedAndCommitOrConflict) {
  Model m(xl());
  XsClient xs(m);
  Msg start = xs.call(XS_TRANSACTION_START, z(""));
  ASSERT_TRUE(start.ok());
  ASSERT_FALSE(start.payload.empty());
  EXPECT_EQ(start.payload.back(), '\0');
  const uint32_t tx = static_cast<uint32_t>(std::stoul(start.payload));
  EXPECT_NE(tx, 0u);
  EXPECT_TRUE(xs.write("data/t", "inside", tx).ok());
  EXPECT_EQ(xs.read("data/t", tx).payload, "inside");
  EXPECT_XS_ERROR(xs.read("data/t"), "ENOENT") << "not visible outside before the commit";
  EXPECT_XS_ERROR(xs.call(XS_TRANSACTION_START, z(""), tx), "EBUSY") << "no transaction inside one";
  EXPECT_XS_ERROR(xs.call(XS_TRANSACTION_END, z("X"), tx), "EINVAL");
  EXPECT_EQ(xs.call(XS_TRANSACTION_END, z("T"), tx).payload, z("OK"));
  EXPECT_EQ(xs.value("data/t"), "inside");
  EXPECT_XS_ERROR(xs.call(XS_TRANSACTION_END, z("T"), tx), "ENOENT") << "ended";
  EXPECT_XS_ERROR(xs.call(XS_TRANSACTION_END, z("T")), "ENOENT") << "no transaction named";

  // Aborted: nothing applied.
  const uint32_t t2 = static_cast<uint32_t>(std::stoul(xs.call(XS_TRANSACTION_START, z("")).payload));
  EXPECT_TRUE(xs.write("data/t", "aborted", t2).ok());
  EXPECT_TRUE(xs.write("data/u", "aborted", t2).ok());
  EXPECT_EQ(xs.call(XS_TRANSACTION_END, z("F"), t2).payload, z("OK"));
  EXPECT_EQ(xs.value("data/t"), "inside");
  EXPECT_XS_ERROR(xs.read("data/u"), "ENOENT");

  // A node it read changed outside it: the commit is EAGAIN, nothing applied.
  const uint32_t t3 = static_cast<uint32_t>(std::stoul(xs.call(XS_TRANSACTION_START, z("")).payload));
  EXPECT_EQ(xs.read("data/t", t3).payload, "inside");
  m.xenstore_write("data/t", "changed by dom0");
  EXPECT_EQ(xs.read("data/t", t3).payload, "inside") << "the transaction's copy";
  EXPECT_TRUE(xs.write("data/v", "from t3", t3).ok());
  EXPECT_XS_ERROR(xs.call(XS_TRANSACTION_END, z("T"), t3), "EAGAIN");
  EXPECT_XS_ERROR(xs.read("data/v"), "ENOENT");
  EXPECT_EQ(xs.value("data/t"), "changed by dom0");

  // One that touched nothing changed elsewhere commits whatever else moved.
  const uint32_t t4 = static_cast<uint32_t>(std::stoul(xs.call(XS_TRANSACTION_START, z("")).payload));
  EXPECT_TRUE(xs.write("data/w", "from t4", t4).ok());
  m.xenstore_write("drivers/elsewhere", "dom0");
  EXPECT_EQ(xs.call(XS_TRANSACTION_END, z("T"), t4).payload, z("OK"));
  EXPECT_EQ(xs.value("data/w"), "from t4");
}

TEST(XenstoredTwin, WatchesFireForNodesTheGuestMayRead) {
  Model m(xl(disk_of()));
  XsClient xs(m);
  EXPECT_EQ(xs.call(XS_WATCH, z(kBe + "/state") + z("be")).payload, z("OK"));
  EXPECT_EQ(xs.call(XS_WATCH, z("data") + z("rel")).payload, z("OK"));
  EXPECT_XS_ERROR(xs.call(XS_WATCH, z("data") + z("rel")), "EEXIST");
  EXPECT_XS_ERROR(xs.call(XS_WATCH, z("data")), "EINVAL") << "path and token";
  (void)xs.read("name");  // the first events come after their OKs
  ASSERT_EQ(xs.events.size(), 2u);
  EXPECT_EQ(xs.events[0].payload, z(kBe + "/state") + z("be")) << "a new watch fires once";
  EXPECT_EQ(xs.events[0].req_id, 0u);
  EXPECT_EQ(xs.events[1].payload, z("data") + z("rel")) << "a relative watch reports relative paths";
  xs.events.clear();
  EXPECT_TRUE(xs.write("data/x/y", "1").ok());  // below the watched node
  EXPECT_TRUE(xs.write("drivers/z", "1").ok());  // elsewhere
  (void)xs.read("name");
  ASSERT_EQ(xs.events.size(), 1u);
  EXPECT_EQ(xs.events[0].payload, z("data/x/y") + z("rel"));
  xs.events.clear();
  // dom0's writes fire too: blkback switching state.
  m.xenstore_write(kBe + "/state", "5");
  (void)xs.read("name");
  ASSERT_EQ(xs.events.size(), 1u);
  EXPECT_EQ(xs.events[0].payload, z(kBe + "/state") + z("be"));
  xs.events.clear();
  // A node the guest may not read fires nothing for it.
  EXPECT_EQ(xs.call(XS_WATCH, z("/local/domain/0") + z("dom0")).payload, z("OK"));
  (void)xs.read("name");
  xs.events.clear();
  m.xenstore_write("/local/domain/0/secret", "s");
  (void)xs.read("name");
  EXPECT_TRUE(xs.events.empty());
  // rm of an ancestor fires a watch on the node below.
  EXPECT_TRUE(xs.write("data/x/y", "2").ok());
  EXPECT_EQ(xs.call(XS_WATCH, z("data/x/y") + z("deep")).payload, z("OK"));
  (void)xs.read("name");
  xs.events.clear();
  EXPECT_TRUE(xs.call(XS_RM, z("data/x")).ok());
  (void)xs.read("name");
  std::vector<std::string> got;
  for (const Msg& e : xs.events) got.push_back(e.payload);
  EXPECT_NE(std::find(got.begin(), got.end(), z("data/x/y") + z("deep")), got.end());
  EXPECT_NE(std::find(got.begin(), got.end(), z("data/x") + z("rel")), got.end());
  EXPECT_EQ(xs.call(XS_UNWATCH, z("data") + z("rel")).payload, z("OK"));
  EXPECT_XS_ERROR(xs.call(XS_UNWATCH, z("data") + z("rel")), "ENOENT");
}

TEST(XenstoredTwin, ARequestLongerThanTheRingArrivesInPieces) {
  Model m(xl());
  XsClient xs(m);
  const std::string value(1900, 'q');  // header + path + value > XENSTORE_RING_SIZE
  EXPECT_EQ(xs.write("data/long", value).payload, z("OK"));
  EXPECT_EQ(xs.value("data/long"), value) << "and the reply, longer than the ring, comes in pieces too";
  EXPECT_TRUE(m.ring_protocol_errors().empty());
}

TEST(XenstoredTwin, TheInterfacePageAsXenstoredLeavesIt) {
  Model m(xl());
  Ring ring;
  ASSERT_TRUE(m.memory("loader").read(Model::magic_gfn(board::kMagicXenstore).addr(), &ring, sizeof ring).ok());
  EXPECT_EQ(ring.connection, uint32_t{XENSTORE_CONNECTED});
  EXPECT_EQ(ring.server_features, 0u);
  EXPECT_EQ(ring.req_prod, 0u);
  EXPECT_EQ(ring.rsp_prod, 0u);
  // A reply notifies the guest on the store port.
  XsClient xs(m);
  (void)xs.read("name");
  shared_info_t si;
  m.read_mfn(m.shared_info_mfn(), 0, &si, sizeof si);
  EXPECT_TRUE(si.evtchn_pending[0] & (1u << kXlStorePort));
  EXPECT_EQ(si.vcpu_info[0].evtchn_upcall_pending, 1);
}

TEST(XenstoredTwin, AnOverlongHeaderEndsTheConnection) {
  Model m(xl());
  XsClient xs(m);
  const xsd_sockmsg h{XS_READ, 1, 0, XENSTORE_PAYLOAD_MAX + 1};
  ASSERT_TRUE(xs.put(std::string(reinterpret_cast<const char*>(&h), sizeof h)));
  EXPECT_FALSE(xs.recv(4).has_value());
  ASSERT_TRUE(has_error(m, "claims 4097 bytes")) << (m.ring_protocol_errors().empty() ? "" : m.ring_protocol_errors()[0]);
  // Not served further, whatever comes next.
  const uint32_t cons = xs.index(offsetof(Ring, req_cons));
  xs.send(XS_READ, z("name"));
  EXPECT_FALSE(xs.recv(4).has_value());
  EXPECT_EQ(xs.index(offsetof(Ring, req_cons)), cons);
}

TEST(XenstoredTwin, IndicesMoreThanARingApartEndTheConnection) {
  Model m(xl());
  XsClient xs(m);
  auto& mem = m.memory("loader");
  const GuestPhys ring = Model::magic_gfn(board::kMagicXenstore).addr();
  ASSERT_TRUE(mem.store32(ring + offsetof(Ring, req_prod), XENSTORE_RING_SIZE + 5).ok());
  (void)xen::evtchn_send(m.hypercalls(), kXlStorePort);
  EXPECT_TRUE(has_error(m, "more than a ring ahead"));
  Model m2(xl());
  XsClient xs2(m2);
  ASSERT_TRUE(m2.memory("loader").store32(ring + offsetof(Ring, rsp_cons), 4000).ok());  // behind rsp_prod by > a ring
  xs2.send(XS_READ, z("name"));
  EXPECT_TRUE(has_error(m2, "more than a ring behind"));
}

TEST(XenstoredTwin, ARequestPublishedWithoutABarrierEndsTheConnection) {
  Model m(xl());
  XsClient xs(m);
  xs.send(XS_READ, z("name"), 0, /*fence=*/false);
  EXPECT_TRUE(has_error(m, "req_prod written while request bytes"));
  EXPECT_FALSE(xs.recv(4).has_value());
  // A fenced client is served (the check does not fire on good code).
  Model good(xl());
  XsClient ok(good);
  EXPECT_EQ(ok.value("name"), "guest");
  EXPECT_TRUE(good.ring_protocol_errors().empty());
}

TEST(XenstoredTwin, FiltersRewriteWhatGoesOnTheRing) {
  Model m(xl());
  XsClient xs(m);
  m.set_xenstore_reply_filter([](uint32_t type, std::string& payload) {
    if (type == XS_READ) payload = "filtered";
  });
  EXPECT_EQ(xs.read("name").payload, "filtered");
  m.set_xenstore_reply_filter(nullptr);
  // The whole message: another type, another id, a header that lies.
  m.set_xenstore_message_filter([](XenstoreMessage& msg) {
    if (msg.type == XS_READ) msg.type = XS_DIRECTORY;
  });
  xs.send(XS_READ, z("name"));
  auto r = xs.recv();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->type, uint32_t{XS_DIRECTORY});
  EXPECT_EQ(r->payload, "guest");
  m.set_xenstore_message_filter([](XenstoreMessage& msg) { msg.len = XENSTORE_PAYLOAD_MAX + 100; });
  xs.send(XS_READ, z("name"));
  auto head = xs.get(sizeof(xsd_sockmsg), 4);
  ASSERT_TRUE(head.has_value());
  xsd_sockmsg h;
  memcpy(&h, head->data(), sizeof h);
  EXPECT_EQ(h.len, XENSTORE_PAYLOAD_MAX + 100u);
}

TEST(XenstoredTwin, ASilentXenstoredTakesNothing) {
  DomainConfig c = xl();
  c.xenstore_answers = false;
  Model m(c);
  XsClient xs(m);
  xs.send(XS_READ, z("name"));
  EXPECT_FALSE(xs.recv(16).has_value());
  EXPECT_EQ(xs.index(offsetof(Ring, req_cons)), 0u) << "not even consumed";
}

TEST(XenstoredTwin, Dom0lessHasNoXenstoreAndNoBackend) {
  Model m(DomainConfig{});
  EXPECT_EQ(m.xenstore_read("name"), std::nullopt);
  EXPECT_EQ(m.backend_state(), -1);
  EXPECT_FALSE(m.backend_connected());
  EXPECT_TRUE(m.active_grants().empty());
  EXPECT_TRUE(m.backend_bound_ports().empty());
}

// =============================================================================
// Xen's grant table as dom0 uses it
// =============================================================================

TEST(GrantTwin, TheToolstackGrantsTheConsoleAndStoreRingsToDom0) {
  Model m(xl());
  XsClient xs(m);
  Front f(m, xs);
  f.map_grant_frame();
  grant_entry_v1_t console{}, store{};
  ASSERT_TRUE(m.memory("loader").read(f.entry(GNTTAB_RESERVED_CONSOLE), &console, sizeof console).ok());
  ASSERT_TRUE(m.memory("loader").read(f.entry(GNTTAB_RESERVED_XENSTORE), &store, sizeof store).ok());
  EXPECT_EQ(console.frame, Model::magic_gfn(board::kMagicConsole).value);
  EXPECT_EQ(store.frame, Model::magic_gfn(board::kMagicXenstore).value);
  EXPECT_EQ(store.domid, 0);
  // xenconsoled and xenstored keep them mapped.
  EXPECT_EQ(console.flags, GTF_permit_access | GTF_reading | GTF_writing);
  EXPECT_EQ(store.flags, GTF_permit_access | GTF_reading | GTF_writing);
  EXPECT_TRUE(m.active_grants().empty()) << "the reserved entries are not the guest's";
}

TEST(GrantTwin, TheTableIsXensWhereverTheGuestMapsIt) {
  Model m(xl(disk_of()));
  XsClient xs(m);
  Front f(m, xs);
  ASSERT_TRUE(f.connect());
  const uint32_t g = f.data_page(0);
  auto& h = m.hypercalls();
  // Unmapped from the guest's P2M, the table still grants.
  ASSERT_TRUE(xen::remove_from_physmap(h, board::kGntTab.base.gfn()).ok());
  EXPECT_TRUE(m.grant_frame_gfns().empty());
  EXPECT_EQ(f.one(read_req(1, 0, {{g, 0, 7}})).status, BLKIF_RSP_OKAY);
  ASSERT_EQ(m.active_grants().size(), 2u) << "the ring's and the data page's";
  // Mapped elsewhere, the guest finds its entries there.
  const Gfn elsewhere = board::kGntTab.base.gfn() + 5;
  ASSERT_TRUE(xen::add_to_physmap(h, XENMAPSPACE_grant_table, 0, elsewhere).ok());
  EXPECT_EQ(m.grant_frame_gfns(), std::vector<Gfn>{elsewhere});
  grant_entry_v1_t e{};
  ASSERT_TRUE(m.memory("loader").read(elsewhere.addr() + uint64_t{g} * 8, &e, sizeof e).ok());
  EXPECT_EQ(e.frame, f.data_addr(0).gfn().value);
  EXPECT_EQ(e.flags, GTF_permit_access);
}

// =============================================================================
// blkback
// =============================================================================

TEST(BlkbackTwin, ConnectReadCloseAndBeReadyAgain) {
  DomainConfig c = xl(disk_of());
  Model m(c);
  XsClient xs(m);
  Front f(m, xs);
  f.prepare();
  f.publish();
  f.set_state(XenbusStateInitialised);
  EXPECT_EQ(m.backend_state(), XenbusStateInitWait) << "a watch fires in dom0's next turn, not during the write";
  ASSERT_EQ(f.wait_backend(XenbusStateConnected), XenbusStateConnected);
  EXPECT_TRUE(m.backend_connected());
  EXPECT_EQ(m.backend_ring_gfn(), f.page(0).gfn());
  EXPECT_EQ(m.backend_bound_ports(), std::vector<uint32_t>{f.port});
  auto st = xen::evtchn_status(m.hypercalls(), f.port);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->status, uint32_t{EVTCHNSTAT_interdomain});
  EXPECT_EQ(st->u.interdomain.dom, 0);
  // What connect() told, now.
  EXPECT_EQ(xs.value(kBe + "/sectors"), std::to_string(c.disk->image.size() / 512));
  EXPECT_EQ(xs.value(kBe + "/sector-size"), "512");
  EXPECT_EQ(xs.value(kBe + "/physical-sector-size"), "512");
  EXPECT_EQ(xs.value(kBe + "/info"), std::to_string(VDISK_READONLY));
  EXPECT_EQ(xs.value(kBe + "/feature-flush-cache"), "0");
  EXPECT_EQ(f.flags(f.ring_refs[0]), GTF_permit_access | GTF_reading | GTF_writing) << "the ring stays mapped";
  f.set_state(XenbusStateConnected);

  // Three requests at once: 11 whole pages, 3 sectors mid-page, 1 page.
  std::vector<uint32_t> refs;
  for (unsigned i = 0; i < 13; ++i) refs.push_back(f.data_page(i));
  std::vector<blkif_request_segment> eleven;
  for (unsigned i = 0; i < 11; ++i) eleven.push_back({refs[i], 0, 7});
  ASSERT_TRUE(m.memory("loader").fill(f.data_addr(11), 0x5a, kPageSize).ok());
  f.submit({read_req(10, 8, eleven), read_req(11, 2000, {{refs[11], 2, 4}}), read_req(12, 3, {{refs[12], 0, 7}})});
  auto rs = f.responses();
  ASSERT_EQ(rs.size(), 3u);
  for (unsigned i = 0; i < 3; ++i) {
    EXPECT_EQ(rs[i].id, 10u + i);
    EXPECT_EQ(rs[i].operation, BLKIF_OP_READ);
    EXPECT_EQ(rs[i].status, BLKIF_RSP_OKAY);
  }
  EXPECT_EQ(bytes_at(m, f.data_addr(0), 11 * kPageSize), image_at(c, 8, 11 * kPageSize));
  EXPECT_EQ(bytes_at(m, f.data_addr(11) + 2 * 512, 3 * 512), image_at(c, 2000, 3 * 512));
  EXPECT_EQ(bytes_at(m, f.data_addr(11), 2 * 512), std::vector<uint8_t>(2 * 512, 0x5a)) << "outside the segment";
  EXPECT_EQ(bytes_at(m, f.data_addr(12), kPageSize), image_at(c, 3, kPageSize));
  EXPECT_EQ(m.backend_requests(), 3u);
  EXPECT_EQ(m.backend_max_in_flight(), 3u);
  // Grants are mapped only while data moves.
  for (uint32_t r : refs) EXPECT_EQ(f.flags(r), GTF_permit_access) << "grant " << r;
  // blkback notified us (rsp_event was 1) and asks for the next request.
  shared_info_t si;
  m.read_mfn(m.shared_info_mfn(), 0, &si, sizeof si);
  EXPECT_TRUE(si.evtchn_pending[0] & (xen_ulong_t{1} << f.port));
  EXPECT_EQ(u32(m.memory("loader").load32(f.page(0) + offsetof(blkif_sring, req_event))), 4u);

  // Closing: blkback says Closing and stays connected (Linux 6.1 disconnects on Closed).
  f.set_state(XenbusStateClosing);
  EXPECT_EQ(f.wait_backend(XenbusStateClosing), XenbusStateClosing);
  EXPECT_TRUE(m.backend_connected());
  // Closed: unmapped, unbound -- our port is unbound again, offered to dom0.
  f.set_state(XenbusStateClosed);
  EXPECT_EQ(f.wait_backend(XenbusStateClosed), XenbusStateClosed);
  EXPECT_FALSE(m.backend_connected());
  EXPECT_TRUE(m.backend_bound_ports().empty());
  st = xen::evtchn_status(m.hypercalls(), f.port);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->status, uint32_t{EVTCHNSTAT_unbound});
  EXPECT_EQ(st->u.unbound.dom, 0);
  EXPECT_EQ(f.flags(f.ring_refs[0]), GTF_permit_access) << "the ring unmapped";
  EXPECT_EQ(m.backend_ring_gfn(), std::nullopt);
  // Initialising: InitWait, ready for the next frontend (Linux's blkfront).
  f.set_state(XenbusStateInitialising);
  EXPECT_EQ(f.wait_backend(XenbusStateInitWait), XenbusStateInitWait);

  // And it connects again, on the same ring and port, attached where the
  // ring's responses stopped (BACK_RING_ATTACH): a request already waiting
  // is served.
  f.submit({read_req(19, 24, {{refs[1], 0, 7}})});  // the port is unbound: nobody hears
  EXPECT_TRUE(f.responses().empty());
  f.set_state(XenbusStateInitialised);
  ASSERT_EQ(f.wait_backend(XenbusStateConnected), XenbusStateConnected);
  auto waiting = f.responses();
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_EQ(waiting[0].id, 19u);
  EXPECT_EQ(bytes_at(m, f.data_addr(1), kPageSize), image_at(c, 24, kPageSize));
  auto again = f.one(read_req(20, 0, {{refs[0], 0, 7}}));
  EXPECT_EQ(again.status, BLKIF_RSP_OKAY);
  EXPECT_EQ(bytes_at(m, f.data_addr(0), kPageSize), image_at(c, 0, kPageSize));
  EXPECT_TRUE(m.ring_protocol_errors().empty()) << m.ring_protocol_errors()[0];
}

TEST(BlkbackTwin, ItNotifiesOnlyWhenRspEventAsks) {
  Model m(xl(disk_of()));
  XsClient xs(m);
  Front f(m, xs);
  ASSERT_TRUE(f.connect());
  auto pending = [&] {
    shared_info_t si;
    m.read_mfn(m.shared_info_mfn(), 0, &si, sizeof si);
    return (si.evtchn_pending[0] >> f.port) & 1;
  };
  const uint32_t g = f.data_page(0);
  auto& mem = m.memory("loader");
  // rsp_event far ahead: the frontend polls, blkback keeps quiet.
  ASSERT_TRUE(mem.store32(f.page(0) + offsetof(blkif_sring, rsp_event), 100).ok());
  f.submit({read_req(1, 0, {{g, 0, 7}})});
  EXPECT_EQ(u32(mem.load32(f.page(0) + offsetof(blkif_sring, rsp_prod))), 1u);
  EXPECT_EQ(pending(), 0u);
  // rsp_event at the next response: notified.
  ASSERT_TRUE(mem.store32(f.page(0) + offsetof(blkif_sring, rsp_event), 2).ok());
  f.submit({read_req(2, 8, {{g, 0, 7}})});
  EXPECT_EQ(pending(), 1u);
  EXPECT_EQ(f.responses().size(), 2u);
}

TEST(BlkbackTwin, ARefusedGrantIsAnErrorAndNothingIsWritten) {
  DomainConfig c = xl(disk_of());
  Model m(c);
  XsClient xs(m);
  Front f(m, xs);
  ASSERT_TRUE(f.connect());
  auto& mem = m.memory("loader");
  const uint32_t good = f.data_page(0);
  const uint32_t readonly = f.data_page(1, /*readonly=*/true);
  const uint32_t other_domain = f.grant(f.data_addr(2).gfn(), false, /*domid=*/7);
  const uint32_t hole = f.grant(Gfn{0x30000}, false);  // no page behind it
  const uint32_t ended = f.data_page(3);
  ASSERT_TRUE(mem.store32(f.entry(ended), 0).ok());
  for (unsigned i = 0; i < 4; ++i) ASSERT_TRUE(mem.fill(f.data_addr(i), 0x77, kPageSize).ok());
  for (uint32_t bad : {readonly, other_domain, hole, ended, uint32_t{5000}}) {
    // The good page first: blkback maps every grant before any data moves.
    auto r = f.one(read_req(bad, 0, {{good, 0, 7}, {bad, 0, 7}}));
    EXPECT_EQ(r.id, bad);
    EXPECT_EQ(r.status, BLKIF_RSP_ERROR) << "grant " << bad;
    EXPECT_EQ(bytes_at(m, f.data_addr(0), kPageSize), std::vector<uint8_t>(kPageSize, 0x77)) << "grant " << bad;
    EXPECT_EQ(f.flags(good), GTF_permit_access) << "the good grant unmapped again";
  }
  EXPECT_EQ(f.flags(readonly), GTF_permit_access | GTF_readonly);
  // The ring goes on.
  EXPECT_EQ(f.one(read_req(1, 16, {{good, 0, 7}})).status, BLKIF_RSP_OKAY);
  EXPECT_EQ(bytes_at(m, f.data_addr(0), kPageSize), image_at(c, 16, kPageSize));
}

TEST(BlkbackTwin, MalformedAndUnsupportedRequestsAreAnswered) {
  DomainConfig c = xl(disk_of(1 * kMiB));
  Model m(c);
  XsClient xs(m);
  Front f(m, xs);
  ASSERT_TRUE(f.connect());
  const uint32_t g = f.data_page(0);
  auto status = [&](blkif_request_t r) {
    auto rsp = f.one(r);
    EXPECT_EQ(rsp.id, r.id);
    return rsp.status;
  };
  blkif_request_t w = read_req(1, 0, {{g, 0, 7}});
  w.operation = BLKIF_OP_WRITE;
  EXPECT_EQ(status(w), BLKIF_RSP_ERROR) << "a write to the read-only disk";
  blkif_request_t flush = read_req(2, 0, {});
  flush.operation = BLKIF_OP_FLUSH_DISKCACHE;
  EXPECT_EQ(status(flush), BLKIF_RSP_ERROR);
  blkif_request_t other = read_req(3, 0, {{g, 0, 7}});
  other.operation = 99;
  auto rsp = f.one(other);
  EXPECT_EQ(rsp.status, BLKIF_RSP_EOPNOTSUPP);
  EXPECT_EQ(rsp.operation, 99);
  blkif_request_t indirect = read_req(4, 0, {});
  indirect.operation = BLKIF_OP_INDIRECT;
  EXPECT_EQ(status(indirect), BLKIF_RSP_EOPNOTSUPP) << "indirect was not offered";
  blkif_request_t discard = read_req(5, 0, {});
  discard.operation = BLKIF_OP_DISCARD;
  EXPECT_EQ(status(discard), BLKIF_RSP_ERROR);
  EXPECT_EQ(status(read_req(6, 0, {})), BLKIF_RSP_ERROR) << "no segment";
  blkif_request_t twelve = read_req(7, 0, {});
  twelve.nr_segments = 12;
  EXPECT_EQ(status(twelve), BLKIF_RSP_ERROR);
  EXPECT_EQ(status(read_req(8, 0, {{g, 0, 8}})), BLKIF_RSP_ERROR) << "last_sect past the page";
  EXPECT_EQ(status(read_req(9, 0, {{g, 5, 4}})), BLKIF_RSP_ERROR) << "first after last";
  const uint64_t sectors = c.disk->image.size() / 512;
  EXPECT_EQ(status(read_req(10, sectors - 7, {{g, 0, 7}})), BLKIF_RSP_ERROR) << "past the end";
  EXPECT_EQ(status(read_req(11, sectors - 8, {{g, 0, 7}})), BLKIF_RSP_OKAY) << "the last page";
  EXPECT_EQ(status(read_req(12, ~uint64_t{0} - 3, {{g, 0, 7}})), BLKIF_RSP_ERROR) << "wrapping";
  EXPECT_EQ(m.backend_requests(), 12u);
}

TEST(BlkbackTwin, IndirectRequestsWhenOffered) {
  DiskConfig d = disk_of();
  d.max_indirect_segments = 32;
  DomainConfig c = xl(d);
  Model m(c);
  XsClient xs(m);
  Front f(m, xs);
  EXPECT_EQ(xs.value(kBe + "/feature-max-indirect-segments"), "32");
  ASSERT_TRUE(f.connect());
  // One indirect page listing 20 data pages.
  const uint32_t list = f.data_page(0);
  std::vector<blkif_request_segment> segs;
  for (unsigned i = 0; i < 20; ++i) segs.push_back({f.data_page(1 + i), 0, 7});
  ASSERT_TRUE(m.memory("loader").write(f.data_addr(0), segs.data(), segs.size() * sizeof segs[0]).ok());
  blkif_request_indirect_t ind{};
  ind.operation = BLKIF_OP_INDIRECT;
  ind.indirect_op = BLKIF_OP_READ;
  ind.nr_segments = 20;
  ind.id = 77;
  ind.sector_number = 40;
  ind.handle = 51712;
  ind.indirect_grefs[0] = list;
  blkif_request_t req{};
  memcpy(&req, &ind, sizeof ind);
  auto r = f.one(req);
  EXPECT_EQ(r.id, 77u);
  EXPECT_EQ(r.operation, BLKIF_OP_READ) << "blkback answers with the indirect operation";
  EXPECT_EQ(r.status, BLKIF_RSP_OKAY);
  EXPECT_EQ(bytes_at(m, f.data_addr(1), 20 * kPageSize), image_at(c, 40, 20 * kPageSize));
  EXPECT_EQ(f.flags(list), GTF_permit_access) << "the indirect page was mapped only to be read";
  ind.nr_segments = 33;
  memcpy(&req, &ind, sizeof ind);
  EXPECT_EQ(f.one(req).status, BLKIF_RSP_ERROR) << "more segments than offered";
  ind.nr_segments = 20;
  ind.indirect_op = BLKIF_OP_DISCARD;
  memcpy(&req, &ind, sizeof ind);
  EXPECT_EQ(f.one(req).status, BLKIF_RSP_ERROR);
}

TEST(BlkbackTwin, AMultiPageRingWhenOffered) {
  DiskConfig d = disk_of();
  d.max_ring_page_order = 1;
  DomainConfig c = xl(d);
  Model m(c);
  XsClient xs(m);
  Front f(m, xs);
  EXPECT_EQ(xs.value(kBe + "/max-ring-page-order"), "1");
  ASSERT_TRUE(f.connect(2));
  const uint32_t g = f.data_page(0);
  // 64 slots over two pages: go round more than once, one request at a time.
  for (uint32_t i = 0; i < 70; ++i) {
    auto r = f.one(read_req(i, i * 8, {{g, 0, 7}}));
    ASSERT_EQ(r.id, i);
    ASSERT_EQ(r.status, BLKIF_RSP_OKAY);
    ASSERT_EQ(bytes_at(m, f.data_addr(0), kPageSize), image_at(c, i * 8, kPageSize)) << "request " << i;
  }
  EXPECT_TRUE(m.ring_protocol_errors().empty());
}

TEST(BlkbackTwin, ConnectFailuresAreFatalAndLeaveNothingMapped) {
  struct Case {
    const char* name;
    std::function<void(Front&, XsClient&)> spoil;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"protocol", [](Front&, XsClient& xs) { xs.write(kFe + "/protocol", XEN_IO_PROTO_ABI_X86_32); },
       "-1 unknown fe protocol x86_32-abi"},
      {"queues", [](Front&, XsClient& xs) { xs.write(kFe + "/multi-queue-num-queues", "4"); },
       "-1 guest requested 4 queues, exceeding the maximum of 1."},
      {"no event channel", [](Front&, XsClient& xs) { xs.call(XS_RM, z(kFe + "/event-channel")); },
       "22 reading " + kFe + "/event-channel"},
      {"ring page order", [](Front&, XsClient& xs) { xs.write(kFe + "/ring-page-order", "1"); },
       "22 " + kFe + "/request 1 ring page order exceed max:0"},
      {"no ring-ref", [](Front&, XsClient& xs) { xs.call(XS_RM, z(kFe + "/ring-ref")); },
       "22 reading " + kFe + "/ring-ref"},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.name);
    Model m(xl(disk_of()));
    XsClient xs(m);
    Front f(m, xs);
    f.prepare();
    f.publish();
    k.spoil(f, xs);
    f.set_state(XenbusStateInitialised);
    EXPECT_EQ(f.wait_backend(XenbusStateClosing), XenbusStateClosing);
    EXPECT_EQ(m.xenstore_read(kError), k.error);
    EXPECT_FALSE(m.backend_connected());
    EXPECT_EQ(f.flags(f.ring_refs[0]), GTF_permit_access) << "the ring is not left mapped";
    EXPECT_EQ(xen::evtchn_status(m.hypercalls(), f.port)->status, uint32_t{EVTCHNSTAT_unbound});
  }
  {
    SCOPED_TRACE("a ring grant dom0 may not map");
    Model m(xl(disk_of()));
    XsClient xs(m);
    Front f(m, xs);
    f.prepare();
    const uint32_t ro = f.grant(f.page(0).gfn(), /*readonly=*/true);
    f.publish();
    xs.write(kFe + "/ring-ref", std::to_string(ro));
    f.set_state(XenbusStateInitialised);
    EXPECT_EQ(f.wait_backend(XenbusStateClosing), XenbusStateClosing);
    EXPECT_EQ(m.xenstore_read(kError), "2 mapping ring-ref port " + std::to_string(f.port));
    EXPECT_FALSE(m.backend_connected());
  }
  {
    SCOPED_TRACE("a port that is not offered to dom0");
    Model m(xl(disk_of()));
    XsClient xs(m);
    Front f(m, xs);
    f.prepare();
    auto self = xen::evtchn_alloc_unbound(m.hypercalls(), DOMID_SELF);
    ASSERT_TRUE(self.ok());
    f.port = *self;
    f.publish();
    f.set_state(XenbusStateInitialised);
    EXPECT_EQ(f.wait_backend(XenbusStateClosing), XenbusStateClosing);
    EXPECT_EQ(m.xenstore_read(kError), "22 mapping ring-ref port " + std::to_string(*self));
    EXPECT_EQ(f.flags(f.ring_refs[0]), GTF_permit_access);
    EXPECT_TRUE(m.backend_bound_ports().empty());
  }
  {
    SCOPED_TRACE("a state blkback does not expect");
    Model m(xl(disk_of()));
    XsClient xs(m);
    Front f(m, xs);
    f.set_state(XenbusStateReconfiguring);
    EXPECT_EQ(f.wait_backend(XenbusStateClosing), XenbusStateClosing);
    EXPECT_EQ(m.xenstore_read(kError), "22 saw state 7 at frontend");
  }
}

TEST(BlkbackTwin, ADeadBackendStaysInitWait) {
  DiskConfig d = disk_of();
  d.backend_connects = false;
  Model m(xl(d));
  XsClient xs(m);
  Front f(m, xs);
  f.prepare();
  f.publish();
  f.set_state(XenbusStateInitialised);
  EXPECT_EQ(f.wait_backend(XenbusStateConnected, 30), XenbusStateInitWait);
  EXPECT_FALSE(m.backend_connected());
  EXPECT_EQ(f.flags(f.ring_refs[0]), GTF_permit_access);
  EXPECT_EQ(xen::evtchn_status(m.hypercalls(), f.port)->status, uint32_t{EVTCHNSTAT_unbound});
}

TEST(BlkbackTwin, RequestsPublishedWithoutABarrierHaltTheRing) {
  Model m(xl(disk_of()));
  XsClient xs(m);
  Front f(m, xs);
  ASSERT_TRUE(f.connect());
  const uint32_t g = f.data_page(0);
  EXPECT_EQ(f.one(read_req(1, 0, {{g, 0, 7}})).status, BLKIF_RSP_OKAY);
  f.submit({read_req(2, 8, {{g, 0, 7}})}, /*fence=*/false);
  EXPECT_TRUE(has_error(m, "blkif: req_prod written while request slots"));
  EXPECT_TRUE(f.responses().empty()) << "a halted ring answers nothing";
  EXPECT_EQ(m.backend_requests(), 1u);
}

TEST(BlkbackTwin, ABogusReqProdHaltsTheRing) {
  Model m(xl(disk_of()));
  XsClient xs(m);
  Front f(m, xs);
  ASSERT_TRUE(f.connect());
  f.set_req_prod(40);  // 40 requests on a 32-slot ring
  f.submit({});
  EXPECT_TRUE(has_error(m, "bogus ring requests (req_prod 40, rsp_prod 0, 32 slots)"));
  EXPECT_EQ(m.backend_requests(), 0u);
}

TEST(BlkbackTwin, AnEntryMadeValidBeforeItsFrameIsFencedIsReported) {
  Model m(xl(disk_of()));
  XsClient xs(m);
  Front f(m, xs);
  ASSERT_TRUE(f.connect());
  EXPECT_TRUE(m.ring_protocol_errors().empty());
  const uint32_t g = f.grant(f.data_addr(0).gfn(), false, 0, /*fence=*/false);
  EXPECT_EQ(f.one(read_req(1, 0, {{g, 0, 7}})).status, BLKIF_RSP_OKAY);
  EXPECT_TRUE(has_error(m, "grant " + std::to_string(g) + ": made valid while its frame"));
}

TEST(BlkbackTwin, PersistentGrantsStayMappedUntilDisconnect) {
  Model m(xl(disk_of()));
  XsClient xs(m);
  Front f(m, xs);
  f.prepare();
  f.publish();
  xs.write(kFe + "/feature-persistent", "1");
  f.set_state(XenbusStateInitialised);
  ASSERT_EQ(f.wait_backend(XenbusStateConnected), XenbusStateConnected);
  EXPECT_EQ(xs.value(kBe + "/feature-persistent"), "1");
  const uint32_t g = f.data_page(0);
  EXPECT_EQ(f.one(read_req(1, 0, {{g, 0, 7}})).status, BLKIF_RSP_OKAY);
  EXPECT_EQ(f.flags(g), GTF_permit_access | GTF_reading | GTF_writing);
  const auto w = m.backend_writable_gfns();
  EXPECT_NE(std::find(w.begin(), w.end(), f.data_addr(0).gfn()), w.end());
  f.set_state(XenbusStateClosing);
  f.set_state(XenbusStateClosed);
  EXPECT_EQ(f.wait_backend(XenbusStateClosed), XenbusStateClosed);
  EXPECT_EQ(f.flags(g), GTF_permit_access);
}

TEST(BlkbackTwin, FourKibiByteSectorsTakeOnlyAlignedIo) {
  DiskConfig d = disk_of();
  d.sector_size = 4096;
  DomainConfig c = xl(d);
  Model m(c);
  XsClient xs(m);
  Front f(m, xs);
  ASSERT_TRUE(f.connect());
  EXPECT_EQ(xs.value(kBe + "/sector-size"), "4096");
  EXPECT_EQ(xs.value(kBe + "/sectors"), std::to_string(c.disk->image.size() / 512)) << "in 512-byte units";
  const uint32_t g = f.data_page(0);
  EXPECT_EQ(f.one(read_req(1, 16, {{g, 0, 7}})).status, BLKIF_RSP_OKAY);
  EXPECT_EQ(bytes_at(m, f.data_addr(0), kPageSize), image_at(c, 16, kPageSize));
  EXPECT_EQ(f.one(read_req(2, 4, {{g, 0, 7}})).status, BLKIF_RSP_ERROR) << "a start inside a 4 KiB sector";
  EXPECT_EQ(f.one(read_req(3, 16, {{g, 0, 3}})).status, BLKIF_RSP_ERROR) << "half a 4 KiB sector";
}

// --- time passes ---------------------------------------------------------------

TEST(BlkbackTwin, TickWritesEverywhereDom0Can) {
  Model m(xl(disk_of()));
  XsClient xs(m);
  Front f(m, xs);
  ASSERT_TRUE(f.connect());
  auto& mem = m.memory("loader");
  const uint32_t writable = f.data_page(0);
  const uint32_t readonly = f.data_page(1, true);
  const uint32_t other = f.grant(f.data_addr(2).gfn(), false, 5);
  for (unsigned i = 0; i < 3; ++i) ASSERT_TRUE(mem.fill(f.data_addr(i), 0x11, kPageSize).ok());
  const uint32_t rsp_prod = u32(mem.load32(f.page(0) + offsetof(blkif_sring, rsp_prod)));
  m.tick();
  // A DMA that was in flight: the writable page dom0 was granted.
  auto page = bytes_at(m, f.data_addr(0), kPageSize);
  EXPECT_EQ(std::count(page.begin(), page.end(), 0xb1), 512);
  EXPECT_EQ(f.flags(writable), GTF_permit_access) << "mapped only for the write";
  EXPECT_EQ(bytes_at(m, f.data_addr(1), kPageSize), std::vector<uint8_t>(kPageSize, 0x11)) << "read-only";
  EXPECT_EQ(bytes_at(m, f.data_addr(2), kPageSize), std::vector<uint8_t>(kPageSize, 0x11)) << "not dom0's";
  (void)readonly;
  (void)other;
  // A late response on the ring.
  EXPECT_EQ(u32(mem.load32(f.page(0) + offsetof(blkif_sring, rsp_prod))), rsp_prod + 1);
  auto rs = f.responses();
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].id, 0xb1b1b1b1b1b1b1b1u);
}

TEST(BlkbackTwin, TheNextStageBlamesBlkbackForWhatItWrote) {
  // A loader that jumps with the disk connected and a grant still valid:
  // Linux gets the ring and the data page as free RAM, dom0 writes them.
  Model m(xl(disk_of()));
  XsClient xs(m);
  Front f(m, xs);
  ASSERT_TRUE(f.connect());
  const uint32_t g = f.data_page(0);
  EXPECT_EQ(f.one(read_req(1, 0, {{g, 0, 7}})).status, BLKIF_RSP_OKAY);
  HandoverView h;
  h.ram = m.ram();
  const GuestPhys base = h.ram.bank[0].base;
  h.kernel = PhysRange{base + 2 * kMiB, 8 * kMiB};
  h.kernel_entry = h.kernel.base;
  h.dtb = PhysRange{base + 32 * kMiB, 64 * 1024};
  NextStageResult next = run_next_stage(m, h);
  const Finding* ring = nullptr;
  const Finding* data = nullptr;
  for (const Finding& x : next.corruption) {
    if (x.first == f.page(0).gfn()) ring = &x;
    if (x.first == f.data_addr(0).gfn()) data = &x;
  }
  ASSERT_NE(ring, nullptr);
  EXPECT_EQ(ring->owner_b, "dom0 blkback (ring)");
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(data->owner_b, "dom0 blkback (granted page)");
  EXPECT_EQ(data->owner_a, "linux (free RAM)");
  // A loader that closed properly leaves Linux nothing to find.
  Model clean(xl(disk_of()));
  XsClient xs2(clean);
  Front f2(clean, xs2);
  ASSERT_TRUE(f2.connect());
  f2.set_state(XenbusStateClosing);
  f2.set_state(XenbusStateClosed);
  ASSERT_EQ(f2.wait_backend(XenbusStateClosed), XenbusStateClosed);
  ASSERT_TRUE(clean.memory("loader").store32(f2.entry(f2.ring_refs[0]), 0).ok());
  ASSERT_TRUE(xen::evtchn_close(clean.hypercalls(), f2.port).ok());
  HandoverView h2 = h;
  h2.ram = clean.ram();
  EXPECT_TRUE(run_next_stage(clean, h2).corruption.empty());
}

}  // namespace
}  // namespace mb::model
