//! Where a handle came from ([`Taint`]: read-only, read-write, parameters, derivations), as
//! far as one function can tell, kept in 64 bytes: every sink and function holds one. Only
//! joins and reads origins; never decides what a handle may do.

use crate::source::{Pos, TextRange};

/// Where a handle came from, as far as one function can tell. Joining two taints (two paths
/// into a point) keeps every origin: a binding read-only on *any* path is read-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Taint {
    /// From a read-only accessor or type: where the binding last became read-only.
    pub ro: Origin,
    /// From a read-write accessor or type: where.
    pub rw: Origin,
    /// From the function's parameters (bit i: parameter i, `self` counting as 0).
    pub params: u64,
    /// Maybe a handle derived by a call (bit d: the function's [`Derived`](super::Derived) of
    /// that `bit`): a handle only if the callee, once resolved, returns a value derived from
    /// the input it was given (`pool.connection_tagged("api")`, `conn.requests_dal()`).
    /// Settled by the writer summaries before anything is judged; never seen after them.
    pub via: u64,
}

impl Taint {
    /// No handle at all.
    pub const NONE: Taint = Taint { ro: Origin::NONE, rw: Origin::NONE, params: 0, via: 0 };

    /// A read-only handle that became one at `at`.
    pub fn read_only(at: TextRange) -> Taint {
        Taint { ro: Origin::at(at), ..Taint::NONE }
    }

    /// A read-write handle that became one at `at`.
    pub fn read_write(at: TextRange) -> Taint {
        Taint { rw: Origin::at(at), ..Taint::NONE }
    }

    /// Parameter `index` of the function.
    pub fn param(index: usize) -> Taint {
        Taint { params: if index < 64 { 1 << index } else { 0 }, ..Taint::NONE }
    }

    /// This taint, also flowing from the parameters `other` flows from (an accessor called on
    /// a parameter: `self.pool()`).
    pub fn with_params_of(self, other: Taint) -> Taint {
        Taint { params: self.params | other.params, via: self.via | other.via, ..self }
    }

    /// Maybe a handle derived by the call of derivation `bit` (see [`Taint::via`]).
    pub fn derived(bit: u8) -> Taint {
        Taint { via: 1u64.checked_shl(u32::from(bit)).unwrap_or(0), ..Taint::NONE }
    }

    /// Whether a read-only or read-write handle (not only a parameter) flows here.
    pub fn is_known_handle(&self) -> bool {
        self.ro.is_some() || self.rw.is_some()
    }

    /// Whether any handle flows here (or may, through a call: [`Taint::via`]).
    pub fn is_handle(&self) -> bool {
        self.ro.is_some() || self.rw.is_some() || self.params != 0 || self.via != 0
    }

    /// Both paths: every origin of either; the latest place for each kind.
    pub fn join(self, other: Taint) -> Taint {
        Taint {
            ro: latest(self.ro.get(), other.ro.get()).into(),
            rw: latest(self.rw.get(), other.rw.get()).into(),
            params: self.params | other.params,
            via: self.via | other.via,
        }
    }

    /// The same handle, now bound at `at` (a `let` or an assignment).
    pub fn rebound(self, at: TextRange) -> Taint {
        Taint { ro: self.ro.get().map(|_| at).into(), rw: self.rw.get().map(|_| at).into(), ..self }
    }

    /// The parameter indices this flows from.
    pub fn param_indices(&self) -> impl Iterator<Item = usize> + '_ {
        bit_positions(self.params)
    }
}

/// The positions of the bits set in `bits` (parameter indices of [`Taint::params`]).
pub fn bit_positions(bits: u64) -> impl Iterator<Item = usize> {
    (0..64).filter(move |i| bits & (1u64 << i) != 0)
}

/// Where a handle became one of its kind ([`Taint::ro`], [`Taint::rw`]), if it did: an
/// `Option<TextRange>` in the range's own 24 bytes (an `Option` would take 28 and make every
/// [`Taint`] 72). No range starts after it ends, so one that does stands for none.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Origin(TextRange);

impl Origin {
    /// Nowhere: not a handle of this kind.
    pub const NONE: Origin = Origin(TextRange {
        start: Pos { line: u32::MAX, column: u32::MAX, offset: u32::MAX },
        end: Pos { line: 0, column: 0, offset: 0 },
    });

    /// Became one at `at`.
    pub fn at(at: TextRange) -> Origin {
        Origin(at)
    }

    /// Where, if anywhere.
    pub fn get(self) -> Option<TextRange> {
        (self != Origin::NONE).then_some(self.0)
    }

    /// Whether it became one somewhere.
    pub fn is_some(self) -> bool {
        self != Origin::NONE
    }

    /// Whether it never did.
    pub fn is_none(self) -> bool {
        self == Origin::NONE
    }
}

impl Default for Origin {
    fn default() -> Origin {
        Origin::NONE
    }
}

impl From<Option<TextRange>> for Origin {
    fn from(at: Option<TextRange>) -> Origin {
        at.map_or(Origin::NONE, Origin)
    }
}

impl std::fmt::Debug for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

fn latest(a: Option<TextRange>, b: Option<TextRange>) -> Option<TextRange> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}
