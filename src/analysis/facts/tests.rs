//! The sizes of the facts every function and sink of the tree holds: a million-line tree keeps
//! hundreds of thousands of them through the whole run, so a field that grows them must be a
//! decision, not an accident.

use std::mem::size_of;

use super::*;

#[test]
fn the_facts_every_sink_and_function_holds_stay_small() {
    assert_eq!(size_of::<Origin>(), size_of::<TextRange>());
    assert!(size_of::<Taint>() <= 64, "Taint is {} bytes", size_of::<Taint>());
    assert!(size_of::<SinkKind>() <= 64, "SinkKind is {} bytes", size_of::<SinkKind>());
    assert!(size_of::<HandleUse>() <= 80, "HandleUse is {} bytes", size_of::<HandleUse>());
    assert!(size_of::<Sink>() <= 168, "Sink is {} bytes", size_of::<Sink>());
    assert!(size_of::<TypeRef>() <= 32, "TypeRef is {} bytes", size_of::<TypeRef>());
    assert!(size_of::<Derived>() <= 48, "Derived is {} bytes", size_of::<Derived>());
    assert!(size_of::<FnFacts>() <= 328, "FnFacts is {} bytes", size_of::<FnFacts>());
}

#[test]
fn an_origin_is_where_or_nowhere() {
    let at = TextRange::default();
    assert_eq!(Origin::at(at).get(), Some(at));
    assert_eq!(Origin::from(None).get(), None);
    assert!(Origin::NONE.is_none() && Origin::at(at).is_some());
    assert_eq!(Origin::default(), Origin::NONE);
    let later = TextRange { start: crate::source::Pos { line: 2, column: 1, offset: 9 }, ..at };
    let joined = Taint::read_only(at).join(Taint::read_only(later)).join(Taint::read_write(at));
    assert_eq!((joined.ro.get(), joined.rw.get()), (Some(later), Some(at)));
    assert_eq!(Taint::read_only(at).rebound(later).ro.get(), Some(later));
    assert!(Taint::NONE.rebound(later).ro.is_none());
}
