//! libpq connection strings, read as libpq reads them: `postgres://` and `postgresql://` URIs
//! (percent-decoding, multi-host, query parameters) and `key=value` strings (quoting and
//! backslash escapes), turned into the key/value settings that [`crate::target`] builds a
//! connection from.
//!
//! An error here never repeats any part of the input: in a malformed string a password may
//! be anywhere, so a reason names only the part of the syntax at fault.
//!
//! One departure from libpq, on purpose: in a URI the user information ends at the **last**
//! `@` before the query string, so an unencoded `@` (or `/`, `:`, `#`) in a password works
//! (`postgres://app:P@ssw0rd-42@host/db` is user `app`, password `P@ssw0rd-42`). libpq ends
//! it at the first `@` and would take `ssw0rd-42@host` for the host name. The price: an `@`
//! in the database name must be written `%40`, and a `?` in a password must be written `%3F`
//! (it would start the query string).

/// One setting: a libpq keyword and its (decoded) value.
pub(crate) type Setting = (String, Vec<u8>);

/// Parses a URI or a `key=value` string into settings, in the order written (a later setting
/// of the same key wins, as in libpq). The reason of an error holds no input text.
pub(crate) fn settings(text: &str) -> Result<Vec<Setting>, String> {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix("postgresql://").or_else(|| text.strip_prefix("postgres://")) {
        return uri_settings(rest);
    }
    if has_scheme(text) {
        return Err("the scheme is not postgres:// or postgresql://".into());
    }
    if !text.contains('=') {
        return Err("it is neither a postgres:// URL nor a key=value string".into());
    }
    key_value_settings(text)
}

/// Whether `text` starts with a URI scheme (`letters://`).
pub(crate) fn has_scheme(text: &str) -> bool {
    match text.find("://") {
        Some(end) => {
            let scheme = &text[..end];
            scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

fn uri_settings(rest: &str) -> Result<Vec<Setting>, String> {
    let (head, query) = match rest.find('?') {
        Some(q) => (&rest[..q], Some(&rest[q + 1..])),
        None => (rest, None),
    };
    let mut out = Vec::new();
    let after_userinfo = match head.rfind('@') {
        Some(at) => {
            let userinfo = &head[..at];
            let (user, password) = match userinfo.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (userinfo, None),
            };
            if !user.is_empty() {
                out.push(("user".to_string(), decode(user, "user name")?));
            }
            if let Some(p) = password {
                out.push(("password".to_string(), decode(p, "password")?));
            }
            &head[at + 1..]
        }
        None => head,
    };
    let (hosts, path) = match after_userinfo.find('/') {
        Some(slash) => (&after_userinfo[..slash], Some(&after_userinfo[slash + 1..])),
        None => (after_userinfo, None),
    };
    host_list(hosts, &mut out)?;
    if let Some(db) = path.filter(|p| !p.is_empty()) {
        // The database name is shown (`host:port/db`): text that is more likely a run-on
        // list or a misplaced setting than a name must be percent-encoded to be taken.
        if db.contains(|c: char| c.is_whitespace() || matches!(c, ';' | '=' | '\'' | '"' | '/')) {
            return Err("the database name holds a space, ';', '=', '/' or a quote: percent-encode \
                        them if the name really has them (or separate URLs with commas)"
                .into());
        }
        out.push(("dbname".to_string(), decode(db, "database name")?));
    }
    if let Some(query) = query {
        for (i, pair) in query.split('&').enumerate().filter(|(_, p)| !p.is_empty()) {
            let (key, value) =
                pair.split_once('=').ok_or_else(|| format!("query parameter {} has no '='", i + 1))?;
            let key = String::from_utf8(decode(key, "query parameter name")?)
                .map_err(|_| format!("query parameter {} has a name that is not UTF-8", i + 1))?;
            out.push((key, decode(value, "query parameter value")?));
        }
    }
    Ok(out)
}

/// `h1:p1,[::1]:p2,h3` into `host` and `port` settings (comma-separated lists, as libpq
/// stores them; a host without a port gets the default).
fn host_list(text: &str, out: &mut Vec<Setting>) -> Result<(), String> {
    if text.is_empty() {
        return Ok(());
    }
    let mut hosts = Vec::new();
    let mut ports = Vec::new();
    for spec in text.split(',') {
        let (host, port) = if let Some(v6) = spec.strip_prefix('[') {
            let (addr, after) = v6.split_once(']').ok_or("an IPv6 host has no closing ']'")?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or("an IPv6 host is followed by text that is not :port")?),
            };
            (addr.to_string(), port)
        } else {
            match spec.split_once(':') {
                Some((h, p)) => (decode_str(h, "host")?, Some(p)),
                None => (decode_str(spec, "host")?, None),
            }
        };
        if host.is_empty() {
            return Err("a host in the host list is empty".into());
        }
        hosts.push(host);
        ports.push(match port {
            Some(p) => parse_port(p)?.to_string(),
            None => "5432".to_string(),
        });
    }
    out.push(("host".to_string(), hosts.join(",").into_bytes()));
    out.push(("port".to_string(), ports.join(",").into_bytes()));
    Ok(())
}

/// A port number, 1 to 65535.
pub(crate) fn parse_port(text: &str) -> Result<u16, String> {
    match text.parse::<u16>() {
        Ok(p) if p > 0 && text.bytes().all(|b| b.is_ascii_digit()) => Ok(p),
        _ => Err("a port is not a number from 1 to 65535".into()),
    }
}

fn decode_str(text: &str, what: &str) -> Result<String, String> {
    String::from_utf8(decode(text, what)?).map_err(|_| format!("the {what} is not UTF-8 once decoded"))
}

/// Percent-decoding, as libpq does it for every part of a URI.
fn decode(text: &str, what: &str) -> Result<Vec<u8>, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(b) if b != 0 => out.push(b),
                _ => {
                    return Err(format!(
                        "the {what} has a '%' that is not followed by two hex digits \
                         (write a literal '%' as %25)"
                    ))
                }
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// libpq's `key = value` format: values may be single-quoted; a backslash escapes the next
/// character (in and out of quotes).
fn key_value_settings(text: &str) -> Result<Vec<Setting>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut n = 0;
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(out);
        }
        n += 1;
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') {
            return Err(format!("setting {n} of the key=value string has no '='"));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    Some('\\') => value.push(chars.next().ok_or("a value ends with a lone backslash")?),
                    Some('\'') => break,
                    Some(c) => value.push(c),
                    None => return Err(format!("the quoted value of setting {n} is not closed")),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    value.push(chars.next().ok_or("a value ends with a lone backslash")?);
                } else {
                    value.push(c);
                }
            }
        }
        out.push((key, value.into_bytes()));
    }
}

/// `s` percent-encoded: everything but RFC 3986's unreserved characters.
pub(crate) fn percent_encode(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expect: &[(&str, &str)]) {
        let got = settings(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let got: Vec<(String, String)> =
            got.into_iter().map(|(k, v)| (k, String::from_utf8(v).unwrap())).collect();
        let expect: Vec<(String, String)> =
            expect.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(got, expect, "{text}");
    }

    #[test]
    fn uri_parts_are_percent_decoded() {
        check(
            "postgresql://us%40er:p%3Aw%2F@db.example:6432/my%20db?sslmode=require&application_name=a%26b",
            &[
                ("user", "us@er"),
                ("password", "p:w/"),
                ("host", "db.example"),
                ("port", "6432"),
                ("dbname", "my db"),
                ("sslmode", "require"),
                ("application_name", "a&b"),
            ],
        );
    }

    #[test]
    fn unencoded_at_sign_in_password_splits_at_the_last_at() {
        check(
            "postgres://app:P@ssw0rd-42@host/db",
            &[
                ("user", "app"),
                ("password", "P@ssw0rd-42"),
                ("host", "host"),
                ("port", "5432"),
                ("dbname", "db"),
            ],
        );
        check(
            "postgres://app:a/b:c#d@h",
            &[("user", "app"), ("password", "a/b:c#d"), ("host", "h"), ("port", "5432")],
        );
        // An '@' in a query value is not user information.
        check(
            "postgres://h/db?application_name=x@y",
            &[("host", "h"), ("port", "5432"), ("dbname", "db"), ("application_name", "x@y")],
        );
    }

    #[test]
    fn multi_host_and_ipv6() {
        check(
            "postgres://u@h1:5433,[::1],h3/d",
            &[("user", "u"), ("host", "h1,::1,h3"), ("port", "5433,5432,5432"), ("dbname", "d")],
        );
    }

    #[test]
    fn key_value_strings_quote_and_escape() {
        check(
            r"host=a,b port = 1,2 password='it\'s' dbname='my db' user=o\'k",
            &[("host", "a,b"), ("port", "1,2"), ("password", "it's"), ("dbname", "my db"), ("user", "o'k")],
        );
        check(r"password='a\'b c'", &[("password", "a'b c")]);
    }

    #[test]
    fn errors_repeat_no_input() {
        for bad in [
            "postgres://u:Zq9%zz@h/d",
            "postgres://u:Zq9x@h:99999/d",
            "postgres://u:Zq9x@h:Zq9x/d",
            "postgres://u:Zq9x@[::1/d",
            "postgres://u:Zq9x@h/d?Zq9x",
            "postgres://u:Zq9x@h/d;host=h password=Zq9x",
            "postgres://u@h/d/Zq9x",
            "mysql://u:Zq9x@h/d",
            "Zq9x",
            "password='Zq9x",
            "password=Zq9x\\",
        ] {
            let e = settings(bad).unwrap_err();
            assert!(!e.contains("Zq9"), "{bad}: {e}");
        }
    }
}
