#include "app/allocator.h"

#include <malloc.h>

#include <cstdlib>

namespace hdm {

void ConfigureAllocator() {
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") != nullptr) return;  // the operator's choice
  constexpr int kMmapThreshold = 256 * 1024;
  mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
}

}  // namespace hdm
