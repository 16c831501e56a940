//! FHIRPath exactness: reflection (`type()`), quantities compared through UCUM, date/time
//! comparisons that FHIRPath leaves empty, semantic errors that must not pass as empty, and the
//! functions R4 invariants and search parameters call.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};

use super::test_model::{self, CORE, CoreModel};
use super::tests::{b, empty, patient, run, t, texts};
use super::*;

/// `src` on `focus`, a `ty` typed by the R4 core model.
fn typed(focus: &Value, ty: &str, src: &str) -> Option<bool> {
    let model = CoreModel::shared().expect("core package");
    let env = Env {
        resource: focus,
        root: focus,
        model: Some(model),
        terminology: None,
        strict: false,
    };
    let expr = Expression::parse(src).unwrap();
    evaluate_bool(&expr, focus, Some(ty), &env).unwrap()
}

fn type_error(focus: &Value, src: &str) -> String {
    match run(focus, src, None) {
        Err(EvalError::Type(why)) => why,
        other => panic!("{src} should be an evaluation error, got {other:?}"),
    }
}

#[test]
fn type_reflects_system_and_fhir_types() {
    t("1.type().namespace = 'System' and 1.type().name = 'Integer'");
    t("'1'.type().name = 'String' and true.type().name = 'Boolean'");
    t("1.5.type().name = 'Decimal' and @2020.type().name = 'Date'");
    t("@2020-01-01T10:00.type().name = 'DateTime' and @T10:00.type().name = 'Time'");
    t("(5 'mg').type().name = 'Quantity'");
    t("(1 | 'a').type().name = ('Integer' | 'String')");
    t("{}.type().empty()");
    let p = patient();
    assert_eq!(b(&p, "Patient.type().namespace = 'FHIR'"), Some(true));
    assert_eq!(b(&p, "Patient.type().name = 'Patient'"), Some(true));
    // Without a model the JSON still shows booleans and numbers.
    assert_eq!(b(&p, "active.type().name = 'boolean'"), Some(true));
    assert_eq!(b(&p, "multipleBirth.type().name = 'integer'"), Some(true));
    // A JSON string may be a code, a uri, an id…: without a model nobody can say which.
    assert!(run(&p, "gender.type()", None).unwrap_err().is_unsupported());
    let model = CoreModel::shared().expect("core package");
    let names = |src: &str| texts(&run(&p, src, Some(model)).unwrap());
    assert_eq!(names("gender.type().name"), ["code"]);
    assert_eq!(names("name.first().type().name"), ["HumanName"]);
    assert_eq!(names("name.given.first().type().name"), ["string"]);
    assert_eq!(names("Patient.ofType(Patient).type().name"), ["Patient"]);
}

#[test]
fn quantities_compare_through_ucum() {
    t("4 'g' = 4000 'mg'");
    t("4.0000 'g' = 4000.0 'mg'");
    t("4 'g' != 4040 'mg'");
    t("4 'g' ~ 4040 'mg'");
    t("(4 'g' ~ 4600 'mg').not()");
    t("1 'h' = 60 'min'");
    t("1 'kg' > 999 'g' and 1 'kg' < 1001 'g'");
    t("1 'L' = 10 'dL' and 1 'dL' = 100 'mL'");
    t("1 'mmol/L' = 1000 'umol/L'");
    t("1 '[lb_av]' = 453.59237 'g'");
    t("2.54 'cm' = 1 '[in_i]'");
    t("60 '/min' = 1 '/s'");
    t("1 'a' = 12 'mo'");
    // Calendar durations of fixed length are their UCUM units.
    t("7 days = 1 week and 7 days = 1 'wk' and 6 days < 1 week and 8 days > 1 week");
    t("1 hour = 60 'min' and 1000 milliseconds = 1 second");
    // Calendar years and months are not UCUM's average `a` and `mo`.
    empty("1 year = 1 'a'");
    empty("1 month = 1 'mo'");
    empty("1 year > 1 'mo'");
    // Units of different kinds, and units UCUM conversion here does not cover.
    empty("1 'g' = 1 'm'");
    empty("1 'g' < 1 'm'");
    empty("37 'Cel' = 310.15 'K'");
    empty("1 '[IU]' = 1 'U'");
    t("(1 'g' ~ 1 'm').not()");
    t("5 '[IU]' = 5 '[IU]'");
}

/// rng-2 of the R4 core package: a Range whose low is above its high fails, whatever the units.
#[test]
fn range_low_above_high_in_other_units_fails_rng_2() {
    let sds = test_model::package(CORE).expect("core package");
    let range = sds
        .iter()
        .find(|sd| sd["url"] == "http://hl7.org/fhir/StructureDefinition/Range")
        .unwrap();
    let src = range["snapshot"]["element"][0]["constraint"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == "rng-2")
        .unwrap()["expression"]
        .as_str()
        .unwrap();
    let check = |low: Value, high: Value| typed(&json!({"low": low, "high": high}), "Range", src);
    let q = |v: f64, code: &str| json!({"value": v, "system": "http://unitsofmeasure.org", "code": code});
    assert_eq!(check(q(5.0, "g"), q(1000.0, "mg")), Some(false));
    assert_eq!(check(q(0.5, "g"), q(1000.0, "mg")), Some(true));
    assert_eq!(check(q(1.0, "g"), q(1000.0, "mg")), Some(true));
    assert_eq!(check(q(2.0, "h"), q(90.0, "min")), Some(false));
    // Units of different kinds cannot be ordered: no verdict rather than a false one.
    assert_eq!(check(q(5.0, "g"), q(1.0, "mL")), None);
}

#[test]
fn date_times_with_and_without_zone_compare_empty() {
    empty("@2012-04-15T15:00:00Z = @2012-04-15T10:00:00");
    empty("@2012-04-15T15:00:00Z != @2012-04-15T10:00:00");
    empty("@2012-04-15T15:00:00+09:00 < @2012-04-15T16:00:00");
    empty("@2012-04-15T15:00:00 >= @2012-04-15T10:00:00Z");
    t("@2012-04-15T15:00:00+02:00 = @2012-04-15T16:00:00+03:00");
    t("@2017-11-05T01:30:00.0-04:00 < @2017-11-05T01:15:00.0-05:00");
    // Different precision stays empty; a date's day decides before any zone matters.
    empty("@2012-04-15 = @2012-04-15T10:00:00Z");
    empty("@2018-03-01T10:30 < @2018-03-01T10:30:00");
    t("@2012-04-14 < @2012-04-15T10:00:00Z");
    t("@2018-03-01T10:30:00 <= @2018-03-01T10:30:00.0");
    // Equivalence is never empty: different zones presence is simply not equivalent.
    t("(@2012-04-15T15:00:00Z ~ @2012-04-15T15:00:00).not()");
    // Instance data: a Period whose end has no zone does not fail per-1 on a guess.
    let p = json!({"start": "2020-01-01T10:00:00+09:00", "end": "2020-01-01T09:00:00"});
    let per_1 = "start.hasValue().not() or end.hasValue().not() or (start <= end)";
    assert_eq!(typed(&p, "Period", per_1), None);
}

#[test]
fn semantic_errors_are_errors_not_empty() {
    let v = json!({});
    let why = type_error(&v, "iif('non boolean criteria', 'a', 'b')");
    assert!(
        why.contains("criterion must be a Boolean, not String"),
        "{why}"
    );
    type_error(&v, "iif(1, 'a', 'b')");
    type_error(&v, "iif(1 | 2 | 3, true, false)");
    let why = type_error(&v, "('item1' | 'item2').iif(true, 'a', 'b')");
    assert!(why.contains("one item at most"), "{why}");
    t("iif({}, true, false) = false and iif({} | true, true, false)");
    t("iif(true, true, 1/0) and iif(false, 1/0, true)");
    t("{}.iif(true, 'x', 'y') = 'x' and ('c').iif($this = 'c', 'x', 'y') = 'x'");
    // Date arithmetic takes calendar durations, not UCUM's average year and month.
    type_error(&v, "@1973-12-25 + 1 'mo'");
    type_error(&v, "@1973-12-25 + 1 'a'");
    type_error(&v, "@1974-12-25 - 1 'cm'");
    type_error(&v, "@1974-12-25 + 7");
    t("@1974-12-25 - 1 'month' = @1974-11-25 and @1973-12-25 + 1 'wk' = @1974-01-01");
    type_error(&v, "-1.convertsToInteger()");
    type_error(&v, "(1 | 2).not()");
    type_error(&v, "'a' - 'b'");
    type_error(&v, "(1 | 2 | 3) & 'b'");
    type_error(&v, "(true | 'foo').allTrue()");
    let p = patient();
    type_error(&p, "name.startsWith('x')");
    type_error(&p, "name.single()");
}

#[test]
fn has_extension_tests_for_an_extension_by_url() {
    let p = patient();
    let url = "http://hl7.org/fhir/StructureDefinition/data-absent-reason";
    assert_eq!(
        b(&p, &format!("birthDate.hasExtension('{url}')")),
        Some(true)
    );
    assert_eq!(
        b(&p, "birthDate.hasExtension('http://example.org/none')"),
        Some(false)
    );
    assert_eq!(b(&p, &format!("gender.hasExtension('{url}')")), Some(false));
}

/// Every FHIRPath expression of the R4 core SearchParameters parses and calls only functions
/// the engine implements (`hasExtension` included, which one of them uses).
#[test]
fn every_core_search_parameter_expression_is_supported() {
    let params = test_model::package_files(CORE, "SearchParameter").expect("core package");
    let mut count = 0;
    let mut problems = Vec::new();
    for sp in params {
        let Some(src) = sp["expression"].as_str() else {
            continue;
        };
        count += 1;
        match Expression::parse(src) {
            Ok(e) if e.unsupported_functions().is_empty() => {}
            Ok(e) => problems.push(format!("{}: {:?}", sp["id"], e.unsupported_functions())),
            Err(e) => problems.push(format!("{}: {e}", sp["id"])),
        }
    }
    assert!(count > 1000, "{count} expressions");
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn string_forms_and_full_matches() {
    t("'http://x.org/Library/A|4.0.1'.matchesFull('.*Library.*')");
    t("'http://x.org/Library/A|4.0.1'.matchesFull('Library').not()");
    t("'abc'.matchesFull('a' + 'b.') and 'abcd'.matchesFull('a' + 'b.').not()");
    t("'test'.encode('base64') = 'dGVzdA==' and 'test'.encode('hex') = '74657374'");
    t("'subjects?_d'.encode('urlbase64') = 'c3ViamVjdHM_X2Q='");
    t("'dGVzdA=='.decode('base64') = 'test' and '74657374'.decode('hex') = 'test'");
    t("'c3ViamVjdHM_X2Q='.decode('urlbase64') = 'subjects?_d'");
    t("'漢字'.encode('base64').decode('base64') = '漢字'");
    t("'zz'.decode('hex').empty() and '!!'.decode('base64').empty()");
    t(r#"'"1<2"'.escape('html') = '&quot;1&lt;2&quot;'"#);
    t(r#"'&quot;1&lt;2&quot;'.unescape('html') = '"1<2"'"#);
    t(r#"'"1<2"'.escape('json') = '\\"1<2\\"' and '\\"1<2\\"'.unescape('json') = '"1<2"'"#);
    let why = type_error(&json!({}), "'x'.encode('rot13')");
    assert!(
        why.contains("encode() does not know the form 'rot13'"),
        "{why}"
    );
}

#[test]
fn sort_orders_by_keys() {
    t("(3 | 1 | 2).sort() = (1 | 2 | 3)");
    t("(1 | 2 | 3).sort(-$this) = (3 | 2 | 1)");
    t("('a' | 'c' | 'b').sort($this) = ('a' | 'b' | 'c')");
    t("('a' | 'c' | 'b').sort(-$this) = ('c' | 'b' | 'a')");
    t("(@2020-02 | @2019 | @2020-01-15).sort().first() = @2019");
    let p = patient();
    assert_eq!(
        b(&p, "name.sort(family).first().family = 'Yamada'"),
        Some(true)
    );
    assert_eq!(
        b(&p, "name.sort(-family).first().family = '山田'"),
        Some(true)
    );
    type_error(&json!({}), "(1 | 'a').sort()");
}

#[test]
fn precision_and_boundaries() {
    t("1.58700.precision() = 5 and @2014.precision() = 4 and @T10:30.precision() = 4");
    t("@2014-01-05T10:30:00.000.precision() = 17 and @T10:30:00.000.precision() = 9");
    t("1.587.lowBoundary().toString() = '1.58650000'");
    t("1.587.highBoundary().toString() = '1.58750000'");
    t("1.587.lowBoundary(2) = 1.58 and 1.587.highBoundary(2) = 1.59");
    t("(-1.587).lowBoundary(2) = -1.59 and (-1.587).highBoundary(2) = -1.58");
    t("1.587.lowBoundary(0) = 1 and 1.lowBoundary(0) = 0 and 1.highBoundary(0) = 2");
    t("120.lowBoundary(2).toString() = '119.50' and 12.500.highBoundary(4) = 12.5005");
    t("1.587.lowBoundary(-1).empty() and 1.587.highBoundary(39).empty()");
    t("(1.587 'cm').lowBoundary(8) = 1.5865 'cm'");
    t("@2014.lowBoundary(6) = @2014-01 and @2014.highBoundary(6) = @2014-12");
    t("@2014-02.highBoundary(8) = @2014-02-28 and @2016-02.highBoundary() = @2016-02-29");
    t("@2014-01-01T08.lowBoundary(8).toString() = '2014-01-01'");
    t("@2014-01-01T08:05+08:00.lowBoundary(17).toString() = '2014-01-01T08:05:00.000+08:00'");
    t("@2014-01-01T08:05.lowBoundary(17).toString() = '2014-01-01T08:05:00.000+14:00'");
    t("@2014-01-01T08:05.highBoundary().toString() = '2014-01-01T08:05:59.999-12:00'");
    t("@T10:30.highBoundary(9).toString() = '10:30:59.999'");
    t("@2014.lowBoundary(5).empty() and @T10.lowBoundary(8).empty()");
    t("1 'cm'.comparable(1 '[in_i]') and 1 'cm'.comparable(1 's').not()");
    // The R5 way of writing per-1: a day and a time on that day overlap.
    let p = json!({"start": "2020-01-01", "end": "2020-01-01T10:00:00+09:00"});
    let overlap = "start.lowBoundary() <= end.highBoundary()";
    assert_eq!(typed(&p, "Period", overlap), Some(true));
}

#[test]
fn quantities_multiply_and_divide_with_their_units() {
    t("(2 'm' * 3 'm') = 6 'm2' and (2 'm' * 3 'm').toString() = '6 \\'m2\\''");
    t("(4 'g' / 2 'g') = 2 '1' and (4 'g' / 2 'g').toString() = '2 \\'1\\''");
    t("12 'cm2' / 3 'cm' = 4 'cm'");
    // Units of one kind are converted first; the product equals the spec's 0.040 'm2'.
    t("2.0 'cm' * 2.0 'm' = 0.040 'm2'");
    t("(70 'kg' / 2 'm2') = 35 'kg/m2' and 1 / 2 's' = 0.5 '/s'");
    t("(6 'mg' / 3 'mL') = 2 'g/L' and (2 'm/s' * 3 's') = 6 'm'");
    t("(1 'g' + 500 'mg') = 1.5 'g' and (1 'g' - 1 'm').empty()");
    empty("1 'g' / 0 'g'");
    empty("1 'year' * 1 'm'");
    type_error(&json!({}), "2 'm' * 'a'");
}

#[test]
fn decimal_boundaries_follow_the_spec_examples() {
    t("1.587.lowBoundary(6).toString() = '1.586500'");
    t("1.587.highBoundary(6).toString() = '1.587500'");
    t("(-1.587).lowBoundary().toString() = '-1.58750000'");
    t("(-1.587).highBoundary().toString() = '-1.58650000'");
    t("(-1.587).lowBoundary(0) = -2 and (-1.587).highBoundary(0) = -1");
    t("(-1.587).lowBoundary(6).toString() = '-1.587500'");
    // Unary minus binds after the invocation: -(1.587.lowBoundary()).
    t("(-1.587.lowBoundary()).toString() = '-1.58650000'");
    // More digits than eight keep the exact boundary.
    t("1.123456789.lowBoundary().toString() = '1.1234567885'");
    t("1.123456789.highBoundary().toString() = '1.1234567895'");
    t("1.123456789.lowBoundary(8).toString() = '1.12345678'");
    t("0.0034.lowBoundary(1).toString() = '0.0' and 1.lowBoundary().toString() = '0.50000000'");
    t("{}.lowBoundary().empty() and 1.587.lowBoundary({}).empty()");
    type_error(&json!({}), "(1.5 | 2.5).lowBoundary()");
    type_error(&json!({}), "1.5.lowBoundary('a')");
    type_error(&json!({}), "'a'.highBoundary()");
}

/// How many items `src` gives on `focus` with the engine in strict mode.
fn strict(focus: &Value, src: &str) -> Result<usize, EvalError> {
    let env = Env {
        strict: true,
        ..Env::new(focus)
    };
    evaluate(&Expression::parse(src).unwrap(), focus, None, &env).map(|v| v.len())
}

#[test]
fn as_takes_one_item_in_strict_mode_and_filters_otherwise() {
    let obs = json!({"resourceType": "Observation",
        "valueQuantity": {"value": 3, "unit": "mg", "code": "mg"},
        "component": [{"valueQuantity": {"value": 1}}, {"valueString": "x"}]});
    // Singletons: the item when it has the type, empty otherwise, in both modes.
    assert_eq!(b(&obs, "value.as(Quantity).value = 3"), Some(true));
    assert_eq!(b(&obs, "(value as Quantity).unit = 'mg'"), Some(true));
    assert_eq!(b(&obs, "value.as(Period).empty()"), Some(true));
    assert_eq!(b(&obs, "(value as string).empty()"), Some(true));
    assert_eq!(strict(&obs, "value.as(Quantity).value").unwrap(), 1);
    assert_eq!(strict(&obs, "value.as(Period)").unwrap(), 0);
    // Several items: filtered by default (R4's dom-3 relies on it), an error when strict.
    assert_eq!(
        b(&obs, "component.value.as(Quantity).count() = 1"),
        Some(true)
    );
    assert_eq!(
        b(&obs, "(component.value as string).count() = 1"),
        Some(true)
    );
    for src in [
        "component.value.as(Quantity)",
        "component.value as Quantity",
    ] {
        match strict(&obs, src) {
            Err(EvalError::Type(why)) => assert!(why.contains("single item"), "{why}"),
            other => panic!("{src}: {other:?}"),
        }
    }
    assert!(strict(&obs, "component.value.ofType(Quantity)").is_ok());
}

#[test]
fn is_separates_fhir_primitives_from_system_values() {
    let p = patient();
    let model = CoreModel::shared().expect("core package");
    let typed_b = |src: &str| {
        let env = Env {
            model: Some(model),
            ..Env::new(&p)
        };
        evaluate_bool(&Expression::parse(src).unwrap(), &p, None, &env).unwrap()
    };
    for src in [
        // A FHIR boolean is a FHIR.boolean, and not a System.Boolean…
        "active.is(boolean) and active.is(FHIR.boolean) and active is FHIR.boolean",
        "active.is(System.Boolean).not() and (active is System.Boolean).not()",
        // …though unqualified `Boolean`, as R4's que-7 writes it, accepts it.
        "active.is(Boolean) and active is Boolean",
        // A System value is the System type only.
        "true.is(Boolean) and true.is(System.Boolean) and true is System.Boolean",
        "true.is(FHIR.boolean).not() and true.is(boolean).not() and (true is FHIR.boolean).not()",
        "active.as(System.Boolean).empty() and active.as(FHIR.boolean).exists()",
        "(active and true) and active = true",
        "birthDate.is(date) and birthDate.is(System.Date).not() and @2000.is(Date)",
        "gender.is(code) and gender.is(string) and gender.is(System.String).not()",
    ] {
        assert_eq!(typed_b(src), Some(true), "{src}");
    }
}
