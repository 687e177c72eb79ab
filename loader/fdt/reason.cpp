#include "magicboot/loader/fdt/format.h"

namespace mb::fdt {

const char* reason(int err) {
  switch (err < 0 ? -err : err) {
    case 0: return "ok";
    case kNotFound: return "not found";
    case kNoSpace: return "no room";
    case kBadOffset: return "offset outside its block or not a node";
    case kBadPath: return "bad path";
    case kTruncated: return "runs past its block (truncated)";
    case kBadMagic: return "no FDT magic";
    case kBadVersion: return "unsupported version";
    case kBadStructure: return "malformed structure block";
    case kBadNCells: return "bad #address-cells/#size-cells";
    case kBadValue: return "malformed property value";
    default: return "unknown error";
  }
}

}  // namespace mb::fdt
