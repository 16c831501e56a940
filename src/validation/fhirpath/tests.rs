//! Focused tests of the language: syntax and precedence, empty propagation, three-valued logic,
//! dates and quantities, the function library. FHIR-specific behaviour is in `tests_fhir`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};

use super::*;

pub(super) fn run<'a>(
    focus: &'a Value,
    src: &str,
    model: Option<&'a dyn TypeModel>,
) -> Result<Vec<Item<'a>>, EvalError> {
    let expr = Expression::parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
    let env = Env {
        resource: focus,
        root: focus,
        model,
        terminology: None,
        strict: false,
    };
    evaluate(&expr, focus, None, &env)
}

pub(super) fn b(focus: &Value, src: &str) -> Option<bool> {
    let expr = Expression::parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
    evaluate_bool(&expr, focus, None, &Env::new(focus)).unwrap_or_else(|e| panic!("{src}: {e}"))
}

/// A constant expression must evaluate to `true`.
pub(super) fn t(src: &str) {
    assert_eq!(b(&json!({}), src), Some(true), "{src}");
}

pub(super) fn empty(src: &str) {
    let v = json!({});
    let out = run(&v, src, None).unwrap_or_else(|e| panic!("{src}: {e}"));
    assert!(out.is_empty(), "{src} should be empty, got {out:?}");
}

pub(super) fn patient() -> Value {
    json!({
        "resourceType": "Patient",
        "id": "p1",
        "name": [
            {"family": "山田", "given": ["太郎", null], "_given": [null, {"extension": [
                {"url": "http://example.org/x", "valueString": "ext-only"}]}]},
            {"family": "Yamada", "given": ["Taro"]}
        ],
        "gender": "male",
        "_birthDate": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}]},
        "active": true,
        "deceasedBoolean": false,
        "multipleBirthInteger": 2
    })
}

pub(super) fn texts(items: &[Item<'_>]) -> Vec<String> {
    items
        .iter()
        .map(|i| i.to_text().unwrap().into_owned())
        .collect()
}

#[test]
fn precedence_and_arithmetic() {
    t("1 + 2 * 3 = 7");
    t("(1 + 2) * 3 = 9");
    t("10 - 2 - 3 = 5");
    t("7 div 2 = 3 and 7 mod 2 = 1 and -7 div 2 = -3");
    t("7 / 2 = 3.5");
    t("0.1 + 0.2 = 0.3");
    t("1.0 / 3 > 0.333 and 1.0 / 3 < 0.334");
    t("2 * 3 + 1 is Integer");
    t("true or false and false");
    t("(true or false) and true");
    t("false implies false and false");
    t("-2.abs() = -2");
    t("(-2).abs() = 2");
    t("'a' + 'b' = 'ab'");
    t("'a' & {} = 'a'");
    t("1 | 2 | 1 = 1 | 2");
    t("(1 | 2 | 1).count() = 2");
    t("1 < 2 = true");
    t("2 in (1 | 2) and (1 | 2) contains 2 and (3 in (1 | 2)).not()");
    t("('x' in ('x' | 'y')) = true");
    t("('x' in ('x' | 'y') = true) = false");
    t("5 'mg' + 2 'mg' = 7 'mg'");
    t("2 * 3 'mg' = 6 'mg'");
    empty("1 / 0");
    empty("1 div 0");
    empty("'a' + {}");
    empty("9223372036854775807 + 1");
}

#[test]
fn literals_and_lexing() {
    t("'it\\'s' = 'it' + '\\'' + 's'");
    t("'\\u0041' = 'A'");
    t("'tab\\there'.length() = 8");
    t("@2020-01-01 is Date and @2020-01-01T10:00 is DateTime and @T10:00:00 is Time");
    t("@2015T is DateTime");
    t("5 'mg' is Quantity and 4 days = 4 days");
    t("/* block */ 1 = 1 // trailing comment");
    t("{}.empty()");
    t("true and true");
    let v = json!({"text": {"div": "<div/>"}});
    assert_eq!(b(&v, "text.`div`.exists()"), Some(true));
    assert_eq!(
        b(
            &v,
            "%`vs-administrative-gender` = 'http://hl7.org/fhir/ValueSet/administrative-gender'"
        ),
        Some(true)
    );
    assert_eq!(
        b(
            &v,
            "%ucum = 'http://unitsofmeasure.org' and %sct.startsWith('http') and %loinc.exists()"
        ),
        Some(true)
    );
    assert_eq!(
        b(
            &v,
            "%`ext-foo` = 'http://hl7.org/fhir/StructureDefinition/foo'"
        ),
        Some(true)
    );
}

#[test]
fn parse_errors_carry_position() {
    for (src, pos) in [
        ("name.", 5),
        ("1 +", 3),
        ("'abc", 0),
        ("name.where(", 11),
        ("a ! b", 2),
        ("empty(1)", 0),
        ("(1 + 2", 6),
        ("a.b c", 4),
    ] {
        let e = Expression::parse(src).expect_err(src);
        assert_eq!(e.position, pos, "{src}: {e}");
    }
    let ok = Expression::parse("name.given").unwrap();
    assert_eq!(ok.source(), "name.given");
}

#[test]
fn empty_propagation() {
    empty("{} = 1");
    empty("1 = {}");
    empty("{} != 1");
    empty("{} < 1");
    empty("{} + 1");
    empty("{}.not()");
    empty("{} in (1 | 2)");
    t("{}.count() = 0");
    t("({} = {}).empty()");
    t("((1|2) = (1|2))");
    t("((1|2) = (2|1)).not()");
    t("((1|2) ~ (2|1))");
    t("((1|2) = 1).not()");
    t("({} ~ {})");
    t("(1 in {}).not()");
}

#[test]
fn three_valued_logic() {
    // (left, right) -> and, or, xor, implies; "E" is empty
    let lit = |s: &str| {
        if s == "E" {
            "{}".to_string()
        } else {
            s.to_string()
        }
    };
    let cases = [
        ("true", "true", "true", "true", "false", "true"),
        ("true", "false", "false", "true", "true", "false"),
        ("true", "E", "E", "true", "E", "E"),
        ("false", "true", "false", "true", "true", "true"),
        ("false", "false", "false", "false", "false", "true"),
        ("false", "E", "false", "E", "E", "true"),
        ("E", "true", "E", "true", "E", "true"),
        ("E", "false", "false", "E", "E", "E"),
        ("E", "E", "E", "E", "E", "E"),
    ];
    let v = json!({});
    for (l, r, and, or, xor, implies) in cases {
        for (op, want) in [("and", and), ("or", or), ("xor", xor), ("implies", implies)] {
            let src = format!("({}) {op} ({})", lit(l), lit(r));
            let got = b(&v, &src);
            let want = match want {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            };
            assert_eq!(got, want, "{src}");
        }
    }
    t("true.not() = false");
    t("false.not()");
    t("'x'.exists() and 'x'");
}

#[test]
fn singleton_and_type_errors() {
    let p = patient();
    assert_eq!(b(&p, "name.given = 'Taro'"), Some(false));
    let err = run(&p, "name.given + 'x'", None).unwrap_err();
    assert!(matches!(err, EvalError::Type(_)), "{err}");
    let err = run(&p, "'a' < 1", None).unwrap_err();
    assert!(matches!(err, EvalError::Type(_)));
    let expr = Expression::parse("name.family").unwrap();
    let err = evaluate_bool(&expr, &p, None, &Env::new(&p)).unwrap_err();
    assert!(!err.is_unsupported());
    let expr = Expression::parse("name.where(family = 'Nobody').family").unwrap();
    assert_eq!(evaluate_bool(&expr, &p, None, &Env::new(&p)).unwrap(), None);
    let err = run(&p, "name.fooBar()", None).unwrap_err();
    assert!(err.is_unsupported(), "{err}");
    assert_eq!(
        Expression::parse("a.fooBar() and b.exists()")
            .unwrap()
            .unsupported_functions(),
        vec!["fooBar"]
    );
    let err = run(&p, "%unknownVar", None).unwrap_err();
    assert!(err.is_unsupported());
    assert!(run(&p, "name.single()", None).is_err());
}

#[test]
fn dates_with_partial_precision() {
    t("@2020-01 < @2020-02-15");
    t("@2019 < @2020-02-15");
    t("(@2020-01 = @2020-01-15).empty()");
    t("(@2020-01-15 > @2020-01).empty()");
    t("(@2020-01-01 = @2020-01-01T00:00).empty()");
    t("@2020-01-01 = @2020-01-01");
    t("@2020-01-01T10:00:00+09:00 = @2020-01-01T01:00:00Z");
    t("@2020-01-01T10:00:00.000+09:00 = @2020-01-01T10:00:00+09:00");
    t("@2020-01-01T10:00:00.5Z > @2020-01-01T10:00:00Z");
    t("(@2020 ~ @2020-01).not()");
    t("@2020-01 ~ @2020-01");
    t("@T10:00 < @T10:30:00");
    t("@2020-01-31 + 1 month = @2020-02-29");
    t("@2020-01-01 - 1 day = @2019-12-31");
    t("@2020-01-01T00:00:00Z + 90 minutes = @2020-01-01T01:30:00Z");
    t("'2020-01-01'.toDate() = @2020-01-01 and '2020-01'.convertsToDate()");
    t("@2020-01-01T10:00:00+09:00.toString() = '2020-01-01T10:00:00+09:00'");
    t("@2020-01-01T10:00:00.toString() = '2020-01-01T10:00:00' and @T10:00.toString() = '10:00'");
    t(
        "@2020-01-01.toString() = '2020-01-01' and @2020-01-01T10:00:00.123Z.toString() = '2020-01-01T10:00:00.123Z'",
    );
    t("today() > @2020-01-01 and now() > @2020-01-01T00:00:00Z");
    t("today() <= now().toDate()");
    // Untyped (no model) strings still compare with date literals.
    let v = json!({"whenPrepared": "2020-01-02", "whenHandedOver": "2020-01-02T10:00:00+09:00"});
    assert_eq!(b(&v, "whenHandedOver > @2020-01-01"), Some(true));
    assert_eq!(b(&v, "(whenHandedOver > @2020-01-02).empty()"), Some(true));
}

#[test]
fn quantities() {
    t("5 'mg' = 5 'mg'");
    t("5 'mg' < 6 'mg'");
    t("5.0 'mg' ~ 5 'mg'");
    t("5 'mg' != 5 'g' and 5 'mg' < 5 'g'");
    t("(5 'mg' = 5 'mL').empty() and (5 'mg' < 5 'mL').empty()");
    t("1 second = 1 's'");
    t("'5 mg'.toQuantity().empty().not() and '5 \\'mg\\''.toQuantity() = 5 'mg'");
    t("(-5 'mg').abs() = 5 'mg'");
}

#[test]
fn string_functions() {
    t("'abcdef'.startsWith('abc') and 'abcdef'.endsWith('def') and 'abcdef'.contains('cd')");
    t("'山田太郎'.substring(2) = '太郎' and '山田太郎'.substring(0, 2) = '山田'");
    t("'山田太郎'.indexOf('太') = 2 and 'abc'.indexOf('x') = -1 and '山田太郎'.length() = 4");
    t(
        "'abc'.substring(3).empty() and 'abc'.substring(-1).empty() and 'abc'.substring(1, 10) = 'bc'",
    );
    t("'abc'.matches('b') and 'abc'.matches('^b').not() and 'abc'.matches('^abc$')");
    t("'a\nb'.matches('a.b')");
    t("'2020-01-01'.replaceMatches('(\\\\d+)-(\\\\d+)-(\\\\d+)', '$3/$2/$1') = '01/01/2020'");
    t("'Hello'.upper() = 'HELLO' and 'Hello'.lower() = 'hello' and '  x '.trim() = 'x'");
    t("'a,b,c'.split(',').count() = 3 and 'a,b,c'.split(',').join('|') = 'a|b|c'");
    t("'abc'.replace('b', 'x') = 'axc' and 'abc'.toChars().count() = 3");
    t("'123'.toInteger() = 123 and '1.5'.toDecimal() = 1.5 and 'x'.toInteger().empty()");
    t("'123'.convertsToInteger() and 'x'.convertsToInteger().not() and 'true'.toBoolean()");
    t("1.toString() = '1' and true.toString() = 'true' and 1.5.toString() = '1.5'");
    t("'[^\\\\s\\\\.,:;\\\\\\'\"\\\\/|?!@#$%&*()\\\\[\\\\]{}]{1,64}'.length() > 10");
    let v = json!({"path": "Patient.name.given"});
    assert_eq!(
        b(
            &v,
            "path.matches('[^\\\\s\\\\.,:;\\\\\\'\"\\\\/|?!@#$%&*()\\\\[\\\\]{}]{1,64}(\\\\.[^\\\\s\\\\.,:;\\\\\\'\"\\\\/|?!@#$%&*()\\\\[\\\\]{}]{1,64}(\\\\[x\\\\])?(\\\\:[^\\\\s\\\\.]+)?)*')"
        ),
        Some(true)
    );
    let err = run(&v, "path.matches('(')", None).unwrap_err();
    assert!(matches!(err, EvalError::Type(_)));
    let v = json!({"value": "12345678:記号　:番号:01"});
    assert_eq!(
        b(
            &v,
            "value.matches('^[0-9]{8}:[^:^\\\\s^　]*:[^:^\\\\s^　]*:(.{0}|[0-9][0-9])$')"
        ),
        Some(false)
    );
}

#[test]
fn math_and_conversion() {
    t("(-5).abs() = 5 and 1.5.ceiling() = 2 and (-1.5).floor() = -2 and 1.45.round(1) = 1.5");
    t("16.sqrt() = 4.0 and 2.power(10) = 1024 and 1.9.truncate() = 1 and 100.log(10) = 2.0");
    t("1.0.exp().ln() = 1.0");
    t("1 = 1.0 and 1 ~ 1.0 and 1.01 ~ 1.0 and (1.01 = 1.0).not()");
    t("true.toInteger() = 1 and 'yes'.toBoolean() and 5.toDecimal() = 5.0");
    t("'5 \\'mg\\''.convertsToQuantity() and 3.convertsToQuantity()");
}

#[test]
fn collection_functions() {
    t("(1 | 2 | 3).where($this > 1).count() = 2");
    t("(1 | 2 | 3).select($this * 2) = (2 | 4 | 6)");
    t("(1 | 2 | 3).where($index = 1) = 2");
    t("(1 | 2 | 3).all($this > 0) and (1 | 2 | 3).exists($this = 2) and {}.all(false)");
    t("(1 | 2).subsetOf(1 | 2 | 3) and (1 | 2 | 3).supersetOf(2)");
    t("(1 | 2 | 3).first() = 1 and (1 | 2 | 3).last() = 3 and (1 | 2 | 3).tail() = (2 | 3)");
    t("(1 | 2 | 3).skip(1).take(1) = 2 and (1 | 2 | 3).take(0).empty()");
    t("(1 | 2).union(2 | 3).count() = 3 and (1 | 2).combine(2 | 3).count() = 4");
    t("(1 | 2 | 3).intersect(2 | 3 | 4) = (2 | 3) and (1 | 2 | 3).exclude(2) = (1 | 3)");
    t("(1 | 2).combine(1).distinct().count() = 2 and (1 | 2).combine(1).isDistinct().not()");
    t(
        "(true | false).anyTrue() and (true | false).allTrue().not() and (false).allFalse() and {}.allTrue()",
    );
    t("iif(true, 'a', 'b') = 'a' and iif(false, 'a', 'b') = 'b' and iif(false, 'a').empty()");
    t("iif({}, 1, 2) = 2");
    t("(1 | 2 | 3).aggregate($this + $total, 0) = 6");
    t("(1 | 2 | 3).trace('x') = (1 | 2 | 3)");
    t("1.single() = 1 and 5.is(Integer) and 5.as(Integer) = 5 and 'a'.is(String)");
    t("(1 | 'a' | true).ofType(String) = 'a'");
    let q = json!({"item": [{"linkId": "1", "item": [{"linkId": "1.1"}, {"linkId": "1.2", "item": [{"linkId": "1.2.1"}]}]}]});
    assert_eq!(b(&q, "repeat(item).linkId.count() = 4"), Some(true));
    assert_eq!(b(&q, "descendants().linkId.isDistinct()"), Some(true));
    assert_eq!(
        b(
            &q,
            "item.repeat(item).select(linkId) = ('1.1' | '1.2' | '1.2.1')"
        ),
        Some(true)
    );
}
