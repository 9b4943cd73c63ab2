//! SQL text as a function builds it (literals, holes, concatenations, alternatives), bounded
//! in one place ([`SqlText::bounded`]): joins and appends past [`MAX_TEXT_NODES`] nodes or
//! [`MAX_TEXT_BYTES`] bytes widen it to its pieces after what starts it. Only holds and bounds
//! text; never expands consts (the judge does) or classifies it.

/// SQL text as the source builds it; resolved to strings once consts are known.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SqlText {
    /// Literal text.
    Lit(String),
    /// A part not known statically (a `format!` argument, a parameter).
    Hole,
    /// A `const`/`static` referred to by path (`SQL`, `queries::SQL`, `Self::SQL`).
    Const(Vec<String>),
    /// Parts one after the other.
    Concat(Vec<SqlText>),
    /// One of several texts (a binding assigned on different paths).
    Alt(Vec<SqlText>),
    /// The contents of a file (`include_str!`), relative to the source file's directory.
    File(String),
    /// The contents of a file relative to the crate root (`sqlx::query_file!`): the nearest
    /// directory above the source file that holds a `Cargo.toml`, else the source's directory.
    CrateFile(String),
    /// Text chosen by the function's `bool` parameter `param` (`if for_update { "FOR UPDATE" }
    /// else { "" }`): `yes` when it is true, `no` when false. Judged as either, unless a call
    /// says which ([`SqlText::assuming`]).
    Flag {
        /// The parameter's position (`self` counted).
        param: u8,
        /// The text when it is true.
        yes: Box<SqlText>,
        /// The text when it is false.
        no: Box<SqlText>,
    },
}

/// The most nodes a tracked text may have before it is [widened](SqlText::bounded).
pub const MAX_TEXT_NODES: usize = 256;
/// The most bytes of literal text a tracked text may hold before it is widened.
pub const MAX_TEXT_BYTES: usize = 16 * 1024;
/// The most distinct pieces a widened text keeps (the judge expands no more alternatives).
pub const MAX_TEXT_PIECES: usize = 32;

impl SqlText {
    /// Joins two alternatives, within the bound.
    pub fn either(a: SqlText, b: SqlText) -> SqlText {
        if a == b {
            return a;
        }
        let widened = a.is_widened() || b.is_widened();
        let mut alts = Vec::new();
        for t in [a, b] {
            match t {
                SqlText::Alt(inner) => alts.extend(inner),
                other => alts.push(other),
            }
        }
        alts.dedup();
        match widened {
            true => SqlText::Alt(alts).widened(),
            false => SqlText::Alt(alts).bounded(),
        }
    }

    /// The text `yes` when parameter `param` is true, `no` when false.
    pub fn flag(param: u8, yes: SqlText, no: SqlText) -> SqlText {
        if yes == no {
            return yes;
        }
        SqlText::Flag { param, yes: Box::new(yes), no: Box::new(no) }.bounded()
    }

    /// The parameters whose value chooses part of the text, as bits.
    pub fn flag_params(&self) -> u64 {
        match self {
            SqlText::Flag { param, yes, no } => {
                (1u64 << (*param).min(63)) | yes.flag_params() | no.flag_params()
            }
            SqlText::Concat(parts) | SqlText::Alt(parts) => {
                parts.iter().fold(0, |bits, p| bits | p.flag_params())
            }
            _ => 0,
        }
    }

    /// The text when parameter `param` is `value`.
    pub fn assuming(&self, param: u8, value: bool) -> SqlText {
        match self {
            SqlText::Flag { param: p, yes, no } if *p == param => {
                if value { yes } else { no }.assuming(param, value)
            }
            SqlText::Flag { param: p, yes, no } => SqlText::Flag {
                param: *p,
                yes: Box::new(yes.assuming(param, value)),
                no: Box::new(no.assuming(param, value)),
            },
            SqlText::Concat(parts) => {
                SqlText::Concat(parts.iter().map(|t| t.assuming(param, value)).collect())
            }
            SqlText::Alt(parts) => SqlText::Alt(parts.iter().map(|t| t.assuming(param, value)).collect()),
            other => other.clone(),
        }
    }

    /// `self` followed by `tail` (`sql += …`, `write!(sql, …)`), within the bound.
    pub fn append(self, tail: SqlText) -> SqlText {
        SqlText::Concat(vec![self, tail]).bounded()
    }

    /// The text itself while it has at most [`MAX_TEXT_NODES`] nodes and
    /// [`MAX_TEXT_BYTES`] bytes of literals and holds no widened text; beyond, its widening.
    /// A widened text is one of: a piece it may start with (a literal, const or file) followed
    /// by unknown text, optionally then any other of its pieces and unknown text
    /// (`INSERT … VALUES {}('{}`), at most [`MAX_TEXT_PIECES`] such alternatives; or unknown
    /// text alone (the last alternative, which marks the text as widened; a text no known
    /// piece starts is unknown text). Every piece is still judged after what starts the text,
    /// so a text that once held `INSERT …` still writes and a `SELECT` grown in a loop still
    /// starts with `SELECT`, while the product of its alternatives is forgotten. A widened
    /// text stays widened through joins and appends, and widening one that gained no new
    /// piece gives it back: loops reach their fixed point.
    pub fn bounded(self) -> SqlText {
        let mut budget = (MAX_TEXT_NODES, MAX_TEXT_BYTES);
        if self.fits(&mut budget) {
            return self;
        }
        self.widened()
    }

    /// Its widening (see [`SqlText::bounded`]).
    fn widened(self) -> SqlText {
        let mut leads = Vec::new();
        self.leads(&mut leads);
        if leads.is_empty() {
            // Nothing known starts it: unknown text.
            return SqlText::Hole;
        }
        let mut pieces = leads.clone();
        self.pieces(&mut pieces);
        let after = |lead: &SqlText, piece: &SqlText| match lead == piece {
            true => SqlText::Concat(vec![lead.clone(), SqlText::Hole]),
            false => SqlText::Concat(vec![lead.clone(), SqlText::Hole, piece.clone(), SqlText::Hole]),
        };
        let mut alts: Vec<SqlText> = leads.iter().flat_map(|l| pieces.iter().map(|p| after(l, p))).collect();
        alts.truncate(MAX_TEXT_PIECES);
        alts.push(SqlText::Hole);
        SqlText::Alt(alts)
    }

    /// Whether this is a widened text (see [`SqlText::bounded`]).
    fn is_widened(&self) -> bool {
        let SqlText::Alt(alts) = self else { return false };
        let Some((SqlText::Hole, alts)) = alts.split_last() else { return false };
        let piece = |t: &SqlText| !matches!(t, SqlText::Hole | SqlText::Concat(_) | SqlText::Alt(_));
        !alts.is_empty()
            && alts.iter().all(|alt| match alt {
                SqlText::Concat(parts) => match &parts[..] {
                    [lead, SqlText::Hole] => piece(lead),
                    [lead, SqlText::Hole, other, SqlText::Hole] => piece(lead) && piece(other),
                    _ => false,
                },
                _ => false,
            })
    }

    /// Adds the pieces an expansion of the text may start with (whitespace skipped) to `out`;
    /// true when the text may be empty (or blank), so what follows it may start it too.
    fn leads(&self, out: &mut Vec<SqlText>) -> bool {
        match self {
            SqlText::Lit(s) if s.trim().is_empty() => true,
            SqlText::Hole => false,
            SqlText::Concat(parts) => parts.iter().all(|p| p.leads(out)),
            SqlText::Alt(alts) => {
                // Every alternative adds its leads (no short cut).
                let mut blank = false;
                for alt in alts {
                    blank |= alt.leads(out);
                }
                blank
            }
            SqlText::Flag { yes, no, .. } => {
                let blank = yes.leads(out);
                no.leads(out) || blank
            }
            piece => {
                note_piece(out, piece);
                false
            }
        }
    }

    /// Whether the text fits in what is left of `(nodes, bytes)`, spending it.
    fn fits(&self, budget: &mut (usize, usize)) -> bool {
        let Some(nodes) = budget.0.checked_sub(1) else { return false };
        budget.0 = nodes;
        match self {
            SqlText::Lit(s) => match budget.1.checked_sub(s.len()) {
                Some(bytes) => {
                    budget.1 = bytes;
                    true
                }
                None => false,
            },
            SqlText::Alt(_) if self.is_widened() => false,
            SqlText::Concat(parts) | SqlText::Alt(parts) => parts.iter().all(|p| p.fits(budget)),
            SqlText::Flag { yes, no, .. } => yes.fits(budget) && no.fits(budget),
            SqlText::Hole | SqlText::Const(_) | SqlText::File(_) | SqlText::CrateFile(_) => true,
        }
    }

    /// Its distinct non-empty pieces in source order (a widened text's pieces are the pieces
    /// it was widened from), at most [`MAX_TEXT_PIECES`].
    fn pieces(&self, out: &mut Vec<SqlText>) {
        match self {
            SqlText::Concat(parts) | SqlText::Alt(parts) => parts.iter().for_each(|p| p.pieces(out)),
            SqlText::Flag { yes, no, .. } => {
                yes.pieces(out);
                no.pieces(out);
            }
            SqlText::Hole => {}
            SqlText::Lit(s) if s.trim().is_empty() => {}
            piece => note_piece(out, piece),
        }
    }

    /// How many nodes it has (a measure of what the interpreter tracks).
    pub fn nodes(&self) -> usize {
        match self {
            SqlText::Concat(parts) | SqlText::Alt(parts) => {
                1 + parts.iter().map(SqlText::nodes).sum::<usize>()
            }
            SqlText::Flag { yes, no, .. } => 1 + yes.nodes() + no.nodes(),
            _ => 1,
        }
    }
}

/// Adds `piece` to `out` unless it is there or `out` is full ([`MAX_TEXT_PIECES`]).
fn note_piece(out: &mut Vec<SqlText>, piece: &SqlText) {
    if out.len() < MAX_TEXT_PIECES && !out.contains(piece) {
        out.push(piece.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> SqlText {
        SqlText::Lit(s.to_string())
    }

    /// The text of `sql += piece` run `rounds` times in a loop: joined with itself each round.
    fn grown(start: SqlText, piece: &SqlText, rounds: usize) -> SqlText {
        (0..rounds).fold(start, |acc, _| SqlText::either(acc.clone(), acc.append(piece.clone())))
    }

    #[test]
    fn text_grown_in_a_loop_is_widened_to_its_pieces() {
        let text = grown(lit("INSERT INTO t VALUES "), &lit("(1),"), 20);
        assert!(text.nodes() <= MAX_TEXT_NODES, "{} nodes", text.nodes());
        let insert = SqlText::Concat(vec![lit("INSERT INTO t VALUES "), SqlText::Hole]);
        let values =
            SqlText::Concat(vec![lit("INSERT INTO t VALUES "), SqlText::Hole, lit("(1),"), SqlText::Hole]);
        assert_eq!(text, SqlText::Alt(vec![insert, values, SqlText::Hole]));
        // A widened text that gains no new piece stays as it is: the loop's fixed point.
        assert_eq!(grown(text.clone(), &lit("(1),"), 3), text);
        // A new piece joins it, and the widened text stays widened.
        let more = SqlText::either(text.clone(), text.append(lit("DELETE FROM t")));
        assert_eq!(more.nodes(), 1 + 3 + 5 + 5 + 1, "{more:?}");
    }

    #[test]
    fn small_texts_and_long_literals_are_bounded_separately() {
        let small = lit("SELECT 1").append(SqlText::Hole);
        assert_eq!(small.clone().bounded(), small);
        let long = lit(&"x".repeat(MAX_TEXT_BYTES)).append(lit("y"));
        assert!(
            long.bounded()
                == SqlText::Alt(vec![
                    SqlText::Concat(vec![lit(&"x".repeat(MAX_TEXT_BYTES)), SqlText::Hole]),
                    SqlText::Concat(vec![
                        lit(&"x".repeat(MAX_TEXT_BYTES)),
                        SqlText::Hole,
                        lit("y"),
                        SqlText::Hole
                    ]),
                    SqlText::Hole,
                ]),
            "the long literal, then what follows it"
        );
        assert_eq!(lit("  ").append(SqlText::Alt(vec![SqlText::Hole; MAX_TEXT_NODES])), SqlText::Hole);
    }
}
