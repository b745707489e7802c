//! What of a value may be shown: in an error, a log line, a page. Any run of 11 digits could
//! be an identity number (a shifted column puts one anywhere), so it is masked wherever text
//! leaves the process (invariant 1). A leaf: everything that shows values uses it.

/// Any run of 11 or more digits masked: for text from elsewhere (a database's error message)
/// that could hold an identity number.
pub fn hide_identity_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut digits = 0;
    for (i, c) in text.char_indices() {
        if c.is_ascii_digit() {
            digits += 1;
            continue;
        }
        flush_digits(text, i, digits, &mut out);
        digits = 0;
        out.push(c);
    }
    flush_digits(text, text.len(), digits, &mut out);
    out
}

/// Appends the `digits` digits that end at `end`, or a mask when they could be an identity.
fn flush_digits(text: &str, end: usize, digits: usize, out: &mut String) {
    if digits >= 11 {
        out.push_str("<number hidden>");
    } else {
        out.push_str(&text[end - digits..end]);
    }
}

/// A value fit for a message: quoted, cut to 40 characters, control characters escaped, and
/// any run of 11 digits masked, since a shifted column can put an identity number anywhere.
pub fn shown_value(value: &str) -> String {
    let mut out = String::from("'");
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if digits.len() >= 11 {
            out.push_str("<number hidden>");
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    let mut count = 0;
    for c in value.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        flush(&mut digits, &mut out);
        count += 1;
        if count > 40 {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if count <= 40 {
        flush(&mut digits, &mut out);
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_values_hide_identity_numbers() {
        assert_eq!(shown_value("31.02.2025"), "'31.02.2025'");
        assert_eq!(shown_value("01010112377"), "'<number hidden>'");
        assert_eq!(shown_value("x01010112377y"), "'x<number hidden>y'");
        assert_eq!(shown_value("1234567890"), "'1234567890'");
        assert_eq!(shown_value("a\tb"), "'a\\tb'");
        assert!(shown_value(&"x".repeat(100)).ends_with("…'"));
    }

    #[test]
    fn messages_from_elsewhere_hide_identity_numbers() {
        assert_eq!(
            hide_identity_numbers("key (ident)=(01010112377) already exists, row 12"),
            "key (ident)=(<number hidden>) already exists, row 12"
        );
        assert_eq!(hide_identity_numbers("å 123456789012"), "å <number hidden>");
    }
}
