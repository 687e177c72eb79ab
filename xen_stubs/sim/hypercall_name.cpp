#include <cstdio>

#include "magicboot/hypercall/xen_abi.h"
#include "magicboot/sim/sim.h"

namespace mb::sim {
namespace {

const char* op_name(unsigned op) {
  switch (op) {
    case __HYPERVISOR_memory_op: return "memory_op";
    case __HYPERVISOR_hvm_op: return "hvm_op";
    case __HYPERVISOR_console_io: return "console_io";
    case __HYPERVISOR_sched_op: return "sched_op";
    case __HYPERVISOR_xen_version: return "xen_version";
    case __HYPERVISOR_event_channel_op: return "event_channel_op";
    case __HYPERVISOR_grant_table_op: return "grant_table_op";
    case __HYPERVISOR_vcpu_op: return "vcpu_op";
  }
  return nullptr;
}

const char* cmd_name(unsigned op, uint64_t cmd) {
  switch (op) {
    case __HYPERVISOR_memory_op:
      switch (cmd) {
        case XENMEM_add_to_physmap: return "add_to_physmap";
        case XENMEM_remove_from_physmap: return "remove_from_physmap";
        case XENMEM_populate_physmap: return "populate_physmap";
      }
      break;
    case __HYPERVISOR_hvm_op:
      switch (cmd) {
        case HVMOP_get_param: return "get_param";
        case HVMOP_set_param: return "set_param";
      }
      break;
    case __HYPERVISOR_console_io:
      if (cmd == CONSOLEIO_write) return "write";
      break;
    case __HYPERVISOR_sched_op:
      switch (cmd) {
        case SCHEDOP_yield: return "yield";
        case SCHEDOP_poll: return "poll";
        case SCHEDOP_shutdown: return "shutdown";
      }
      break;
    case __HYPERVISOR_xen_version:
      if (cmd == XENVER_version) return "version";
      break;
    case __HYPERVISOR_event_channel_op:
      switch (cmd) {
        case EVTCHNOP_alloc_unbound: return "alloc_unbound";
        case EVTCHNOP_send: return "send";
        case EVTCHNOP_close: return "close";
        case EVTCHNOP_status: return "status";
      }
      break;
    case __HYPERVISOR_grant_table_op:
      switch (cmd) {
        case GNTTABOP_query_size: return "query_size";
        case GNTTABOP_setup_table: return "setup_table";
      }
      break;
    case __HYPERVISOR_vcpu_op:
      if (cmd == VCPUOP_register_vcpu_info) return "register_vcpu_info";
      break;
  }
  return nullptr;
}

}  // namespace

std::string hypercall_name(unsigned op, uint64_t cmd) {
  char buf[64];
  const char* o = op_name(op);
  const char* c = cmd_name(op, cmd);
  if (o && c) std::snprintf(buf, sizeof buf, "%s/%s", o, c);
  else if (o) std::snprintf(buf, sizeof buf, "%s/%lu", o, cmd);
  else std::snprintf(buf, sizeof buf, "hypercall %u/%lu", op, cmd);
  return buf;
}

}  // namespace mb::sim
