//! The parsing of `KYOYU_TEST_REQUIRE` (kept out of `test_require`, which the integration tests
//! also compile, so these run once).

use crate::test_require::{Required, parse};

#[test]
fn nothing_set_requires_nothing() {
    assert_eq!(parse(None, None), Ok(Required::default()));
    assert_eq!(parse(Some(""), None), Ok(Required::default()));
}

#[test]
fn a_comma_list_names_each_prerequisite() {
    let both = Required {
        postgres: true,
        data: true,
    };
    assert_eq!(parse(Some("postgres,data"), None), Ok(both));
    assert_eq!(parse(Some(" data , postgres ,"), None), Ok(both));
    let data = parse(Some("data"), None);
    assert_eq!(data.map(|r| (r.postgres, r.data)), Ok((false, true)));
}

#[test]
fn the_old_postgres_switch_is_an_alias() {
    let r = parse(None, Some("1"));
    assert_eq!(r.map(|r| (r.postgres, r.data)), Ok((true, false)));
    let r = parse(Some("data"), Some("1"));
    assert_eq!(r.map(|r| (r.postgres, r.data)), Ok((true, true)));
    assert_eq!(parse(None, Some("0")), Ok(Required::default()));
}

#[test]
fn an_unknown_item_is_refused() {
    match parse(Some("postgress,data"), None) {
        Err(e) => assert!(e.contains("\"postgress\""), "{e}"),
        Ok(r) => panic!("accepted as {r:?}"),
    }
}
