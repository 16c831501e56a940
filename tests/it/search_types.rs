//! The search parameter types and modifiers of issue #25 over HTTP, on both backends: number
//! and quantity (UCUM-normalised), composite (parts of one element), uri with `:above` and
//! `:below`, `_tag`/`_security`/`_profile`/`_source`, token `:above`/`:below`/`:in`/`:not-in`
//! over imported terminology; refusals; the caller's scope; the reindex of stored resources.

use crate::common;

use common::hospitals::Who;
use common::principals::SignedIn;
use common::{Backend, Options, TestServer, first_issue, sorted_ids};
use kyoyu::config::ConfigArgs;
use kyoyu::terminology::{Content, ImportSet, MasterConcept, MasterSystem};
use serde_json::{Value, json};

const LOINC: &str = "http://loinc.org";
const UCUM: &str = "http://unitsofmeasure.org";

/// The ids a search finds, sorted.
fn found(srv: &TestServer, path: &str) -> Vec<String> {
    sorted_ids(&srv.search(path))
}

/// A search answered 400: the parameter its OperationOutcome names.
fn refused(srv: &TestServer, path: &str) -> String {
    let r = srv.get(path);
    let status = r.status().as_u16();
    let outcome: Value = r.json().unwrap();
    assert_eq!(status, 400, "{path}: {outcome}");
    first_issue(&outcome)["expression"][0]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn quantity(id: &str, code: &str, value: f64, system: &str, unit: &str) -> Value {
    json!({"resourceType": "Observation", "id": id, "status": "final",
           "code": {"coding": [{"system": LOINC, "code": code}]},
           "valueQuantity": {"value": value, "system": system, "code": unit, "unit": unit}})
}

fn quantities(srv: &TestServer) {
    srv.put_resource(&quantity("g-small", "2345-7", 0.0054, UCUM, "g"));
    srv.put_resource(&quantity("mg-more", "2345-7", 5.6, UCUM, "mg"));
    srv.put_resource(&quantity("per-dl", "2345-7", 98.0, UCUM, "mg/dL"));
    srv.put_resource(&quantity(
        "pills",
        "9999-9",
        5.4,
        "http://example.org/units",
        "pill",
    ));
    srv.put_resource(
        &json!({"resourceType": "Observation", "id": "text-only", "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "2345-7"}]}, "valueString": "trace"}),
    );
}

backend_test!(quantities_compare_in_ucum_base_units, |srv| {
    quantities(&srv);
    let cases: &[(&str, &[&str])] = &[
        (
            "value-quantity=5.4|http://unitsofmeasure.org|mg",
            &["g-small"],
        ),
        (
            "value-quantity=0.0054|http://unitsofmeasure.org|g",
            &["g-small"],
        ),
        (
            "value-quantity=5400|http://unitsofmeasure.org|ug",
            &["g-small"],
        ),
        (
            "value-quantity=gt5.5|http://unitsofmeasure.org|mg",
            &["mg-more"],
        ),
        (
            "value-quantity=le1|http://unitsofmeasure.org|g",
            &["g-small", "mg-more"],
        ),
        (
            "value-quantity=ap5.5|http://unitsofmeasure.org|mg",
            &["g-small", "mg-more"],
        ),
        (
            "value-quantity=ne5.4|http://unitsofmeasure.org|mg",
            &["mg-more"],
        ),
        (
            "value-quantity=980|http://unitsofmeasure.org|mg/L",
            &["per-dl"],
        ),
        ("value-quantity=5.4||pill", &["pills"]),
        (
            "value-quantity=5.4|http://example.org/units|pill",
            &["pills"],
        ),
        ("value-quantity=5.4|http://other.example.org|pill", &[]),
        ("value-quantity=5.4", &["pills"]),
        // 5 stands for [4.5, 5.5); without a unit any unit's value is compared.
        ("value-quantity=5", &["pills"]),
        ("value-quantity=6", &["mg-more"]),
        ("value-quantity=5.4,5.6", &["mg-more", "pills"]),
        ("value-quantity:missing=true", &["text-only"]),
        (
            "combo-value-quantity=5.6|http://unitsofmeasure.org|mg",
            &["mg-more"],
        ),
        (
            "code-value-quantity=http://loinc.org|2345-7$lt1|http://unitsofmeasure.org|g",
            &["g-small", "mg-more"],
        ),
        ("code-value-quantity=9999-9$5.4", &["pills"]),
        ("code-value-quantity=2345-7$5.4", &[]),
        // The Observation's own code and value are one element: both parts on one resource.
        ("code-value-quantity=9999-9$5.6", &[]),
        (
            "code-value-quantity=2345-7$gt0",
            &["g-small", "mg-more", "per-dl"],
        ),
        (
            "code-value-quantity=9999-9$5.4,2345-7$lt1|http://unitsofmeasure.org|g",
            &["g-small", "mg-more", "pills"],
        ),
        (
            "combo-code-value-quantity=2345-7$5.6|http://unitsofmeasure.org|mg",
            &["mg-more"],
        ),
    ];
    for (query, want) in cases {
        assert_eq!(
            found(&srv, &format!("Observation?{query}")),
            *want,
            "{query}"
        );
    }
    for (query, param) in [
        ("value-quantity=abc", "value-quantity"),
        ("value-quantity=5|http://x|", "value-quantity"),
        ("value-quantity=zz5", "value-quantity"),
        ("value-quantity:exact=5", "value-quantity"),
        ("code-value-quantity=2345-7", "code-value-quantity"),
        ("code-value-quantity:missing=true", "code-value-quantity"),
    ] {
        assert_eq!(
            refused(&srv, &format!("Observation?{query}")),
            param,
            "{query}"
        );
    }
});

backend_test!(numbers_match_within_their_written_precision, |srv| {
    for (id, p) in [("low", 0.25), ("high", 0.7), ("exact-half", 0.5)] {
        srv.put_resource(
            &json!({"resourceType": "RiskAssessment", "id": id, "status": "final",
            "subject": {"display": "anonymous"},
            "prediction": [{"probabilityDecimal": p}]}),
        );
    }
    let cases: &[(&str, &[&str])] = &[
        ("probability=0.25", &["low"]),
        // 0.3 stands for [0.25, 0.35).
        ("probability=0.3", &["low"]),
        ("probability=0.4", &[]),
        ("probability=0.5", &["exact-half"]),
        ("probability=0.50", &["exact-half"]),
        // 1 stands for [0.5, 1.5): both values from a half up.
        ("probability=1", &["exact-half", "high"]),
        ("probability=gt0.5", &["high"]),
        ("probability=ge0.5", &["exact-half", "high"]),
        ("probability=lt0.5", &["low"]),
        ("probability=le0.25", &["low"]),
        ("probability=ne0.5", &["high", "low"]),
        ("probability=ap0.26", &["low"]),
        ("probability=sa0.5", &["high"]),
        ("probability=eb0.5", &["low"]),
        ("probability=5e-1", &["exact-half"]),
    ];
    for (query, want) in cases {
        assert_eq!(
            found(&srv, &format!("RiskAssessment?{query}")),
            *want,
            "{query}"
        );
    }
    assert_eq!(
        refused(&srv, "RiskAssessment?probability=x1"),
        "probability"
    );
    assert_eq!(
        refused(&srv, "RiskAssessment?probability:below=1"),
        "probability"
    );
});

fn blood_pressure(id: &str, systolic: f64, diastolic: f64) -> Value {
    let component = |code: &str, v: f64| {
        json!({"code": {"coding": [{"system": LOINC, "code": code}]},
               "valueQuantity": {"value": v, "system": UCUM, "code": "mm[Hg]", "unit": "mmHg"}})
    };
    json!({"resourceType": "Observation", "id": id, "status": "final",
           "code": {"coding": [{"system": LOINC, "code": "85354-9"}]},
           "component": [component("8480-6", systolic), component("8462-4", diastolic)]})
}

backend_test!(composites_match_parts_of_one_element_only, |srv| {
    srv.put_resource(&blood_pressure("bp-high", 120.0, 80.0));
    srv.put_resource(&blood_pressure("bp-low", 80.0, 60.0));
    srv.put_resource(&json!({"resourceType": "Observation", "id": "blood-type", "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "882-1"}]},
        "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "278149003"}]},
        "component": [{"code": {"coding": [{"system": LOINC, "code": "10331-7"}]},
                       "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "165747007"}]}}]}));
    let cases: &[(&str, &[&str])] = &[
        (
            "component-code-value-quantity=http://loinc.org|8480-6$gt100",
            &["bp-high"],
        ),
        // bp-high has a component of 80, but it is the diastolic one.
        (
            "component-code-value-quantity=http://loinc.org|8480-6$80",
            &["bp-low"],
        ),
        (
            "component-code-value-quantity=8462-4$ge60,8480-6$ge120",
            &["bp-high", "bp-low"],
        ),
        (
            "component-code-value-quantity=8480-6$120|http://unitsofmeasure.org|mm[Hg]",
            &["bp-high"],
        ),
        ("combo-code-value-quantity=8462-4$80", &["bp-high"]),
        ("code-value-quantity=85354-9$120", &[]),
        ("component-value-quantity=60", &["bp-low"]),
        (
            "code-value-concept=http://loinc.org|882-1$http://snomed.info/sct|278149003",
            &["blood-type"],
        ),
        ("code-value-concept=882-1$165747007", &[]),
        (
            "component-code-value-concept=10331-7$165747007",
            &["blood-type"],
        ),
        (
            "combo-code-value-concept=10331-7$165747007",
            &["blood-type"],
        ),
        ("component-value-concept=165747007", &["blood-type"]),
        ("combo-value-concept=278149003", &["blood-type"]),
        // The combo-* parameters read the rows of their two parts: the observation's own
        // element and its components.
        ("combo-code-value-concept=882-1$278149003", &["blood-type"]),
        ("combo-code-value-quantity=8480-6$gt100", &["bp-high"]),
        ("combo-value-quantity=60", &["bp-low"]),
        ("combo-value-concept=165747007", &["blood-type"]),
        ("combo-code=85354-9", &["bp-high", "bp-low"]),
        ("combo-code=8462-4", &["bp-high", "bp-low"]),
        ("combo-code=http://loinc.org|10331-7,882-1", &["blood-type"]),
        ("combo-code:missing=true", &[]),
        (
            "combo-code:missing=false",
            &["blood-type", "bp-high", "bp-low"],
        ),
        ("combo-value-quantity:missing=true", &["blood-type"]),
    ];
    for (query, want) in cases {
        assert_eq!(
            found(&srv, &format!("Observation?{query}")),
            *want,
            "{query}"
        );
    }
    for query in [
        "code-value-concept=882-1",
        "code-value-concept=882-1$a$b",
        "code-value-quantity=$5",
    ] {
        let param = query.split('=').next().unwrap();
        assert_eq!(
            refused(&srv, &format!("Observation?{query}")),
            param,
            "{query}"
        );
    }
});

const PROFILE: &str =
    "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Observation_LabResult_common";

backend_test!(meta_parameters_and_uris_with_above_and_below, |srv| {
    srv.put_resource(&json!({"resourceType": "Observation", "id": "tagged", "status": "final",
        "meta": {"profile": [PROFILE], "source": "http://lis.example.jp/fhir",
                 "tag": [{"system": "http://example.org/tags", "code": "urgent"}],
                 "security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}]},
        "code": {"coding": [{"system": LOINC, "code": "2345-7"}]}}));
    srv.put_resource(
        &json!({"resourceType": "Observation", "id": "plain", "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "2345-7"}]}}),
    );
    srv.put_resource(&json!({"resourceType": "Patient", "id": "tagged-patient",
        "meta": {"tag": [{"system": "http://example.org/tags", "code": "urgent"}]}}));
    srv.put_resource(
        &json!({"resourceType": "Procedure", "id": "proc", "status": "completed",
        "subject": {"reference": "Patient/tagged-patient"},
        "instantiatesUri": ["http://guidelines.example.jp/diabetes/2024"]}),
    );
    let cases: &[(&str, &[&str])] = &[
        (&format!("Observation?_profile={PROFILE}"), &["tagged"]),
        ("Observation?_profile=http://jpfhir.jp/fhir/core/", &[]),
        (
            "Observation?_profile:below=http://jpfhir.jp/fhir/core/",
            &["tagged"],
        ),
        (
            "Observation?_profile:below=http://jpfhir.jp/fhir/core/X",
            &[],
        ),
        // A uri's case counts, on SQLite too.
        (
            "Observation?_profile:below=HTTP://JPFHIR.JP/fhir/core/",
            &[],
        ),
        (
            "Observation?_profile:below=http://jpfhir.jp/fhir/core/structuredefinition",
            &[],
        ),
        (
            &format!("Observation?_profile:above={PROFILE}/sub/part"),
            &["tagged"],
        ),
        ("Observation?_profile:above=http://jpfhir.jp/fhir", &[]),
        ("Observation?_profile:missing=true", &["plain"]),
        (
            "Observation?_source=http://lis.example.jp/fhir",
            &["tagged"],
        ),
        (
            "Observation?_tag=http://example.org/tags|urgent",
            &["tagged"],
        ),
        ("Observation?_tag=urgent", &["tagged"]),
        ("Observation?_tag:not=urgent", &["plain"]),
        ("Observation?_tag=http://other|urgent", &[]),
        ("Observation?_security=R", &["tagged"]),
        ("Patient?_tag=urgent", &["tagged-patient"]),
        (
            "Procedure?instantiates-uri:below=http://guidelines.example.jp/",
            &["proc"],
        ),
        (
            "Procedure?instantiates-uri=http://guidelines.example.jp/diabetes",
            &[],
        ),
        ("Procedure?_tag=urgent", &[]),
        // Through a chain, and in a reverse chain, like any parameter.
        ("Procedure?subject:Patient._tag=urgent", &["proc"]),
        ("Procedure?subject._tag=urgent", &["proc"]),
        (
            "Patient?_has:Procedure:subject:instantiates-uri:below=http://guidelines",
            &["tagged-patient"],
        ),
    ];
    for (query, want) in cases {
        assert_eq!(found(&srv, query), *want, "{query}");
    }
    assert_eq!(
        refused(&srv, "Observation?_profile:contains=jpfhir"),
        "_profile"
    );
    assert_eq!(refused(&srv, "Observation?_tag:text=urgent"), "_tag");
    assert_eq!(refused(&srv, "Observation?_source=a%20b"), "_source");
    // The searches answered from elsewhere do not apply them: refused, never ignored.
    assert_eq!(refused(&srv, "CodeSystem?_tag=x"), "_tag");
    assert_eq!(refused(&srv, "ValueSet?_profile=http://x"), "_profile");

    let capabilities: Value = srv.get("metadata").json().unwrap();
    let observation = capabilities["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "Observation")
        .unwrap();
    let type_of = |name: &str| {
        observation["searchParam"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["type"].as_str().unwrap().to_string())
    };
    for (name, kind) in [
        ("value-quantity", "quantity"),
        ("code-value-quantity", "composite"),
        ("component-code-value-concept", "composite"),
        ("_tag", "token"),
        ("_security", "token"),
        ("_profile", "uri"),
        ("_source", "uri"),
    ] {
        assert_eq!(type_of(name).as_deref(), Some(kind), "{name}");
    }
});

const SYSTEM: &str = "http://example.org/CodeSystem/lab-items";
const ALL: &str = "http://example.org/ValueSet/lab-items";
const PICKED: &str = "http://example.org/ValueSet/picked";
const MIXED: &str = "http://example.org/ValueSet/mixed";

fn concept(code: &str, parent: Option<&str>) -> MasterConcept {
    MasterConcept {
        code: code.into(),
        display: Some(code.into()),
        parent: parent.map(str::to_string),
    }
}

/// GRP ⊃ A1 ⊃ C1, GRP ⊃ A2, B1 alone; a value set of A1 and B1; one that also takes in a
/// system that is not loaded, so it cannot be expanded whole.
fn import_set() -> ImportSet {
    ImportSet {
        systems: vec![MasterSystem {
            url: SYSTEM.into(),
            version: Some("2026".into()),
            name: "LabItems".into(),
            content: Content::Complete,
            case_sensitive: true,
            value_sets: vec![ALL.into()],
            concepts: vec![
                concept("GRP", None),
                concept("A1", Some("GRP")),
                concept("A2", Some("GRP")),
                concept("B1", None),
                concept("C1", Some("A1")),
            ],
        }],
        value_sets: vec![
            json!({"resourceType": "ValueSet", "id": "picked", "url": PICKED, "status": "active",
                   "compose": {"include": [{"system": SYSTEM, "concept": [{"code": "A1"}, {"code": "B1"}]}]}}),
            json!({"resourceType": "ValueSet", "id": "mixed", "url": MIXED, "status": "active",
                   "compose": {"include": [{"system": SYSTEM}, {"system": "http://example.org/absent"}]}}),
        ],
        notes: Vec::new(),
    }
}

fn token_modifiers_over_imported_terminology(backend: Backend) {
    let srv = common::codesets::imported_server(backend, "lab.csv", import_set());
    for code in ["GRP", "A1", "A2", "B1", "C1"] {
        srv.put_resource(
            &json!({"resourceType": "Observation", "id": format!("o-{}", code.to_lowercase()),
            "status": "final", "code": {"coding": [{"system": SYSTEM, "code": code}]}}),
        );
    }
    srv.put_resource(
        &json!({"resourceType": "Observation", "id": "o-loinc", "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "2345-7"}]}}),
    );
    let cases: &[(String, &[&str])] = &[
        (format!("code:below={SYSTEM}|A1"), &["o-a1", "o-c1"]),
        (
            format!("code:below={SYSTEM}|GRP"),
            &["o-a1", "o-a2", "o-c1", "o-grp"],
        ),
        (format!("code:below={SYSTEM}|B1"), &["o-b1"]),
        (
            format!("code:above={SYSTEM}|C1"),
            &["o-a1", "o-c1", "o-grp"],
        ),
        (
            format!("code:below={SYSTEM}|A2,{SYSTEM}|B1"),
            &["o-a2", "o-b1"],
        ),
        (
            format!("code:in={ALL}"),
            &["o-a1", "o-a2", "o-b1", "o-c1", "o-grp"],
        ),
        (format!("code:in={PICKED}"), &["o-a1", "o-b1"]),
        (
            format!("code:not-in={PICKED}"),
            &["o-a2", "o-c1", "o-grp", "o-loinc"],
        ),
        (format!("code:not-in={ALL}"), &["o-loinc"]),
    ];
    for (query, want) in cases {
        assert_eq!(
            found(&srv, &format!("Observation?{query}")),
            *want,
            "{query}"
        );
    }
    // What the terminology cannot answer is refused, never answered with a guess.
    for query in [
        format!("code:in={MIXED}"),
        format!("code:not-in={MIXED}"),
        "code:in=http://example.org/ValueSet/unknown".to_string(),
        "code:below=http://example.org/unknown|A1".to_string(),
        format!("code:below={SYSTEM}|NOPE"),
        "code:below=A1".to_string(),
    ] {
        // A value the modifier cannot take is named with the modifier, as written.
        let param = query.split('=').next().unwrap();
        assert_eq!(
            refused(&srv, &format!("Observation?{query}")),
            param,
            "{query}"
        );
    }
    assert_eq!(refused(&srv, "Observation?code:of-type=x"), "code");
}

backend_test!(
    token_modifiers_over_imported_terminology,
    token_modifiers_over_imported_terminology
);

/// The new parameters search within the caller's scope like the others: an institution never
/// learns of another's quantity, composite, tag or profile.
#[test]
fn new_parameters_never_reach_past_the_callers_scope() {
    SignedIn::on_each_backend(
        &[Who::HospitalA, Who::HospitalB],
        |a: &mut ConfigArgs| {
            a.validate_on_write = Some(false);
        },
        |s| {
            let record = |who, value: f64| {
                let mut o = blood_pressure("x", value, 70.0);
                o.as_object_mut().unwrap().remove("id");
                o["meta"] = json!({"tag": [{"code": "shared-tag"}], "profile": [PROFILE]});
                o["valueQuantity"] = json!({"value": value, "system": UCUM, "code": "mg"});
                s.create(who, &o)
            };
            let of_a = record(Who::HospitalA, 150.0);
            let of_b = record(Who::HospitalB, 150.0);
            for path in [
                "Observation?value-quantity=0.15|http://unitsofmeasure.org|g",
                "Observation?component-code-value-quantity=8480-6$150",
                "Observation?_tag=shared-tag",
                &format!("Observation?_profile={PROFILE}"),
            ] {
                for (who, mine) in [(Who::HospitalA, &of_a), (Who::HospitalB, &of_b)] {
                    let (status, bundle) = s.get(who, path);
                    assert_eq!(status, 200, "{who:?} {path}: {bundle}");
                    assert_eq!(
                        sorted_ids(&bundle),
                        std::slice::from_ref(mine),
                        "{who:?} {path}"
                    );
                    assert_eq!(bundle["total"], 1, "{who:?} {path}");
                }
            }
        },
    );
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Runs `statements` on the server's database directly; the count the last one selects.
fn on_database(srv: &TestServer, statements: &[&str]) -> i64 {
    on_url(srv.backend, &srv.db.url, statements)
}

fn on_url(backend: Backend, url: &str, statements: &[&str]) -> i64 {
    use diesel::{Connection, RunQueryDsl};
    let (last, before) = statements.split_last().unwrap();
    match backend {
        Backend::Sqlite => {
            let mut c = diesel::sqlite::SqliteConnection::establish(url).unwrap();
            for s in before {
                diesel::sql_query(*s).execute(&mut c).unwrap();
            }
            diesel::sql_query(*last).load::<Count>(&mut c).unwrap()[0].n
        }
        Backend::Postgres => {
            let mut c = diesel::pg::PgConnection::establish(url).unwrap();
            for s in before {
                diesel::sql_query(*s).execute(&mut c).unwrap();
            }
            diesel::sql_query(*last).load::<Count>(&mut c).unwrap()[0].n
        }
    }
}

/// Every index row of the parameters this version added.
const ADDED_ROWS: &str = "SELECT CAST((SELECT count(*) FROM search_quantity) \
    + (SELECT count(*) FROM search_quantity_pair) \
    + (SELECT count(*) FROM search_number) + (SELECT count(*) FROM search_uri) \
    + (SELECT count(*) FROM search_token_pair) \
    + (SELECT count(*) FROM search_token WHERE param IN ('_tag', '_security')) AS BIGINT) AS n";

/// Deletes the rows of the parameters this version added and marks the index as older, as a
/// store written by the previous version is.
fn make_index_older(srv: &TestServer) {
    make_older_at(srv.backend, &srv.db.url);
}

fn make_older_at(backend: Backend, url: &str) {
    let left = on_url(
        backend,
        url,
        &[
            "DELETE FROM search_quantity",
            "DELETE FROM search_quantity_pair",
            "DELETE FROM search_number",
            "DELETE FROM search_uri",
            "DELETE FROM search_token_pair",
            "DELETE FROM search_token WHERE param IN ('_tag', '_security')",
            "UPDATE search_index_version SET version = 1",
            ADDED_ROWS,
        ],
    );
    assert_eq!(left, 0);
}

backend_test!(
    stored_resources_get_the_rows_of_new_parameters_by_reindex,
    |srv| {
        quantities(&srv);
        srv.put_resource(&blood_pressure("bp", 120.0, 80.0));
        srv.put_resource(&json!({"resourceType": "Patient", "id": "p",
        "meta": {"tag": [{"code": "vip"}], "profile": [PROFILE]}}));
        srv.put_resource(
            &json!({"resourceType": "RiskAssessment", "id": "r", "status": "final",
        "subject": {"reference": "Patient/p"}, "prediction": [{"probabilityDecimal": 0.5}]}),
        );
        let queries: &[(&str, &[&str])] = &[
            (
                "Observation?value-quantity=5.4|http://unitsofmeasure.org|mg",
                &["g-small"],
            ),
            (
                "Observation?component-code-value-quantity=8480-6$120",
                &["bp"],
            ),
            ("Patient?_tag=vip", &["p"]),
            (&format!("Patient?_profile={PROFILE}"), &["p"]),
            ("RiskAssessment?probability=0.5", &["r"]),
            // Rows of the parameters that were there before are untouched.
            (
                "Observation?code=2345-7",
                &["g-small", "mg-more", "per-dl", "text-only"],
            ),
            ("RiskAssessment?subject=Patient/p", &["r"]),
        ];
        let rows = on_database(&srv, &[ADDED_ROWS]);
        assert!(rows > 10, "{rows}");
        make_index_older(&srv);
        assert!(
            found(&srv, queries[0].0).is_empty(),
            "rows gone, as before the upgrade"
        );
        let offset = ConfigArgs::default().resolve().unwrap().timezone;
        let store = srv.store.clone();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let report = rt.block_on(store.reindex(offset, false)).unwrap();
        assert_eq!((report.from_version, report.to_version), (1, 4));
        assert_eq!(report.resources, 8);
        for (query, want) in queries {
            assert_eq!(found(&srv, query), *want, "{query}");
        }
        // Current now: nothing to do unless forced, and a forced run adds no row twice.
        assert_eq!(
            rt.block_on(store.reindex(offset, false)).unwrap().resources,
            0
        );
        assert_eq!(on_database(&srv, &[ADDED_ROWS]), rows, "as written");
        assert_eq!(
            rt.block_on(store.reindex(offset, true)).unwrap().resources,
            8
        );
        assert_eq!(on_database(&srv, &[ADDED_ROWS]), rows, "none twice");
        for (query, want) in queries {
            assert_eq!(found(&srv, query), *want, "{query}");
        }
    }
);

/// A server started on a store whose index is older adds the missing rows before it serves;
/// `kyoyu reindex` does it on demand.
fn upgrade_at_start_up_and_on_demand(backend: Backend) {
    let db = common::TestDatabase::new(backend);
    let on = |url: String| {
        TestServer::start_with(
            backend,
            Options {
                configure: Box::new(move |a: &mut ConfigArgs| a.database_url = Some(url)),
                ..Default::default()
            },
        )
    };
    let query = "Observation?value-quantity=5.4|http://unitsofmeasure.org|mg";
    {
        let srv = on(db.url.clone());
        quantities(&srv);
        assert_eq!(found(&srv, query), ["g-small"]);
    }
    make_older_at(backend, &db.url);
    let version = "SELECT CAST(version AS BIGINT) AS n FROM search_index_version";
    assert_eq!(on_url(backend, &db.url, &[version]), 1);
    {
        let srv = on(db.url.clone());
        assert_eq!(found(&srv, query), ["g-small"], "reindexed at start-up");
    }
    assert_eq!(on_url(backend, &db.url, &[version]), 4);
    let rows = on_url(backend, &db.url, &[ADDED_ROWS]);
    make_older_at(backend, &db.url);
    let out = std::process::Command::new(common::cli::BIN)
        .args(["reindex", "--database-url", &db.url])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("reindexed 5 resources (index version 1 -> 4)"),
        "{stdout}"
    );
    assert_eq!(on_url(backend, &db.url, &[ADDED_ROWS]), rows);
    assert_eq!(on_url(backend, &db.url, &[version]), 4);
}

backend_test!(
    upgrade_at_start_up_and_on_demand,
    upgrade_at_start_up_and_on_demand
);

/// Every index row of List's own parameters (List became indexed in version 3).
const LIST_ROWS: &str = "SELECT CAST((SELECT count(*) FROM search_reference WHERE rkey IN \
    (SELECT rkey FROM resources WHERE res_type = 'List')) \
    + (SELECT count(*) FROM search_token WHERE rkey IN \
    (SELECT rkey FROM resources WHERE res_type = 'List') AND param NOT IN ('_tag', '_security')) \
    + (SELECT count(*) FROM search_string WHERE rkey IN \
    (SELECT rkey FROM resources WHERE res_type = 'List')) \
    + (SELECT count(*) FROM search_date WHERE rkey IN \
    (SELECT rkey FROM resources WHERE res_type = 'List')) AS BIGINT) AS n";

backend_test!(
    lists_stored_before_list_was_indexed_get_their_rows_by_reindex,
    |srv| {
        quantities(&srv);
        srv.put_resource(
            &json!({"resourceType": "List", "id": "l1", "status": "current", "mode": "working",
            "title": "Labs to review", "date": "2026-12-01",
            "meta": {"tag": [{"code": "vip"}]},
            "entry": [{"item": {"reference": "Observation/g-small"}},
                {"item": {"reference": "Observation/per-dl"}}]}),
        );
        let queries: &[(&str, &[&str])] = &[
            ("Observation?_list=l1", &["g-small", "per-dl"]),
            ("List?item=Observation/per-dl", &["l1"]),
            ("List?title=labs", &["l1"]),
            ("List?date=2026-12-01", &["l1"]),
            ("List?_tag=vip", &["l1"]),
        ];
        for (query, want) in queries {
            assert_eq!(found(&srv, query), *want, "{query}");
        }
        let list_rows = on_database(&srv, &[LIST_ROWS]);
        let added_rows = on_database(&srv, &[ADDED_ROWS]);
        assert!(list_rows >= 5, "{list_rows}");
        // A store written by version 2: List's rows of its own parameters are missing.
        let left = on_database(
            &srv,
            &[
                "DELETE FROM search_reference WHERE rkey IN \
                 (SELECT rkey FROM resources WHERE res_type = 'List')",
                "DELETE FROM search_token WHERE rkey IN \
                 (SELECT rkey FROM resources WHERE res_type = 'List') \
                 AND param NOT IN ('_tag', '_security')",
                "DELETE FROM search_string WHERE rkey IN \
                 (SELECT rkey FROM resources WHERE res_type = 'List')",
                "DELETE FROM search_date WHERE rkey IN \
                 (SELECT rkey FROM resources WHERE res_type = 'List')",
                "UPDATE search_index_version SET version = 2",
                LIST_ROWS,
            ],
        );
        assert_eq!(left, 0);
        assert!(found(&srv, "Observation?_list=l1").is_empty(), "as before");
        let offset = ConfigArgs::default().resolve().unwrap().timezone;
        let store = srv.store.clone();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let report = rt.block_on(store.reindex(offset, false)).unwrap();
        assert_eq!((report.from_version, report.to_version), (2, 4));
        assert_eq!(report.resources, 1, "only the List is read and rewritten");
        for (query, want) in queries {
            assert_eq!(found(&srv, query), *want, "{query}");
        }
        assert_eq!(on_database(&srv, &[LIST_ROWS]), list_rows, "as written");
        assert_eq!(
            on_database(&srv, &[ADDED_ROWS]),
            added_rows,
            "others untouched"
        );
        // Current now; a forced run rewrites every type and adds no row twice.
        assert_eq!(
            rt.block_on(store.reindex(offset, false)).unwrap().resources,
            0
        );
        assert_eq!(
            rt.block_on(store.reindex(offset, true)).unwrap().resources,
            6
        );
        assert_eq!(on_database(&srv, &[LIST_ROWS]), list_rows, "none twice");
        assert_eq!(on_database(&srv, &[ADDED_ROWS]), added_rows, "none twice");
        for (query, want) in queries {
            assert_eq!(found(&srv, query), *want, "{query}");
        }
    }
);

const FORM: &str = "http://kyoyu.test/Questionnaire/phq";

fn questionnaire(id: &str, version: &str, date: &str) -> Value {
    json!({"resourceType": "Questionnaire", "id": id, "url": FORM, "version": version,
        "name": "PHQ", "title": "Patient health questionnaire", "status": "active",
        "identifier": [{"system": "http://kyoyu.test/forms", "value": format!("phq-{version}")}],
        "date": date, "publisher": "Kyoyu test", "subjectType": ["Patient"],
        "useContext": [{"code": {"system": "http://terminology.hl7.org/CodeSystem/usage-context-type",
            "code": "focus"}, "valueCodeableConcept": {"coding": [{"code": "depression"}]}}],
        "item": [{"linkId": "1", "type": "boolean", "code": [{"system": "http://loinc.org",
            "code": "44250-9"}], "definition": "http://kyoyu.test/def#1"}]})
}

backend_test!(questionnaires_are_searched_by_their_parameters, |srv| {
    srv.put_resource(&questionnaire("q1", "1", "2026-01-10"));
    srv.put_resource(&questionnaire("q2", "2", "2026-06-10"));
    srv.put_resource(&json!({"resourceType": "Questionnaire", "id": "other",
        "url": "http://kyoyu.test/Questionnaire/other", "status": "draft"}));
    let queries: &[(&str, &[&str])] = &[
        (&format!("Questionnaire?url={FORM}"), &["q1", "q2"]),
        (&format!("Questionnaire?url={FORM}&version=2"), &["q2"]),
        (
            "Questionnaire?url:below=http://kyoyu.test/Questionnaire/",
            &["other", "q1", "q2"],
        ),
        ("Questionnaire?name=phq", &["q1", "q2"]),
        ("Questionnaire?title=patient%20health", &["q1", "q2"]),
        ("Questionnaire?status=draft", &["other"]),
        (
            "Questionnaire?identifier=http://kyoyu.test/forms|phq-1",
            &["q1"],
        ),
        ("Questionnaire?code=http://loinc.org|44250-9", &["q1", "q2"]),
        ("Questionnaire?date=ge2026-03-01", &["q2"]),
        ("Questionnaire?publisher=kyoyu", &["q1", "q2"]),
        ("Questionnaire?subject-type=Patient", &["q1", "q2"]),
        ("Questionnaire?context=depression", &["q1", "q2"]),
        ("Questionnaire?context-type=focus", &["q1", "q2"]),
        (
            "Questionnaire?definition=http://kyoyu.test/def%231",
            &["q1", "q2"],
        ),
    ];
    for (query, want) in queries {
        assert_eq!(found(&srv, query), *want, "{query}");
    }
    // The CapabilityStatement lists them.
    let cs: Value = srv.get("metadata").json().unwrap();
    let q = cs["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "Questionnaire")
        .unwrap();
    let names: Vec<&str> = q["searchParam"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    for name in ["url", "version", "name", "title", "status", "subject-type"] {
        assert!(names.contains(&name), "{name}: {names:?}");
    }
});

/// Every index row of Questionnaire's own parameters (Questionnaire became indexed in version
/// 4); the `meta` ones were written before.
const QUESTIONNAIRE_ROWS: &str = "SELECT CAST((SELECT count(*) FROM search_uri WHERE rkey IN \
    (SELECT rkey FROM resources WHERE res_type = 'Questionnaire') \
    AND param NOT IN ('_profile', '_source')) \
    + (SELECT count(*) FROM search_token WHERE rkey IN \
    (SELECT rkey FROM resources WHERE res_type = 'Questionnaire') \
    AND param NOT IN ('_tag', '_security')) \
    + (SELECT count(*) FROM search_string WHERE rkey IN \
    (SELECT rkey FROM resources WHERE res_type = 'Questionnaire')) \
    + (SELECT count(*) FROM search_date WHERE rkey IN \
    (SELECT rkey FROM resources WHERE res_type = 'Questionnaire')) AS BIGINT) AS n";

backend_test!(
    questionnaires_stored_before_questionnaire_was_indexed_get_their_rows_by_reindex,
    |srv| {
        quantities(&srv);
        let mut q = questionnaire("q1", "1", "2026-01-10");
        q["meta"] = json!({"profile": [PROFILE]});
        srv.put_resource(&q);
        let queries: &[(&str, &[&str])] = &[
            (&format!("Questionnaire?url={FORM}"), &["q1"]),
            ("Questionnaire?version=1", &["q1"]),
            ("Questionnaire?title=patient", &["q1"]),
            ("Questionnaire?date=2026-01-10", &["q1"]),
            (&format!("Questionnaire?_profile={PROFILE}"), &["q1"]),
        ];
        for (query, want) in queries {
            assert_eq!(found(&srv, query), *want, "{query}");
        }
        let own_rows = on_database(&srv, &[QUESTIONNAIRE_ROWS]);
        let added_rows = on_database(&srv, &[ADDED_ROWS]);
        assert!(own_rows >= 10, "{own_rows}");
        // A store written by version 3: Questionnaire's rows of its own parameters are missing.
        let left = on_database(
            &srv,
            &[
                "DELETE FROM search_uri WHERE rkey IN \
                 (SELECT rkey FROM resources WHERE res_type = 'Questionnaire') \
                 AND param NOT IN ('_profile', '_source')",
                "DELETE FROM search_token WHERE rkey IN \
                 (SELECT rkey FROM resources WHERE res_type = 'Questionnaire') \
                 AND param NOT IN ('_tag', '_security')",
                "DELETE FROM search_string WHERE rkey IN \
                 (SELECT rkey FROM resources WHERE res_type = 'Questionnaire')",
                "DELETE FROM search_date WHERE rkey IN \
                 (SELECT rkey FROM resources WHERE res_type = 'Questionnaire')",
                "UPDATE search_index_version SET version = 3",
                QUESTIONNAIRE_ROWS,
            ],
        );
        assert_eq!(left, 0);
        assert!(found(&srv, queries[0].0).is_empty(), "as before");
        let offset = ConfigArgs::default().resolve().unwrap().timezone;
        let store = srv.store.clone();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let report = rt.block_on(store.reindex(offset, false)).unwrap();
        assert_eq!((report.from_version, report.to_version), (3, 4));
        assert_eq!(
            report.resources, 1,
            "only the Questionnaire is read and rewritten"
        );
        for (query, want) in queries {
            assert_eq!(found(&srv, query), *want, "{query}");
        }
        assert_eq!(
            on_database(&srv, &[QUESTIONNAIRE_ROWS]),
            own_rows,
            "as written"
        );
        assert_eq!(
            on_database(&srv, &[ADDED_ROWS]),
            added_rows,
            "others untouched"
        );
        // Repeated (forced), no row is added twice.
        rt.block_on(store.reindex(offset, true)).unwrap();
        assert_eq!(
            on_database(&srv, &[QUESTIONNAIRE_ROWS]),
            own_rows,
            "none twice"
        );
        assert_eq!(on_database(&srv, &[ADDED_ROWS]), added_rows, "none twice");
    }
);
