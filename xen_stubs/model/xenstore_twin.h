// dom0's xenstored, as far as one xl guest sees it: the store ring on the
// xenstore magic page (io/xs_wire.h's xenstore_domain_interface), served
// when the guest notifies the store port or yields, and the tree the
// toolstack wrote for the domain. It follows Xen 4.17's C xenstored
// (tools/xenstore/xenstored_core.c, _transaction.c, _watch.c, _domain.c):
//
// * requests: READ, WRITE, MKDIR, RM, DIRECTORY, DIRECTORY_PART, GET_PERMS,
//   SET_PERMS, GET_DOMAIN_PATH, WATCH, UNWATCH, RESET_WATCHES,
//   TRANSACTION_START/END; the privileged ones (CONTROL, INTRODUCE, RELEASE,
//   IS_DOMAIN_INTRODUCED, RESUME, SET_TARGET) are EACCES for a guest; any
//   other type is ENOSYS, as xenstored's process_message answers.
// * errors as XS_ERROR with the errno's name (xsd_errors): EINVAL for a bad
//   path or argument list, ENOENT, EACCES from the node permissions (and
//   from a parent's, so a guest learns nothing of what it may not read),
//   ENOSPC for the per-domain quotas (node size 2048, 1000 nodes, 10
//   transactions), E2BIG for a reply over XENSTORE_PAYLOAD_MAX or too many
//   watches, EEXIST for a watch set twice, EBUSY for a transaction started
//   inside one, EAGAIN for a commit whose nodes changed meanwhile.
// * permissions as xenstored keeps them: an owner and a default in the
//   first entry, per-domain entries after; a node a guest creates inherits
//   its parent's, with the guest as owner; dom0 may do anything.
// * transactions: isolated, as xenstored's; a node read or written in a
//   transaction is copied on first access, the commit fails with EAGAIN if
//   any of them changed outside it since, and applies them all otherwise.
//   Watches fire on commit.
// * watches: fired on a write or mkdir of the node or below it, on a rm of
//   the node, an ancestor or a descendant, once when set; only for nodes
//   the watcher may read. A guest gets XS_WATCH_EVENT messages (req_id 0)
//   in its reply stream; dom0's own watchers (blkback) get them queued for
//   their next turn.
// * the guest's side of the ring is checked: a header whose len is over
//   XENSTORE_PAYLOAD_MAX, indices more than a ring apart, and req_prod
//   published over request bytes not yet ordered by GuestMemory::barrier()
//   are recorded in ring_protocol_errors(), and the connection is not served
//   further (xenstored's ignore_connection).
//
// Not modelled: other domains' connections (dom0's requests are direct
// calls), the node and watch limits on path depth, special watches firing
// (@introduceDomain, @releaseDomain: only their first event), XS_CONTROL,
// the store's persistence, quota for dom0.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "model_impl.h"

namespace mb::model {

class XenstoreTwin {
 public:
  // One xs_permissions entry: a domain and what it may do.
  struct Perm {
    uint32_t id = 0;
    uint8_t bits = 0;  // kRead | kWrite
  };
  static constexpr uint8_t kRead = 1, kWrite = 2, kOwner = 8;

  // `ring_mfn`: the store page (0: no ring). The tree starts with
  // xenstored's own nodes and /local/domain/{0,<guest>}.
  XenstoreTwin(Model::Impl& m, uint64_t ring_mfn);

  // What libxl writes for the domain it builds (libxl__domain_make,
  // libxl__build_post): /local/domain/<guest> readable by the guest with
  // name, domid, memory/, console/, store/ (values from the model's params),
  // and the directories it may write (data, drivers, feature, attr, error,
  // control/shutdown and the like).
  void populate_domain();

  // --- dom0's own access: privileged, immediate, fires watches ------------
  std::optional<std::string> read(const std::string& path) const;
  std::vector<std::string> directory(const std::string& path) const;
  // Writes (creating missing parents, which inherit their parent's
  // permissions), with `perms` when given.
  void write(const std::string& path, const std::string& value, const std::vector<Perm>& perms = {});
  void mkdir(const std::string& path, const std::vector<Perm>& perms = {});
  void rm(const std::string& path);
  // A dom0 watch: its events queue under `token` (the first at once).
  void watch(const std::string& path, const std::string& token);
  // The paths fired for `token` since the last call, in order.
  std::vector<std::string> take_events(const std::string& token);

  // --- the guest's ring ---------------------------------------------------
  // xenstored's turn: answer every whole request on the ring, put what fits
  // of the replies (and watch events) on it, notify the guest.
  void serve();
  void note_write(uint64_t mfn, uint64_t offset, uint64_t len);

  std::function<void(uint32_t, std::string&)> reply_filter;  // replies only
  std::function<void(XenstoreMessage&)> message_filter;     // every message

  static std::string domain_path(uint32_t domid) { return "/local/domain/" + std::to_string(domid); }

 private:
  struct Node {
    std::string value;
    std::vector<std::string> children;  // in creation order, as xenstored keeps them
    std::vector<Perm> perms;            // never empty
    uint64_t gen = 0;
  };
  struct Fire {
    std::string path;
    bool exact;               // only watches on this very node
    std::vector<Perm> perms;  // the node's, for the watcher's read check
  };
  struct Tx {
    std::map<std::string, std::optional<Node>> nodes;  // copied on first access
    std::map<std::string, uint64_t> seen;              // generation then (kNoGen: absent)
    std::set<std::string> changed;
    std::vector<Fire> fires;
  };
  struct Watch {
    std::string path;  // as given (relative paths report relative events)
    std::string abs;
    std::string token;
    bool guest;
  };
  class Op;  // one request's view of the store: main tree or a transaction
  friend class Op;

  static constexpr uint64_t kNoGen = ~uint64_t{0};

  void fire(const Fire& f);
  void queue(XenstoreMessage msg, bool reply);
  bool flush_output();  // false: the ring is broken
  void broken(const std::string& why);
  void process(const xsd_sockmsg& h, const std::string& body);
  int handle(uint32_t type, uint32_t tx_id, const std::string& body, std::string& reply);

  Model::Impl& m_;
  uint64_t ring_mfn_;
  std::map<std::string, Node> nodes_;
  uint64_t generation_ = 0;
  std::map<uint32_t, Tx> txs_;
  uint32_t next_tx_ = 1;
  std::vector<Watch> watches_;
  std::deque<std::pair<std::string, std::string>> dom0_events_;  // token, path
  std::string in_;      // the request being received (a long one comes in pieces)
  std::string out_;     // bytes waiting for room on the reply ring
  bool ignored_ = false;
  bool notify_ = false;  // something moved on the ring this turn
  uint64_t req_written_ = kNoGen;  // barrier epoch of the last request bytes
};

}  // namespace mb::model
