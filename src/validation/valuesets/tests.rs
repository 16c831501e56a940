//! Expansion semantics over small inline packages, and the embedded base code sets alone.
//! Checks over the official packages are in `tests_packages.rs`.

use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};

use super::*;
use crate::fhir::IssueSeverity;
use crate::packages::{PackageSet, package_from_files};

fn engine(resources: &[Value]) -> ValueSetEngine {
    let mut files = vec![(
        "package.json".to_string(),
        br#"{"name":"test.valuesets","version":"0.0.1","fhirVersions":["4.0.1"]}"#.to_vec(),
    )];
    for (i, r) in resources.iter().enumerate() {
        files.push((format!("r{i}.json"), serde_json::to_vec(r).unwrap()));
    }
    let mut set = PackageSet::new();
    set.add(package_from_files(Path::new("inline"), files).unwrap());
    ValueSetEngine::packages_only(Arc::new(set))
}

fn check(e: &ValueSetEngine, vs: &str, system: Option<&str>, code: &str) -> Membership {
    e.check(
        vs,
        CodedValue {
            system,
            version: None,
            code,
            display: None,
        },
    )
    .membership
}

/// The display the code system gives, when a coding's display is not it (taken from the
/// display finding of the coding check).
fn display(e: &ValueSetEngine, system: &str, code: &str, d: &str) -> Option<String> {
    let findings = e.coding(CodedValue {
        system: Some(system),
        version: None,
        code,
        display: Some(d),
    });
    let f = findings.iter().find(|f| f.part == CodedPart::Display)?;
    assert_eq!(
        f.severity,
        IssueSeverity::Warning,
        "a display mismatch is a warning: {f:?}"
    );
    let text = f.text();
    let (_, rest) = text.split_once("gives (\"")?;
    rest.split_once("\")")
        .map(|(expected, _)| expected.to_string())
}

fn unknown_mentions(m: &Membership, text: &str) -> bool {
    matches!(m, Membership::Unknown(why) if why.contains(text))
}

const H: &str = "http://example.org/cs/hier";

/// A is the root; B and C its children (nested); D under C through a `parent` property; E under
/// B through `subsumedBy`. F stands alone.
fn hierarchy() -> Value {
    json!({
        "resourceType": "CodeSystem", "url": H, "content": "complete", "caseSensitive": true,
        "concept": [
            {"code": "A", "display": "Alpha", "designation": [{"language": "ja", "value": "アルファ"}],
             "concept": [
                {"code": "B", "display": "Bravo", "property": [{"code": "colour", "valueCode": "red"}]},
                {"code": "C", "display": "Charlie", "property": [{"code": "colour", "valueCode": "blue"}]}
            ]},
            {"code": "D", "display": "Delta", "property": [{"code": "parent", "valueCode": "C"}]},
            {"code": "E", "display": "Echo", "property": [{"code": "subsumedBy", "valueCode": "B"}]},
            {"code": "F", "display": "Foxtrot"}
        ]
    })
}

fn vs(url: &str, compose: Value) -> Value {
    json!({"resourceType": "ValueSet", "url": url, "status": "active", "compose": compose})
}

fn filter_vs(url: &str, property: &str, op: &str, value: &str) -> Value {
    vs(
        url,
        json!({"include": [{"system": H, "filter": [{"property": property, "op": op, "value": value}]}]}),
    )
}

fn members(e: &ValueSetEngine, url: &str) -> String {
    ["A", "B", "C", "D", "E", "F"]
        .into_iter()
        .filter(|c| check(e, url, Some(H), c) == Membership::Member)
        .collect()
}

#[test]
fn filters_follow_the_hierarchy_and_properties() {
    let e = engine(&[
        hierarchy(),
        filter_vs("http://x/isa", "concept", "is-a", "A"),
        filter_vs("http://x/desc", "concept", "descendent-of", "A"),
        filter_vs("http://x/isnota", "concept", "is-not-a", "C"),
        filter_vs("http://x/gen", "concept", "generalizes", "D"),
        filter_vs("http://x/eq", "colour", "=", "red"),
        filter_vs("http://x/parent", "parent", "=", "A"),
        filter_vs("http://x/regex", "code", "regex", "[A-C]"),
        filter_vs("http://x/in", "concept", "in", "B, F"),
        filter_vs("http://x/notin", "code", "not-in", "B,F"),
        filter_vs("http://x/exists", "colour", "exists", "true"),
        filter_vs("http://x/bad", "colour", "is-a", "red"),
    ]);
    assert_eq!(members(&e, "http://x/isa"), "ABCDE");
    assert_eq!(members(&e, "http://x/desc"), "BCDE");
    assert_eq!(members(&e, "http://x/isnota"), "ABEF");
    assert_eq!(members(&e, "http://x/gen"), "ACD");
    assert_eq!(members(&e, "http://x/eq"), "B");
    assert_eq!(members(&e, "http://x/parent"), "BC");
    assert_eq!(members(&e, "http://x/regex"), "ABC");
    assert_eq!(members(&e, "http://x/in"), "BF");
    assert_eq!(members(&e, "http://x/notin"), "ACDE");
    assert_eq!(members(&e, "http://x/exists"), "BC");
    assert!(unknown_mentions(
        &check(&e, "http://x/bad", Some(H), "B"),
        "not supported"
    ));
    // Another system's code is not a member of a fully known value set.
    assert_eq!(
        check(&e, "http://x/isa", Some("http://other"), "A"),
        Membership::NotMember
    );
}

#[test]
fn concept_lists_whole_systems_and_excludes() {
    let e = engine(&[
        hierarchy(),
        vs(
            "http://x/list",
            json!({"include": [{"system": H, "concept": [{"code": "B"}, {"code": "F"}]}]}),
        ),
        vs(
            "http://x/all-but",
            json!({"include": [{"system": H}], "exclude": [{"system": H, "concept": [{"code": "C"}]},
                {"system": H, "filter": [{"property": "concept", "op": "is-a", "value": "B"}]}]}),
        ),
    ]);
    assert_eq!(members(&e, "http://x/list"), "BF");
    assert_eq!(members(&e, "http://x/all-but"), "ADF");
    assert_eq!(
        check(&e, "http://x/list", Some(H), "b"),
        Membership::NotMember
    );
    // A plain `code` element: no system given.
    assert_eq!(check(&e, "http://x/list", None, "F"), Membership::Member);
    assert_eq!(check(&e, "http://x/list", None, "A"), Membership::NotMember);
}

#[test]
fn imports_union_across_includes_and_intersect_within_one() {
    let e = engine(&[
        hierarchy(),
        filter_vs("http://x/isa-b", "concept", "is-a", "B"),
        filter_vs("http://x/isa-c", "concept", "is-a", "C"),
        filter_vs("http://x/red-or-blue", "colour", "exists", "true"),
        vs(
            "http://x/union",
            json!({"include": [{"valueSet": ["http://x/isa-b"]}, {"valueSet": ["http://x/isa-c"]}]}),
        ),
        vs(
            "http://x/both",
            json!({"include": [{"valueSet": ["http://x/isa-b", "http://x/red-or-blue"]}]}),
        ),
        vs(
            "http://x/sys-and-vs",
            json!({"include": [{"system": H, "concept": [{"code": "C"}, {"code": "F"}],
                "valueSet": ["http://x/red-or-blue"]}]}),
        ),
        vs(
            "http://x/missing-import",
            json!({"include": [{"valueSet": ["http://x/nowhere"]}, {"system": H, "concept": [{"code": "F"}]}]}),
        ),
        vs(
            "http://x/cycle",
            json!({"include": [{"valueSet": ["http://x/cycle"]}]}),
        ),
    ]);
    assert_eq!(members(&e, "http://x/union"), "BCDE");
    assert_eq!(members(&e, "http://x/both"), "B");
    assert_eq!(members(&e, "http://x/sys-and-vs"), "C");
    assert_eq!(
        check(&e, "http://x/missing-import", Some(H), "F"),
        Membership::Member
    );
    assert!(unknown_mentions(
        &check(&e, "http://x/missing-import", Some(H), "A"),
        "http://x/nowhere"
    ));
    assert!(unknown_mentions(
        &check(&e, "http://x/cycle", Some(H), "A"),
        "imports itself"
    ));
}

#[test]
fn unloaded_and_partial_code_systems_are_unknown_with_the_system_named() {
    let fragment = json!({"resourceType": "CodeSystem", "url": "http://x/cs/fragment",
        "content": "fragment", "concept": [{"code": "one"}]});
    let e = engine(&[
        fragment,
        vs(
            "http://x/ext",
            json!({"include": [{"system": "http://x/cs/absent"}, {"system": H, "concept": [{"code": "A"}]}]}),
        ),
        vs(
            "http://x/frag",
            json!({"include": [{"system": "http://x/cs/fragment"}]}),
        ),
    ]);
    let m = check(&e, "http://x/ext", Some("http://x/cs/absent"), "42");
    assert!(
        unknown_mentions(&m, "code system http://x/cs/absent not loaded"),
        "{m:?}"
    );
    assert_eq!(check(&e, "http://x/ext", Some(H), "A"), Membership::Member);
    assert!(unknown_mentions(
        &check(&e, "http://x/frag", Some("http://x/cs/fragment"), "one"),
        "fragment"
    ));
    assert!(unknown_mentions(
        &check(&e, "http://x/ext", None, "zz"),
        "http://x/cs/absent"
    ));
    let m = check(&e, "http://x/not-here|1.0", Some(H), "A");
    assert_eq!(
        m,
        Membership::Unknown("value set http://x/not-here|1.0 is not loaded".into())
    );
}

#[test]
fn case_insensitive_systems_and_shipped_expansions() {
    let ci = json!({"resourceType": "CodeSystem", "url": "http://x/cs/ci", "content": "complete",
        "caseSensitive": false, "concept": [{"code": "Abc", "display": "ABC"}]});
    let expanded = json!({"resourceType": "ValueSet", "url": "http://x/expanded",
        "compose": {"include": [{"system": "http://x/cs/absent"}]},
        "expansion": {"contains": [{"abstract": true, "display": "group", "contains": [
            {"system": "http://x/cs/absent", "code": "k1"}]}]}});
    let e = engine(&[
        ci,
        expanded,
        vs(
            "http://x/ci",
            json!({"include": [{"system": "http://x/cs/ci"}]}),
        ),
    ]);
    assert_eq!(
        check(&e, "http://x/ci", Some("http://x/cs/ci"), "aBC"),
        Membership::Member
    );
    let m = check(&e, "http://x/expanded", Some("http://x/cs/absent"), "k1");
    assert_eq!(m, Membership::Member);
    assert_eq!(
        check(&e, "http://x/expanded", Some("http://x/cs/absent"), "k2"),
        Membership::NotMember
    );
}

#[test]
fn display_mismatch_names_the_expected_display() {
    let e = engine(&[
        hierarchy(),
        filter_vs("http://x/isa", "concept", "is-a", "A"),
    ]);
    assert_eq!(display(&e, H, "A", " Alpha "), None);
    assert_eq!(display(&e, H, "A", "アルファ"), None);
    assert_eq!(display(&e, H, "A", "Alfa"), Some("Alpha".into()));
    // Judged against the code system, whatever value set the coding is bound to.
    assert_eq!(display(&e, H, "F", "Alfa"), Some("Foxtrot".into()));
    // Not in the code system: an unknown-code error, and no display verdict.
    let findings = e.coding(CodedValue {
        system: Some(H),
        version: None,
        code: "Z",
        display: Some("Zulu"),
    });
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert!(findings[0].is_error() && findings[0].part == CodedPart::Code);
    assert!(findings[0].text().contains("code Z is not in code system"));
}

#[test]
fn oid_aliases_map_to_the_canonical_system() {
    let e = engine(&[vs(
        "http://x/jlac",
        json!({"include": [{"system": "urn:oid:1.2.392.200119.4.504",
            "concept": [{"code": "3A015000002329101"}]}]}),
    )]);
    for system in [
        "urn:oid:1.2.392.200119.4.504",
        "http://medis.or.jp/CodeSystem/master-JLAC10-17digits",
    ] {
        assert_eq!(
            check(&e, "http://x/jlac", Some(system), "3A015000002329101"),
            Membership::Member,
            "{system}"
        );
    }
    assert_eq!(
        canonical_system("urn:oid:1.2.392.100495.20.1.81"),
        "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/MedicationGeneralOrderCode"
    );
}

#[test]
fn the_embedded_base_sets_alone_check_required_bindings() {
    let file = embedded_file().unwrap();
    assert_eq!(file.package, "hl7.fhir.r4.core#4.0.1");
    assert!(file.value_sets.len() > 200, "{}", file.value_sets.len());
    let e = ValueSetEngine::base_only();
    let gender = "http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1";
    let sys = "http://hl7.org/fhir/administrative-gender";
    assert_eq!(check(&e, gender, Some(sys), "female"), Membership::Member);
    assert_eq!(check(&e, gender, None, "unknown"), Membership::Member);
    assert_eq!(check(&e, gender, None, "f"), Membership::NotMember);
    assert_eq!(
        check(&e, gender, Some("http://x"), "male"),
        Membership::NotMember
    );
    assert_eq!(display(&e, sys, "male", "Man"), Some("Male".into()));
    let status = "http://hl7.org/fhir/ValueSet/observation-status";
    assert_eq!(check(&e, status, None, "final"), Membership::Member);
    let clinical = "http://hl7.org/fhir/ValueSet/condition-clinical|4.0.1";
    let cs = "http://terminology.hl7.org/CodeSystem/condition-clinical";
    assert_eq!(
        check(&e, clinical, Some(cs), "remission"),
        Membership::Member
    );
    assert_eq!(check(&e, clinical, Some(cs), "gone"), Membership::NotMember);
    assert_eq!(
        check(
            &e,
            "http://hl7.org/fhir/ValueSet/bundle-type",
            None,
            "transaction"
        ),
        Membership::Member
    );
    assert!(unknown_mentions(
        &check(
            &e,
            "http://hl7.org/fhir/ValueSet/ucum-units|4.0.1",
            None,
            "mg"
        ),
        "http://unitsofmeasure.org"
    ));
    // Another version of the value set is not what the embedded file holds.
    assert!(unknown_mentions(
        &check(
            &e,
            "http://hl7.org/fhir/ValueSet/administrative-gender|5.0.0",
            None,
            "male"
        ),
        "not loaded"
    ));
    assert!(unknown_mentions(
        &check(&e, "http://jpfhir.jp/fhir/x/ValueSet/nope", None, "male"),
        "not loaded"
    ));
}

fn display_severity(e: &ValueSetEngine, system: &str, code: &str, d: &str) -> IssueSeverity {
    let findings = e.coding(CodedValue {
        system: Some(system),
        version: None,
        code,
        display: Some(d),
    });
    let f = findings.iter().find(|f| f.part == CodedPart::Display);
    f.map(|f| f.severity)
        .unwrap_or_else(|| panic!("no display finding: {findings:?}"))
}

#[test]
fn a_japanese_display_is_information_only_where_the_system_has_no_japanese() {
    let english = "http://example.org/cs/english";
    let japanese = "http://example.org/cs/labo";
    let e = engine(&[
        json!({"resourceType": "CodeSystem", "url": english, "content": "complete",
            "concept": [{"code": "AMB", "display": "ambulatory"}]}),
        // As the JP-CLINS JLAC10 list: Latin abbreviations, Japanese designations and names.
        json!({"resourceType": "CodeSystem", "url": japanese, "content": "complete",
        "concept": [
            {"code": "1A", "display": "U-TP",
             "designation": [{"language": "ja", "value": "尿蛋白"}]},
            {"code": "2B", "display": "ALB"},
            {"code": "3C", "display": "総蛋白"}
        ]}),
    ]);
    let info = display_severity(&e, english, "AMB", "外来");
    assert_eq!(info, IssueSeverity::Information);
    let message = e.coding(CodedValue {
        system: Some(english),
        version: None,
        code: "AMB",
        display: Some("外来"),
    })[0]
        .text();
    assert!(message.contains("another language"), "{message}");
    // The same language: a mismatch stays a warning.
    let same = display_severity(&e, english, "AMB", "outpatient");
    assert_eq!(same, IssueSeverity::Warning);
    // A system with a Japanese name for the code, or Japanese names elsewhere.
    let named = display_severity(&e, japanese, "1A", "U-TP-定性半定量");
    assert_eq!(named, IssueSeverity::Warning);
    let elsewhere = display_severity(&e, japanese, "2B", "アルブミン");
    assert_eq!(elsewhere, IssueSeverity::Warning);
    // The base code sets (HL7's, English only).
    let base = ValueSetEngine::base_only();
    let gender = "http://hl7.org/fhir/administrative-gender";
    assert_eq!(
        display_severity(&base, gender, "male", "男性"),
        IssueSeverity::Information
    );
}
