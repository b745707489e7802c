//! Failpoints for crash tests: `KPR_BRIDGE_FAILPOINT=<name>` makes the process abort at the
//! named point, as a power cut would. Unset (always, in production) it costs one lookup.

/// Aborts the process if the environment names this failpoint.
pub fn hit(name: &str) {
    if std::env::var_os("KPR_BRIDGE_FAILPOINT").is_some_and(|v| v == name) {
        eprintln!("failpoint {name}: aborting");
        std::process::abort();
    }
}
