//! Who may use the page: argon2 passwords from the configuration, sessions kept in the state
//! store (so that sign-out ends a session for good, whoever kept its cookie), a CSRF token
//! per session on every form, and failed sign-ins slowed down per user and address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use argon2::password_hash::{SaltString, rand_core::OsRng};
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::config::admin::User;

/// The session cookie: HttpOnly, SameSite=Strict, Secure over TLS.
pub const SESSION_COOKIE: &str = "kpr_admin_session";
/// The sign-in form's own CSRF cookie, before there is a session.
pub const SIGN_IN_COOKIE: &str = "kpr_admin_sign_in";

/// Failures in a row a user may make from one address before each further attempt waits.
const FREE_FAILURES: u32 = 3;
/// The wait after the first failure over [`FREE_FAILURES`], doubled with each further one.
const FIRST_WAIT_SECONDS: i64 = 5;
const LONGEST_WAIT_SECONDS: i64 = 15 * 60;
/// Entries kept before the old ones are forgotten, so that guessing cannot fill memory.
const MAX_TRACKED: usize = 10_000;

/// A new random token: 32 bytes from OpenSSL's generator, as hex.
pub fn token() -> String {
    let mut bytes = [0u8; 32];
    openssl::rand::rand_bytes(&mut bytes).expect("OpenSSL's random generator works");
    hex::encode(bytes)
}

/// What the store keeps of a session token: its SHA-256, so that a copy of the store does
/// not hand out live sessions.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares two tokens in time that does not depend on where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && openssl::memcmp::eq(a.as_bytes(), b.as_bytes())
}

/// An argon2id hash in PHC form, for `[[admin.user]] password_hash`.
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

/// Whether `password` is `user`'s. An unknown user costs the same time as a known one, so
/// that the answer's delay does not tell which names exist.
pub fn verify(users: &[User], user: &str, password: &str) -> bool {
    // A hash of a random password, made once: what an unknown name is checked against.
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password(&token()).expect("hashing works"));
    let (hash, known) = match users.iter().find(|u| u.name == user) {
        Some(found) => (found.password_hash.as_str(), true),
        None => (dummy.as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let matches = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    known && matches
}

/// Failed sign-ins per (user name, address): after [`FREE_FAILURES`] in a row, each further
/// attempt is refused until a wait has passed, doubling up to a quarter of an hour.
#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<(String, IpAddr), Failures>>,
}

#[derive(Clone, Copy)]
struct Failures {
    count: u32,
    until: Option<DateTime<Utc>>,
    last: DateTime<Utc>,
}

impl Throttle {
    /// Seconds to wait before `user` may try again from `address`; `None`: may try now.
    pub fn wait(&self, user: &str, address: IpAddr, now: DateTime<Utc>) -> Option<i64> {
        let failures = self.failures.lock().expect("throttle lock");
        let until = failures.get(&(user.to_string(), address))?.until?;
        // Whole seconds, rounded up: waiting that long is always enough.
        (until > now).then(|| ((until - now).num_milliseconds() + 999) / 1000)
    }

    pub fn failed(&self, user: &str, address: IpAddr, now: DateTime<Utc>) {
        let mut failures = self.failures.lock().expect("throttle lock");
        if failures.len() >= MAX_TRACKED {
            let hour_ago = now - chrono::Duration::hours(1);
            failures.retain(|_, f| f.last > hour_ago || f.until.is_some_and(|u| u > now));
        }
        let entry = failures
            .entry((user.to_string(), address))
            .or_insert(Failures {
                count: 0,
                until: None,
                last: now,
            });
        entry.count += 1;
        entry.last = now;
        if entry.count >= FREE_FAILURES {
            let doublings = (entry.count - FREE_FAILURES).min(16);
            let wait = (FIRST_WAIT_SECONDS << doublings).min(LONGEST_WAIT_SECONDS);
            entry.until = Some(now + chrono::Duration::seconds(wait));
        }
    }

    pub fn succeeded(&self, user: &str, address: IpAddr) {
        self.failures
            .lock()
            .expect("throttle lock")
            .remove(&(user.to_string(), address));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let users = vec![User {
            name: "iplos".into(),
            password_hash: hash_password("riktig hest").unwrap(),
        }];
        assert!(verify(&users, "iplos", "riktig hest"));
        assert!(!verify(&users, "iplos", "feil hest"));
        assert!(!verify(&users, "ukjent", "riktig hest"));
    }

    #[test]
    fn the_third_failure_in_a_row_makes_the_next_attempt_wait_and_the_waits_double() {
        let throttle = Throttle::default();
        let at: IpAddr = [127, 0, 0, 1].into();
        let now = Utc::now();
        throttle.failed("a", at, now);
        throttle.failed("a", at, now);
        assert_eq!(throttle.wait("a", at, now), None);
        throttle.failed("a", at, now);
        assert_eq!(throttle.wait("a", at, now), Some(5));
        throttle.failed("a", at, now);
        assert_eq!(throttle.wait("a", at, now), Some(10));
        assert_eq!(throttle.wait("b", at, now), None, "per user");
        assert_eq!(
            throttle.wait("a", [10, 0, 0, 1].into(), now),
            None,
            "per address"
        );
        assert_eq!(
            throttle.wait("a", at, now + chrono::Duration::seconds(11)),
            None
        );
        throttle.succeeded("a", at);
        throttle.failed("a", at, now);
        assert_eq!(throttle.wait("a", at, now), None, "a success starts over");
    }
}
