//! Connection URLs from the configuration: shown without their password, and given one from
//! the environment when the file leaves it out. Both split `scheme://user[:password]@host/…`
//! the same way, here.

/// `(scheme, userinfo, rest from '@' on)` of a URL with credentials; None without them.
fn credentials(url: &str) -> Option<(&str, &str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let at = rest[..authority_end].rfind('@')?;
    Some((scheme, &rest[..at], &rest[at..]))
}

/// The URL as messages may show it: without a password.
pub fn redacted(url: &str) -> String {
    match credentials(url) {
        Some((scheme, userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}{host}")
        }
        None => url.to_string(),
    }
}

/// The URL with `password` (percent-encoded) when it names a user but no password.
pub fn with_password(url: &str, password: &str) -> String {
    match credentials(url) {
        Some((scheme, user, host)) if !user.contains(':') => {
            let encoded: String = password
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                        char::from(b).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{scheme}://{user}:{encoded}{host}")
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_their_password() {
        assert_eq!(
            redacted("postgres://reader:s3cret@db.kommune.local:5432/epj"),
            "postgres://reader@db.kommune.local:5432/epj"
        );
        assert_eq!(
            redacted("mysql://root@127.0.0.1/epj"),
            "mysql://root@127.0.0.1/epj"
        );
        assert_eq!(redacted("sqlite:/var/epj.db"), "sqlite:/var/epj.db");
        assert_eq!(
            redacted("postgres://u:p@ss@host/db"),
            "postgres://u@host/db"
        );
    }

    #[test]
    fn a_password_is_added_only_where_none_is_written() {
        assert_eq!(
            with_password("amqps://kommune@mq:5671/%2f", "p@ss w"),
            "amqps://kommune:p%40ss%20w@mq:5671/%2f"
        );
        assert_eq!(
            with_password("amqp://guest:guest@127.0.0.1/%2f", "x"),
            "amqp://guest:guest@127.0.0.1/%2f"
        );
        assert_eq!(
            with_password("amqp://127.0.0.1/%2f", "x"),
            "amqp://127.0.0.1/%2f"
        );
    }
}
