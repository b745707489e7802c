//! Times the daily flow's person keys (HMAC-SHA256 of each identity number under the
//! municipality's secret): N keys of distinct synthetic numbers, the best of three rounds.
//! `docs/performance.md` holds the figures before and after the HMAC came from a crate.
//!
//! ```sh
//! cargo run --release --example person_keys -- 1000000
//! ```

use std::process::ExitCode;
use std::time::Instant;

use kpr_bridge::daily::current::Pseudonyms;

fn main() -> ExitCode {
    let n: usize = match std::env::args().nth(1).map(|n| n.parse()) {
        Some(Ok(n)) => n,
        _ => {
            eprintln!("usage: person_keys N");
            return ExitCode::from(2);
        }
    };
    let numbers: Vec<String> = (0..n)
        .map(|i| format!("{:011}", 10_000_000_000 + i))
        .collect();
    let pseudonyms =
        Pseudonyms::new("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    let mut best = f64::MAX;
    let mut check = 0u8;
    for _ in 0..3 {
        let started = Instant::now();
        for number in &numbers {
            check ^= pseudonyms.key(number).0[0];
        }
        best = best.min(started.elapsed().as_secs_f64());
    }
    println!(
        "{n} person keys in {best:.3} s ({:.0} keys/s; check {check:02x})",
        n as f64 / best
    );
    ExitCode::SUCCESS
}
