//! The resolved calls of every function of the tree, stored flat, and the reverse edges the
//! summaries spread writes along.
//!
//! On a large tree there are hundreds of thousands of sinks: one small vector of callees per
//! sink (and one list of callers per function) would cost an allocation each. Here every
//! sink is one fixed-size entry in one vector, its callees a range of one shared list, and the
//! callers of every function ranges of one more. Only stores what [`super::Writers`] resolved;
//! never resolves or judges.

use std::collections::HashMap;

use crate::workspace::calls::Resolved;

use super::FnId;

/// Callee lists at least this long are stored once however many sinks resolve to them (a call
/// on a trait-typed receiver may run every implementation of the method in the tree: on a tree
/// of 510 crates, 28 k sinks held 15 M callees in 1,011 distinct lists).
const SHARED_LEN: usize = 8;

/// What one sink's call resolves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// No function of the tree (or the sink is no call).
    External,
    /// Functions of the tree have that name, but which one cannot be told.
    Unresolved,
    /// Functions of the tree: `len` ids from `start` of the shared callee list.
    Tree {
        /// First callee in the shared list.
        start: usize,
        /// How many callees.
        len: u32,
    },
}

/// Per function, per sink: what its call resolves to.
#[derive(Debug, Default)]
pub struct Resolutions {
    /// Per function, the index of its first sink's entry; one more at the end.
    first: Vec<usize>,
    /// Per sink, in function and sink order.
    entries: Vec<Entry>,
    /// The callees of every `Entry::Tree`.
    callees: Vec<FnId>,
    /// Whether sinks share an entry ([`Resolutions::set_entry`]): the reverse edges then list
    /// each shared entry as a group (see [`Callers`]).
    shared: bool,
}

/// The resolutions of a run of consecutive functions, made on one worker.
#[derive(Debug, Default)]
pub struct Part {
    /// How many sinks each function has.
    sinks: Vec<usize>,
    entries: Vec<Entry>,
    callees: Vec<FnId>,
}

impl Part {
    /// Adds the next function of the part.
    pub fn start_fn(&mut self) {
        self.sinks.push(0);
    }

    /// Adds the resolution of the next sink of the last function started.
    pub fn push(&mut self, resolved: Resolved) {
        let entry = match resolved {
            Resolved::External => Entry::External,
            Resolved::Unresolved(_) => Entry::Unresolved,
            Resolved::Tree(found) => tree_entry(&mut self.callees, &found),
        };
        self.entries.push(entry);
        if let Some(n) = self.sinks.last_mut() {
            *n += 1;
        }
    }
}

/// Parts joined one after the other, in function order (a batch at a time: the parts of a
/// whole large tree need not be held at once). A list of at least [`SHARED_LEN`] callees is
/// stored once, its sinks sharing one entry.
#[derive(Debug, Default)]
pub struct Joined {
    all: Resolutions,
    /// The long lists stored so far, by their callees.
    long: HashMap<Box<[FnId]>, Entry>,
}

impl Joined {
    /// Adds the next part.
    pub fn add(&mut self, part: Part) {
        let all = &mut self.all;
        for &n in &part.sinks {
            all.first.push(all.entries.len());
            all.entries.extend(std::iter::repeat_n(Entry::External, n));
        }
        let from = all.entries.len() - part.entries.len();
        for (slot, entry) in all.entries[from..].iter_mut().zip(part.entries) {
            let Entry::Tree { start, len } = entry else {
                *slot = entry;
                continue;
            };
            let found = &part.callees[start..start + len as usize];
            if found.len() < SHARED_LEN {
                *slot = tree_entry(&mut all.callees, found);
            } else if let Some(&shared) = self.long.get(found) {
                all.shared = true;
                *slot = shared;
            } else {
                *slot = tree_entry(&mut all.callees, found);
                self.long.insert(found.into(), *slot);
            }
        }
    }

    /// The resolutions of every part added.
    pub fn finish(mut self) -> Resolutions {
        self.all.first.push(self.all.entries.len());
        self.all
    }
}

/// `entry` of a part whose callees now start at `base` of the shared list.
fn shifted(entry: Entry, base: usize) -> Entry {
    match entry {
        Entry::Tree { start, len } => Entry::Tree { start: base + start, len },
        other => other,
    }
}

/// `found` appended to `callees`, as an entry (no tree function: `External`).
fn tree_entry(callees: &mut Vec<FnId>, found: &[FnId]) -> Entry {
    match u32::try_from(found.len()) {
        Ok(len) if len > 0 => {
            let start = callees.len();
            callees.extend_from_slice(found);
            Entry::Tree { start, len }
        }
        _ => Entry::External,
    }
}

impl Resolutions {
    /// The parts, in function order, joined.
    #[cfg(test)]
    pub fn join(parts: Vec<Part>) -> Resolutions {
        let mut joined = Joined::default();
        parts.into_iter().for_each(|part| joined.add(part));
        joined.finish()
    }

    /// Every sink of functions with `sinks` sinks each resolved as `Entry::External`.
    pub fn external(sinks: impl Iterator<Item = usize>) -> Resolutions {
        let mut all = Resolutions::default();
        for n in sinks {
            all.first.push(all.entries.len());
            all.entries.extend(std::iter::repeat_n(Entry::External, n));
        }
        all.first.push(all.entries.len());
        all
    }

    /// The resolutions after settling dropped or rewrote sinks: per function, the entries of
    /// the sinks `kept` says it kept (all, when it is not listed), or, when `fresh` has it, the
    /// resolutions of its rewritten sinks (a part of that one function). Both in function order.
    pub fn settled(self, kept: &[(FnId, Vec<bool>)], fresh: Vec<(FnId, Part)>) -> Resolutions {
        if kept.is_empty() && fresh.is_empty() {
            return self;
        }
        let Resolutions { first, entries, mut callees, shared } = self;
        let fns = first.len().saturating_sub(1);
        let mut out = Resolutions {
            first: Vec::with_capacity(first.len()),
            entries: Vec::with_capacity(entries.len()),
            callees: Vec::new(),
            shared,
        };
        let (mut kept, mut fresh) = (kept.iter().peekable(), fresh.into_iter().peekable());
        for id in 0..fns {
            out.first.push(out.entries.len());
            let old = &entries[first[id]..first[id + 1]];
            let mask = kept.next_if(|(f, _)| *f == id).map(|(_, mask)| mask);
            if let Some((_, part)) = fresh.next_if(|(f, _)| *f == id) {
                let base = callees.len();
                out.entries.extend(part.entries.into_iter().map(|e| shifted(e, base)));
                callees.extend(part.callees);
            } else if let Some(mask) = mask {
                out.entries.extend(old.iter().zip(mask).filter(|(_, &k)| k).map(|(e, _)| *e));
            } else {
                out.entries.extend_from_slice(old);
            }
        }
        out.first.push(out.entries.len());
        out.callees = callees;
        out
    }

    /// How many sinks function `id` has.
    pub fn sinks(&self, id: FnId) -> usize {
        self.first[id + 1] - self.first[id]
    }

    /// What sink `sink` of function `id` resolves to.
    pub fn entry(&self, id: FnId, sink: usize) -> Entry {
        self.entries[self.first[id] + sink]
    }

    /// The callees of an entry (none unless `Entry::Tree`).
    pub fn callees(&self, entry: Entry) -> &[FnId] {
        match entry {
            Entry::Tree { start, len } => &self.callees[start..start + len as usize],
            Entry::External | Entry::Unresolved => &[],
        }
    }

    /// Makes sink `sink` of function `id` resolve to `found` (none: no tree function): its
    /// entry, which other sinks resolving to the same functions may share.
    pub fn set(&mut self, id: FnId, sink: usize, found: &[FnId]) -> Entry {
        let entry = tree_entry(&mut self.callees, found);
        self.set_entry(id, sink, entry);
        entry
    }

    /// Makes sink `sink` of function `id` resolve as `entry` (one [`Resolutions::set`] gave,
    /// which other sinks may share).
    pub fn set_entry(&mut self, id: FnId, sink: usize, entry: Entry) {
        self.entries[self.first[id] + sink] = entry;
        self.shared |= matches!(entry, Entry::Tree { .. });
    }

    /// The reverse edges: per callee, each (caller, sink) calling it, in caller and sink
    /// order, a sink listed once per callee.
    pub fn callers(&self) -> Callers {
        let fns = self.first.len().saturating_sub(1);
        self.reverse(|visit| {
            for id in 0..fns {
                let entries = &self.entries[self.first[id]..self.first[id + 1]];
                for (s, &entry) in entries.iter().enumerate() {
                    visit(id, s, entry);
                }
            }
        })
    }

    /// The reverse edges of only the sinks `sinks` lists (in caller and sink order); as
    /// [`Resolutions::callers`] otherwise.
    pub fn callers_of(&self, sinks: &[(FnId, usize)]) -> Callers {
        self.reverse(|visit| sinks.iter().for_each(|&(id, s)| visit(id, s, self.entry(id, s))))
    }

    /// The reverse edges of the sinks `each` visits (in caller and sink order; visited up to
    /// three times, the same sinks in the same order). An entry several sinks share (the
    /// unpinned calls of one name and arity, which may run any of hundreds of methods) becomes
    /// one group, its calls listed once rather than once per member: the edges stay linear in
    /// the sinks and callees.
    fn reverse(&self, each: impl Fn(&mut dyn FnMut(FnId, usize, Entry))) -> Callers {
        let fns = self.first.len().saturating_sub(1);
        // Per index of the shared callee list where an entry starts: how many sinks use it,
        // then the group it became (+ 1; 0: none). Only when sinks share entries.
        let mut group_at: Vec<u32> = Vec::new();
        if self.shared {
            group_at = vec![0; self.callees.len()];
            each(&mut |_, _, entry| {
                if let Entry::Tree { start, .. } = entry {
                    group_at[start] = group_at[start].saturating_add(1);
                }
            });
        }
        let mut groups: Vec<Entry> = Vec::new();
        let mut group_calls: Vec<usize> = Vec::new();
        let mut count = vec![0usize; fns + 1];
        for at in &mut group_at {
            *at = if *at >= 2 { u32::MAX } else { 0 };
        }
        each(&mut |_, _, entry| match entry {
            Entry::Tree { start, .. } if group_at.get(start).is_some_and(|&g| g != 0) => {
                if group_at[start] == u32::MAX {
                    groups.push(entry);
                    group_calls.push(0);
                    group_at[start] = groups.len() as u32;
                }
                group_calls[group_at[start] as usize - 1] += 1;
            }
            _ => self.callees(entry).iter().for_each(|&c| count[c] += 1),
        });
        let start = prefix_sums(&count);
        let group_start = prefix_sums(&group_calls);
        let mut edges = vec![(0, 0); start[fns]];
        let mut group_edges = vec![(0, 0); group_start[groups.len()]];
        // Reused as the number filled in so far per callee and per group.
        count.iter_mut().for_each(|n| *n = 0);
        group_calls.iter_mut().for_each(|n| *n = 0);
        each(&mut |id, s, entry| match entry {
            Entry::Tree { start: at, .. } if group_at.get(at).is_some_and(|&g| g != 0) => {
                let g = group_at[at] as usize - 1;
                group_edges[group_start[g] + group_calls[g]] = (id, s);
                group_calls[g] += 1;
            }
            _ => {
                for &c in self.callees(entry) {
                    let at = start[c];
                    // A callee named twice by one sink gets its caller once.
                    if count[c] > 0 && edges[at + count[c] - 1] == (id, s) {
                        continue;
                    }
                    edges[at + count[c]] = (id, s);
                    count[c] += 1;
                }
            }
        });
        // Per callee, the groups holding it (once each).
        let mut member = vec![0usize; if groups.is_empty() { 0 } else { fns + 1 }];
        let mut member_of = Vec::new();
        if !groups.is_empty() {
            let mut holding: Vec<Vec<u32>> = vec![Vec::new(); fns];
            for (g, &entry) in groups.iter().enumerate() {
                for &c in self.callees(entry) {
                    if holding[c].last() != Some(&(g as u32)) {
                        holding[c].push(g as u32);
                    }
                }
            }
            for (c, gs) in holding.into_iter().enumerate() {
                member[c] = member_of.len();
                member_of.extend(gs);
            }
            member[fns] = member_of.len();
        }
        let delivered = vec![Delivered::default(); groups.len()];
        Callers { start, len: count, edges, member, member_of, group_start, group_edges, delivered }
    }
}

/// Where each of the runs of lengths `lens` starts when laid end to end; one more at the end.
fn prefix_sums(lens: &[usize]) -> Vec<usize> {
    let mut start = Vec::with_capacity(lens.len() + 1);
    let mut total = 0;
    for n in lens {
        start.push(total);
        total += n;
    }
    start.push(total);
    start
}

/// Per function, the (caller, sink) pairs calling it: each directly, or as one of the calls of
/// a group (an entry several sinks share) the function is a member of.
#[derive(Debug)]
pub struct Callers {
    start: Vec<usize>,
    len: Vec<usize>,
    edges: Vec<(FnId, usize)>,
    /// Per function, the groups holding it: `member[f]..member[f + 1]` of `member_of` (empty
    /// without groups).
    member: Vec<usize>,
    member_of: Vec<u32>,
    /// Per group, its calls: `group_start[g]..group_start[g + 1]` of `group_edges`.
    group_start: Vec<usize>,
    group_edges: Vec<(FnId, usize)>,
    /// Per group, what every one of its calls has been given (see [`Delivered`]).
    pub delivered: Vec<Delivered>,
}

/// What a spreading has given every call of a group already, so that another member giving
/// the same changes none of them and need not go through them: witnesses holding whatever the
/// flags for the parameters of `params`, and (`own`) writes through a handle of its own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivered {
    /// Bit `p`: parameter `p`.
    pub params: u64,
    /// Writes through a handle of its own.
    pub own: bool,
}

impl Callers {
    /// The (caller, sink) pairs calling `callee` directly.
    pub fn of(&self, callee: FnId) -> &[(FnId, usize)] {
        let start = self.start[callee];
        &self.edges[start..start + self.len[callee]]
    }

    /// The groups holding `callee`.
    pub fn groups_of(&self, callee: FnId) -> &[u32] {
        match self.member.get(callee..callee + 2) {
            Some(&[from, to]) => &self.member_of[from..to],
            _ => &[],
        }
    }

    /// The (caller, sink) pairs of group `g`'s calls.
    pub fn group(&self, g: u32) -> &[(FnId, usize)] {
        let g = g as usize;
        &self.group_edges[self.group_start[g]..self.group_start[g + 1]]
    }
}

/// The pairs of the sorted `lists` (no pair in two), merged in order.
pub fn merged<'a>(mut lists: Vec<&'a [(FnId, usize)]>) -> impl Iterator<Item = (FnId, usize)> + 'a {
    std::iter::from_fn(move || {
        let (i, _) =
            lists.iter().enumerate().filter_map(|(i, l)| Some((i, *l.first()?))).min_by_key(|&(_, p)| p)?;
        let (&first, rest) = lists[i].split_first()?;
        lists[i] = rest;
        Some(first)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(per_fn: Vec<Vec<Resolved>>) -> Part {
        let mut part = Part::default();
        for sinks in per_fn {
            part.start_fn();
            sinks.into_iter().for_each(|r| part.push(r));
        }
        part
    }

    #[test]
    fn parts_join_in_order_and_callers_list_each_sink_once() {
        let tree = |ids: &[FnId]| Resolved::Tree(ids.to_vec());
        let first =
            part(vec![vec![tree(&[2]), Resolved::External], vec![Resolved::Unresolved("why".into())]]);
        let second = part(vec![vec![tree(&[0, 2, 0])], Vec::new()]);
        let mut all = Resolutions::join(vec![first, second]);
        assert_eq!((all.sinks(0), all.sinks(1), all.sinks(2), all.sinks(3)), (2, 1, 1, 0));
        assert_eq!(all.callees(all.entry(0, 0)), [2]);
        assert_eq!(all.entry(0, 1), Entry::External);
        assert_eq!(all.entry(1, 0), Entry::Unresolved);
        assert_eq!(all.callees(all.entry(2, 0)), [0, 2, 0], "the second part's callees after the first's");
        all.set(1, 0, &[3]);
        assert_eq!(all.callees(all.entry(1, 0)), [3]);
        let callers = all.callers();
        assert_eq!(callers.of(0), [(2, 0)], "named twice by one sink, listed once");
        assert_eq!(callers.of(2), [(0, 0), (2, 0)]);
        assert_eq!(callers.of(3), [(1, 0)]);
        assert!(callers.of(1).is_empty());
        assert!(callers.groups_of(3).is_empty(), "no entry shared: no groups");
        // Sink 1 of function 0 shares sink 0 of function 1's callees: a group of those two
        // calls; only they are listed.
        all.set_entry(0, 1, all.entry(1, 0));
        assert_eq!(all.callees(all.entry(0, 1)), [3]);
        let fresh = all.callers_of(&[(0, 1), (1, 0)]);
        assert!(fresh.of(3).is_empty(), "a shared entry's calls are the group's, not the callee's");
        assert_eq!(fresh.groups_of(3), [0]);
        assert_eq!(fresh.group(0), [(0, 1), (1, 0)]);
        assert!(fresh.of(0).is_empty() && fresh.of(2).is_empty(), "the other sinks are not listed");
        assert!(fresh.groups_of(0).is_empty() && fresh.groups_of(2).is_empty());
    }

    #[test]
    fn a_long_callee_list_is_stored_once_across_parts_and_its_sinks_are_one_group() {
        let tree = |ids: &[FnId]| Resolved::Tree(ids.to_vec());
        let every: Vec<FnId> = (10..10 + SHARED_LEN).collect();
        let short = [10, 11];
        let all = Resolutions::join(vec![
            part(vec![vec![tree(&every), tree(&short)], vec![tree(&every)]]),
            // Function 2, then the callees (functions up to 10 + SHARED_LEN), calling nothing.
            part(
                [vec![tree(&short), tree(&every)]]
                    .into_iter()
                    .chain(vec![Vec::new(); 8 + SHARED_LEN])
                    .collect(),
            ),
        ]);
        assert_eq!(
            all.callees.len(),
            SHARED_LEN + 2 * short.len(),
            "the long list once, each short one anew"
        );
        assert_eq!(all.entry(0, 0), all.entry(1, 0));
        assert_eq!(all.entry(0, 0), all.entry(2, 1), "across parts too");
        assert_ne!(all.entry(0, 1), all.entry(2, 0), "short lists are not looked up");
        assert_eq!(all.callees(all.entry(2, 1)), every.as_slice());
        let callers = all.callers();
        assert_eq!(callers.of(10), [(0, 1), (2, 0)], "the short lists' calls stay direct");
        assert_eq!(callers.groups_of(10), [0]);
        assert_eq!(callers.groups_of(17), [0]);
        assert_eq!(callers.group(0), [(0, 0), (1, 0), (2, 1)]);
    }

    #[test]
    fn a_shared_entry_is_one_group_whose_calls_merge_in_order_with_the_direct_ones() {
        let tree = |ids: &[FnId]| Resolved::Tree(ids.to_vec());
        // Functions 0..4 call; 5 and 6 are the methods one name may mean.
        let mut all = Resolutions::join(vec![part(vec![
            vec![Resolved::Unresolved("a".into()), tree(&[5])],
            vec![tree(&[6])],
            vec![Resolved::Unresolved("b".into())],
            vec![tree(&[5]), Resolved::Unresolved("c".into())],
            Vec::new(),
            Vec::new(),
            Vec::new(),
        ])]);
        let entry = all.set(0, 0, &[5, 6]);
        all.set_entry(2, 0, entry);
        all.set_entry(3, 1, entry);
        let callers = all.callers();
        assert_eq!(callers.of(5), [(0, 1), (3, 0)], "direct calls only");
        assert_eq!(callers.of(6), [(1, 0)]);
        assert_eq!((callers.groups_of(5), callers.groups_of(6)), (&[0][..], &[0][..]));
        assert_eq!(callers.group(0), [(0, 0), (2, 0), (3, 1)], "each shared call once, not once per member");
        let lists = vec![callers.of(5), callers.group(0)];
        let order: Vec<(FnId, usize)> = merged(lists).collect();
        assert_eq!(order, [(0, 0), (0, 1), (2, 0), (3, 0), (3, 1)], "caller and sink order");
        assert_eq!(callers.delivered, [Delivered::default()]);
    }

    #[test]
    fn settling_keeps_the_entries_of_kept_sinks_and_takes_rewritten_functions_anew() {
        let tree = |ids: &[FnId]| Resolved::Tree(ids.to_vec());
        let all = Resolutions::join(vec![part(vec![
            vec![tree(&[1]), Resolved::External, tree(&[2])],
            vec![Resolved::Unresolved("why".into())],
            vec![tree(&[0])],
        ])]);
        let kept = vec![(0, vec![true, false, true]), (1, vec![false])];
        let fresh = vec![(1, part(vec![vec![tree(&[3]), tree(&[0, 2])]]))];
        let settled = all.settled(&kept, fresh);
        assert_eq!((settled.sinks(0), settled.sinks(1), settled.sinks(2)), (2, 2, 1));
        assert_eq!(settled.callees(settled.entry(0, 0)), [1]);
        assert_eq!(settled.callees(settled.entry(0, 1)), [2], "the dropped sink's entry is gone");
        assert_eq!(settled.callees(settled.entry(1, 0)), [3], "a rewritten function's entries are new");
        assert_eq!(settled.callees(settled.entry(1, 1)), [0, 2]);
        assert_eq!(settled.callees(settled.entry(2, 0)), [0]);
    }
}
