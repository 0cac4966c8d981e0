// Allocator settings for training loops.
//
// glibc malloc serves every block above 128 KiB-32 MiB (its adaptive mmap
// threshold) with mmap and returns it with munmap, so each training step maps,
// zero-faults and unmaps its large activations again. Keeping those blocks in
// the heap made the paper CNN's step 2.3-2.7x faster on our 2-core machines.
// The `adaswarm` tool calls this at start-up; so do the benchmarks, so that they
// measure what the tool gets. A library user may call it first thing in main().
#pragma once

namespace adaswarm::util {

/// Raises glibc's mmap and trim thresholds (no effect with other allocators,
/// such as jemalloc preloaded with LD_PRELOAD). Returns false if glibc refused.
bool tune_malloc_for_training();

}  // namespace adaswarm::util
