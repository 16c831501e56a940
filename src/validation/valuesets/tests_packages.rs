//! Membership over the official packages (core, JP Core, JP-CLINS, eCheckup); every test is
//! skipped when the packages are absent. Also the regeneration check of `codesets/`.

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use super::*;

const PACKAGES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/packages");
const FILES: &[&str] = &[
    "hl7.fhir.r4.core-4.0.1.tgz",
    "jp-core.r4-1.1.2-url.tgz",
    "jp-clins.r4-1.5.2-snap.tgz",
    "jp-eCheckupReport.r4-1.1.3.tgz",
];

fn packages() -> Option<Arc<PackageSet>> {
    // Before the cache: each test that skips prints its own line, not only the first.
    crate::test_data::path_or_skip("")?;
    static SET: OnceLock<Option<Arc<PackageSet>>> = OnceLock::new();
    SET.get_or_init(|| {
        let paths: Vec<_> = FILES.iter().map(|f| Path::new(PACKAGES).join(f)).collect();
        if let Some(p) = paths.iter().find(|p| !p.is_file()) {
            crate::test_data::missing(p.display());
        }
        Some(Arc::new(PackageSet::load(&paths).unwrap()))
    })
    .clone()
}

fn engine() -> Option<&'static ValueSetEngine> {
    crate::test_data::path_or_skip("")?;
    static ENGINE: OnceLock<Option<ValueSetEngine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| packages().map(ValueSetEngine::new))
        .as_ref()
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

const CORE_LABO: &str =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_CoreLabo_CS";
const ALB_VS: &str =
    "http://jpfhir.jp/fhir/clins/ValueSet/JLAC10/JP_CLINS_ObsLabResult_CoreLabo_alb_VS";

#[test]
fn jp_clins_descendent_of_selects_the_item_codes() {
    let (Some(e), Some(set)) = (engine(), packages()) else {
        return;
    };
    // Every value set over the CoreLabo items uses descendent-of; this one is albumin.
    let vs = set.resolve_in("ValueSet", ALB_VS).unwrap();
    let filter = &vs.json()["compose"]["include"][0]["filter"][0];
    assert_eq!(filter["op"], "descendent-of");
    assert_eq!(filter["value"], "ALB");
    assert_eq!(
        check(e, ALB_VS, Some(CORE_LABO), "3A015000002329101"),
        Membership::Member
    );
    // The item itself is not its own descendant; an ALP code is unrelated.
    assert_eq!(
        check(e, ALB_VS, Some(CORE_LABO), "ALB"),
        Membership::NotMember
    );
    assert_eq!(
        check(e, ALB_VS, Some(CORE_LABO), "3B070000002327101"),
        Membership::NotMember
    );
    assert_eq!(e.expansion(ALB_VS).unwrap().len(), 7);
    // Displays: the code system's display or its Japanese designation.
    let given = |d| {
        e.coding(CodedValue {
            system: Some(CORE_LABO),
            version: None,
            code: "3A015000002329101",
            display: Some(d),
        })
        .into_iter()
        .find(|f| f.part == CodedPart::Display)
        .map(|f| f.text())
    };
    assert_eq!(given("アルブミン"), None);
    assert_eq!(given("ALB"), None);
    let mismatch = given("アルブミン（尿）").unwrap();
    assert!(mismatch.contains("(\"ALB\")"), "{mismatch}");
}

#[test]
fn core_excludes_and_is_not_a() {
    let Some(e) = engine() else { return };
    let participant = "http://hl7.org/fhir/ValueSet/encounter-participant-type";
    let v3 = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
    assert_eq!(check(e, participant, Some(v3), "ADM"), Membership::Member);
    assert_eq!(check(e, participant, Some(v3), "SPRF"), Membership::Member);
    assert_eq!(
        check(e, participant, Some(v3), "_ParticipationAncillary"),
        Membership::NotMember
    );
    let relationship = "http://hl7.org/fhir/ValueSet/patient-contactrelationship";
    let v2 = "http://terminology.hl7.org/CodeSystem/v2-0131";
    assert_eq!(check(e, relationship, Some(v2), "C"), Membership::Member);
    assert_eq!(check(e, relationship, Some(v2), "O"), Membership::NotMember);
}

#[test]
fn oid_aliases_and_unloaded_jp_masters() {
    let Some(e) = engine() else { return };
    // Includes JLAC10 by its old OID (no package defines JLAC10) and a loaded item list.
    let vs = "http://jpfhir.jp/fhir/eCheckup/ValueSet/observation-code";
    let jlac = "http://medis.or.jp/CodeSystem/master-JLAC10-17digits";
    for system in [jlac, "urn:oid:1.2.392.200119.4.504"] {
        let m = check(e, vs, Some(system), "3A015000002329101");
        assert_eq!(
            m,
            Membership::Unknown(format!("code system {jlac} not loaded"))
        );
    }
    let items = "urn:oid:1.2.392.200119.6.1005";
    assert_eq!(
        check(e, vs, Some(items), "9N001000000000001"),
        Membership::Member
    );
    assert_eq!(
        check(e, vs, Some(items), "9N00100000000000X"),
        Membership::NotMember
    );
    let disease = "http://medis.or.jp/ValueSet/master-disease-keyNumber";
    let m = check(e, disease, Some("urn:oid:1.2.392.200119.4.101.2"), "ABCD");
    assert!(
        matches!(&m, Membership::Unknown(w) if w.contains("http://medis.or.jp/CodeSystem/master-disease-keyNumber")),
        "{m:?}"
    );
}

#[test]
fn a_partial_definition_of_loinc_does_not_reject_other_loinc_codes() {
    let Some(e) = engine() else { return };
    // jp-clins defines two LOINC codes as a "complete" http://loinc.org.
    let m = check(
        e,
        "http://hl7.org/fhir/ValueSet/observation-codes",
        Some("http://loinc.org"),
        "8480-6",
    );
    assert!(matches!(m, Membership::Unknown(_)), "{m:?}");
}

#[test]
fn packages_and_embedded_sets_agree_on_core_required_bindings() {
    let Some(e) = engine() else { return };
    let base = ValueSetEngine::base_only();
    let file = embedded_file().unwrap();
    for entry in &file.value_sets {
        let canonical = match &entry.version {
            Some(v) => format!("{}|{v}", entry.url),
            None => entry.url.clone(),
        };
        for m in &entry.codes {
            let value = CodedValue {
                system: Some(&m[0]),
                version: None,
                code: &m[1],
                display: m.get(2).map(String::as_str),
            };
            let expected = CodeCheck {
                membership: Membership::Member,
            };
            assert_eq!(base.check(&canonical, value), expected, "{canonical} {m:?}");
            assert_eq!(e.check(&canonical, value), expected, "{canonical} {m:?}");
        }
    }
}

#[test]
fn the_generator_reproduces_the_committed_file() {
    let core = Path::new(PACKAGES).join(FILES[0]);
    if !core.is_file() {
        crate::test_data::missing(core.display());
    }
    let tmp = tempfile::tempdir().unwrap();
    let report = generate_codesets(&core, tmp.path()).unwrap();
    assert_eq!(report.package, "hl7.fhir.r4.core#4.0.1");
    let generated = std::fs::read(tmp.path().join(CODESETS_FILE)).unwrap();
    let committed = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("codesets")
            .join(CODESETS_FILE),
    )
    .unwrap();
    assert!(
        generated == committed,
        "codesets/{CODESETS_FILE} is stale: run `kyoyu package generate-codesets --from {} --out codesets/`",
        core.display()
    );
}

/// `cargo test --release --lib validation::valuesets::tests_packages::timing -- --ignored --nocapture`
#[test]
#[ignore = "timing; run in release"]
fn timing() {
    let Some(e) = engine() else { return };
    let cases: &[(&str, Option<&str>, &str)] = &[
        (ALB_VS, Some(CORE_LABO), "3A015000002329101"),
        (ALB_VS, Some(CORE_LABO), "3B070000002327101"),
        (
            "http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1",
            None,
            "female",
        ),
        (
            "http://hl7.org/fhir/ValueSet/observation-status|4.0.1",
            Some("http://hl7.org/fhir/observation-status"),
            "final",
        ),
        (
            "http://jpfhir.jp/fhir/eCheckup/ValueSet/observation-code",
            Some("urn:oid:1.2.392.200119.6.1005"),
            "9N001000000000001",
        ),
    ];
    let started = Instant::now();
    for (vs, system, code) in cases {
        std::hint::black_box(check(e, vs, *system, code));
    }
    eprintln!(
        "cold (expansion of {} value sets): {:?}",
        cases.len(),
        started.elapsed()
    );
    let rounds = 200_000;
    let started = Instant::now();
    for _ in 0..rounds {
        for (vs, system, code) in cases {
            std::hint::black_box(check(e, vs, *system, code));
        }
    }
    let per = started.elapsed().as_nanos() as f64 / (rounds * cases.len()) as f64;
    eprintln!("warm membership check: {per:.0} ns");
    if !cfg!(debug_assertions) {
        assert!(per < 1000.0, "{per} ns per check");
    }
}
