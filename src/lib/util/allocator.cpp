#include "adaswarm/util/allocator.h"

#include <malloc.h>

namespace adaswarm::util {

bool tune_malloc_for_training() {
  bool ok = mallopt(M_MMAP_THRESHOLD, 256 * 1024 * 1024) == 1;
  ok = mallopt(M_TRIM_THRESHOLD, 512 * 1024 * 1024) == 1 && ok;
  ok = mallopt(M_TOP_PAD, 64 * 1024 * 1024) == 1 && ok;
  return ok;
}

}  // namespace adaswarm::util
