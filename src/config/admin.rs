//! The `[admin]` part of a configuration: the administration page for the IPLOS submitter —
//! where it listens, who may sign in, and how it is reached over TLS. Without a
//! `[[admin.user]]` the page is not served at all.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Where the page answers unless told otherwise: loopback, beside `/metrics` on 9464.
pub const DEFAULT_LISTEN: ([u8; 4], u16) = ([127, 0, 0, 1], 9465);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admin {
    pub listen: SocketAddr,
    pub users: Vec<User>,
    /// The page's own TLS: certificate chain and key (PEM).
    pub tls: Option<Tls>,
    /// A reverse proxy in front terminates TLS: cookies are marked Secure all the same.
    pub behind_tls_proxy: bool,
    /// How long a session lasts after sign-in.
    pub session: Duration,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub name: String,
    /// An argon2 hash in PHC form (`kpr-bridge admin-password` makes one).
    pub password_hash: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tls {
    pub certificate: PathBuf,
    pub key: PathBuf,
}

impl Admin {
    /// Whether the page is served: at least one user may sign in.
    pub fn enabled(&self) -> bool {
        !self.users.is_empty()
    }

    /// Whether the browser sees the page over TLS (cookies are then Secure).
    pub fn over_tls(&self) -> bool {
        self.tls.is_some() || self.behind_tls_proxy
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAdmin {
    listen: Option<String>,
    tls_certificate: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    behind_tls_proxy: Option<bool>,
    session_hours: Option<u32>,
    #[serde(default, rename = "user")]
    users: Vec<RawUser>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUser {
    name: Option<String>,
    password_hash: Option<String>,
}

pub(super) fn admin(raw: Option<RawAdmin>, base: &Path, problems: &mut Vec<String>) -> Admin {
    let raw = raw.unwrap_or_default();
    let default = SocketAddr::from(DEFAULT_LISTEN);
    let listen = match raw.listen.as_deref().map(str::trim) {
        None => default,
        Some(text) => text.parse().unwrap_or_else(|_| {
            problems.push(format!(
                "admin.listen: '{text}' is not an address and port such as \"127.0.0.1:9465\""
            ));
            default
        }),
    };
    let mut users: Vec<User> = Vec::new();
    for (n, user) in raw.users.into_iter().enumerate() {
        let at = format!("admin.user[{n}]");
        let name = user.name.unwrap_or_default().trim().to_string();
        if name.is_empty() {
            problems.push(format!("{at}.name: missing; give the user's sign-in name"));
            continue;
        }
        if crate::redact::hide_identity_numbers(&name) != name {
            problems.push(format!(
                "{at}.name: holds a run of 11 digits, which looks like an identity number; choose another name"
            ));
            continue;
        }
        if users.iter().any(|u| u.name == name) {
            problems.push(format!("{at}.name: '{name}' is given twice"));
            continue;
        }
        let hash = user.password_hash.unwrap_or_default();
        if let Err(e) = argon2::PasswordHash::new(&hash) {
            problems.push(format!(
                "{at}.password_hash (user '{name}'): not an argon2 hash ({e}); make one with `kpr-bridge admin-password`"
            ));
            continue;
        }
        users.push(User {
            name,
            password_hash: hash,
        });
    }
    let tls = match (raw.tls_certificate, raw.tls_key) {
        (Some(certificate), Some(key)) => Some(Tls {
            certificate: base.join(certificate),
            key: base.join(key),
        }),
        (None, None) => None,
        _ => {
            problems.push(
                "admin.tls_certificate and admin.tls_key go together: give both, or neither (and a reverse proxy for TLS)".into(),
            );
            None
        }
    };
    let hours = raw.session_hours.unwrap_or(8);
    if hours == 0 || hours > 24 * 7 {
        problems.push(format!(
            "admin.session_hours: {hours} is not between 1 and 168 (a week); default 8"
        ));
    }
    Admin {
        listen,
        users,
        tls,
        behind_tls_proxy: raw.behind_tls_proxy.unwrap_or(false),
        session: Duration::from_secs(u64::from(hours.clamp(1, 24 * 7)) * 3600),
    }
}
