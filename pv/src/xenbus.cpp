#include "magicboot/pv/xenbus.h"

#include "magicboot/format.h"
#include "magicboot/pv/deadline.h"

namespace mb::pv {

const char* xenbus_state_name(unsigned state) {
  static constexpr const char* kNames[] = {"Unknown",    "Initialising", "InitWait", "Initialised", "Connected",
                                           "Closing",    "Closed",       "Reconfiguring", "Reconfigured"};
  return state < sizeof kNames / sizeof kNames[0] ? kNames[state] : "?";
}

Res<void> xs_path(char* out, size_t cap, const char* dir, const char* key) {
  const int n = format_to(out, cap, "%s/%s", dir, key);
  if (n < 0 || static_cast<size_t>(n) >= cap)
    return MB_ERR(ErrorCode::kBadInput, "xenstore-request", "path %s/%s is longer than %zu", dir, key, cap - 1);
  return {};
}

Res<unsigned> read_state(XenStore& xs, const char* dir) {
  char path[XenStore::kMaxPath];
  MB_CHECK(xs_path(path, sizeof path, dir, "state"));
  const uint64_t state = MB_TRY(xs.read_u64(path));
  if (state > XenbusStateReconfigured)
    return MB_ERR(ErrorCode::kBadInput, "xenbus-state", "%s is %lu, not a xenbus state", path, state);
  return static_cast<unsigned>(state);
}

Res<void> switch_state(XenStore& xs, const char* dir, unsigned state) {
  char path[XenStore::kMaxPath];
  MB_CHECK(xs_path(path, sizeof path, dir, "state"));
  char value[4];
  format_to(value, sizeof value, "%u", state);
  return xs.write(path, value);
}

Res<unsigned> wait_state(XenStore& xs, Hypercalls& h, Cpu& cpu, const char* dir, uint32_t accept, uint32_t give_up,
                         uint32_t ms, const char* check) {
  Deadline wait(h, cpu, ms);
  for (;;) {
    const unsigned state = MB_TRY(read_state(xs, dir));
    if (accept & state_bit(state)) return state;
    if (give_up & state_bit(state))
      return MB_ERR(ErrorCode::kHypercall, check, "%s/state went to %u (%s)", dir, state, xenbus_state_name(state));
    if (!wait.pause())
      return MB_ERR(ErrorCode::kHypercall, check, "%s/state still %u (%s) after %u ms", dir, state,
                    xenbus_state_name(state), ms);
  }
}

}  // namespace mb::pv
