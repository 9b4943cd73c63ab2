//! One start-up step for the allocator: the process keeps the memory it frees for reuse instead
//! of returning it to the kernel page by page and faulting it back in for the next file.
//!
//! glibc's malloc serves large blocks (from 128 KiB) with `mmap` and trims a heap's free top
//! beyond twice that; once a block of size S served by `mmap` is freed, it raises both
//! thresholds to S (up to 32 MiB) for the rest of the run. Parsing allocates and frees token
//! buffers of a few hundred KiB per file while the analysis keeps its facts in between: with the
//! default thresholds each file's buffers came from fresh pages (half of `check`'s 195 k page
//! faults on a million-line tree, 0.5 s of system time). Freeing one 8 MiB block at start
//! raises the thresholds once, in safe code. Other allocators ignore it: the block is reserved
//! and released, never touched. It never changes what the run computes.

/// The size of the block: thresholds of 8 MiB (mmap) and 16 MiB (trim).
const THRESHOLD_BYTES: usize = 8 << 20;

/// Raises glibc's dynamic mmap and trim thresholds; call once, first thing in `main`.
pub fn keep_freed_memory() {
    let block: Vec<u8> = Vec::with_capacity(THRESHOLD_BYTES);
    // Keeps the allocation from being optimised away.
    std::hint::black_box(&block);
}
