//! Flag arguments of a call: what a call passes for the callee's `bool` parameters, so that
//! SQL text a callee chooses by such a parameter (`if for_update { "FOR UPDATE" } else { "" }`,
//! a [`SqlText::Flag`](super::SqlText::Flag)) is judged as the call chooses it.
//!
//! Plain data, packed in 32 bits (the calls of a million-line tree carry it at no cost): for
//! the callee's first [`MAX_FLAG_INPUTS`] inputs, whether the call passes a literal `true` or
//! `false`, or one of its own `bool` parameters, or something else.

/// How many of a callee's inputs (`self` counted) a call can say something about.
pub const MAX_FLAG_INPUTS: usize = 8;
/// How many of a function's parameters can be flags (`self` counted).
pub const MAX_FLAG_PARAMS: usize = 13;

/// What a call passes for one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagArg {
    /// Nothing known: any expression but the two below.
    Unknown,
    /// A literal `true` or `false`.
    Lit(bool),
    /// The caller's own `bool` parameter at this position, passed on as it is.
    Param(u8),
}

/// What a call passes for each of the callee's inputs (see [`FlagArg`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct FlagArgs(u32);

impl FlagArgs {
    /// What is passed for input `input`.
    pub fn get(self, input: usize) -> FlagArg {
        if input >= MAX_FLAG_INPUTS {
            return FlagArg::Unknown;
        }
        match (self.0 >> (4 * input)) & 0xf {
            0 => FlagArg::Unknown,
            1 => FlagArg::Lit(false),
            2 => FlagArg::Lit(true),
            p => FlagArg::Param((p - 3) as u8),
        }
    }

    /// The same, with `arg` passed for input `input` (an input or a parameter beyond what fits
    /// stays unknown).
    pub fn with(self, input: usize, arg: FlagArg) -> FlagArgs {
        let code = match arg {
            FlagArg::Unknown => 0,
            FlagArg::Lit(false) => 1,
            FlagArg::Lit(true) => 2,
            FlagArg::Param(p) if (p as usize) < MAX_FLAG_PARAMS => 3 + u32::from(p),
            FlagArg::Param(_) => 0,
        };
        if input >= MAX_FLAG_INPUTS {
            return self;
        }
        FlagArgs((self.0 & !(0xf << (4 * input))) | (code << (4 * input)))
    }

    /// Whether the call passes nothing known for any input.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_input_keeps_what_is_passed() {
        let flags = FlagArgs::default()
            .with(0, FlagArg::Lit(true))
            .with(2, FlagArg::Lit(false))
            .with(3, FlagArg::Param(12))
            .with(7, FlagArg::Param(0));
        assert_eq!(flags.get(0), FlagArg::Lit(true));
        assert_eq!(flags.get(1), FlagArg::Unknown);
        assert_eq!(flags.get(2), FlagArg::Lit(false));
        assert_eq!(flags.get(3), FlagArg::Param(12));
        assert_eq!(flags.get(7), FlagArg::Param(0));
        assert_eq!(flags.with(2, FlagArg::Unknown).get(2), FlagArg::Unknown);
        assert!(FlagArgs::default().is_empty() && !flags.is_empty());
    }

    #[test]
    fn what_does_not_fit_stays_unknown() {
        let flags = FlagArgs::default().with(8, FlagArg::Lit(true)).with(1, FlagArg::Param(13));
        assert_eq!(flags.get(8), FlagArg::Unknown);
        assert_eq!(flags.get(1), FlagArg::Unknown);
        assert!(flags.is_empty());
    }
}
