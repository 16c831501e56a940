//! The terminology operations over HTTP: `$lookup`, `$validate-code`, `$expand`, and read and
//! search of CodeSystem and ValueSet, against terminology imported into the database before the
//! server starts, and against the JP-CLINS package.

use crate::common;

use common::{Backend, FHIR_JSON, Options, TestServer, first_issue};
use kyoyu::terminology::{Content, ImportSet, MasterConcept, MasterSystem};
use serde_json::{Value, json};

const SYSTEM: &str = "http://example.org/CodeSystem/test";
const ALL: &str = "http://example.org/ValueSet/all";
const MIXED: &str = "http://example.org/ValueSet/mixed";
const ABSENT: &str = "http://example.org/CodeSystem/absent";

fn concept(code: &str, display: &str, parent: Option<&str>) -> MasterConcept {
    MasterConcept {
        code: code.into(),
        display: Some(display.into()),
        parent: parent.map(str::to_string),
    }
}

/// A small master with a two-level hierarchy, its "all codes" value set, and a value set that
/// also includes a system that is not loaded.
fn import_set() -> ImportSet {
    ImportSet {
        systems: vec![MasterSystem {
            url: SYSTEM.into(),
            version: Some("2024".into()),
            name: "TestMaster".into(),
            content: Content::Complete,
            case_sensitive: true,
            value_sets: vec![ALL.into()],
            concepts: vec![
                concept("GRP", "Group", None),
                concept("A1", "Alpha one", Some("GRP")),
                concept("A2", "Alpha two", Some("GRP")),
                concept("B1", "Beta", None),
                concept("C1", "Gamma", Some("A1")),
            ],
        }],
        value_sets: vec![json!({
            "resourceType": "ValueSet",
            "id": "mixed",
            "url": MIXED,
            "name": "Mixed",
            "status": "active",
            "compose": {"include": [{"system": SYSTEM}, {"system": ABSENT}]}
        })],
        notes: Vec::new(),
    }
}

fn imported_server(backend: Backend) -> TestServer {
    common::codesets::imported_server(backend, "test.csv", import_set())
}

fn json_of(r: reqwest::blocking::Response, status: u16) -> Value {
    let got = r.status().as_u16();
    let body: Value = r.json().unwrap();
    assert_eq!(got, status, "{body}");
    body
}

/// The value of the first output parameter called `name`.
fn param<'a>(params: &'a Value, name: &str) -> &'a Value {
    params["parameter"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .map_or(&Value::Null, |p| {
            p.as_object()
                .unwrap()
                .iter()
                .find(|(k, _)| k.starts_with("value"))
                .map_or(&Value::Null, |(_, v)| v)
        })
}

/// The (property code, value) pairs of a `$lookup` answer.
fn properties(params: &Value) -> Vec<(String, String)> {
    params["parameter"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] == "property")
        .map(|p| {
            let part = |n: &str| {
                p["part"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|x| x["name"] == n)
                    .unwrap()["valueCode"]
                    .as_str()
                    .unwrap()
                    .to_string()
            };
            (part("code"), part("value"))
        })
        .collect()
}

/// The issue's code and expression of an error answer.
fn error_at(r: reqwest::blocking::Response, status: u16) -> (String, String) {
    let outcome = json_of(r, status);
    let issue = first_issue(&outcome);
    (
        issue["code"].as_str().unwrap().to_string(),
        issue["expression"][0]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

fn parameters(list: Value) -> Value {
    json!({"resourceType": "Parameters", "parameter": list})
}

fn codes(expansion: &Value) -> Vec<String> {
    expansion["expansion"]["contains"]
        .as_array()
        .map(|c| {
            c.iter()
                .map(|x| x["code"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn lookup_of_imported_codes(srv: &TestServer) {
    let out = json_of(
        srv.get(&format!("CodeSystem/$lookup?system={SYSTEM}&code=A1")),
        200,
    );
    assert_eq!(param(&out, "name"), "TestMaster");
    assert_eq!(param(&out, "version"), "2024");
    assert_eq!(param(&out, "display"), "Alpha one");
    assert_eq!(
        properties(&out),
        [
            ("parent".to_string(), "GRP".to_string()),
            ("child".to_string(), "C1".to_string())
        ]
    );
    // POST with a coding, asking for the parent only.
    let body = parameters(json!([
        {"name": "coding", "valueCoding": {"system": SYSTEM, "code": "C1"}},
        {"name": "property", "valueCode": "parent"}
    ]));
    let out = json_of(srv.post("CodeSystem/$lookup", &body), 200);
    assert_eq!(param(&out, "display"), "Gamma");
    assert_eq!(properties(&out), [("parent".to_string(), "A1".to_string())]);
    let not_found = |q: &str| error_at(srv.get(&format!("CodeSystem/$lookup?{q}")), 404);
    assert_eq!(
        not_found(&format!("system={ABSENT}&code=A1")),
        ("not-found".into(), "system".into())
    );
    assert_eq!(
        not_found(&format!("system={SYSTEM}&code=ZZ")),
        ("not-found".into(), "code".into())
    );
    assert_eq!(
        not_found(&format!("system={SYSTEM}&code=A1&version=1999")),
        ("not-found".into(), "version".into())
    );
    let missing = |q: &str| error_at(srv.get(&format!("CodeSystem/$lookup?{q}")), 400);
    assert_eq!(missing(&format!("system={SYSTEM}")).1, "code");
    assert_eq!(missing("code=A1").1, "system");
}

fn validate_code_on_imported_terminology(srv: &TestServer) {
    // CodeSystem: valid, display mismatch (still valid, with a message), unknown code.
    let out = json_of(
        srv.get(&format!("CodeSystem/$validate-code?url={SYSTEM}&code=B1")),
        200,
    );
    assert_eq!(param(&out, "result"), true);
    assert_eq!(param(&out, "display"), "Beta");
    assert!(param(&out, "message").is_null());
    let out = json_of(
        srv.get(&format!(
            "CodeSystem/$validate-code?url={SYSTEM}&code=B1&display=Bravo"
        )),
        200,
    );
    assert_eq!(param(&out, "result"), true);
    assert!(param(&out, "message").as_str().unwrap().contains("Beta"));
    let out = json_of(
        srv.get(&format!(
            "CodeSystem/$validate-code?system={SYSTEM}&code=ZZ"
        )),
        200,
    );
    assert_eq!(param(&out, "result"), false);
    assert!(param(&out, "message").as_str().unwrap().contains("ZZ"));
    assert_eq!(
        error_at(
            srv.get(&format!("CodeSystem/$validate-code?url={ABSENT}&code=B1")),
            404
        ),
        ("not-found".into(), "url".into())
    );
    // ValueSet: member, not a member, a CodeableConcept with one member among its codings.
    let out = json_of(
        srv.get(&format!(
            "ValueSet/$validate-code?url={ALL}&system={SYSTEM}&code=A2"
        )),
        200,
    );
    assert_eq!(param(&out, "result"), true);
    assert_eq!(param(&out, "display"), "Alpha two");
    let out = json_of(
        srv.get(&format!(
            "ValueSet/$validate-code?url={ALL}&coding={SYSTEM}|ZZ"
        )),
        200,
    );
    assert_eq!(param(&out, "result"), false);
    assert!(param(&out, "message").as_str().unwrap().contains(ALL));
    let body = parameters(json!([
        {"name": "url", "valueUri": ALL},
        {"name": "codeableConcept", "valueCodeableConcept": {"coding": [
            {"system": SYSTEM, "code": "ZZ"},
            {"system": SYSTEM, "code": "C1"}
        ]}}
    ]));
    let out = json_of(srv.post("ValueSet/$validate-code", &body), 200);
    assert_eq!(param(&out, "result"), true);
    assert_eq!(param(&out, "display"), "Gamma");
    // A system the value set includes but that is not loaded: undecided, so false.
    let out = json_of(
        srv.get(&format!(
            "ValueSet/$validate-code?url={MIXED}&system={ABSENT}&code=X"
        )),
        200,
    );
    assert_eq!(param(&out, "result"), false);
    assert!(
        param(&out, "message")
            .as_str()
            .unwrap()
            .contains("could not be decided"),
        "{out}"
    );
    let out = json_of(
        srv.get("ValueSet/mixed/$validate-code?system=http://example.org/CodeSystem/test&code=B1"),
        200,
    );
    assert_eq!(param(&out, "result"), true);
    assert_eq!(
        error_at(
            srv.get("ValueSet/$validate-code?url=http://example.org/ValueSet/none&code=A1"),
            404
        ),
        ("not-found".into(), "url".into())
    );
    assert_eq!(
        error_at(srv.get(&format!("ValueSet/$validate-code?url={ALL}")), 400).1,
        "code"
    );
}

fn expand_imported_value_sets(srv: &TestServer) {
    let vs = json_of(srv.get(&format!("ValueSet/$expand?url={ALL}")), 200);
    assert_eq!(vs["resourceType"], "ValueSet");
    assert_eq!(vs["url"], ALL);
    let e = &vs["expansion"];
    assert!(e["identifier"].as_str().unwrap().starts_with("urn:uuid:"));
    assert!(e["timestamp"].is_string());
    assert_eq!(e["total"], 5);
    assert_eq!(codes(&vs), ["A1", "A2", "B1", "C1", "GRP"]);
    assert_eq!(e["contains"][0]["system"], SYSTEM);
    assert_eq!(e["contains"][0]["display"], "Alpha one");
    // Filter on display or code, case-insensitive; paging over the sorted list.
    let vs = json_of(
        srv.get(&format!("ValueSet/$expand?url={ALL}&filter=ALPHA")),
        200,
    );
    assert_eq!(codes(&vs), ["A1", "A2"]);
    assert_eq!(vs["expansion"]["total"], 2);
    let body = parameters(json!([
        {"name": "url", "valueUri": ALL},
        {"name": "count", "valueInteger": 2},
        {"name": "offset", "valueInteger": 1}
    ]));
    let vs = json_of(srv.post("ValueSet/$expand", &body), 200);
    assert_eq!(codes(&vs), ["A2", "B1"]);
    assert_eq!(vs["expansion"]["total"], 5);
    assert_eq!(vs["expansion"]["offset"], 1);
    let echoed: Vec<&str> = vs["expansion"]["parameter"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(echoed, ["url", "count", "offset"]);
    assert_eq!(
        error_at(
            srv.get(&format!("ValueSet/$expand?url={ALL}&count=10001")),
            400
        )
        .1,
        "count"
    );
    assert_eq!(
        error_at(
            srv.get("ValueSet/$expand?url=http://example.org/ValueSet/none"),
            404
        ),
        ("not-found".into(), "url".into())
    );
    assert_eq!(error_at(srv.get("ValueSet/$expand"), 400).1, "url");
    // Incomplete: refused whole, but a page gives what is known, marked unclosed.
    let (code, _) = error_at(srv.get(&format!("ValueSet/$expand?url={MIXED}")), 422);
    assert_eq!(code, "not-supported");
    let vs = json_of(srv.get("ValueSet/mixed/$expand?count=10"), 200);
    assert_eq!(codes(&vs).len(), 5);
    assert!(vs["expansion"].get("total").is_none());
    assert_eq!(vs["expansion"]["extension"][0]["valueBoolean"], true);
    assert!(vs.get("compose").is_none());
}

fn read_and_search_imported_resources(srv: &TestServer) {
    let bundle = srv.search(&format!("CodeSystem?url={SYSTEM}"));
    assert_eq!(bundle["type"], "searchset");
    assert_eq!(bundle["total"], 1);
    let listed = &bundle["entry"][0]["resource"];
    assert_eq!(listed["id"], "TestMaster");
    assert!(listed.get("concept").is_none(), "{listed}");
    assert_eq!(listed["meta"]["tag"][0]["code"], "SUBSETTED");
    assert_eq!(listed["count"], 5);
    let bundle = srv.search(&format!("CodeSystem?url={SYSTEM}&_summary=false"));
    assert_eq!(
        bundle["entry"][0]["resource"]["concept"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(srv.search("CodeSystem?name=testm")["total"], 1);
    assert_eq!(srv.search("CodeSystem?name=other")["total"], 0);
    assert_eq!(srv.search("CodeSystem?version=2024")["total"], 1);
    assert_eq!(srv.search("CodeSystem?_summary=count")["total"], 1);
    let cs = json_of(srv.get("CodeSystem/TestMaster"), 200);
    assert_eq!(cs["url"], SYSTEM);
    assert_eq!(cs["concept"].as_array().unwrap().len(), 5);
    // The imported ValueSet and the declared "all codes" one.
    let bundle = srv.search(&format!("ValueSet?url={ALL}"));
    assert_eq!(bundle["total"], 1);
    let id = bundle["entry"][0]["resource"]["id"].as_str().unwrap();
    let vs = json_of(srv.get(&format!("ValueSet/{id}")), 200);
    assert_eq!(vs["url"], ALL);
    assert_eq!(
        codes(&json_of(srv.get(&format!("ValueSet/{id}/$expand")), 200)).len(),
        5
    );
    assert_eq!(json_of(srv.get("ValueSet/mixed"), 200)["url"], MIXED);
    assert_eq!(srv.search("ValueSet?name=mix")["total"], 1);
    assert_eq!(error_at(srv.get("CodeSystem/nope"), 404).0, "not-found");
    assert_eq!(
        error_at(srv.get("ValueSet/nope/$expand"), 404).0,
        "not-found"
    );
}

/// Writes are refused with 405, over HTTP and in bundles; history does not exist.
fn writes_are_refused(srv: &TestServer) {
    let cs = json!({"resourceType": "CodeSystem", "status": "active", "content": "complete"});
    let r = srv.post("CodeSystem", &cs);
    let outcome = json_of(r, 405);
    let text = first_issue(&outcome)["diagnostics"].as_str().unwrap();
    assert!(text.contains("kyoyu codesets import"), "{text}");
    assert!(text.contains("package"), "{text}");
    let vs = json!({"resourceType": "ValueSet", "id": "x", "status": "active"});
    assert_eq!(srv.put("ValueSet/x", &vs).status(), 405);
    assert_eq!(srv.delete("CodeSystem/TestMaster").status(), 405);
    assert_eq!(srv.get("CodeSystem/TestMaster/_history").status(), 404);
    let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:a", "resource": cs, "request": {"method": "POST", "url": "CodeSystem"}}
    ]});
    assert_eq!(srv.post("", &bundle).status(), 405);
    assert_eq!(srv.search("CodeSystem?url=urn:none")["total"], 0);
}

fn capability_statement_lists_terminology(srv: &TestServer) {
    let cs = json_of(srv.get("metadata"), 200);
    let resource = |t: &str| {
        cs["rest"][0]["resource"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["type"] == t)
            .unwrap()
            .clone()
    };
    let names = |r: &Value, k: &str, f: &str| -> Vec<String> {
        r[k].as_array()
            .unwrap()
            .iter()
            .map(|x| x[f].as_str().unwrap().to_string())
            .collect()
    };
    let code_system = resource("CodeSystem");
    assert_eq!(
        names(&code_system, "interaction", "code"),
        ["read", "search-type"]
    );
    assert_eq!(
        names(&code_system, "operation", "name"),
        ["lookup", "validate-code", "validate"]
    );
    assert!(names(&code_system, "searchParam", "name").contains(&"url".to_string()));
    let value_set = resource("ValueSet");
    assert_eq!(
        names(&value_set, "operation", "name"),
        ["expand", "validate-code", "validate"]
    );
    assert!(names(&resource("Patient"), "interaction", "code").contains(&"create".to_string()));
}

fn imported(backend: Backend) {
    let srv = imported_server(backend);
    lookup_of_imported_codes(&srv);
    validate_code_on_imported_terminology(&srv);
    expand_imported_value_sets(&srv);
    read_and_search_imported_resources(&srv);
    writes_are_refused(&srv);
    capability_statement_lists_terminology(&srv);
}

#[test]
fn imported_terminology_sqlite() {
    imported(Backend::Sqlite);
}

#[test]
fn imported_terminology_postgres() {
    if !common::postgres_or_skip() {
        return;
    }
    imported(Backend::Postgres);
}

const CORE_LABO: &str =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_CoreLabo_CS";
const ALB_VS: &str =
    "http://jpfhir.jp/fhir/clins/ValueSet/JLAC10/JP_CLINS_ObsLabResult_CoreLabo_alb_VS";

fn clins_server() -> TestServer {
    let paths: Vec<std::path::PathBuf> = common::JP_PACKAGES
        .iter()
        .map(|f| common::shared_data(&format!("packages/{f}")))
        .collect();
    TestServer::start_with(
        Backend::Sqlite,
        Options {
            configure: Box::new(move |a| a.validation.packages = paths),
            ..Default::default()
        },
    )
}

#[test]
fn jp_clins_terminology_over_http() {
    let srv = clins_server();
    // $expand: the seven albumin codes, in pages.
    let vs = json_of(srv.get(&format!("ValueSet/$expand?url={ALB_VS}")), 200);
    assert_eq!(vs["expansion"]["total"], 7);
    assert_eq!(vs["name"], "JP_CLINS_ValueSet_CoreLaboJLAC10_alb_VS");
    let all = codes(&vs);
    assert!(all.contains(&"3A015000002329101".to_string()));
    let page = |offset: usize| {
        codes(&json_of(
            srv.get(&format!(
                "ValueSet/$expand?url={ALB_VS}&count=3&offset={offset}"
            )),
            200,
        ))
    };
    let pages: Vec<String> = [page(0), page(3), page(6)].concat();
    assert_eq!(page(0).len(), 3);
    assert_eq!(page(6).len(), 1);
    assert_eq!(pages, all);
    let vs = json_of(
        srv.get("ValueSet/jp-clins-valueset-corelaboJLAC10-alb-vs/$expand"),
        200,
    );
    assert_eq!(codes(&vs), all);
    // $validate-code: a member, a code of another item, GET and POST.
    let get = |code: &str| {
        json_of(
            srv.get(&format!(
                "ValueSet/$validate-code?url={ALB_VS}&system={CORE_LABO}&code={code}"
            )),
            200,
        )
    };
    let out = get("3A015000002329101");
    assert_eq!(param(&out, "result"), true);
    assert_eq!(param(&out, "display"), "ALB");
    assert_eq!(param(&get("3B070000002327101"), "result"), false);
    let body = parameters(json!([
        {"name": "url", "valueUri": ALB_VS},
        {"name": "coding", "valueCoding": {"system": CORE_LABO, "code": "3A015000002329101", "display": "アルブミン"}}
    ]));
    let out = json_of(srv.post("ValueSet/$validate-code", &body), 200);
    assert_eq!(param(&out, "result"), true);
    assert!(param(&out, "message").is_null(), "{out}");
    let out = json_of(
        srv.get(&format!(
            "CodeSystem/$validate-code?url={CORE_LABO}&code=3A015000002329101&display=Wrong"
        )),
        200,
    );
    assert_eq!(param(&out, "result"), true);
    assert!(param(&out, "message").is_string());
    // $lookup: the item code is the parent.
    let out = json_of(
        srv.get(&format!(
            "CodeSystem/$lookup?system={CORE_LABO}&code=3A015000002329101"
        )),
        200,
    );
    assert_eq!(
        param(&out, "name"),
        "JP_CLINS_CodeSystem_JLAC10_CoreLabo_CS"
    );
    assert_eq!(param(&out, "version"), "1.5.0");
    assert_eq!(param(&out, "display"), "ALB");
    assert_eq!(
        properties(&out),
        [("parent".to_string(), "ALB".to_string())]
    );
    let body = parameters(json!([
        {"name": "system", "valueUri": CORE_LABO},
        {"name": "code", "valueCode": "ALB"}
    ]));
    let out = json_of(srv.post("CodeSystem/$lookup", &body), 200);
    assert_eq!(
        properties(&out)
            .iter()
            .filter(|(p, _)| p == "child")
            .count(),
        7
    );
    // Read and search by url.
    let bundle = srv.search(&format!("CodeSystem?url={CORE_LABO}"));
    assert_eq!(bundle["total"], 1);
    let id = bundle["entry"][0]["resource"]["id"].as_str().unwrap();
    assert_eq!(id, "jp-clins-codesystem-JLAC10-corelabo-cs");
    assert!(
        bundle["entry"][0]["fullUrl"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/CodeSystem/{id}"))
    );
    let cs = json_of(srv.get(&format!("CodeSystem/{id}")), 200);
    assert_eq!(cs["url"], CORE_LABO);
    assert!(cs["concept"].is_array());
    let summary = srv.search(&format!("CodeSystem?url={CORE_LABO}&_summary=true"));
    assert!(summary["entry"][0]["resource"].get("concept").is_none());
    let bundle = srv.search(&format!("ValueSet?url={ALB_VS}"));
    assert_eq!(
        bundle["entry"][0]["resource"]["id"],
        "jp-clins-valueset-corelaboJLAC10-alb-vs"
    );
    // Refusals and not-found answers name what is wrong.
    let r = srv
        .client
        .post(srv.url("CodeSystem"))
        .header("content-type", FHIR_JSON)
        .body(cs.to_string())
        .send()
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(
        error_at(
            srv.get(&format!("CodeSystem/$lookup?system={CORE_LABO}&code=NOPE")),
            404
        ),
        ("not-found".into(), "code".into())
    );
    assert_eq!(
        error_at(srv.get(&format!("ValueSet/$expand?url={ALB_VS}-not")), 404).1,
        "url"
    );
}
