//! The text edits of an import fix, in rustfmt's layout: a name added to, renamed in or removed
//! from a `use` item or its group (sorted in the file's style edition order, a vertical list
//! kept one name per line, a group left with one name losing its braces), a new `use` line put
//! where rustfmt orders it among its neighbours, a whole `use` removed with its line.

use super::scopes::{Leaf, UseItem};
use crate::migrate::edit::Splice;
use crate::migrate::style::StyleEdition;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    Add,
    Remove,
    Replace,
}

/// The splices that add `use {path};` on a line of its own to the run of `use` items (one per
/// line, in one scope) holding `items[at]`, where rustfmt orders it, indented like that item;
/// with `removed`, the splice that takes the old name out of that run this round. When the
/// new line goes where a removed item was, it takes that item's lines.
pub(super) fn insert_use(
    text: &str,
    items: &[UseItem],
    at: usize,
    path: &str,
    removed: Option<Splice>,
    style: StyleEdition,
) -> Vec<Splice> {
    let item = &items[at];
    if !alone(text, item) {
        // Sharing its line with other code (`fn h() { use a::B; … }`): the new `use` goes
        // right before it.
        let mut out: Vec<Splice> = removed.into_iter().collect();
        out.push(Splice { range: item.range.start..item.range.start, text: format!("use {path}; ") });
        return out;
    }
    let own_line = |i: &UseItem| line_start(text, i.range.start)..line_end(text, i.range.end);
    // The run: neighbours of the same scope, each on the line right after the one before.
    let (mut first, mut last) = (at, at);
    let joined = |a: &UseItem, b: &UseItem| {
        a.scope == b.scope && alone(text, a) && alone(text, b) && own_line(a).end == own_line(b).start
    };
    while first > 0 && joined(&items[first - 1], &items[first]) {
        first -= 1;
    }
    while last + 1 < items.len() && joined(&items[last], &items[last + 1]) {
        last += 1;
    }
    // A removed whole item (its splice covers it) is not a neighbour to sort against.
    let gone = |i: &UseItem| {
        removed.as_ref().is_some_and(|r| {
            r.text.is_empty() && r.range.start <= i.range.start && i.range.end <= r.range.end
        })
    };
    let key = |i: &UseItem| use_path_text(&text[i.range.clone()]);
    let place = (first..=last)
        .filter(|&j| !gone(&items[j]))
        .find(|&j| compare_use_paths(&key(&items[j]), path, style) == std::cmp::Ordering::Greater);
    let indent: String = {
        let start = line_start(text, item.range.start);
        let before = &text[start..item.range.start];
        if before.trim().is_empty() {
            before.to_string()
        } else {
            String::new()
        }
    };
    let line = format!("{indent}use {path};\n");
    let point = match place {
        Some(j) => line_start(text, items[j].range.start),
        None => own_line(&items[last]).end,
    };
    match removed {
        // The new line goes where the removed item was: it takes that item's lines.
        Some(r)
            if r.text.is_empty()
                && gone(item)
                && own_line(item).start <= point
                && point <= own_line(item).end =>
        {
            vec![Splice { range: own_line(item), text: line }]
        }
        Some(r) => {
            // A removal that spans the insertion point would overlap it: insert after it.
            let point = if r.range.start < point && point < r.range.end { r.range.end } else { point };
            vec![r, Splice { range: point..point, text: line }]
        }
        None => vec![Splice { range: point..point, text: line }],
    }
}

/// Whether a `use` item has its lines to itself (only blanks before it and after it there).
pub(super) fn alone(text: &str, item: &UseItem) -> bool {
    text[line_start(text, item.range.start)..item.range.start].trim().is_empty()
        && text[item.range.end..line_end(text, item.range.end)].trim().is_empty()
}

/// The path of a `use` item's text (`crate::db::X` of `pub use crate::db::X;`).
fn use_path_text(item: &str) -> String {
    let after = item.find("use ").map_or(item, |i| &item[i + 4..]);
    after.trim_end_matches(';').trim().to_string()
}

/// rustfmt's order of two `use` paths: `self`, `super`, `crate` first, then the style
/// edition's order.
fn compare_use_paths(a: &str, b: &str, style: StyleEdition) -> std::cmp::Ordering {
    let rank = |p: &str| match p.split("::").next().unwrap_or("").trim_start_matches("::") {
        "self" => 0,
        "super" => 1,
        "crate" => 2,
        _ => 3,
    };
    rank(a).cmp(&rank(b)).then_with(|| style.compare(a, b))
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

fn line_end(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |i| at + i + 1)
}

pub(super) fn change(
    text: &str,
    item: &UseItem,
    leaf: &Leaf,
    action: Action,
    names: (&str, &str),
    style: StyleEdition,
) -> Splice {
    let (from, to) = names;
    // A path element of a group (`db::get_db` of `crate::{db::get_db, util}`) is renamed or
    // grouped in place like a plain path, but removed from its group.
    let element = leaf.element.as_ref().filter(|_| action == Action::Remove);
    let Some((group, _)) = leaf.group.as_ref().or(element) else {
        // `use a::b::from;`
        return match action {
            Action::Replace => Splice { range: leaf.name.clone(), text: to.to_string() },
            Action::Add => {
                let mut names = [from.to_string(), to.to_string()];
                style.sort(&mut names);
                Splice { range: leaf.name.clone(), text: format!("{{{}}}", names.join(", ")) }
            }
            Action::Remove => remove_item(text, item),
        };
    };
    // In a group: the group's direct elements as text.
    let inner = &text[group.start + 1..group.end - 1];
    let multiline = inner.contains('\n');
    let mut elems: Vec<String> = split_top(inner);
    // rustfmt's vertical layout (`imports_layout = "Vertical"`): one element per line.
    let vertical = multiline && inner.lines().all(|l| split_top(l).len() <= 1);
    let pos = match element {
        Some((_, index)) => Some(*index).filter(|&i| i < elems.len()),
        None => elems.iter().position(|e| e == from),
    };
    match action {
        Action::Add => elems.push(to.to_string()),
        Action::Remove => {
            if let Some(p) = pos {
                elems.remove(p);
            }
        }
        Action::Replace => {
            if let Some(p) = pos {
                elems[p] = to.to_string();
            }
        }
    }
    style.sort(&mut elems);
    if elems.is_empty() {
        return remove_item(text, item);
    }
    let body = if elems.len() == 1 && !elems[0].starts_with("self") {
        elems[0].clone()
    } else if multiline {
        let indent: String = inner.trim_start_matches('\n').chars().take_while(|c| *c == ' ').collect();
        let close_indent: String = text[line_start(text, group.end - 1)..group.end - 1].to_string();
        // Keep rustfmt's mixed layout: names on shared lines as far as they were.
        let mut lines: Vec<String> = Vec::new();
        let mut current = String::new();
        for e in &elems {
            if e.contains('{') || vertical {
                if !current.is_empty() {
                    lines.push(std::mem::take(&mut current));
                }
                lines.push(e.clone());
            } else if current.is_empty() {
                current = e.clone();
            } else {
                current.push_str(", ");
                current.push_str(e);
            }
        }
        if !current.is_empty() {
            lines.push(current);
        }
        let mut out = String::from("{\n");
        for l in lines {
            out.push_str(&indent);
            out.push_str(&l);
            out.push_str(",\n");
        }
        out.push_str(&close_indent);
        out.push('}');
        out
    } else {
        format!("{{{}}}", elems.join(", "))
    };
    // The whole group, braces included (they go when one name is left).
    Splice { range: group.clone(), text: body }
}

/// The top-level comma-separated elements of a group's inside, trimmed.
fn split_top(inner: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for c in inner.chars() {
        match c {
            '{' => {
                depth += 1;
                cur.push(c);
            }
            '}' => {
                depth -= 1;
                cur.push(c);
            }
            ',' if depth == 0 => {
                out.push(collapse(&cur));
                cur.clear();
            }
            _ => cur.push(c),
        }
    }
    if !cur.trim().is_empty() {
        out.push(collapse(&cur));
    }
    out.retain(|e| !e.is_empty());
    out
}

fn collapse(s: &str) -> String {
    s.trim().to_string()
}

/// Removes a whole `use` item with its line, and a blank line that would be left doubled.
pub(super) fn remove_item(text: &str, item: &UseItem) -> Splice {
    let start = line_start(text, item.range.start);
    let end = line_end(text, item.range.end);
    let alone =
        text[start..item.range.start].trim().is_empty() && text[item.range.end..end].trim().is_empty();
    if !alone {
        let mut e = item.range.end;
        while text[e..].starts_with(' ') {
            e += 1;
        }
        return Splice { range: item.range.start..e, text: String::new() };
    }
    let blank_before = start == 0 || text[..start].ends_with("\n\n");
    let blank_after = text[end..].starts_with('\n') || text[end..].starts_with("\r\n");
    let end = if blank_before && blank_after { line_end(text, end) } else { end };
    Splice { range: start..end, text: String::new() }
}
