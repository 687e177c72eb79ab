#include "magicboot/loader/ledger.h"

namespace mb::loader {

const char* to_string(RangeType type) {
  switch (type) {
    case RangeType::kFreeRam: return "free RAM";
    case RangeType::kLoaderImage: return "loader image";
    case RangeType::kLoaderStack: return "loader stack";
    case RangeType::kLoaderHeap: return "loader heap";
    case RangeType::kIncomingDt: return "incoming DT";
    case RangeType::kPayload: return "payload";
    case RangeType::kKernel: return "kernel";
    case RangeType::kInitrd: return "initrd";
    case RangeType::kOutgoingDt: return "outgoing DT";
    case RangeType::kReserved: return "reserved";
    case RangeType::kMagic: return "magic";
    case RangeType::kGrantTable: return "grant table";
  }
  return "unknown range type";
}

static_assert(static_cast<size_t>(RangeType::kGrantTable) + 1 == kRangeTypeCount);

}  // namespace mb::loader
