//! Write tokens for read-your-writes: the primary's WAL position after a write, as compact text
//! (`16/B374D848`, PostgreSQL's own `pg_lsn` form) for a cookie or a header, and the query that
//! takes one on a primary connection.
//!
//! Which position: `pg_current_wal_insert_lsn()`, not `pg_current_wal_lsn()`. The latter is
//! how far WAL has been *written* out of the WAL buffers; with asynchronous commit
//! (`synchronous_commit = off`) a commit returns before its record is written, so that
//! position can lie before the commit and a replica that reached it would still miss the
//! write. The insert position is past every record already inserted, our commit included,
//! whatever `synchronous_commit` says. It may be a little ahead of what we need (other
//! sessions' records, or a page header when the insert position sits on a page boundary):
//! a read then waits or goes to the primary a little more often, it never misses the write.
//!
//! This module only parses, prints and takes tokens; it never chooses a server.

use std::{fmt, str::FromStr};

use crate::connection::PrimaryConnection;

/// The primary's WAL position after a write: hand it to
/// [`DbRouter::get_db_ro_after`](crate::DbRouter::get_db_ro_after) so that the read sees the
/// write. Take it with [`PrimaryConnection::write_token`] after the write committed.
///
/// Shown and parsed as PostgreSQL shows an LSN, `16/B374D848`: short, and safe in a cookie or
/// a header. Tokens order as WAL positions (a later write has a larger token), so a client
/// that wrote twice keeps the larger one. A token is not a secret and not signed: a client
/// sending a made-up one can only make its own reads wait and go to the primary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WriteToken(u64);

impl WriteToken {
    /// The token for a WAL position (an LSN as a 64-bit number).
    pub fn from_lsn(lsn: u64) -> Self {
        Self(lsn)
    }

    /// The WAL position as a 64-bit number.
    pub fn lsn(self) -> u64 {
        self.0
    }
}

impl fmt::Display for WriteToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

/// Text that is not a write token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a write token ({reason}); expected a WAL position like 16/B374D848")]
pub struct TokenError {
    reason: &'static str,
}

impl FromStr for WriteToken {
    type Err = TokenError;

    fn from_str(text: &str) -> Result<Self, TokenError> {
        let err = |reason| Err(TokenError { reason });
        let Some((hi, lo)) = text.split_once('/') else {
            return err("no '/' between the two halves");
        };
        let half = |part: &str| {
            let digits = (1..=8).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_hexdigit());
            digits.then(|| u64::from_str_radix(part, 16).ok()).flatten()
        };
        match (half(hi), half(lo)) {
            (Some(hi), Some(lo)) => Ok(Self((hi << 32) | lo)),
            _ => err("each half must be 1 to 8 hexadecimal digits"),
        }
    }
}

/// The insert position: past our commit record even under asynchronous commit (see the
/// module docs).
const TOKEN_SQL: &str = "SELECT pg_current_wal_insert_lsn()::text";

impl PrimaryConnection {
    /// The write token for everything committed so far on the primary — call it after the
    /// write's transaction committed (a `tokio_postgres::Transaction` borrows the connection,
    /// so it cannot be called while one is open; after a raw `BEGIN`, commit first). One round
    /// trip.
    pub async fn write_token(&self) -> Result<WriteToken, tokio_postgres::Error> {
        let row = self.query_one(TOKEN_SQL, &[]).await?;
        let text: String = row.get(0);
        // PostgreSQL prints every pg_lsn in the form parsed here.
        Ok(text.parse().unwrap_or(WriteToken(u64::MAX)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_postgresql_and_parses_back() {
        let cases =
            [("0/0", 0), ("16/B374D848", (0x16 << 32) | 0xB374_D848), ("FFFFFFFF/FFFFFFFF", u64::MAX)];
        for (text, lsn) in cases {
            assert_eq!(WriteToken(lsn).to_string(), text);
            assert_eq!(text.parse(), Ok(WriteToken(lsn)));
        }
        assert_eq!("16/b374d848".parse::<WriteToken>(), Ok(WriteToken((0x16 << 32) | 0xB374_D848)));
        assert_eq!("0/01".parse::<WriteToken>(), Ok(WriteToken(1)));
    }

    #[test]
    fn rejects_garbage_with_the_expected_form() {
        for text in [
            "",
            "/",
            "16",
            "16/",
            "/B3",
            "16/B374D848/1",
            "+1/2",
            "1/-2",
            " 1/2",
            "1/2 ",
            "1/2\n",
            "123456789/0",
            "0/123456789",
            "g/0",
            "0x1/0",
            "１/2",
            "1;2",
            "1/2; Path=/",
        ] {
            let err = text.parse::<WriteToken>().unwrap_err();
            assert!(err.to_string().starts_with("not a write token ("), "{text:?}: {err}");
            assert!(err.to_string().ends_with("expected a WAL position like 16/B374D848"), "{err}");
        }
    }

    #[test]
    fn tokens_order_as_wal_positions() {
        let a: WriteToken = "0/FFFFFFFF".parse().unwrap();
        let b: WriteToken = "1/0".parse().unwrap();
        assert!(a < b);
        assert_eq!(a.max(b), b);
    }
}
