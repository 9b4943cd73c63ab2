//! `heap::keep_freed_memory`, observed from outside: after it, a block of a few hundred KiB
//! allocated, written and freed again and again reuses the same pages instead of faulting
//! fresh ones in each time (as parsing's token buffers did, file after file). Its own process:
//! the thresholds it raises are process-wide.
#![cfg(all(target_os = "linux", target_env = "gnu"))]

/// Minor page faults of this process so far (`/proc/self/stat`, field 10).
fn minor_faults() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("read /proc/self/stat");
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let after_name = &stat[stat.rfind(')').expect("stat has a command name") + 2..];
    after_name.split(' ').nth(7).expect("field 10").parse().expect("a number")
}

#[test]
fn freed_blocks_are_reused_not_faulted_in_again() {
    ro_audit::heap::keep_freed_memory();
    const ROUNDS: u64 = 32;
    const BLOCK: usize = 1 << 20;
    const BLOCKS: usize = 3;
    let before = minor_faults();
    for round in 0..ROUNDS {
        // Several blocks alive at once, then all freed: by default the freed top of the heap
        // is beyond the trim threshold and goes back to the kernel every round.
        let blocks: Vec<Vec<u8>> = (0..BLOCKS).map(|_| vec![round as u8 | 1; BLOCK]).collect();
        std::hint::black_box(&blocks);
    }
    let faults = minor_faults() - before;
    let fresh_every_round = ROUNDS * (BLOCKS * BLOCK / 4096) as u64;
    assert!(
        faults < fresh_every_round / 4,
        "{faults} page faults for {ROUNDS} rounds of {BLOCKS} blocks of {BLOCK} bytes (fresh pages every round: {fresh_every_round})"
    );
}
