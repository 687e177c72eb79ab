#include "magicboot/pv/xenstore.h"

#include <cstring>

#include "magicboot/hypercall/xen.h"
#include "magicboot/pv/deadline.h"

namespace mb::pv {
namespace {

using Ring = xenstore_domain_interface;
constexpr uint32_t kRingSize = XENSTORE_RING_SIZE;
static_assert((kRingSize & (kRingSize - 1)) == 0, "indices mask with size - 1");
static_assert(sizeof(xsd_sockmsg) == 16);

size_t length(const char* s) { return s == nullptr ? 0 : strlen(s); }

}  // namespace

Res<RingPlace> find_xenstore(Hypercalls& h, PhysRange magic, std::span<const PhysRange> ram) {
  static constexpr RingParams kStore{HVM_PARAM_STORE_PFN, HVM_PARAM_STORE_EVTCHN, "xenstore", "xenstore-none",
                                     "xenstore-placement"};
  return find_ring(h, kStore, magic, ram);
}

Res<void> XenStore::put(const void* src, uint32_t len, Deadline& wait) {
  auto* p = static_cast<const char*>(src);
  while (len > 0) {
    const uint32_t cons = MB_TRY(mem_.load32(ring_field(place_, offsetof(Ring, req_cons))));
    const uint32_t prod = MB_TRY(mem_.load32(ring_field(place_, offsetof(Ring, req_prod))));
    // The indices before the slots: what xenstored consumed is read before
    // we overwrite it.
    mem_.barrier();
    if (prod - cons > kRingSize) {
      broken_ = true;
      return MB_ERR(ErrorCode::kBadInput, "xenstore-ring", "request ring at GFN %#lx: req_prod %u, req_cons %u",
                    place_.gfn.value, prod, cons);
    }
    uint32_t n = kRingSize - (prod - cons);
    if (n == 0) {
      if (!wait.pause())
        return MB_ERR(ErrorCode::kHypercall, "xenstore-timeout", "xenstored took no request bytes in %u ms",
                      wait.ms());
      continue;
    }
    const uint32_t at = prod & (kRingSize - 1);
    if (n > len) n = len;
    if (n > kRingSize - at) n = kRingSize - at;
    MB_CHECK(mem_.write(ring_field(place_, offsetof(Ring, req) + at), p, n));
    mem_.barrier();  // the bytes before the index that publishes them
    MB_CHECK(mem_.store32(ring_field(place_, offsetof(Ring, req_prod)), prod + n));
    (void)xen::evtchn_send(h_, place_.port);
    p += n;
    len -= n;
  }
  return {};
}

Res<void> XenStore::get(void* dst, uint32_t len, Deadline& wait) {
  auto* p = static_cast<char*>(dst);
  while (len > 0) {
    const uint32_t cons = MB_TRY(mem_.load32(ring_field(place_, offsetof(Ring, rsp_cons))));
    const uint32_t prod = MB_TRY(mem_.load32(ring_field(place_, offsetof(Ring, rsp_prod))));
    if (prod - cons > kRingSize) {
      broken_ = true;
      return MB_ERR(ErrorCode::kBadInput, "xenstore-ring", "reply ring at GFN %#lx: rsp_prod %u, rsp_cons %u",
                    place_.gfn.value, prod, cons);
    }
    uint32_t n = prod - cons;
    if (n == 0) {
      if (!wait.pause())
        return MB_ERR(ErrorCode::kHypercall, "xenstore-timeout", "xenstored did not answer in %u ms", wait.ms());
      continue;
    }
    mem_.barrier();  // the index before the bytes it publishes
    const uint32_t at = cons & (kRingSize - 1);
    if (n > len) n = len;
    if (n > kRingSize - at) n = kRingSize - at;
    MB_CHECK(mem_.read(ring_field(place_, offsetof(Ring, rsp) + at), p, n));
    mem_.barrier();  // read the bytes before giving their room back
    MB_CHECK(mem_.store32(ring_field(place_, offsetof(Ring, rsp_cons)), cons + n));
    (void)xen::evtchn_send(h_, place_.port);
    p += n;
    len -= n;
  }
  return {};
}

Res<size_t> XenStore::call(uint32_t type, uint32_t tx, std::span<const std::span<const char>> parts, char* out,
                           size_t cap) {
  if (broken_)
    return MB_ERR(ErrorCode::kBadInput, "xenstore-ring", "the ring at GFN %#lx was inconsistent before: not used",
                  place_.gfn.value);
  size_t total = 0;
  for (auto part : parts) total += part.size();
  if (total > XENSTORE_PAYLOAD_MAX)
    return MB_ERR(ErrorCode::kBadInput, "xenstore-request", "a request of %zu bytes (at most %u)", total,
                  XENSTORE_PAYLOAD_MAX);
  Deadline wait(h_, cpu_, timeout_ms_);
  const xsd_sockmsg req{type, next_id_++, tx, static_cast<uint32_t>(total)};
  MB_CHECK(put(&req, sizeof req, wait));
  for (auto part : parts) MB_CHECK(put(part.data(), static_cast<uint32_t>(part.size()), wait));
  ++requests_;

  for (;;) {
    xsd_sockmsg rsp;
    MB_CHECK(get(&rsp, sizeof rsp, wait));
    if (rsp.len > XENSTORE_PAYLOAD_MAX) {
      // Where the next message starts is unknowable from the header. With
      // one request outstanding, what is on the ring now is all of its
      // reply: skip to rsp_prod, so the teardown can still use the ring.
      const uint32_t prod = MB_TRY(mem_.load32(ring_field(place_, offsetof(Ring, rsp_prod))));
      mem_.barrier();
      MB_CHECK(mem_.store32(ring_field(place_, offsetof(Ring, rsp_cons)), prod));
      (void)xen::evtchn_send(h_, place_.port);
      return MB_ERR(ErrorCode::kBadInput, "xenstore-reply", "reply of type %u claims %u bytes (at most %u)",
                    rsp.type, rsp.len, XENSTORE_PAYLOAD_MAX);
    }
    // Read what fits, then drain the rest so the ring stays in step.
    char err_name[16] = {};
    const bool is_error = rsp.type == XS_ERROR;
    char* dst = is_error ? err_name : out;
    const size_t room = is_error ? sizeof err_name - 1 : cap;
    const uint32_t kept = rsp.len < room ? rsp.len : static_cast<uint32_t>(room);
    MB_CHECK(get(dst, kept, wait));
    for (uint32_t left = rsp.len - kept; left > 0;) {
      char scrap[64];
      const uint32_t n = left < sizeof scrap ? left : sizeof scrap;
      MB_CHECK(get(scrap, n, wait));
      left -= n;
    }
    if (rsp.type == XS_WATCH_EVENT) continue;  // not ours to answer; we set no watch
    if (rsp.req_id != req.req_id || (rsp.type != type && !is_error))
      return MB_ERR(ErrorCode::kBadInput, "xenstore-reply",
                    "request %u (type %u) answered by a reply to %u of type %u", req.req_id, type, rsp.req_id,
                    rsp.type);
    if (is_error) {
      for (char& c : err_name)
        if (c != '\0' && (c < 'A' || c > 'Z') && (c < '0' || c > '9')) c = '?';
      return MB_ERR(ErrorCode::kHypercall, "xenstore-error", "xenstored answered %s to request type %u",
                    err_name[0] ? err_name : "?", type);
    }
    if (kept < rsp.len && out != nullptr)
      return MB_ERR(ErrorCode::kNoMemory, "xenstore-size", "a reply of %u bytes does not fit %zu", rsp.len, cap);
    return size_t{rsp.len};
  }
}

Res<size_t> XenStore::read(const char* path, char* out, size_t cap, uint32_t tx) {
  if (cap == 0) return MB_ERR(ErrorCode::kNoMemory, "xenstore-size", "no room for %s", path);
  const std::span<const char> parts[] = {{path, length(path) + 1}};
  const size_t n = MB_TRY(call(XS_READ, tx, parts, out, cap - 1));
  out[n] = '\0';
  return n;
}

Res<uint64_t> XenStore::read_u64(const char* path, uint32_t tx) {
  char text[24];
  const size_t n = MB_TRY(read(path, text, sizeof text, tx));
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    const unsigned d = static_cast<unsigned>(text[i] - '0');
    if (d > 9 || v > (UINT64_MAX - d) / 10)
      return MB_ERR(ErrorCode::kBadInput, "xenstore-value", "%s is \"%s\", not a number", path, text);
    v = v * 10 + d;
  }
  if (n == 0) return MB_ERR(ErrorCode::kBadInput, "xenstore-value", "%s is empty, not a number", path);
  return v;
}

Res<void> XenStore::write(const char* path, const char* value, uint32_t tx) {
  // The path with its NUL, then the value without one.
  const std::span<const char> parts[] = {{path, length(path) + 1}, {value, length(value)}};
  MB_CHECK(call(XS_WRITE, tx, parts, nullptr, 0));
  return {};
}

Res<void> XenStore::remove(const char* path, uint32_t tx) {
  const std::span<const char> parts[] = {{path, length(path) + 1}};
  MB_CHECK(call(XS_RM, tx, parts, nullptr, 0));
  return {};
}

Res<size_t> XenStore::directory(const char* path, char* out, size_t cap, size_t* bytes) {
  const std::span<const char> parts[] = {{path, length(path) + 1}};
  const size_t n = MB_TRY(call(XS_DIRECTORY, 0, parts, out, cap));
  if (n != 0 && out[n - 1] != '\0')
    return MB_ERR(ErrorCode::kBadInput, "xenstore-reply", "the children of %s do not end in a NUL", path);
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) count += out[i] == '\0';
  if (bytes != nullptr) *bytes = n;
  return count;
}

Res<uint32_t> XenStore::transaction_start() {
  const std::span<const char> parts[] = {{"", 1}};
  char text[16];
  const size_t n = MB_TRY(call(XS_TRANSACTION_START, 0, parts, text, sizeof text - 1));
  text[n] = '\0';
  uint64_t id = 0;
  size_t i = 0;
  for (; i < n && text[i] >= '0' && text[i] <= '9' && id <= UINT32_MAX; ++i) id = id * 10 + unsigned(text[i] - '0');
  if (i == 0 || (i < n && text[i] != '\0') || id == 0 || id > UINT32_MAX)
    return MB_ERR(ErrorCode::kBadInput, "xenstore-reply", "transaction id \"%s\" is not a number", text);
  return static_cast<uint32_t>(id);
}

Res<bool> XenStore::transaction_end(uint32_t tx, bool commit) {
  const std::span<const char> parts[] = {{commit ? "T" : "F", 2}};
  auto done = call(XS_TRANSACTION_END, tx, parts, nullptr, 0);
  if (!done.ok() && strcmp(done.error().check, "xenstore-error") == 0 && strstr(done.error().detail, "EAGAIN"))
    return false;
  MB_CHECK(done);
  return true;
}

}  // namespace mb::pv
