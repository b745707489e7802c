//! What the benches measure with: a phase's median time and its peak memory.

use std::time::{Duration, Instant};

/// Runs `work` three times; the median time and the peak memory of the runs.
pub fn phase(work: impl Fn() -> u64) -> (Duration, u64, u64) {
    reset_peak_memory();
    let mut times = Vec::new();
    let mut result = 0;
    for _ in 0..3 {
        let start = Instant::now();
        result = std::hint::black_box(work());
        times.push(start.elapsed());
    }
    times.sort();
    (times[1], peak_memory_bytes(), result)
}

pub fn reset_peak_memory() {
    // Linux: writing 5 resets the peak resident set size of this process.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

pub fn peak_memory_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| {
                    l.split_whitespace()
                        .nth(1)
                        .and_then(|kb| kb.parse::<u64>().ok())
                })
        })
        .map_or(0, |kb| kb * 1024)
}
