//! Unit tests of the wire observer (framing, sessions, events).

use super::*;

fn msg(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn startup() -> Vec<u8> {
    let body = [PROTOCOL_3.to_be_bytes().as_slice(), b"user\0app\0\0"].concat();
    [(body.len() as i32 + 4).to_be_bytes().as_slice(), &body].concat()
}

fn observed() -> Observed<()> {
    Observed::new((), Observer::default())
}

/// Feeds `bytes` one byte at a time (framing must survive any split).
fn trickle(o: &mut Observed<()>, bytes: &[u8], write: bool) {
    for b in bytes {
        if write {
            o.wrote(std::slice::from_ref(b));
        } else {
            o.read(std::slice::from_ref(b));
        }
    }
}

#[test]
fn a_query_and_its_answer_leave_the_session_idle_with_the_guard() {
    let mut o = observed();
    trickle(&mut o, &startup(), true);
    let answer =
        [msg(b'R', &[0, 0, 0, 0]), msg(b'S', b"default_transaction_read_only\0on\0"), msg(b'Z', b"I")]
            .concat();
    trickle(&mut o, &answer, false);
    assert_eq!(o.observer.seen().session(), Session::Idle { guard_on: Some(true) });
    o.wrote(&msg(b'Q', b"BEGIN\0"));
    assert_eq!(o.observer.seen().session(), Session::Unknown("a request is still in flight"));
    o.read(&[msg(b'C', b"BEGIN\0"), msg(b'Z', b"T")].concat());
    assert_eq!(o.observer.seen().session(), Session::InTransaction);
    o.wrote(&msg(b'Q', b"SET default_transaction_read_only = off; ROLLBACK\0"));
    o.read(&[msg(b'S', b"default_transaction_read_only\0off\0"), msg(b'Z', b"I")].concat());
    assert_eq!(o.observer.seen().session(), Session::Idle { guard_on: Some(false) });
}

#[test]
fn extended_messages_wait_for_their_sync() {
    let mut o = observed();
    o.wrote(&startup());
    o.read(&msg(b'Z', b"I"));
    o.wrote(&[msg(b'B', b"x"), msg(b'E', b"x")].concat());
    assert_eq!(o.observer.seen().session(), Session::Unknown("a request is still in flight"));
    o.wrote(&msg(b'S', b""));
    o.read(&[msg(b'2', b""), msg(b'C', b"SELECT 1\0"), msg(b'Z', b"I")].concat());
    assert_eq!(o.observer.seen().session(), Session::Idle { guard_on: None });
    // A dropped statement's Close + Sync in flight changes nothing; a Close batched with
    // anything else does.
    o.wrote(&[msg(b'C', b"Ss0\0"), msg(b'S', b"")].concat());
    assert_eq!(o.observer.seen().session(), Session::Idle { guard_on: None });
    o.wrote(&[msg(b'C', b"Ss1\0"), msg(b'B', b"x"), msg(b'S', b"")].concat());
    assert_eq!(o.observer.seen().session(), Session::Unknown("a request is still in flight"));
    o.read(&[msg(b'3', b""), msg(b'Z', b"I"), msg(b'3', b""), msg(b'2', b""), msg(b'Z', b"I")].concat());
    assert_eq!(o.observer.seen().session(), Session::Idle { guard_on: None });
    o.read(&msg(b'Z', b"I"));
    assert_eq!(o.observer.seen().session(), Session::Unknown("a ReadyForQuery no request asked for"));
}

#[test]
fn copy_fatal_errors_and_unknown_messages_are_anomalies() {
    let mut o = observed();
    o.wrote(&startup());
    o.read(&[msg(b'G', b"\0\0\0"), msg(b'Z', b"I")].concat());
    assert_eq!(o.observer.seen().session(), Session::Unknown("COPY mode"));
    let mut o = observed();
    o.wrote(&startup());
    o.read(&msg(b'E', b"SFATAL\0VFATAL\0C57P01\0Mterminating\0\0"));
    assert_eq!(o.observer.seen().anomaly, Some("an error that ends the session"));
    let mut o = observed();
    o.wrote(&startup());
    o.read(&msg(b'E', b"SERROR\0VERROR\0C25006\0Mread-only\0\0"));
    assert_eq!(o.observer.seen().anomaly, None);
    o.read(&msg(b'?', b""));
    assert_eq!(o.observer.seen().anomaly, Some("an unknown backend message"));
}

#[test]
fn the_ssl_answer_is_one_byte_and_tls_bytes_are_not_parsed() {
    let mut o = observed();
    let ssl = [8i32.to_be_bytes(), (SSL_REQUEST as i32).to_be_bytes()].concat();
    o.wrote(&ssl);
    o.read(b"N");
    o.wrote(&startup());
    o.read(&msg(b'Z', b"I"));
    assert_eq!(o.observer.seen().session(), Session::Idle { guard_on: None });
    let mut o = observed();
    o.wrote(&ssl);
    o.read(b"S");
    o.pass_through();
    assert!(!o.parsing, "TLS records go through unread");
    assert_eq!(o.observer.seen().anomaly, None);
}

#[tokio::test]
async fn bytes_pass_unchanged_and_are_observed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let answer = [msg(b'S', b"default_transaction_read_only\0on\0"), msg(b'Z', b"I")].concat();
    let mut o = Observed::new(answer.as_slice(), Observer::default());
    o.wrote(&startup());
    let mut got = Vec::new();
    o.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, answer);
    assert_eq!(o.observer().seen().session(), Session::Idle { guard_on: Some(true) });
    let mut w = Observed::new(Vec::new(), Observer::default());
    w.write_all(&startup()).await.unwrap();
    w.flush().await.unwrap();
    assert_eq!(w.get_ref(), &startup());
    assert_eq!(w.observer().seen().in_flight, [false]);
    assert!(w.observer().flushed());
    assert_eq!(w.observer().session(), Session::Unknown("a request is still in flight"));
}

#[test]
fn promotion_and_statement_timeouts_are_passed_on() {
    let mut o = observed();
    let events = Arc::new(Mutex::new(Vec::new()));
    let got = events.clone();
    o.observer.on_event(Arc::new(move |e| got.lock().unwrap().push(e)));
    o.wrote(&startup());
    o.read(&[msg(b'S', b"in_hot_standby\0on\0"), msg(b'Z', b"I")].concat());
    o.wrote(&msg(b'Q', b"SELECT 1\0"));
    o.read(&msg(b'E', b"SERROR\0VERROR\0C57014\0Mcanceling statement due to user request\0\0"));
    o.read(&msg(b'E', b"SERROR\0VERROR\0C57014\0Mcanceling statement due to statement timeout\0\0"));
    trickle(&mut o, &[msg(b'S', b"in_hot_standby\0off\0"), msg(b'Z', b"I")].concat(), false);
    assert_eq!(*events.lock().unwrap(), [WireEvent::StatementTimeout, WireEvent::Promoted]);
    assert_eq!(o.observer.seen().session(), Session::Idle { guard_on: None });
    // A session that starts `off` is on a server that was never a standby for it.
    let mut o = observed();
    let got = events.clone();
    o.observer.on_event(Arc::new(move |e| got.lock().unwrap().push(e)));
    o.wrote(&startup());
    o.read(&[msg(b'S', b"in_hot_standby\0off\0"), msg(b'Z', b"I")].concat());
    assert_eq!(events.lock().unwrap().len(), 2);
}

#[test]
fn impossible_lengths_stop_the_parsing() {
    let mut o = observed();
    o.wrote(&startup());
    o.read(&[b'Z', 0, 0, 0, 1]);
    o.observer.forget_anomaly();
    assert_eq!(o.observer.seen().session(), Session::Unknown("the framing of the wire was lost"));
}

#[test]
fn an_error_whose_ready_for_query_is_still_coming_is_answering() {
    let mut o = observed();
    o.wrote(&startup());
    o.read(&[msg(b'S', b"default_transaction_read_only\0on\0"), msg(b'Z', b"I")].concat());
    o.wrote(&msg(b'Q', b"INSERT INTO t VALUES (1)\0"));
    assert_eq!(o.observer.session(), Session::Unknown("a request is still in flight"));
    o.read(&msg(b'E', b"SERROR\0VERROR\0C25006\0Mread-only\0\0"));
    assert_eq!(o.observer.session(), Session::Answering);
    // A dropped statement's Close behind it changes nothing; another request does.
    o.wrote(&[msg(b'C', b"Ss0\0"), msg(b'S', b"")].concat());
    assert_eq!(o.observer.session(), Session::Answering);
    o.wrote(&msg(b'Q', b"SELECT 1\0"));
    assert_eq!(o.observer.session(), Session::Unknown("a request is still in flight"));
    o.read(&[msg(b'Z', b"I"), msg(b'3', b""), msg(b'Z', b"I")].concat());
    assert_eq!(o.observer.session(), Session::Unknown("a request is still in flight"));
    o.read(&msg(b'Z', b"I"));
    assert_eq!(o.observer.session(), Session::Idle { guard_on: Some(true) });
}

#[test]
fn every_report_of_the_guard_is_counted() {
    let mut o = observed();
    o.wrote(&startup());
    o.read(&[msg(b'S', b"default_transaction_read_only\0off\0"), msg(b'Z', b"I")].concat());
    assert_eq!(o.observer.guard_reports(), (1, Some(false)));
    // On, off and on again: three reports, split anywhere, the last one `on`.
    for value in [b"on\0".as_slice(), b"off\0", b"on\0"] {
        o.wrote(&msg(b'Q', b"SET default_transaction_read_only = x\0"));
        let body = [b"default_transaction_read_only\0".as_slice(), value].concat();
        trickle(&mut o, &[msg(b'S', &body), msg(b'Z', b"I")].concat(), false);
    }
    assert_eq!(o.observer.guard_reports(), (4, Some(true)));
    // Other parameters are not counted.
    o.wrote(&msg(b'Q', b"SET application_name = x\0"));
    o.read(&[msg(b'S', b"application_name\0x\0"), msg(b'Z', b"I")].concat());
    assert_eq!(o.observer.guard_reports(), (4, Some(true)));
}
