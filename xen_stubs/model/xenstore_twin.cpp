#include "xenstore_twin.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace mb::model {
namespace {

using Ring = xenstore_domain_interface;
constexpr uint32_t kRing = XENSTORE_RING_SIZE;
constexpr uint32_t kGuest = Model::Impl::kDomid;
constexpr size_t kHeader = sizeof(xsd_sockmsg);
static_assert(kHeader == 16);

// xenstored's default quotas (xenstored_core.c) for an unprivileged domain.
constexpr size_t kQuotaNodeSize = 2048;  // a node's record: header, perms, data, children
constexpr size_t kQuotaNodes = 1000;
constexpr size_t kQuotaWatches = 128;
constexpr size_t kQuotaTransactions = 10;
constexpr size_t kQuotaPerms = 5;

const char* errno_name(int e) {
  for (const auto& x : xsd_errors)
    if (x.errnum == e) return x.errstring;
  return "EINVAL";  // what xenstored sends for an errno it cannot translate
}

bool valid_path(const std::string& p) {
  if (p.empty() || p[0] != '/') return false;
  if (p.size() > 1 && p.back() == '/') return false;
  if (p.find("//") != std::string::npos) return false;
  if (p.size() > XENSTORE_ABS_PATH_MAX) return false;
  // Below a domain's home, the part a domain names relatively is bounded too.
  static const std::string kHome = "/local/domain/";
  if (p.compare(0, kHome.size(), kHome) == 0) {
    const size_t slash = p.find('/', kHome.size());
    if (slash != std::string::npos && p.size() - slash - 1 > XENSTORE_REL_PATH_MAX) return false;
  }
  return std::all_of(p.begin(), p.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '/' ||
           c == '_' || c == '@';
  });
}

std::string parent_of(const std::string& p) {
  const size_t slash = p.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : p.substr(0, slash);
}
std::string base_of(const std::string& p) { return p.substr(p.rfind('/') + 1); }
std::string join(const std::string& dir, const std::string& name) { return dir == "/" ? "/" + name : dir + "/" + name; }

// `child` is `parent` or lies below it.
bool is_child(const std::string& child, const std::string& parent) {
  if (parent == "/") return true;
  return child.compare(0, parent.size(), parent) == 0 && (child.size() == parent.size() || child[parent.size()] == '/');
}

// The NUL-terminated strings of a payload (bytes after the last NUL are not one).
std::vector<std::string> strings_of(const std::string& body) {
  std::vector<std::string> out;
  for (size_t at = 0;;) {
    const size_t nul = body.find('\0', at);
    if (nul == std::string::npos) return out;
    out.push_back(body.substr(at, nul - at));
    at = nul + 1;
  }
}

// xenstored's onearg(): exactly one string, its NUL the payload's last byte.
std::optional<std::string> onearg(const std::string& body) {
  if (body.empty() || body.find('\0') != body.size() - 1) return std::nullopt;
  return body.substr(0, body.size() - 1);
}

// A guest's relative paths are below its home.
std::string canonical(const std::string& p) {
  if (!p.empty() && (p[0] == '/' || p[0] == '@')) return p;
  return XenstoreTwin::domain_path(kGuest) + "/" + p;
}

unsigned number(const std::string& s) {  // atoi's leniency, as xenstored reads numbers
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') break;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v;
}

}  // namespace

// --- one request's view: the main tree, or a transaction's copy of it --------

class XenstoreTwin::Op {
 public:
  Op(XenstoreTwin& xs, Tx* tx, bool privileged) : xs_(xs), tx_(tx), priv_(privileged) {}

  uint8_t perm_for(const std::vector<Perm>& perms) const {
    if (priv_ || perms[0].id == kGuest) return kRead | kWrite | kOwner;
    for (size_t i = 1; i < perms.size(); ++i)
      if (perms[i].id == kGuest) return perms[i].bits;
    return perms[0].bits;
  }

  const Node* raw(const std::string& p) {
    if (!tx_) {
      auto it = xs_.nodes_.find(p);
      return it == xs_.nodes_.end() ? nullptr : &it->second;
    }
    auto it = tx_->nodes.find(p);
    if (it == tx_->nodes.end()) {
      auto m = xs_.nodes_.find(p);
      tx_->seen[p] = m == xs_.nodes_.end() ? kNoGen : m->second.gen;
      it = tx_->nodes.emplace(p, m == xs_.nodes_.end() ? std::nullopt : std::optional<Node>(m->second)).first;
    }
    return it->second ? &*it->second : nullptr;
  }

  // xenstored's get_node(): the node when `perm` is granted; otherwise
  // EACCES, or ENOENT when it does not exist and its nearest ancestor would
  // grant `perm` (a domain learns nothing of what it may not see).
  int get(const std::string& p, uint8_t perm, const Node** out) {
    if (!valid_path(p)) return EINVAL;
    const Node* n = raw(p);
    if (n && (perm_for(n->perms) & perm) == perm) {
      *out = n;
      return 0;
    }
    const int err = n ? EACCES : ENOENT;
    std::string a = p;
    const Node* up = nullptr;
    while (!up && a != "/") up = raw(a = parent_of(a));
    return up && (perm_for(up->perms) & perm) ? err : EACCES;
  }

  void put(const std::string& p, Node n) {
    if (!tx_) {
      n.gen = ++xs_.generation_;
      xs_.nodes_[p] = std::move(n);
      return;
    }
    raw(p);
    tx_->nodes[p] = std::move(n);
    tx_->changed.insert(p);
  }
  void erase(const std::string& p) {
    if (!tx_) {
      xs_.nodes_.erase(p);
      return;
    }
    raw(p);
    tx_->nodes[p] = std::nullopt;
    tx_->changed.insert(p);
  }
  void fire(Fire f) {
    if (tx_)
      tx_->fires.push_back(std::move(f));
    else
      xs_.fire(f);
  }

  static size_t record_size(const Node& n) {
    size_t s = 24 + 8 * n.perms.size() + n.value.size();
    for (const auto& c : n.children) s += c.size() + 1;
    return s;
  }
  bool over_quota(const Node& n) const { return !priv_ && record_size(n) >= kQuotaNodeSize; }
  size_t guest_nodes() {
    size_t n = 0;
    for (const auto& [p, node] : xs_.nodes_) n += node.perms[0].id == kGuest;
    if (tx_)
      for (const auto& [p, node] : tx_->nodes) {
        auto m = xs_.nodes_.find(p);
        const bool before = m != xs_.nodes_.end() && m->second.perms[0].id == kGuest;
        const bool now = node && node->perms[0].id == kGuest;
        n = n + now - before;
      }
    return n;
  }

  // construct_node()/create_node(): `p` and any missing parents, each
  // inheriting its parent's permissions (a guest owns what it creates).
  int create(const std::string& p, const std::string& value, const std::vector<Perm>* perms) {
    std::vector<std::string> chain;  // missing nodes, deepest first
    std::string at = p;
    while (!raw(at)) {
      chain.push_back(at);
      at = parent_of(at);
    }
    if (!priv_ && guest_nodes() + chain.size() > kQuotaNodes) return ENOSPC;
    Node parent = *raw(at);
    parent.children.push_back(base_of(chain.back()));
    if (over_quota(parent)) return ENOSPC;
    std::vector<std::pair<std::string, Node>> made;
    std::vector<Perm> inherited = parent.perms;
    if (!priv_) inherited[0].id = kGuest;
    for (size_t i = chain.size(); i-- > 0;) {
      Node n;
      n.perms = inherited;
      if (i == 0) {
        n.value = value;
        if (perms && !perms->empty()) n.perms = *perms;
      } else {
        n.children.push_back(base_of(chain[i - 1]));
      }
      if (over_quota(n)) return ENOSPC;
      made.emplace_back(chain[i], std::move(n));
    }
    put(at, std::move(parent));
    for (auto& [path, n] : made) put(path, std::move(n));
    return 0;
  }

  int write(const std::string& p, const std::string& value, const std::vector<Perm>* perms = nullptr) {
    const Node* n = nullptr;
    int e = get(p, kWrite, &n);
    if (e == 0) {
      Node c = *n;
      c.value = value;
      if (perms && !perms->empty()) c.perms = *perms;
      if (over_quota(c)) return ENOSPC;
      put(p, std::move(c));
    } else if (e == ENOENT) {
      if ((e = create(p, value, perms)) != 0) return e;
    } else {
      return e;
    }
    fire({p, false, raw(p)->perms});
    return 0;
  }

  int mkdir(const std::string& p, const std::vector<Perm>* perms = nullptr) {
    const Node* n = nullptr;
    int e = get(p, kWrite, &n);
    if (e == 0) return 0;  // there already: fine
    if (e != ENOENT) return e;
    if ((e = create(p, "", perms)) != 0) return e;
    fire({p, false, raw(p)->perms});
    return 0;
  }

  int rm(const std::string& p) {
    const Node* n = nullptr;
    const int e = get(p, kWrite, &n);
    if (e == ENOENT) return raw(parent_of(p)) ? 0 : ENOENT;  // gone already: fine, if the parent is there
    if (e) return e;
    if (p == "/") return EINVAL;
    const Node* up = raw(parent_of(p));
    if (!up) return EINVAL;
    Node parent = *up;
    fire({p, false, n->perms});
    remove_tree(p, false);
    std::erase(parent.children, base_of(p));
    put(parent_of(p), std::move(parent));
    return 0;
  }

 private:
  void remove_tree(const std::string& p, bool fire_exact) {
    const Node* n = raw(p);
    if (!n) return;
    const Node copy = *n;
    for (const auto& c : copy.children) remove_tree(join(p, c), true);
    if (fire_exact) fire({p, true, copy.perms});
    erase(p);
  }

  XenstoreTwin& xs_;
  Tx* tx_;
  bool priv_;
};

// --- the store ---------------------------------------------------------------

XenstoreTwin::XenstoreTwin(Model::Impl& m, uint64_t ring_mfn) : m_(m), ring_mfn_(ring_mfn) {
  // xenstored's own nodes, then what dom0's boot writes: every node dom0's.
  Node root;
  root.perms = {Perm{0, 0}};
  nodes_["/"] = root;
  mkdir("/tool/xenstored");
  write(domain_path(0) + "/name", "Domain-0");
  write(domain_path(0) + "/domid", "0");
  if (ring_mfn_ != 0) {
    // The interface as xenstored leaves it when it introduces the domain.
    Ring ring{};
    ring.server_features = 0;
    ring.connection = XENSTORE_CONNECTED;
    m_.store.write(ring_mfn_, 0, &ring, sizeof ring);
  }
}

void XenstoreTwin::populate_domain() {
  const std::string home = domain_path(kGuest);
  const std::vector<Perm> ro = {Perm{0, 0}, Perm{kGuest, kRead}};  // libxl's roperm
  const std::vector<Perm> rw = {Perm{kGuest, 0}};                  // libxl's rwperm
  mkdir(home, ro);
  for (const char* dir : {"device", "control", "memory", "store"}) mkdir(home + "/" + dir, ro);
  for (const char* dir : {"control/shutdown", "control/feature-poweroff", "control/feature-reboot",
                          "control/feature-suspend", "control/sysrq", "data", "drivers", "feature", "attr", "error"})
    mkdir(home + "/" + dir, rw);
  write(home + "/name", "guest");
  write(home + "/domid", std::to_string(kGuest));
  const std::string kib = std::to_string(m_.config.ram_bytes >> 10);
  write(home + "/memory/static-max", kib);
  write(home + "/memory/target", kib);
  // The primary console is a device the guest owns, dom0's xenconsoled reads.
  mkdir(home + "/console", {Perm{kGuest, 0}, Perm{0, kRead}});
  write(home + "/console/backend-id", "0");
  write(home + "/console/ring-ref", std::to_string(m_.params[HVM_PARAM_CONSOLE_PFN]));
  write(home + "/console/port", std::to_string(m_.params[HVM_PARAM_CONSOLE_EVTCHN]));
  write(home + "/store/ring-ref", std::to_string(m_.params[HVM_PARAM_STORE_PFN]));
  write(home + "/store/port", std::to_string(m_.params[HVM_PARAM_STORE_EVTCHN]));
}

std::optional<std::string> XenstoreTwin::read(const std::string& path) const {
  auto it = nodes_.find(path);
  return it == nodes_.end() ? std::nullopt : std::optional<std::string>(it->second.value);
}

std::vector<std::string> XenstoreTwin::directory(const std::string& path) const {
  auto it = nodes_.find(path);
  return it == nodes_.end() ? std::vector<std::string>{} : it->second.children;
}

void XenstoreTwin::write(const std::string& path, const std::string& value, const std::vector<Perm>& perms) {
  Op(*this, nullptr, true).write(path, value, &perms);
}
void XenstoreTwin::mkdir(const std::string& path, const std::vector<Perm>& perms) {
  Op(*this, nullptr, true).mkdir(path, &perms);
}
void XenstoreTwin::rm(const std::string& path) { Op(*this, nullptr, true).rm(path); }

void XenstoreTwin::watch(const std::string& path, const std::string& token) {
  watches_.push_back(Watch{path, path, token, false});
  dom0_events_.emplace_back(token, path);  // xenstored fires a new watch once
}

std::vector<std::string> XenstoreTwin::take_events(const std::string& token) {
  std::vector<std::string> out;
  for (auto it = dom0_events_.begin(); it != dom0_events_.end();) {
    if (it->first == token) {
      out.push_back(it->second);
      it = dom0_events_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

void XenstoreTwin::fire(const Fire& f) {
  const std::vector<Watch> now = watches_;  // delivering never changes them, but be safe
  for (const Watch& w : now) {
    if (w.abs.empty() || w.abs[0] == '@') continue;  // special events are not modelled
    if (!(f.exact ? f.path == w.abs : is_child(f.path, w.abs))) continue;
    if (!w.guest) {
      dom0_events_.emplace_back(w.token, f.path);
      continue;
    }
    if (!(Op(*this, nullptr, false).perm_for(f.perms) & kRead)) continue;
    std::string path = f.path;
    if (!w.path.empty() && w.path[0] != '/') {  // set relative: reported relative
      const std::string home = domain_path(kGuest);
      if (path.compare(0, home.size(), home) == 0) path.erase(0, home.size() + (path.size() > home.size()));
    }
    std::string payload = path + '\0' + w.token + '\0';
    if (payload.size() > XENSTORE_PAYLOAD_MAX) continue;  // xenstored drops an over-long event
    queue(XenstoreMessage{XS_WATCH_EVENT, 0, 0, std::move(payload), std::nullopt}, false);
  }
}

// --- requests ----------------------------------------------------------------

int XenstoreTwin::handle(uint32_t type, uint32_t tx_id, const std::string& body, std::string& reply) {
  static const std::string kOk("OK\0", 3);
  switch (type) {
    case XS_CONTROL:
    case XS_INTRODUCE:
    case XS_RELEASE:
    case XS_IS_DOMAIN_INTRODUCED:
    case XS_RESUME:
    case XS_SET_TARGET:
      return EACCES;  // dom0's alone
    case XS_DIRECTORY:
    case XS_READ:
    case XS_GET_PERMS:
    case XS_WATCH:
    case XS_UNWATCH:
    case XS_TRANSACTION_START:
    case XS_TRANSACTION_END:
    case XS_GET_DOMAIN_PATH:
    case XS_WRITE:
    case XS_MKDIR:
    case XS_RM:
    case XS_SET_PERMS:
    case XS_RESET_WATCHES:
    case XS_DIRECTORY_PART:
      break;
    default:
      return ENOSYS;  // XS_WATCH_EVENT, XS_ERROR, the removed XS_RESTRICT, beyond the last
  }
  // Every request but a watch's names its transaction (0: none).
  Tx* tx = nullptr;
  if (type != XS_WATCH && type != XS_UNWATCH && tx_id != 0) {
    auto it = txs_.find(tx_id);
    if (it == txs_.end()) return ENOENT;
    tx = &it->second;
  }
  Op op(*this, tx, false);
  const Node* n = nullptr;
  const auto args = strings_of(body);
  switch (type) {
    case XS_READ: {
      auto a = onearg(body);
      if (!a) return EINVAL;
      if (int e = op.get(canonical(*a), kRead, &n)) return e;
      reply = n->value;
      return 0;
    }
    case XS_DIRECTORY: {
      auto a = onearg(body);
      if (!a) return EINVAL;
      if (int e = op.get(canonical(*a), kRead, &n)) return e;
      for (const auto& c : n->children) reply += c + '\0';
      return 0;
    }
    case XS_DIRECTORY_PART: {
      if (args.size() != 2) return EINVAL;
      if (int e = op.get(canonical(args[0]), kRead, &n)) return e;
      std::string children;
      for (const auto& c : n->children) children += c + '\0';
      const size_t off = number(args[1]);
      const std::string gen = std::to_string(n->gen) + '\0';
      if (off >= children.size()) {
        reply = gen + '\0';
        return 0;
      }
      // Whole names from `off` while they fit; an empty one ends the list.
      size_t len = 0;
      const size_t max = XENSTORE_PAYLOAD_MAX - gen.size() - 1;
      while (off + len < children.size()) {
        const size_t name = strlen(children.c_str() + off + len);
        if (len + name >= max) break;
        len += name + 1;
      }
      reply = gen + children.substr(off, len);
      if (off + len == children.size()) reply += '\0';
      return 0;
    }
    case XS_GET_PERMS: {
      auto a = onearg(body);
      if (!a) return EINVAL;
      if (int e = op.get(canonical(*a), kRead, &n)) return e;
      for (const Perm& p : n->perms) reply += "nrwb"[p.bits & 3] + std::to_string(p.id) + '\0';
      return 0;
    }
    case XS_SET_PERMS: {
      if (args.size() < 2) return EINVAL;
      if (args.size() - 1 > kQuotaPerms) return ENOSPC;
      std::vector<Perm> perms;
      for (size_t i = 1; i < args.size(); ++i) {
        const std::string& s = args[i];
        const char* kinds = "nrwb";
        const char* k = s.empty() ? nullptr : strchr(kinds, s[0]);
        if (!k || *k == '\0' || s.size() < 2 || s.find_first_not_of("0123456789", 1) != std::string::npos)
          return EINVAL;
        perms.push_back(Perm{number(s.substr(1)), static_cast<uint8_t>(k - kinds)});
      }
      if (args[0].rfind('@', 0) == 0) return EACCES;  // special nodes are dom0's
      const std::string path = canonical(args[0]);
      if (int e = op.get(path, kWrite | kOwner, &n)) return e;
      if (perms[0].id != n->perms[0].id) return EPERM;  // a guest may not give a node away
      Node c = *n;
      c.perms = perms;
      op.put(path, c);
      op.fire({path, false, perms});
      reply = kOk;
      return 0;
    }
    case XS_GET_DOMAIN_PATH: {
      auto a = onearg(body);
      if (!a) return EINVAL;
      reply = domain_path(number(*a)) + '\0';
      return 0;
    }
    case XS_WRITE: {
      const size_t nul = body.find('\0');
      if (nul == std::string::npos) return EINVAL;
      if (int e = op.write(canonical(body.substr(0, nul)), body.substr(nul + 1))) return e;
      reply = kOk;
      return 0;
    }
    case XS_MKDIR:
    case XS_RM: {
      auto a = onearg(body);
      if (!a) return EINVAL;
      const std::string path = canonical(*a);
      if (!valid_path(path)) return EINVAL;
      if (int e = type == XS_MKDIR ? op.mkdir(path) : op.rm(path)) return e;
      reply = kOk;
      return 0;
    }
    case XS_WATCH:
    case XS_UNWATCH: {
      if (args.size() != 2) return EINVAL;
      std::string abs = args[0];
      if (abs.rfind('@', 0) == 0) {
        if (abs.size() > XENSTORE_REL_PATH_MAX) return EINVAL;
      } else {
        abs = canonical(abs);
        if (!valid_path(abs)) return EINVAL;
      }
      auto same = [&](const Watch& w) { return w.guest && w.abs == abs && w.token == args[1]; };
      if (type == XS_UNWATCH) {
        auto it = std::find_if(watches_.begin(), watches_.end(), same);
        if (it == watches_.end()) return ENOENT;
        watches_.erase(it);
        reply = kOk;
        return 0;
      }
      if (std::any_of(watches_.begin(), watches_.end(), same)) return EEXIST;
      if (std::count_if(watches_.begin(), watches_.end(), [](const Watch& w) { return w.guest; }) >
          static_cast<long>(kQuotaWatches))
        return E2BIG;
      watches_.push_back(Watch{args[0], abs, args[1], true});
      reply = kOk;
      return 0;
    }
    case XS_RESET_WATCHES:
      std::erase_if(watches_, [](const Watch& w) { return w.guest; });
      txs_.clear();
      reply = kOk;
      return 0;
    case XS_TRANSACTION_START: {
      if (tx) return EBUSY;
      if (txs_.size() > kQuotaTransactions) return ENOSPC;
      while (next_tx_ == 0 || txs_.count(next_tx_)) ++next_tx_;
      const uint32_t id = next_tx_++;
      txs_.emplace(id, Tx{});
      reply = std::to_string(id) + '\0';
      return 0;
    }
    case XS_TRANSACTION_END: {
      auto a = onearg(body);
      if (!a || (*a != "T" && *a != "F")) return EINVAL;
      if (!tx) return ENOENT;
      Tx done = std::move(*tx);
      txs_.erase(tx_id);
      if (*a == "T") {
        for (const auto& [path, gen] : done.seen) {
          auto it = nodes_.find(path);
          if ((it == nodes_.end() ? kNoGen : it->second.gen) != gen) return EAGAIN;
        }
        for (const std::string& path : done.changed) {
          auto& v = done.nodes[path];
          if (v) {
            v->gen = ++generation_;
            nodes_[path] = *v;
          } else {
            nodes_.erase(path);
          }
        }
        for (const Fire& f : done.fires) fire(f);
      }
      reply = kOk;
      return 0;
    }
  }
  return EINVAL;
}

void XenstoreTwin::process(const xsd_sockmsg& h, const std::string& body) {
  std::string reply;
  const int e = handle(h.type, h.tx_id, body, reply);
  if (e == 0 && reply.size() > XENSTORE_PAYLOAD_MAX) {
    queue(XenstoreMessage{XS_ERROR, h.req_id, h.tx_id, std::string(errno_name(E2BIG)) + '\0', std::nullopt}, true);
    return;
  }
  if (e != 0) {
    queue(XenstoreMessage{XS_ERROR, h.req_id, h.tx_id, std::string(errno_name(e)) + '\0', std::nullopt}, true);
    return;
  }
  queue(XenstoreMessage{h.type, h.req_id, h.tx_id, std::move(reply), std::nullopt}, true);
  if (h.type == XS_WATCH) {
    // xenstored fires a new watch once, after its OK.
    const Watch& w = watches_.back();
    std::string payload = w.path + '\0' + w.token + '\0';
    if (payload.size() <= XENSTORE_PAYLOAD_MAX)
      queue(XenstoreMessage{XS_WATCH_EVENT, 0, 0, std::move(payload), std::nullopt}, false);
  }
}

void XenstoreTwin::queue(XenstoreMessage msg, bool reply) {
  if (ignored_) return;
  if (reply && reply_filter) reply_filter(msg.type, msg.payload);
  if (message_filter) message_filter(msg);
  const xsd_sockmsg h{msg.type, msg.req_id, msg.tx_id, msg.len.value_or(static_cast<uint32_t>(msg.payload.size()))};
  out_.append(reinterpret_cast<const char*>(&h), sizeof h);
  out_ += msg.payload;
}

// --- the ring ----------------------------------------------------------------

void XenstoreTwin::broken(const std::string& why) {
  m_.ring_errors.push_back("xenstore: " + why + ": the connection is no longer served");
  // xenstored's ignore_connection: nothing more is read or sent.
  ignored_ = true;
  out_.clear();
  txs_.clear();
  std::erase_if(watches_, [](const Watch& w) { return w.guest; });
}

bool XenstoreTwin::flush_output() {
  if (out_.empty()) return true;
  uint32_t cons = 0, prod = 0;
  m_.store.read(ring_mfn_, offsetof(Ring, rsp_cons), &cons, sizeof cons);
  m_.store.read(ring_mfn_, offsetof(Ring, rsp_prod), &prod, sizeof prod);
  if (prod - cons > kRing) {
    broken("rsp_cons " + std::to_string(cons) + " is more than a ring behind rsp_prod " + std::to_string(prod));
    return false;
  }
  const size_t n = std::min<size_t>(out_.size(), kRing - (prod - cons));
  for (size_t i = 0; i < n; ++i, ++prod)
    m_.store.write(ring_mfn_, offsetof(Ring, rsp) + MASK_XENSTORE_IDX(prod), &out_[i], 1);
  m_.store.write(ring_mfn_, offsetof(Ring, rsp_prod), &prod, sizeof prod);  // after the bytes
  out_.erase(0, n);
  notify_ |= n > 0;
  return true;
}

void XenstoreTwin::serve() {
  if (ring_mfn_ == 0 || ignored_ || !m_.config.xenstore_answers) return;
  for (;;) {
    uint32_t cons = 0, prod = 0;
    m_.store.read(ring_mfn_, offsetof(Ring, req_cons), &cons, sizeof cons);
    m_.store.read(ring_mfn_, offsetof(Ring, req_prod), &prod, sizeof prod);
    if (prod - cons > kRing)
      return broken("req_prod " + std::to_string(prod) + " is more than a ring ahead of req_cons " +
                    std::to_string(cons));
    if (prod == cons) break;
    // Take what the message still needs of what is there: a request longer
    // than the ring arrives in pieces, and xenstored consumes as it reads.
    xsd_sockmsg h{};
    if (in_.size() >= kHeader) memcpy(&h, in_.data(), sizeof h);
    const size_t need = in_.size() < kHeader ? kHeader - in_.size() : kHeader + h.len - in_.size();
    const uint32_t take = static_cast<uint32_t>(std::min<size_t>(need, prod - cons));
    for (uint32_t i = 0; i < take; ++i, ++cons) {
      char c = 0;
      m_.store.read(ring_mfn_, offsetof(Ring, req) + MASK_XENSTORE_IDX(cons), &c, 1);
      in_.push_back(c);
    }
    m_.store.write(ring_mfn_, offsetof(Ring, req_cons), &cons, sizeof cons);
    notify_ = true;
    if (in_.size() == kHeader) {
      memcpy(&h, in_.data(), sizeof h);
      if (h.len > XENSTORE_PAYLOAD_MAX)
        return broken("a request header (type " + std::to_string(h.type) + ", req_id " + std::to_string(h.req_id) +
                      ") claims " + std::to_string(h.len) + " bytes, more than XENSTORE_PAYLOAD_MAX");
    }
    if (in_.size() >= kHeader && in_.size() == kHeader + h.len) {
      const std::string body = in_.substr(kHeader);
      in_.clear();
      process(h, body);
    }
  }
  if (!flush_output()) return;
  if (notify_) m_.raise_event(static_cast<uint32_t>(m_.params[HVM_PARAM_STORE_EVTCHN]));
  notify_ = false;
}

void XenstoreTwin::note_write(uint64_t mfn, uint64_t offset, uint64_t len) {
  if (mfn != ring_mfn_ || ring_mfn_ == 0 || ignored_) return;
  const uint64_t end = offset + len;
  const uint64_t idx = offsetof(Ring, req_prod);
  if (offset < idx + sizeof(uint32_t) && end > idx && req_written_ == m_.ring_unfenced.barriers)
    broken("req_prod written while request bytes written before it are not yet ordered by a barrier");
  if (offset < offsetof(Ring, req) + kRing && end > offsetof(Ring, req)) req_written_ = m_.ring_unfenced.barriers;
}

}  // namespace mb::model
