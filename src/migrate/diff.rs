//! A small unified diff of two texts by lines (longest common subsequence), for the dry run.

/// One line of a diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Same(usize, usize),
    Del(usize),
    Add(usize),
}

/// How many unchanged lines surround each change.
const CONTEXT: usize = 3;

/// The unified diff of `old` and `new` with `---`/`+++` headers naming `label`, or an empty
/// string when they are equal. With `color`, removed lines are red and added lines green.
pub fn unified(label: &str, old: &str, new: &str, color: bool) -> String {
    if old == new {
        return String::new();
    }
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    let ops = lcs_ops(&a, &b);
    let (red, green, cyan, reset) =
        if color { ("\x1b[31m", "\x1b[32m", "\x1b[36m", "\x1b[0m") } else { ("", "", "", "") };
    let mut out = format!("--- a/{label}\n+++ b/{label}\n");
    let changed: Vec<usize> = (0..ops.len()).filter(|&i| !matches!(ops[i], Op::Same(..))).collect();
    let mut i = 0;
    while i < changed.len() {
        let first = changed[i];
        let mut last = first;
        while i + 1 < changed.len() && changed[i + 1] <= last + 2 * CONTEXT + 1 {
            i += 1;
            last = changed[i];
        }
        i += 1;
        let start = first.saturating_sub(CONTEXT);
        let end = (last + CONTEXT + 1).min(ops.len());
        let (mut a_start, mut b_start, mut a_len, mut b_len) = (None, None, 0, 0);
        for op in &ops[start..end] {
            match *op {
                Op::Same(x, y) => {
                    a_start.get_or_insert(x);
                    b_start.get_or_insert(y);
                    a_len += 1;
                    b_len += 1;
                }
                Op::Del(x) => {
                    a_start.get_or_insert(x);
                    a_len += 1;
                }
                Op::Add(y) => {
                    b_start.get_or_insert(y);
                    b_len += 1;
                }
            }
        }
        let a_at = a_start.map_or(before_a(&ops, start), |x| x + 1);
        let b_at = b_start.map_or(before_b(&ops, start), |y| y + 1);
        out.push_str(&format!("{cyan}@@ -{a_at},{a_len} +{b_at},{b_len} @@{reset}\n"));
        for op in &ops[start..end] {
            let (sign, line, colour) = match *op {
                Op::Same(x, _) => (' ', a[x], ""),
                Op::Del(x) => ('-', a[x], red),
                Op::Add(y) => ('+', b[y], green),
            };
            let body = line.strip_suffix('\n').unwrap_or(line);
            let reset = if colour.is_empty() { "" } else { reset };
            out.push_str(&format!("{colour}{sign}{body}{reset}\n"));
            if !line.ends_with('\n') {
                out.push_str("\\ No newline at end of file\n");
            }
        }
    }
    out
}

/// The line number (0 = before the first line) a hunk with no old line starts after.
fn before_a(ops: &[Op], at: usize) -> usize {
    ops[..at]
        .iter()
        .rev()
        .find_map(|op| match *op {
            Op::Same(x, _) | Op::Del(x) => Some(x + 1),
            Op::Add(_) => None,
        })
        .unwrap_or(0)
}

fn before_b(ops: &[Op], at: usize) -> usize {
    ops[..at]
        .iter()
        .rev()
        .find_map(|op| match *op {
            Op::Same(_, y) | Op::Add(y) => Some(y + 1),
            Op::Del(_) => None,
        })
        .unwrap_or(0)
}

fn lcs_ops(a: &[&str], b: &[&str]) -> Vec<Op> {
    // Common prefix and suffix first: edits touch few lines of large files.
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..].iter().rev().zip(b[prefix..].iter().rev()).take_while(|(x, y)| x == y).count();
    let (am, bm) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let (n, m) = (am.len(), bm.len());
    let mut table = vec![0u32; (n + 1) * (m + 1)];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            table[i * (m + 1) + j] = if am[i] == bm[j] {
                table[(i + 1) * (m + 1) + j + 1] + 1
            } else {
                table[(i + 1) * (m + 1) + j].max(table[i * (m + 1) + j + 1])
            };
        }
    }
    let mut ops: Vec<Op> = (0..prefix).map(|i| Op::Same(i, i)).collect();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && am[i] == bm[j] {
            ops.push(Op::Same(prefix + i, prefix + j));
            i += 1;
            j += 1;
        } else if i < n && (j == m || table[(i + 1) * (m + 1) + j] >= table[i * (m + 1) + j + 1]) {
            ops.push(Op::Del(prefix + i));
            i += 1;
        } else {
            ops.push(Op::Add(prefix + j));
            j += 1;
        }
    }
    for k in 0..suffix {
        ops.push(Op::Same(a.len() - suffix + k, b.len() - suffix + k));
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_changed_line_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "a\nb\nc\nd\nE\nf\ng\nh\n";
        assert_eq!(
            unified("x.rs", old, new, false),
            "--- a/x.rs\n+++ b/x.rs\n@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n"
        );
    }

    #[test]
    fn removed_line_at_the_start_and_colour() {
        let old = "use a;\nfn f() {}\n";
        let new = "fn f() {}\n";
        assert_eq!(
            unified("y.rs", old, new, false),
            "--- a/y.rs\n+++ b/y.rs\n@@ -1,2 +1,1 @@\n-use a;\n fn f() {}\n"
        );
        assert!(unified("y.rs", old, new, true).contains("\x1b[31m-use a;\x1b[0m\n"));
        assert_eq!(unified("y.rs", old, old, true), "");
    }
}
