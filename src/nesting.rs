//! A lexical guard against input nested too deeply to parse safely.
//!
//! syn parses, visits and drops syntax trees recursively. Deep enough nesting overflows the
//! stack, which aborts the process — no panic handler catches that. Brackets are not the only
//! way to nest: `!!!!…x`, long `a + a + …` chains, long method chains and `else if` chains
//! all become nested trees. This scan counts those shapes on the raw text (skipping comments,
//! strings and char literals) and refuses a file that goes past the limits, so the caller can
//! report it instead of parsing it. It never allocates per token and never recurses.

/// How deep brackets (`(`, `[`, `{`) may nest.
pub const MAX_BRACKET_DEPTH: usize = 256;

/// How deep the syntax tree of an expression may get, estimated from the text: every bracket
/// and every chained link (operators, `.`, `?`, `as`, `else`) is one level, and what a
/// bracketed group holds counts below the links around it (`(((x) + a + a) + a + a)` is as deep
/// as its links together).
pub const MAX_DEPTH: usize = 4_000;

/// The tree-depth estimate of one open bracket group.
#[derive(Clone, Copy, Default)]
struct Level {
    /// Links of the current comma- or semicolon-separated part.
    links: usize,
    /// Deepest closed group inside the current part.
    child: usize,
    /// Deepest finished part of this group.
    finished: usize,
}

impl Level {
    fn part(&self) -> usize {
        self.links + self.child
    }

    /// Ends the current part (`;`, `,`, `=>`, a block that ends a statement).
    fn end_part(&mut self) {
        self.finished = self.finished.max(self.part());
        self.links = 0;
        self.child = 0;
    }

    fn depth(&self) -> usize {
        self.finished.max(self.part()) + 1
    }
}

/// Where and how a file nests too deeply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooDeep {
    /// Byte offset in the scanned text.
    pub offset: usize,
    /// What went past its limit.
    pub message: String,
}

/// Scans `text`; `Err` when it nests past a limit.
pub fn check(text: &str) -> Result<(), TooDeep> {
    let bytes = text.as_bytes();
    // The open bracket groups; index 0 is the top level.
    let mut levels: Vec<Level> = vec![Level::default()];
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = memchr_newline(bytes, i);
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = skip_block_comment(bytes, i);
                continue;
            }
            b'"' => {
                i = skip_string(bytes, i + 1);
                continue;
            }
            b'r' | b'b' | b'c' if starts_raw_or_prefixed_string(bytes, i) => {
                i = skip_prefixed_string(bytes, i);
                continue;
            }
            b'\'' => {
                i = skip_char_or_lifetime(bytes, i);
                continue;
            }
            b'(' | b'[' | b'{' => {
                levels.push(Level::default());
                if levels.len() > MAX_BRACKET_DEPTH + 1 {
                    return Err(TooDeep {
                        offset: i,
                        message: format!(
                            "brackets nest deeper than {MAX_BRACKET_DEPTH} levels: not parsed (a parser this deep could overflow the stack)"
                        ),
                    });
                }
            }
            b')' | b']' | b'}' => {
                if levels.len() > 1 {
                    let closed = levels.pop().unwrap_or_default();
                    let parent = levels.last_mut().expect("top level");
                    parent.child = parent.child.max(closed.depth());
                    deep_enough(parent, i)?;
                }
                if b == b'}' && !continues_chain(bytes, i + 1) {
                    levels.last_mut().expect("top level").end_part();
                }
            }
            b';' | b',' => levels.last_mut().expect("top level").end_part(),
            b'=' if bytes.get(i + 1) == Some(&b'>') => {
                levels.last_mut().expect("top level").end_part();
                i += 2;
                continue;
            }
            b'.' if bytes.get(i + 1) == Some(&b'.') => {
                // A range: one link.
                i += 2;
                link(&mut levels, i)?;
                continue;
            }
            b'.' | b'?' | b'+' | b'-' | b'*' | b'/' | b'%' | b'^' | b'&' | b'|' | b'<' | b'>' | b'='
            | b'!' => {
                link(&mut levels, i)?;
            }
            b'0'..=b'9' => {
                // Numbers, including `1.5`, `1e-3`, `0x1f`: a `.` inside is not a link.
                i = skip_number(bytes, i);
                continue;
            }
            b if b == b'_' || b.is_ascii_alphabetic() => {
                let end = skip_ident(bytes, i);
                let word = &bytes[i..end];
                if word == b"as" || word == b"else" {
                    link(&mut levels, i)?;
                }
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

fn link(levels: &mut [Level], offset: usize) -> Result<(), TooDeep> {
    let level = levels.last_mut().expect("top level");
    level.links += 1;
    deep_enough(level, offset)
}

fn deep_enough(level: &Level, offset: usize) -> Result<(), TooDeep> {
    if level.part() > MAX_DEPTH {
        return Err(TooDeep {
            offset,
            message: format!(
                "an expression chains operators, method calls or `else if`s and nests more than {MAX_DEPTH} levels deep: not parsed (a tree this deep could overflow the stack)"
            ),
        });
    }
    Ok(())
}

/// After a `}`: does the expression go on (`} else`, `}.method()`, `}?`, `} + x`)?
fn continues_chain(bytes: &[u8], mut i: usize) -> bool {
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    match bytes.get(i) {
        Some(b'.' | b'?' | b'+' | b'-' | b'*' | b'%' | b'^' | b'&' | b'|' | b'<' | b'>') => true,
        Some(b'e') => bytes[i..].starts_with(b"else") && !bytes.get(i + 4).is_some_and(|b| is_ident_byte(*b)),
        _ => false,
    }
}

fn is_ident_byte(b: u8) -> bool {
    b == b'_' || b.is_ascii_alphanumeric() || b >= 0x80
}

fn skip_ident(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && is_ident_byte(bytes[i]) {
        i += 1;
    }
    i
}

fn skip_number(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        let b = bytes[i];
        let exponent_sign =
            (b == b'-' || b == b'+') && matches!(bytes[i - 1], b'e' | b'E') && !bytes[..i].starts_with(b"0x");
        let fraction = b == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
        if is_ident_byte(b) || fraction || exponent_sign {
            i += 1;
        } else {
            break;
        }
    }
    i
}

fn memchr_newline(bytes: &[u8], i: usize) -> usize {
    bytes[i..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |p| i + p)
}

fn skip_block_comment(bytes: &[u8], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < bytes.len() {
        if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    i
}

/// From just after an opening `"` to just after the closing one.
fn skip_string(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// `r"`, `r#`, `b"`, `br"`, `br#`, `c"`, `cr"`, `cr#`, `b'` at `i` (and not inside an
/// identifier such as `bar"`).
fn starts_raw_or_prefixed_string(bytes: &[u8], i: usize) -> bool {
    if i > 0 && is_ident_byte(bytes[i - 1]) {
        return false;
    }
    let rest = &bytes[i..];
    let after_prefix = match rest {
        [b'b' | b'c', b'r', ..] => &rest[2..],
        [b'r', ..] => &rest[1..],
        [b'b', b'\'', ..] => return true,
        [b'b' | b'c', b'"', ..] => return true,
        _ => return false,
    };
    let hashes = after_prefix.iter().take_while(|&&b| b == b'#').count();
    after_prefix.get(hashes) == Some(&b'"') && (hashes > 0 || after_prefix.first() == Some(&b'"'))
}

fn skip_prefixed_string(bytes: &[u8], i: usize) -> usize {
    let mut j = i;
    while bytes[j] != b'"' && bytes[j] != b'\'' && bytes[j] != b'#' {
        j += 1;
    }
    if bytes[j] == b'\'' {
        return skip_char_or_lifetime(bytes, j);
    }
    let raw = bytes[i..j].contains(&b'r');
    if !raw {
        return skip_string(bytes, j + 1);
    }
    let hashes = bytes[j..].iter().take_while(|&&b| b == b'#').count();
    let mut k = j + hashes + 1; // past the opening quote
    while k < bytes.len() {
        if bytes[k] == b'"' && bytes[k + 1..].iter().take(hashes).filter(|&&b| b == b'#').count() == hashes {
            return k + 1 + hashes;
        }
        k += 1;
    }
    k
}

/// A char literal (`'a'`, `'\n'`, `'\u{1f600}'`, `'''`-free) or a lifetime/label (`'a`).
fn skip_char_or_lifetime(bytes: &[u8], i: usize) -> usize {
    match bytes.get(i + 1) {
        Some(b'\\') => {
            let mut j = i + 2;
            while j < bytes.len() && bytes[j] != b'\'' && bytes[j] != b'\n' {
                j += 1;
            }
            j + 1
        }
        Some(_) => {
            // One character (possibly multi-byte) followed by a quote: a char literal.
            let s = std::str::from_utf8(&bytes[i + 1..(i + 5).min(bytes.len())]).unwrap_or_else(|e| {
                std::str::from_utf8(&bytes[i + 1..i + 1 + e.valid_up_to()]).unwrap_or_default()
            });
            match s.chars().next() {
                Some(c) if bytes.get(i + 1 + c.len_utf8()) == Some(&b'\'') => i + 2 + c.len_utf8(),
                _ => i + 1,
            }
        }
        None => i + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deep(text: &str) -> bool {
        check(text).is_err()
    }

    #[test]
    fn ordinary_code_passes() {
        let code = r##"
            fn main() {
                let s = "(((((( not brackets"; let r = r#"{{{{"#; let c = '(';
                let x = a.b().c().d()?.e.await; // ((((( comment
                /* [[[[ */ if a { 1 } else if b { 2 } else { 3 };
                let l: &'static str = "x"; let f = 1.5e-3 + 0x1f;
            }
        "##;
        assert!(!deep(code));
    }

    #[test]
    fn each_kind_of_deep_nesting_is_refused() {
        let n = 5_000;
        assert!(deep(&format!("fn f() {{ {}1{} }}", "(".repeat(n), ")".repeat(n))));
        assert!(deep(&format!("fn f() {{ {}x; }}", "!".repeat(n))));
        assert!(deep(&format!("fn f() {{ a{}; }}", " + a".repeat(n))));
        assert!(deep(&format!("fn f() {{ a{}; }}", ".b()".repeat(n))));
        assert!(deep(&format!("fn f() {{ if a {{}}{} }}", " else if a {}".repeat(n))));
    }

    #[test]
    fn chains_around_nested_groups_add_up() {
        // `((1 + 1 + …) + 1 + …)`: each group's chain hangs below the next one's.
        let nested = |levels: usize, links: usize| {
            format!(
                "fn f() {{ {}1{} }}",
                "(".repeat(levels),
                format!("{})", " + 1".repeat(links)).repeat(levels)
            )
        };
        assert!(!deep(&nested(20, 150)));
        assert!(deep(&nested(200, 1_000)));
        // Siblings do not add up.
        let siblings = format!(
            "fn f() {{ g({}); }}",
            format!("(1{})", " + 1".repeat(1_000)).repeat(100).replace(")(", "), (")
        );
        assert!(!deep(&siblings));
    }

    #[test]
    fn many_items_and_statements_are_not_a_chain() {
        let items = "fn f() -> Result<A, B> { a.b().c()?; x + y }\n".repeat(5_000);
        assert!(!deep(&items));
        let stmts = format!("fn f() {{ {} }}", "a.b(); ".repeat(10_000));
        assert!(!deep(&stmts));
    }

    #[test]
    fn brackets_inside_strings_and_comments_do_not_count() {
        let n = 1_000;
        let code = format!(
            "fn f() {{ let s = \"{}\"; // {}\n /* {} */ }}",
            "(".repeat(n),
            "[".repeat(n),
            "{".repeat(n)
        );
        assert!(!deep(&code));
        let raw = format!("const S: &str = r#\"{}\"#;", "(\"".repeat(n));
        assert!(!deep(&raw));
    }
}
