// Validates a flattened device tree before anything reads it (internal).
#pragma once

#include <cstddef>

#include "magicboot/error.h"

namespace mb::loader::dt_detail {

// Header, version (>= 17), totalsize within buffer_size, and structure
// (fdt::check_tree, with an error name per check).
Res<void> check_blob(const void* fdt, size_t buffer_size);

}  // namespace mb::loader::dt_detail
