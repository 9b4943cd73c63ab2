//! The tree's functions as the index and the summaries hold them: each file's functions in a
//! vector of their own, numbered across files ([`FnId`]).
//!
//! A file's functions move here from its facts one file at a time, so no vector of every
//! function of the tree is ever allocated: on a large tree that one vector took tens of MiB of
//! fresh memory while the files' own vectors, just freed, were left as holes. Only stores;
//! never resolves or judges.

use std::ops::{Index, IndexMut};

use rayon::prelude::*;

use crate::writers::{FnId, TreeFn};

/// The functions of the tree, by id.
#[derive(Debug, Default)]
pub struct TreeFns {
    files: Vec<Vec<TreeFn>>,
    /// Per file: the id of its first function.
    first: Vec<FnId>,
    /// Per id: (file, index in the file).
    at: Vec<(u32, u32)>,
}

impl TreeFns {
    /// Adds the functions of the next file; returns their ids.
    pub fn push_file(&mut self, functions: Vec<TreeFn>) -> Vec<FnId> {
        let Ok(file) = u32::try_from(self.files.len()) else {
            // More than 4 G files cannot be walked; kept apart rather than misnumbered.
            return Vec::new();
        };
        let first = self.at.len();
        self.at.extend((0..functions.len()).map_while(|i| u32::try_from(i).ok().map(|i| (file, i))));
        // Kept apart, like a file past 4 G files: functions past 4 G in one file have no id.
        let mut functions = functions;
        functions.truncate(self.at.len() - first);
        self.first.push(first);
        self.files.push(functions);
        (first..self.at.len()).collect()
    }

    /// How many functions there are.
    pub fn len(&self) -> usize {
        self.at.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.at.is_empty()
    }

    /// The function `id`, if there is one.
    pub fn get(&self, id: FnId) -> Option<&TreeFn> {
        let &(file, i) = self.at.get(id)?;
        self.files.get(file as usize)?.get(i as usize)
    }

    /// Every function, in id order.
    pub fn iter(&self) -> impl Iterator<Item = &TreeFn> {
        self.files.iter().flatten()
    }

    /// Every function, in id order, to change (settling what the facts left open).
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut TreeFn> {
        self.files.iter_mut().flatten()
    }

    /// Every function with its id, to change on the pool (file by file).
    pub fn par_iter_mut(&mut self) -> impl ParallelIterator<Item = (FnId, &mut TreeFn)> {
        let files = self.first.par_iter().copied().zip(self.files.par_iter_mut());
        files.flat_map_iter(|(first, functions)| (first..).zip(functions.iter_mut()))
    }
}

impl Index<FnId> for TreeFns {
    type Output = TreeFn;

    fn index(&self, id: FnId) -> &TreeFn {
        let (file, i) = self.at[id];
        &self.files[file as usize][i as usize]
    }
}

impl IndexMut<FnId> for TreeFns {
    fn index_mut(&mut self, id: FnId) -> &mut TreeFn {
        let (file, i) = self.at[id];
        &mut self.files[file as usize][i as usize]
    }
}

impl From<Vec<TreeFn>> for TreeFns {
    /// The functions of one file.
    fn from(functions: Vec<TreeFn>) -> TreeFns {
        let mut fns = TreeFns::default();
        fns.push_file(functions);
        fns
    }
}
