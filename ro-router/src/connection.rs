//! What `get_db()` and `get_db_ro()` hand out: a pooled connection that derefs to
//! `deadpool-postgres`' [`ClientWrapper`] (and through it to [`tokio_postgres::Client`]), and
//! goes back to its pool when dropped.

use std::{
    fmt,
    ops::{Deref, DerefMut},
    sync::{atomic::Ordering, Arc},
};

use deadpool::managed::Object;
use deadpool_postgres::ClientWrapper;

use crate::{
    cancel::CancelToken,
    pools::TargetLink,
    stats::{PoolRole, RoutesTo},
    target_pool::TargetManager,
};

/// Counts a connection as checked out for as long as it lives.
struct CheckedOut {
    link: Arc<TargetLink>,
}

impl Drop for CheckedOut {
    fn drop(&mut self) {
        self.link.checked_out.fetch_sub(1, Ordering::Relaxed);
    }
}

struct Checkout {
    /// Present until the checkout is dropped or discarded.
    obj: Option<Object<TargetManager>>,
    counted: CheckedOut,
}

impl Checkout {
    fn new(obj: Object<TargetManager>, link: &Arc<TargetLink>) -> Self {
        link.checked_out.fetch_add(1, Ordering::Relaxed);
        link.counters.checkouts.inc();
        Self { obj: Some(obj), counted: CheckedOut { link: link.clone() } }
    }

    fn target(&self) -> &str {
        &self.counted.link.name
    }

    fn cancel_token(&self) -> CancelToken {
        let obj = self.obj.as_ref().expect("present until dropped");
        CancelToken::new(obj.client.cancel_token(), obj.peer.clone(), self.counted.link.clone())
    }

    fn client(&self) -> &ClientWrapper {
        &self.obj.as_ref().expect("present until dropped").client
    }

    fn client_mut(&mut self) -> &mut ClientWrapper {
        &mut self.obj.as_mut().expect("present until dropped").client
    }

    fn discard(mut self) {
        if let Some(obj) = self.obj.take() {
            drop(Object::take(obj));
        }
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        // Back to the pool; a read-only connection only once proven clean (crate::proof).
        if let Some(obj) = self.obj.take() {
            crate::proof::release(&self.counted.link, obj);
        }
    }
}

macro_rules! connection_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub struct $name {
            checkout: Checkout,
            routes_to: RoutesTo,
        }

        impl $name {
            /// The server this connection is on, as `host:port/db`.
            pub fn target(&self) -> &str {
                self.checkout.target()
            }

            /// Which pool served it: `primary`, `replica` or `primary_fallthrough`.
            pub fn routes_to(&self) -> RoutesTo {
                self.routes_to
            }

            /// A token that cancels the query running on this connection from anywhere (it
            /// shadows tokio-postgres' own, which cannot reach the router's sockets; see
            /// [`CancelToken::cancel_query`] for the differences).
            pub fn cancel_token(&self) -> CancelToken {
                self.checkout.cancel_token()
            }

            /// Closes this connection instead of returning it to its pool — for a session
            /// whose state (temporary objects, `SET`s, session locks) must not reach the next
            /// user.
            pub fn discard(self) {
                self.checkout.discard();
            }
        }

        impl Deref for $name {
            type Target = ClientWrapper;

            fn deref(&self) -> &ClientWrapper {
                self.checkout.client()
            }
        }

        impl DerefMut for $name {
            fn deref_mut(&mut self) -> &mut ClientWrapper {
                self.checkout.client_mut()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("target", &self.target())
                    .field("routes_to", &self.routes_to)
                    .finish()
            }
        }
    };
}

connection_type!(
    /// A read-write connection to the primary, from [`DbRouter::get_db`](crate::DbRouter::get_db).
    PrimaryConnection
);

connection_type!(
    /// A read-only connection from [`DbRouter::get_db_ro`](crate::DbRouter::get_db_ro): on a
    /// replica, or on the fallthrough pool to the primary. Its session has
    /// `default_transaction_read_only = on`, so a write fails with PostgreSQL's own error
    /// (SQLSTATE 25006).
    ReadOnlyConnection
);

impl PrimaryConnection {
    pub(crate) fn new(obj: Object<TargetManager>, link: &Arc<TargetLink>) -> Self {
        Self { checkout: Checkout::new(obj, link), routes_to: RoutesTo::Primary }
    }
}

impl ReadOnlyConnection {
    pub(crate) fn new(obj: Object<TargetManager>, link: &Arc<TargetLink>) -> Self {
        let routes_to = match link.role {
            PoolRole::Fallthrough => RoutesTo::PrimaryFallthrough,
            _ => RoutesTo::Replica,
        };
        Self { checkout: Checkout::new(obj, link), routes_to }
    }
}
