//! Recognising test patients: by name patterns (`Donald Duck`, `Test *`, `* Testesen`) and,
//! in production, by synthetic identity numbers, which no real person has.

/// Case-insensitive name patterns where `*` stands for any text.
#[derive(Clone, Debug)]
pub struct TestUsers {
    patterns: Vec<String>,
}

use crate::config::DEFAULT_TEST_USER_PATTERNS;

impl Default for TestUsers {
    fn default() -> Self {
        TestUsers::new(DEFAULT_TEST_USER_PATTERNS)
    }
}

impl TestUsers {
    pub fn new<S: AsRef<str>>(patterns: impl IntoIterator<Item = S>) -> TestUsers {
        TestUsers {
            patterns: patterns
                .into_iter()
                .map(|p| p.as_ref().trim().to_lowercase())
                .collect(),
        }
    }

    pub fn matches(&self, name: &str) -> bool {
        let name = name.trim().to_lowercase();
        self.patterns.iter().any(|pattern| glob(pattern, &name))
    }
}

/// Whether `text` matches `pattern`, where `*` matches any run of characters.
fn glob(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_patterns() {
        let users = TestUsers::default();
        for name in [
            "Donald Duck",
            "donald duck",
            " DONALD DUCK ",
            "Test Pasient",
            "Kari Testesen",
            "Test Testesen",
        ] {
            assert!(users.matches(name), "{name}");
        }
        for name in [
            "Donald Ducksen",
            "Testa Hansen",
            "Kari Nordmann",
            "Tester Olsen",
        ] {
            assert!(!users.matches(name), "{name}");
        }
    }

    #[test]
    fn glob_forms() {
        assert!(glob("a*b*c", "axxbyyc"));
        assert!(!glob("a*b*c", "axxcyyb"));
        assert!(glob("*", ""));
        assert!(glob("ab*", "ab"));
        assert!(!glob("ab*ba", "aba"));
    }
}
