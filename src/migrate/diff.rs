//! A small unified diff of two texts by lines (longest common subsequence), for the dry run.
//!
//! Memory is bounded: the LCS table covers at most [`MAX_CELLS`] cells. A larger changed middle
//! (edits near both ends of a long file) is first cut at lines that occur once in each text and
//! keep their order (patience anchors); a part between anchors still too large for the table is
//! shown as removed and added whole. Every diff is valid; only those cut may not be minimal.

use std::collections::HashMap;

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

/// The most cells of the LCS table (4 bytes each: 16 MiB).
const MAX_CELLS: usize = 4 << 20;

fn lcs_ops(a: &[&str], b: &[&str]) -> Vec<Op> {
    let mut ops = Vec::with_capacity(a.len().max(b.len()));
    diff_into(a, b, (0, 0), true, &mut ops);
    ops
}

/// Appends the ops turning `a` into `b`, whose first lines are lines `at` of the texts; a
/// middle too large for the table is cut at anchors only when `anchor` (once: the parts
/// between anchors are never cut again, which bounds the depth).
fn diff_into(a: &[&str], b: &[&str], at: (usize, usize), anchor: bool, ops: &mut Vec<Op>) {
    let (a_at, b_at) = at;
    // Common prefix and suffix first: edits touch few lines of large files.
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..].iter().rev().zip(b[prefix..].iter().rev()).take_while(|(x, y)| x == y).count();
    ops.extend((0..prefix).map(|i| Op::Same(a_at + i, b_at + i)));
    let (am, bm) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let (a_mid, b_mid) = (a_at + prefix, b_at + prefix);
    if (am.len() + 1).saturating_mul(bm.len() + 1) <= MAX_CELLS {
        table_ops(am, bm, a_mid, b_mid, ops);
    } else if anchor {
        anchored_ops(am, bm, a_mid, b_mid, ops);
    } else {
        replaced_whole(am.len(), bm.len(), a_mid, b_mid, ops);
    }
    let (a_end, b_end) = (a_at + a.len() - suffix, b_at + b.len() - suffix);
    ops.extend((0..suffix).map(|k| Op::Same(a_end + k, b_end + k)));
}

/// The ops of a middle too large for the table: cut at the patience anchors, each part diffed
/// on its own (without anchors, a part is removed then added whole).
fn anchored_ops(a: &[&str], b: &[&str], a_at: usize, b_at: usize, ops: &mut Vec<Op>) {
    let (mut i, mut j) = (0, 0);
    for (x, y) in patience_anchors(a, b) {
        diff_into(&a[i..x], &b[j..y], (a_at + i, b_at + j), false, ops);
        ops.push(Op::Same(a_at + x, b_at + y));
        (i, j) = (x + 1, y + 1);
    }
    diff_into(&a[i..], &b[j..], (a_at + i, b_at + j), false, ops);
}

/// `a_len` lines at `a_at` removed, then `b_len` lines at `b_at` added.
fn replaced_whole(a_len: usize, b_len: usize, a_at: usize, b_at: usize, ops: &mut Vec<Op>) {
    ops.extend((a_at..a_at + a_len).map(Op::Del));
    ops.extend((b_at..b_at + b_len).map(Op::Add));
}

/// The lines found exactly once in `a` and once in `b`, as (index in `a`, index in `b`), the
/// longest run of them in the same order in both.
fn patience_anchors(a: &[&str], b: &[&str]) -> Vec<(usize, usize)> {
    // Per line: (count in a, index in a, count in b, index in b).
    let mut seen: HashMap<&str, (u32, usize, u32, usize)> = HashMap::new();
    for (i, line) in a.iter().enumerate() {
        let e = seen.entry(line).or_insert((0, i, 0, 0));
        e.0 += 1;
    }
    for (j, line) in b.iter().enumerate() {
        if let Some(e) = seen.get_mut(line) {
            e.2 += 1;
            e.3 = j;
        }
    }
    let mut pairs: Vec<(usize, usize)> =
        seen.into_values().filter(|e| e.0 == 1 && e.2 == 1).map(|e| (e.1, e.3)).collect();
    pairs.sort_unstable();
    longest_increasing(&pairs)
}

/// The longest subsequence of `pairs` (sorted by their first) whose seconds increase.
fn longest_increasing(pairs: &[(usize, usize)]) -> Vec<(usize, usize)> {
    // tails[k]: index in `pairs` of the smallest last second of a run of length k + 1.
    let mut tails: Vec<usize> = Vec::new();
    let mut before: Vec<Option<usize>> = vec![None; pairs.len()];
    for (k, &(_, y)) in pairs.iter().enumerate() {
        let at = tails.partition_point(|&t| pairs[t].1 < y);
        before[k] = at.checked_sub(1).map(|p| tails[p]);
        if at == tails.len() {
            tails.push(k);
        } else {
            tails[at] = k;
        }
    }
    let mut run = Vec::with_capacity(tails.len());
    let mut at = tails.last().copied();
    while let Some(k) = at {
        run.push(pairs[k]);
        at = before[k];
    }
    run.reverse();
    run
}

/// The ops of a middle by the LCS table (`(a.len() + 1) * (b.len() + 1)` cells at most
/// [`MAX_CELLS`]).
fn table_ops(am: &[&str], bm: &[&str], a_at: usize, b_at: usize, ops: &mut Vec<Op>) {
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
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && am[i] == bm[j] {
            ops.push(Op::Same(a_at + i, b_at + j));
            i += 1;
            j += 1;
        } else if i < n && (j == m || table[(i + 1) * (m + 1) + j] >= table[i * (m + 1) + j + 1]) {
            ops.push(Op::Del(a_at + i));
            i += 1;
        } else {
            ops.push(Op::Add(b_at + j));
            j += 1;
        }
    }
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

    /// Edits near both ends of a file of 30 000 distinct lines: a table would take 3.6 GB; the
    /// diff is cut at the unchanged lines and shows exactly the two hunks.
    #[test]
    fn edits_at_both_ends_of_a_long_file() {
        let lines: Vec<String> = (0..30_000).map(|i| format!("let x{i} = {i};\n")).collect();
        let old = lines.concat();
        let mut edited = lines.clone();
        edited[10] = "let first = db_ro();\n".to_string();
        edited[29_990] = "let last = db_ro();\n".to_string();
        let new = edited.concat();
        let diff = unified("big.rs", &old, &new, false);
        let hunks: Vec<&str> = diff.lines().filter(|l| l.starts_with("@@")).collect();
        assert_eq!(hunks, ["@@ -8,7 +8,7 @@", "@@ -29988,7 +29988,7 @@"]);
        let changed: Vec<&str> = diff
            .lines()
            .filter(|l| l.starts_with(['-', '+']) && !l.starts_with("---") && !l.starts_with("+++"))
            .collect();
        assert_eq!(
            changed,
            ["-let x10 = 10;", "+let first = db_ro();", "-let x29990 = 29990;", "+let last = db_ro();"]
        );
    }

    /// A long middle with no line unique to both texts (every line repeated): shown removed
    /// then added, still a diff that turns one text into the other.
    #[test]
    fn a_long_middle_without_anchors_is_replaced_whole() {
        let old = "{\n".repeat(3000);
        let new = format!("x\n{}y\n", "}\n".repeat(3000));
        let diff = unified("r.rs", &old, &new, false);
        assert_eq!(
            diff.lines().filter(|l| l.starts_with("@@")).collect::<Vec<_>>(),
            ["@@ -1,3000 +1,3002 @@"]
        );
        assert_eq!(diff.lines().filter(|l| *l == "-{").count(), 3000);
        assert_eq!(diff.lines().filter(|l| *l == "+}").count(), 3000);
    }

    #[test]
    fn anchors_keep_their_order_in_both_texts() {
        let pairs = [(0, 5), (1, 1), (2, 2), (3, 9), (4, 3)];
        assert_eq!(longest_increasing(&pairs), [(1, 1), (2, 2), (4, 3)]);
        assert_eq!(longest_increasing(&[]), []);
    }
}
