//! A FHIR client's everyday calls, sent as the client libraries send them (issue #25): the
//! headers of HAPI's generic client and of the Rust `fhir-sdk` (`Accept` with a `fhirVersion`
//! parameter and q-values, `Content-Type` with a charset, `Prefer: return=…`, `If-None-Exist`,
//! `If-Match`, `_format`, `_pretty`), create, conditional create, read, a transaction with
//! `urn:uuid` references, search with `_include` followed page by page through the `next`
//! links, a chain, a system-level search, a form-encoded `_search`, a versioned update and
//! history `_at`. No Rust client crate speaks R4 (4.0.1): `fhir-sdk` models R4B, R5 and STU3
//! only, from 200,000+ lines of generated code per version, so its requests are written here
//! by hand.

use crate::common;

use common::{Backend, TestServer, link};
use reqwest::blocking::{RequestBuilder, Response};
use serde_json::{Value, json};

/// What HAPI's generic client sends as Accept with a JSON encoding.
const HAPI_ACCEPT: &str = "application/fhir+json;q=1.0, application/json+fhir;q=0.9";
/// What `fhir-sdk` would send for R4 (its R4B and R5 models send 4.3 and 5.0).
const SDK_MIME: &str = "application/fhir+json; fhirVersion=4.0";
const CONTENT_TYPE: &str = "application/fhir+json; charset=UTF-8";
const MEMBER: &str = "http://example.org/mrn|client-1";

fn backends() -> Vec<Backend> {
    let mut out = vec![Backend::Sqlite];
    if common::postgres_or_skip() {
        out.push(Backend::Postgres);
    }
    out
}

/// A request with the headers every call of the client carries.
fn client(srv: &TestServer, method: reqwest::Method, url: &str) -> RequestBuilder {
    let url = if url.starts_with("http") {
        url.to_string()
    } else {
        srv.url(url)
    };
    srv.client
        .request(method, url)
        .header("accept", HAPI_ACCEPT)
        .header("accept-charset", "utf-8")
        .header(
            "user-agent",
            "HAPI-FHIR/8.0.0 (FHIR Client; FHIR 4.0.1/R4; apache)",
        )
}

fn json_of(r: Response) -> (u16, reqwest::header::HeaderMap, Value) {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    };
    (status, headers, body)
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Every page of a search, following `next` as clients do: (match ids, include ids).
fn all_pages(srv: &TestServer, first: &str) -> (Vec<String>, Vec<String>) {
    let (mut matches, mut included) = (Vec::new(), Vec::new());
    let mut url = first.to_string();
    for _ in 0..20 {
        let (status, _, page) = json_of(client(srv, reqwest::Method::GET, &url).send().unwrap());
        assert_eq!(status, 200, "{url}: {page}");
        assert_eq!(page["type"], "searchset");
        for e in page["entry"].as_array().into_iter().flatten() {
            let r = &e["resource"];
            let key = format!(
                "{}/{}",
                r["resourceType"].as_str().unwrap(),
                r["id"].as_str().unwrap()
            );
            match e["search"]["mode"].as_str() {
                Some("match") => matches.push(key),
                Some("include") => included.push(key),
                _ => {}
            }
        }
        match link(&page, "next") {
            Some(next) => url = next.to_string(),
            None => return (matches, included),
        }
    }
    panic!("more than 20 pages from {first}");
}

#[test]
fn a_clients_everyday_calls() {
    for backend in backends() {
        let srv = TestServer::start(backend);
        let get = |path: &str| client(&srv, reqwest::Method::GET, path);
        let post = |path: &str| client(&srv, reqwest::Method::POST, path);

        // The CapabilityStatement, asked for R4 as fhir-sdk does.
        let (status, headers, statement) = json_of(
            srv.client
                .get(srv.url("metadata"))
                .header("accept", SDK_MIME)
                .send()
                .unwrap(),
        );
        assert_eq!(status, 200, "{statement}");
        assert!(header(&headers, "content-type").starts_with("application/fhir+json"));
        assert_eq!(statement["fhirVersion"], "4.0.1");

        // Create, representation asked back.
        let patient = json!({"resourceType": "Patient",
            "identifier": [{"system": "http://example.org/mrn", "value": "client-1"}],
            "name": [{"family": "Client", "given": ["Ann"]}]});
        let (status, headers, created) = json_of(
            post("Patient")
                .header("content-type", CONTENT_TYPE)
                .header("prefer", "return=representation")
                .body(patient.to_string())
                .send()
                .unwrap(),
        );
        assert_eq!(status, 201, "{created}");
        let pid = created["id"].as_str().unwrap().to_string();
        assert!(
            header(&headers, "location").ends_with(&format!("/Patient/{pid}/_history/1")),
            "{headers:?}"
        );
        assert_eq!(header(&headers, "etag"), "W/\"1\"");
        // Conditional create of the same patient finds it: no second one.
        let (status, _, again) = json_of(
            post("Patient")
                .header("content-type", CONTENT_TYPE)
                .header("if-none-exist", format!("identifier={MEMBER}"))
                .header("prefer", "return=representation")
                .body(patient.to_string())
                .send()
                .unwrap(),
        );
        assert_eq!(status, 200, "{again}");
        assert_eq!(again["id"], pid.as_str());
        // Prefer: return=minimal leaves the body out.
        let (status, headers, minimal) = json_of(
            post("Patient")
                .header("content-type", CONTENT_TYPE)
                .header("prefer", "return=minimal")
                .body(json!({"resourceType": "Patient", "name": [{"family": "Other"}]}).to_string())
                .send()
                .unwrap(),
        );
        assert_eq!((status, minimal), (201, Value::Null));
        assert!(header(&headers, "location").contains("/Patient/"));
        // Read, with `_format` and `_pretty` as clients add them, and as XML.
        let (status, _, read) = json_of(
            get(&format!("Patient/{pid}?_format=json&_pretty=true"))
                .send()
                .unwrap(),
        );
        assert_eq!((status, read["id"].as_str()), (200, Some(pid.as_str())));
        let xml = srv
            .client
            .get(srv.url(&format!("Patient/{pid}")))
            .header("accept", "application/fhir+xml")
            .send()
            .unwrap();
        assert_eq!(xml.status(), 200);
        assert!(
            xml.text()
                .unwrap()
                .contains("<Patient xmlns=\"http://hl7.org/fhir\">")
        );

        // A transaction: an Encounter and three Observations, linked by urn:uuid, the
        // Encounter created only if none has its identifier.
        let observation = |n: usize| {
            json!({"fullUrl": format!("urn:uuid:00000000-0000-4000-8000-00000000000{n}"),
                "resource": {"resourceType": "Observation", "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7"}]},
                    "subject": {"reference": format!("Patient/{pid}")},
                    "encounter": {"reference": "urn:uuid:00000000-0000-4000-8000-0000000000e1"},
                    "valueQuantity": {"value": n, "unit": "mg/dL"}},
                "request": {"method": "POST", "url": "Observation"}})
        };
        let mut entries = vec![json!({
            "fullUrl": "urn:uuid:00000000-0000-4000-8000-0000000000e1",
            "resource": {"resourceType": "Encounter", "status": "finished",
                "identifier": [{"system": "http://example.org/visit", "value": "v1"}],
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                "subject": {"reference": format!("Patient/{pid}")}},
            "request": {"method": "POST", "url": "Encounter",
                "ifNoneExist": "identifier=http://example.org/visit|v1"}})];
        entries.extend((1..=3).map(observation));
        let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": entries});
        let (status, _, response) = json_of(
            post("")
                .header("content-type", CONTENT_TYPE)
                .body(bundle.to_string())
                .send()
                .unwrap(),
        );
        assert_eq!(status, 200, "{response}");
        assert_eq!(response["type"], "transaction-response");
        let statuses: Vec<&str> = response["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["response"]["status"].as_str().unwrap())
            .collect();
        assert!(
            statuses.iter().all(|s| s.starts_with("201")),
            "{statuses:?}"
        );

        // Search with _include, two per page, every page through `next`.
        let (matches, included) = all_pages(
            &srv,
            &format!(
                "Observation?subject=Patient/{pid}&_include=Observation:subject&_include=Observation:encounter&_count=2"
            ),
        );
        assert_eq!(matches.len(), 3, "{matches:?}");
        assert!(included.contains(&format!("Patient/{pid}")), "{included:?}");
        assert!(
            included.iter().any(|i| i.starts_with("Encounter/")),
            "{included:?}"
        );
        // The encounter's references were rewritten from urn:uuid to the stored ids.
        let (_, _, page) = json_of(
            get("Observation?encounter.identifier=http://example.org/visit|v1")
                .send()
                .unwrap(),
        );
        assert_eq!(page["total"], 3, "{page}");
        // A chain as clients write it.
        let (_, _, page) = json_of(
            get(&format!(
                "Observation?subject:Patient.identifier={MEMBER}&_summary=count"
            ))
            .send()
            .unwrap(),
        );
        assert_eq!(page["total"], 3, "{page}");
        // System-level search over both types, paged.
        let (matches, _) = all_pages(
            &srv,
            &format!("?_type=Patient,Observation&_id={pid},nope&_count=1"),
        );
        assert_eq!(matches, [format!("Patient/{pid}")]);
        let (matches, _) = all_pages(&srv, "?_type=Observation,Encounter&_count=2");
        assert_eq!(matches.len(), 4, "{matches:?}");
        // A form-encoded search, as clients send long queries.
        let (status, _, page) = json_of(
            post("Observation/_search")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("subject=Patient/{pid}&_count=10"))
                .send()
                .unwrap(),
        );
        assert_eq!((status, page["total"].as_i64()), (200, Some(3)), "{page}");

        // A versioned update: the current version's ETag wins, a stale one is refused.
        let mut changed = read.clone();
        changed["name"][0]["family"] = json!("Changed");
        let update = |etag: &str| {
            json_of(
                client(&srv, reqwest::Method::PUT, &format!("Patient/{pid}"))
                    .header("content-type", CONTENT_TYPE)
                    .header("if-match", etag)
                    .body(changed.to_string())
                    .send()
                    .unwrap(),
            )
        };
        let (status, headers, _) = update("W/\"1\"");
        assert_eq!(status, 200);
        assert_eq!(header(&headers, "etag"), "W/\"2\"");
        assert_eq!(update("W/\"1\"").0, 412);
        // History, then the version current when the patient was created.
        let (_, _, history) = json_of(get(&format!("Patient/{pid}/_history")).send().unwrap());
        assert_eq!(history["total"], 2, "{history}");
        let created_at = created["meta"]["lastUpdated"]
            .as_str()
            .unwrap()
            .replace('+', "%2B");
        let (status, _, then) = json_of(
            get(&format!("Patient/{pid}/_history?_at=le{created_at}"))
                .send()
                .unwrap(),
        );
        assert_eq!(status, 200, "{then}");
        assert_eq!(
            then["entry"][0]["resource"]["name"][0]["family"], "Client",
            "{then}"
        );
    }
}
