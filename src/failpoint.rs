//! Failpoints for crash tests: `KPR_BRIDGE_FAILPOINT=<name>` makes the process abort at the
//! named point, as a power cut would; `<name>:hang` makes it stop there for good, as a step
//! that never finishes would (for shutdown tests). Unset (always, in production) it costs
//! one lookup.

/// Aborts the process, or hangs, if the environment names this failpoint.
pub fn hit(name: &str) {
    let Some(set) = std::env::var_os("KPR_BRIDGE_FAILPOINT") else {
        return;
    };
    if set == name {
        eprintln!("failpoint {name}: aborting");
        std::process::abort();
    }
    if set.to_str().and_then(|s| s.strip_suffix(":hang")) == Some(name) {
        eprintln!("failpoint {name}: hanging");
        loop {
            std::thread::park();
        }
    }
}
