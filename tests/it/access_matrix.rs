//! The access matrix (issue #20): every resource type the server stores (from the server's own
//! type list; bodies generated from the R4 Patient CompartmentDefinition, SearchParameters and
//! StructureDefinitions of the core package, plus checkup reports registered as documents) × every
//! role × read, vread, instance/type/system
//! history, search by `_id`, counts, paging, batch and transaction entries (GET read and `_id`
//! search, conditional create, conditional delete). Data is written once per backend, on one
//! server per backend.
//! A cell fails when it returns, lists, counts or reveals (by a different refusal than for a
//! resource that does not exist) what the role may not read.

use crate::common;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use common::Backend;
use common::documents::{CONSENT_CATEGORY, INSURER_SYSTEM};
use common::hospitals::{A, B, MEMBER_SYSTEM};
use common::principals::{Principal, SignedIn, emergency, grant};
use kyoyu::config::ConfigArgs;
use kyoyu::packages::Package;
use serde_json::{Map, Value, json};

const C: &str = "1311234567";
const MEMBER_1: &str = "00012345:あいう:１８７:11";
const MEMBER_2: &str = "00012345:あいう:１８７:12";
/// The insurer of both patients' member identifiers.
const INSURER: &str = "00012345";
/// The insurer a Coverage of patient 2's checkup report names as its payor.
const COVERAGE_INSURER: &str = "06123456";
/// Served from the audit trail, not the resource store (`GET AuditEvent` is the trail).
const NOT_STORED: &[&str] = &["AuditEvent"];
/// Stored only as extracted from documents (a direct write is refused): their cells are in
/// `access.rs`, which submits a referral carrying a prescription. The matrix checks that the
/// server still refuses the direct write, so this list cannot go stale.
const WRITTEN_BY_DOCUMENTS: &[&str] = &["MedicationRequest"];
const ABSENT: &str = "0f7e0000-0000-4000-8000-00000000dead";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Role {
    /// Institution A: writes every resource of the matrix.
    A,
    /// Institution B: no consent.
    B,
    /// Institution C: patient 1's active consent in both categories.
    C,
    /// A practitioner of B holding the emergency permission, declaring an emergency.
    Emergency,
    /// A practitioner of B without the permission, declaring one: refused whatever it asks.
    Undeclarable,
    Patient1,
    Patient2,
    /// The insurer of both patients' member identifiers.
    Insurer,
    /// The insurer named only by the Coverage of patient 2's checkup report.
    CoverageInsurer,
    /// An insurer of nobody here.
    OtherInsurer,
    Operator,
}

const ROLES: [Role; 11] = [
    Role::A,
    Role::B,
    Role::C,
    Role::Emergency,
    Role::Undeclarable,
    Role::Patient1,
    Role::Patient2,
    Role::Insurer,
    Role::CoverageInsurer,
    Role::OtherInsurer,
    Role::Operator,
];

impl Principal for Role {
    fn grant(self) -> String {
        match self {
            Role::A => grant::institution(A),
            Role::B => grant::institution(B),
            Role::C => grant::institution(C),
            Role::Emergency => grant::emergency_practitioner(B),
            Role::Undeclarable => grant::practitioner(B),
            Role::Patient1 => grant::patient(MEMBER_SYSTEM, MEMBER_1),
            Role::Patient2 => grant::patient(MEMBER_SYSTEM, MEMBER_2),
            Role::Insurer => grant::insurer(INSURER),
            Role::CoverageInsurer => grant::insurer(COVERAGE_INSURER),
            Role::OtherInsurer => grant::insurer("39999999"),
            Role::Operator => grant::operator(),
        }
    }

    fn headers(self) -> Vec<(&'static str, String)> {
        if matches!(self, Role::Emergency | Role::Undeclarable) {
            emergency("unconscious")
        } else {
            Vec::new()
        }
    }
}

/// Who may read a stored record, by the rules of DESIGN §9 as the README states them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Outside every patient compartment: shared.
    Shared,
    /// A Bundle that is no document: its writer only.
    Private,
    /// Patient data under the consent categories.
    Clinical,
    /// A Consent: its writer and its patient.
    Consent,
    /// A checkup report (健康診断結果報告書): patient data under consent, and read by the
    /// insurers it names.
    Checkup { insurers: &'static [&'static str] },
}

#[derive(Debug, Clone)]
struct Record {
    res_type: String,
    id: String,
    writer: &'static str,
    /// 1 or 2; `None` for no patient.
    patient: Option<u8>,
    kind: Kind,
}

fn visible(role: Role, r: &Record) -> bool {
    let shared = r.kind == Kind::Shared;
    let clinical = matches!(r.kind, Kind::Clinical | Kind::Checkup { .. });
    let insures =
        |number: &str| matches!(r.kind, Kind::Checkup { insurers } if insurers.contains(&number));
    match role {
        Role::A => shared || r.writer == A,
        Role::B => shared || r.writer == B,
        Role::C => shared || r.writer == C || (clinical && r.patient == Some(1)),
        Role::Emergency => shared || r.writer == B || clinical,
        Role::Undeclarable => false,
        Role::Patient1 => shared || ((clinical || r.kind == Kind::Consent) && r.patient == Some(1)),
        Role::Patient2 => shared || ((clinical || r.kind == Kind::Consent) && r.patient == Some(2)),
        Role::Insurer => shared || insures(INSURER),
        Role::CoverageInsurer => shared || insures(COVERAGE_INSURER),
        Role::OtherInsurer => shared || insures("39999999"),
        Role::Operator => shared,
    }
}

/// A checkup report of `member` sent by institution A, with a Coverage whose payor is
/// `payor` when given: registered through `POST [base]/Bundle` as a document.
fn checkup(n: u8, member: &str, payor: Option<&str>) -> Value {
    let url = |k: u8| format!("urn:uuid:0b5e7a34-0000-4000-8000-0000000000{n}{k}");
    let mut entries = vec![
        json!({"fullUrl": url(2), "resource": {
            "resourceType": "Composition", "status": "final",
            "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/composition-clinicaldocument-versionNumber", "valueString": "1.0"}],
            "identifier": {"system": "http://jpfhir.jp/fhir/core/IdSystem/resourceInstance-identifier", "value": format!("{A}^2024^ck-{n}")},
            "type": {"coding": [{"system": "http://jpfhir.jp/fhir/Common/CodeSystem/doc-typecodes", "code": "53576-5"}]},
            "subject": {"reference": url(1)}, "date": "2024-06-10T09:00:00+09:00",
            "author": [{"display": "健診機関"}], "title": "健康診断結果報告書",
            "section": [{"title": "健診結果", "code": {"text": "01011"},
                "entry": [{"reference": url(3)}]}]}}),
        json!({"fullUrl": url(1), "resource": {"resourceType": "Patient",
            "identifier": [{"system": MEMBER_SYSTEM, "value": member}]}}),
        json!({"fullUrl": url(3), "resource": {
            "resourceType": "Observation", "status": "final", "code": {"text": "身長"},
            "subject": {"reference": url(1)}, "valueQuantity": {"value": 170.1, "unit": "cm"}}}),
    ];
    if let Some(payor) = payor {
        entries.push(
            json!({"fullUrl": url(4), "resource": {"resourceType": "Organization",
            "identifier": [{"system": INSURER_SYSTEM, "value": payor}]}}),
        );
        entries.push(
            json!({"fullUrl": url(5), "resource": {"resourceType": "Coverage",
            "status": "active", "beneficiary": {"reference": url(1)},
            "payor": [{"reference": url(4)}]}}),
        );
    }
    json!({
        "resourceType": "Bundle",
        "meta": {"profile": ["http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_eCheckupGeneral"]},
        "type": "document",
        "identifier": {"system": "http://jpfhir.jp/fhir/clins/bundle-identifier", "value": format!("{A}^2024^ck-{n}")},
        "timestamp": "2024-06-10T09:00:00+09:00",
        "entry": entries
    })
}

/// The R4 core package's view of one type: where its patient goes, and which elements repeat.
struct Core {
    /// type → the element path (below the type) of its first patient-compartment parameter.
    patient_path: BTreeMap<String, Option<String>>,
    /// `Type.a.b` → whether it repeats.
    repeats: HashMap<String, bool>,
}

fn load_core() -> Core {
    // Missing, the matrix cannot be generated: `shared_data` fails naming it.
    let path = common::shared_data(&format!("packages/{}", common::JP_PACKAGES[0]));
    let package = Package::load(&path).unwrap();
    let of = |t: &'static str| {
        package
            .resources
            .iter()
            .filter(move |r| r.resource_type == t)
    };
    let compartment = of("CompartmentDefinition")
        .find(|r| r.json()["code"] == "Patient")
        .unwrap()
        .json()
        .clone();
    let mut expressions: HashMap<(String, String), String> = HashMap::new();
    for sp in of("SearchParameter") {
        let code = sp.json()["code"].as_str().unwrap_or_default();
        let expression = sp.json()["expression"].as_str().unwrap_or_default();
        for base in sp.json()["base"].as_array().into_iter().flatten() {
            let base = base.as_str().unwrap_or_default();
            for part in expression.split('|') {
                let part = part.trim().trim_start_matches('(').trim_end_matches(')');
                if let Some(rest) = part.strip_prefix(&format!("{base}.")) {
                    let path = rest
                        .split(".where(")
                        .next()
                        .unwrap()
                        .split(" as ")
                        .next()
                        .unwrap()
                        .to_string();
                    expressions
                        .entry((base.to_string(), code.to_string()))
                        .or_insert(path);
                }
            }
        }
    }
    let mut patient_path = BTreeMap::new();
    for entry in compartment["resource"].as_array().unwrap() {
        let t = entry["code"].as_str().unwrap().to_string();
        let path = entry["param"].as_array().and_then(|params| {
            params
                .iter()
                .filter_map(Value::as_str)
                .find_map(|p| expressions.get(&(t.clone(), p.to_string())).cloned())
        });
        patient_path.insert(t, path);
    }
    let mut repeats = HashMap::new();
    for sd in of("StructureDefinition") {
        if sd.json()["kind"] != "resource" || sd.json()["derivation"] != "specialization" {
            continue;
        }
        for e in sd.json()["snapshot"]["element"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if let (Some(path), Some(max)) = (e["path"].as_str(), e["max"].as_str()) {
                repeats.insert(path.to_string(), max != "1" && max != "0");
            }
        }
    }
    Core {
        patient_path,
        repeats,
    }
}

/// A minimal resource of `res_type`, naming `patient` at `path` when there is one.
fn body(core: &Core, res_type: &str, path: Option<&str>, patient: &str) -> Value {
    let mut root = Map::new();
    root.insert("resourceType".into(), json!(res_type));
    match res_type {
        "Bundle" => {
            root.insert("type".into(), json!("collection"));
        }
        "Consent" => {
            root.insert("status".into(), json!("active"));
            root.insert(
                "category".into(),
                json!([{"coding": [{"system": CONSENT_CATEGORY, "code": "conditions-infections"}]}]),
            );
        }
        _ => {}
    }
    let Some(path) = path else {
        return Value::Object(root);
    };
    let segments: Vec<&str> = path.split('.').collect();
    let mut leaf = json!({"reference": format!("Patient/{patient}")});
    for depth in (0..segments.len()).rev() {
        let full = format!("{res_type}.{}", segments[..=depth].join("."));
        let repeats = core.repeats.get(&full).copied().unwrap_or(false);
        let node = if repeats { json!([leaf]) } else { leaf };
        leaf = if depth == 0 {
            root.insert(segments[0].to_string(), node);
            break;
        } else {
            json!({ segments[depth]: node })
        };
    }
    Value::Object(root)
}

struct Matrix {
    s: SignedIn<Role>,
    records: Vec<Record>,
    types: Vec<String>,
}

impl Matrix {
    /// A request as `role`: its status, its JSON body (`Null` when it has none) and the body as
    /// written, which the refusals are compared by.
    fn request(
        &self,
        role: Role,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value, String) {
        let (status, text) = self.s.send_text(role, method, path, body, &[]);
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        )
    }

    fn get(&self, role: Role, path: &str) -> (u16, Value, String) {
        self.request(role, reqwest::Method::GET, path, None)
    }

    fn post(&self, role: Role, path: &str, body: &Value) -> (u16, Value, String) {
        self.request(role, reqwest::Method::POST, path, Some(body))
    }
}

fn start(backend: Backend, core: &Core) -> Matrix {
    let s = SignedIn::start(backend, &ROLES, |a: &mut ConfigArgs| {
        // Access, not profiles, is under test: bodies are minimal, not valid.
        a.validate_on_write = Some(false);
        a.max_count = Some(1000);
    });
    let mut m = Matrix {
        s,
        records: Vec::new(),
        types: Vec::new(),
    };
    let mut patients = Vec::new();
    for (n, member) in [(1, MEMBER_1), (2, MEMBER_2)] {
        let id = m.s.create(
            Role::A,
            &json!({"resourceType": "Patient",
                    "identifier": [{"system": MEMBER_SYSTEM, "value": member}]}),
        );
        m.records.push(Record {
            res_type: "Patient".into(),
            id: id.clone(),
            writer: A,
            patient: Some(n),
            kind: Kind::Clinical,
        });
        patients.push(id);
    }
    let consent = json!({"resourceType": "Consent", "status": "active",
        "patient": {"reference": format!("Patient/{}", patients[0])},
        "category": [
            {"coding": [{"system": CONSENT_CATEGORY, "code": "conditions-infections"}]},
            {"coding": [{"system": CONSENT_CATEGORY, "code": "allergies-labs-prescriptions"}]}],
        "provision": {"period": {"start": "2020-01-01"}}});
    let id = m.s.create(Role::C, &consent);
    m.records.push(Record {
        res_type: "Consent".into(),
        id,
        writer: C,
        patient: Some(1),
        kind: Kind::Consent,
    });
    let checkups: [(u8, &str, Option<&str>, &'static [&'static str]); 2] = [
        (1, MEMBER_1, None, &[INSURER]),
        (
            2,
            MEMBER_2,
            Some(COVERAGE_INSURER),
            &[INSURER, COVERAGE_INSURER],
        ),
    ];
    for (n, member, payor, insurers) in checkups {
        let id = m.s.create(Role::A, &checkup(n, member, payor));
        m.records.push(Record {
            res_type: "Bundle".into(),
            id,
            writer: A,
            patient: Some(n),
            kind: Kind::Checkup { insurers },
        });
    }
    for &t in kyoyu::fhir::resource_types::RESOURCE_TYPES {
        if kyoyu::interactions::terminology::is_managed(t) || NOT_STORED.contains(&t) {
            continue;
        }
        // Not served (nothing delivers a Subscription): the matrix checks the write is still
        // refused, so the type rejoins the matrix when it is served.
        if kyoyu::interactions::UNSERVED_TYPES.contains(&t) {
            let body = json!({"resourceType": t});
            let (status, refused, _) = m.post(Role::A, t, &body);
            assert_eq!(status, 404, "{t} is written now: add it to the matrix");
            assert_eq!(refused["issue"][0]["code"], "not-supported", "{refused}");
            continue;
        }
        m.types.push(t.to_string());
        if t == "Patient" {
            continue; // the two patients above
        }
        let path = core.patient_path.get(t).cloned().flatten();
        let resource = body(core, t, path.as_deref(), &patients[0]);
        let kind = match (t, &path) {
            ("Consent", _) => Kind::Consent,
            ("Bundle", _) => Kind::Private,
            (_, Some(_)) => Kind::Clinical,
            (_, None) => Kind::Shared,
        };
        if WRITTEN_BY_DOCUMENTS.contains(&t) {
            let (status, refused, _) = m.post(Role::A, t, &resource);
            assert_eq!(
                status, 422,
                "{t} is written directly now: add it to the matrix"
            );
            assert_eq!(refused["issue"][0]["code"], "not-supported", "{refused}");
            continue;
        }
        let id = m.s.create(Role::A, &resource);
        m.records.push(Record {
            res_type: t.to_string(),
            id,
            writer: A,
            patient: path.as_ref().map(|_| 1),
            kind,
        });
    }
    m
}

struct Cells<'a> {
    m: &'a Matrix,
    role: Role,
    /// The cells that did not hold.
    failures: Vec<String>,
    checked: usize,
    /// (type, suffix) → the answer for a resource that does not exist, ids blanked.
    absent: HashMap<(String, String), (u16, String)>,
}

impl Cells<'_> {
    /// The institution the role writes for.
    fn institution(&self) -> Option<&'static str> {
        match self.role {
            Role::A => Some(A),
            Role::B | Role::Emergency | Role::Undeclarable => Some(B),
            Role::C => Some(C),
            Role::Patient1
            | Role::Patient2
            | Role::Insurer
            | Role::CoverageInsurer
            | Role::OtherInsurer
            | Role::Operator => None,
        }
    }

    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        self.checked += 1;
        if !ok {
            self.failures.push(format!("{:?}: {}", self.role, what()));
        }
    }

    fn absent(&mut self, res_type: &str, suffix: &str) -> (u16, String) {
        let key = (res_type.to_string(), suffix.to_string());
        if let Some(a) = self.absent.get(&key) {
            return a.clone();
        }
        let (status, _, text) = self
            .m
            .get(self.role, &format!("{res_type}/{ABSENT}{suffix}"));
        let a = (status, text.replace(ABSENT, "<id>"));
        self.absent.insert(key, a.clone());
        a
    }

    /// Read, vread and instance history of one record.
    fn by_id(&mut self, r: &Record) {
        let may = visible(self.role, r);
        // Version counts (`_history/9` of a resource with several versions) are in
        // `access_scope.rs`; every record here has one version.
        for suffix in ["", "/_history/1", "/_history"] {
            let path = format!("{}/{}{suffix}", r.res_type, r.id);
            let (status, body, text) = self.m.get(self.role, &path);
            if may {
                let ok = status == 200
                    && (suffix == "/_history" && body["total"] == 1 || body["id"] == r.id.as_str());
                self.check(ok, || format!("GET {path} → {status} {text}"));
            } else {
                let absent = self.absent(&r.res_type, suffix);
                let same = (status, text.replace(&r.id, "<id>")) == absent;
                let refused = self.role == Role::Undeclarable && status == 403;
                self.check(same || refused && !text.contains(&r.id), || {
                    format!("GET {path} → {status} {text}, not as absent {absent:?}")
                });
            }
        }
        // Search by `_id`: listed and counted exactly when it may be read.
        let path = format!("{}?_id={}", r.res_type, r.id);
        let (status, body, text) = self.m.get(self.role, &path);
        let listed = common::ids(&body).contains(&r.id);
        let total = body["total"].as_u64();
        let ok = if self.role == Role::Undeclarable {
            status == 403 && !text.contains(&r.id)
        } else {
            status == 200 && listed == may && total == Some(u64::from(may))
        };
        self.check(ok, || format!("GET {path} → {status} {text}"));
    }

    /// Counts and paging of one type, and its type history.
    fn by_type(&mut self, res_type: &str) {
        let of_type: Vec<&Record> = self
            .m
            .records
            .iter()
            .filter(|r| r.res_type == res_type)
            .collect();
        let want: BTreeSet<&str> = of_type
            .iter()
            .filter(|r| visible(self.role, r))
            .map(|r| r.id.as_str())
            .collect();
        let all_ids: Vec<&str> = of_type.iter().map(|r| r.id.as_str()).collect();
        let reveals = |text: &str| {
            all_ids
                .iter()
                .any(|id| !want.contains(id) && text.contains(id))
        };
        if self.role == Role::Undeclarable {
            for path in [
                format!("{res_type}?_count=0"),
                format!("{res_type}/_history"),
            ] {
                let (status, _, text) = self.m.get(self.role, &path);
                self.check(status == 403 && !reveals(&text), || {
                    format!("GET {path} → {status} {text}")
                });
            }
            return;
        }
        let path = format!("{res_type}?_count=0");
        let (status, body, text) = self.m.get(self.role, &path);
        self.check(
            status == 200 && body["total"].as_u64() == Some(want.len() as u64),
            || format!("GET {path} → {status} {text}, want total {}", want.len()),
        );
        // Paging one by one: every page only what may be read, all pages together all of it.
        // A type with one resource is covered by its count and `_id` cells.
        if of_type.len() > 1 {
            self.paging(res_type, &want, &reveals);
        }
        // Type history: institutions see their own writes, the others are refused.
        let path = format!("{res_type}/_history?_count=1000");
        let (status, _, text) = self.m.get(self.role, &path);
        self.check((status == 200 || status == 403) && !reveals(&text), || {
            format!("GET {path} → {status} {text}")
        });
    }

    fn paging(&mut self, res_type: &str, want: &BTreeSet<&str>, reveals: &dyn Fn(&str) -> bool) {
        let mut seen = BTreeSet::new();
        for offset in 0..=want.len() {
            let path = format!("{res_type}?_count=1&_offset={offset}");
            let (status, body, text) = self.m.get(self.role, &path);
            let page = common::ids(&body);
            let ok = status == 200
                && body["total"].as_u64() == Some(want.len() as u64)
                && !reveals(&text)
                && page.len() == usize::from(offset < want.len());
            self.check(ok, || format!("GET {path} → {status} {text}"));
            seen.extend(page);
        }
        let seen: BTreeSet<&str> = seen.iter().map(String::as_str).collect();
        self.check(&seen == want, || {
            format!("paging {res_type} shows {seen:?}, want {want:?}")
        });
    }

    /// System history, paged: never a version the role may not read.
    fn system(&mut self) {
        let hidden: Vec<&Record> = self
            .m
            .records
            .iter()
            .filter(|r| !visible(self.role, r))
            .collect();
        for offset in [0, 50, 100, 150] {
            let path = format!("_history?_count=50&_offset={offset}");
            let (status, _, text) = self.m.get(self.role, &path);
            for r in &hidden {
                if text.contains(&r.id) {
                    self.check(false, || {
                        format!("GET {path} → {status} shows {}/{}", r.res_type, r.id)
                    });
                }
            }
            self.check(status == 200 || status == 403, || {
                format!("GET {path} → {status}")
            });
        }
    }

    /// GET entries of a batch (all records in one) and of transactions (the readable ones in
    /// one, each other one alone, answered as one that does not exist).
    fn bundles(&mut self) {
        let get = |r: &Record| json!({"request": {"method": "GET", "url": format!("{}/{}", r.res_type, r.id)}});
        let records = self.m.records.clone();
        let batch = json!({"resourceType": "Bundle", "type": "batch",
                           "entry": records.iter().map(get).collect::<Vec<_>>()});
        let (status, body, text) = self.m.post(self.role, "", &batch);
        if self.role == Role::Undeclarable {
            self.check(status == 403, || format!("batch → {status}"));
        } else {
            for (i, r) in records.iter().enumerate() {
                let entry = &body["entry"][i];
                let code = entry["response"]["status"].as_str().unwrap_or_default();
                let may = visible(self.role, r);
                let ok = if may {
                    code.starts_with("200") && entry["resource"]["id"] == r.id.as_str()
                } else {
                    // Its 404 names the reference asked for, as for one that does not exist.
                    code.starts_with("404") && entry.get("resource").is_none()
                };
                self.check(status == 200 && ok, || {
                    format!("batch GET {}/{} → {status} {entry}", r.res_type, r.id)
                });
            }
            let _ = text;
        }
        let readable: Vec<&Record> = records.iter().filter(|r| visible(self.role, r)).collect();
        if !readable.is_empty() {
            let tx = json!({"resourceType": "Bundle", "type": "transaction",
                            "entry": readable.iter().map(|r| get(r)).collect::<Vec<_>>()});
            let (status, _, text) = self.m.post(self.role, "", &tx);
            self.check(status == 200, || {
                format!("transaction of readable GETs → {status} {text}")
            });
        }
        self.search_entries(&records);
        let absent_tx = json!({"resourceType": "Bundle", "type": "transaction",
            "entry": [{"request": {"method": "GET", "url": format!("Basic/{ABSENT}")}}]});
        let (absent_status, _, absent_text) = self.m.post(self.role, "", &absent_tx);
        let absent_text = absent_text.replace(&format!("Basic/{ABSENT}"), "<ref>");
        let role = self.role;
        for r in records.iter().filter(|r| !visible(role, r)) {
            let tx = json!({"resourceType": "Bundle", "type": "transaction", "entry": [get(r)]});
            let (status, _, text) = self.m.post(self.role, "", &tx);
            let same = status == absent_status
                && text.replace(&format!("{}/{}", r.res_type, r.id), "<ref>") == absent_text;
            self.check(same, || format!("transaction GET {}/{} → {status} {text}, not as absent {absent_status} {absent_text}", r.res_type, r.id));
        }
    }

    /// Search entries (`[type]?_id=`) of a batch and of a transaction: each record listed and
    /// counted exactly when it may be read, as by the direct `_id` search.
    fn search_entries(&mut self, records: &[Record]) {
        let search = |r: &Record| json!({"request": {"method": "GET", "url": format!("{}?_id={}", r.res_type, r.id)}});
        for kind in ["batch", "transaction"] {
            let bundle = json!({"resourceType": "Bundle", "type": kind,
                                "entry": records.iter().map(search).collect::<Vec<_>>()});
            let (status, body, text) = self.m.post(self.role, "", &bundle);
            if self.role == Role::Undeclarable {
                self.check(status == 403, || format!("{kind} of searches → {status}"));
                continue;
            }
            for (i, r) in records.iter().enumerate() {
                let may = visible(self.role, r);
                let found = &body["entry"][i]["resource"];
                let listed = common::ids(found).contains(&r.id);
                let ok = status == 200
                    && listed == may
                    && found["total"].as_u64() == Some(u64::from(may));
                self.check(ok, || {
                    format!("{kind} GET {}?_id={} → {status} {text}", r.res_type, r.id)
                });
            }
        }
    }

    /// Conditional delete entries of a batch and of a transaction: answered for every record
    /// exactly as for criteria that match nothing.
    fn conditional_delete_entries(&mut self, records: &[Record]) {
        let delete = |t: &str, id: &str| json!({"request": {"method": "DELETE", "url": format!("{t}?_id={id}")}});
        let mut entries = vec![delete("Basic", ABSENT)];
        entries.extend(records.iter().map(|r| delete(&r.res_type, &r.id)));
        let batch = json!({"resourceType": "Bundle", "type": "batch", "entry": entries});
        let (status, body, _) = self.m.post(self.role, "", &batch);
        let blank = |entry: &Value, t: &str, id: &str| {
            entry["response"]
                .to_string()
                .replace(&format!("{t}?_id={id}"), "<criteria>")
        };
        let absent = blank(&body["entry"][0], "Basic", ABSENT);
        for (i, r) in records.iter().enumerate() {
            let entry = &body["entry"][i + 1];
            let same = self.role == Role::Undeclarable && status == 403
                || status == 200 && blank(entry, &r.res_type, &r.id) == absent;
            self.check(same, || {
                format!(
                    "batch DELETE {}?_id={} → {entry}, not as absent {absent}",
                    r.res_type, r.id
                )
            });
        }
        let (absent_status, _, absent_text) = self.m.post(
            self.role,
            "",
            &json!({"resourceType": "Bundle", "type": "transaction", "entry": [delete("Basic", ABSENT)]}),
        );
        let absent_text = absent_text.replace(&format!("Basic?_id={ABSENT}"), "<criteria>");
        // Bundles do not take conditional deletes: they are refused while the Bundle is read,
        // before the store is asked, so one readable and one unreadable record stand for all.
        let role = self.role;
        let sample = [
            records.iter().find(|r| visible(role, r)),
            records.iter().find(|r| !visible(role, r)),
        ];
        for r in sample.into_iter().flatten() {
            let tx = json!({"resourceType": "Bundle", "type": "transaction", "entry": [delete(&r.res_type, &r.id)]});
            let (status, _, text) = self.m.post(self.role, "", &tx);
            let text = text.replace(&format!("{}?_id={}", r.res_type, r.id), "<criteria>");
            self.check(status == absent_status && text == absent_text, || {
                format!("transaction DELETE {}?_id={} → {status} {text}, not as absent {absent_status} {absent_text}", r.res_type, r.id)
            });
        }
    }

    /// Conditional create (transaction and batch `ifNoneExist`) and conditional delete by
    /// `_id`: what may not be read is no match, and nothing in the answer names it. Run last:
    /// a create that finds no match writes the caller's own resource.
    fn conditional(&mut self) {
        let records = self.m.records.clone();
        self.conditional_delete_entries(&records);
        let role = self.role;
        // A caller that may not write is refused before any match is looked for: one readable
        // and one unreadable record stand for all.
        let sample: Vec<&Record> = if self.institution().is_none() || role == Role::Undeclarable {
            [
                records.iter().find(|r| visible(role, r)),
                records.iter().find(|r| !visible(role, r)),
            ]
            .into_iter()
            .flatten()
            .collect()
        } else {
            records.iter().collect()
        };
        for r in sample {
            let may = visible(self.role, r);
            for kind in ["transaction", "batch"] {
                let bundle = json!({"resourceType": "Bundle", "type": kind, "entry": [{
                    "resource": {"resourceType": r.res_type},
                    "request": {"method": "POST", "url": r.res_type, "ifNoneExist": format!("_id={}", r.id)}}]});
                let (status, _, text) = self.m.post(self.role, "", &bundle);
                let ok = if may && status == 200 && self.role != Role::Undeclarable {
                    true
                } else {
                    !text.contains(&r.id)
                };
                self.check(ok, || {
                    format!("{kind} ifNoneExist _id={} → {status} {text}", r.id)
                });
            }
        }
        // A conditional delete looks for its match before the caller's right to write is
        // checked: every record.
        for r in &records {
            let may = visible(role, r);
            let patients_consent = r.kind == Kind::Consent
                && matches!(
                    (role, r.patient),
                    (Role::Patient1, Some(1)) | (Role::Patient2, Some(2))
                );
            if self.institution() == Some(r.writer) || patients_consent {
                continue; // its own data (a patient's own consent): a match would delete it
            }
            let path = format!("{}?_id={}", r.res_type, r.id);
            let (status, _, text) = self
                .m
                .request(self.role, reqwest::Method::DELETE, &path, None);
            let ok = if may {
                status != 204 && status != 200
            } else {
                let key = (r.res_type.clone(), "DELETE".to_string());
                let absent = match self.absent.get(&key) {
                    Some(a) => a.clone(),
                    None => {
                        let absent = format!("{}?_id={ABSENT}", r.res_type);
                        let (status, _, text) =
                            self.m
                                .request(self.role, reqwest::Method::DELETE, &absent, None);
                        let a = (status, text.replace(ABSENT, "<id>"));
                        self.absent.insert(key, a.clone());
                        a
                    }
                };
                (status, text.replace(&r.id, "<id>")) == absent
            };
            self.check(ok, || format!("DELETE {path} → {status} {text}"));
        }
    }
}

fn run(backend: Backend, core: &Core) {
    let m = start(backend, core);
    let started = std::time::Instant::now();
    // One thread per role; conditional writes only once every role has read: a create that
    // finds no match adds the caller's own resource, which the counts must not see.
    let read = |cells: &mut Cells<'_>| {
        for r in &cells.m.records {
            cells.by_id(r);
        }
        for t in &cells.m.types {
            cells.by_type(t);
        }
        cells.system();
        cells.bundles();
    };
    let mut all: Vec<Cells<'_>> = ROLES
        .iter()
        .map(|&role| Cells {
            m: &m,
            role,
            failures: Vec::new(),
            checked: 0,
            absent: HashMap::new(),
        })
        .collect();
    let conditional = |cells: &mut Cells<'_>| cells.conditional();
    let phases: [&(dyn Fn(&mut Cells<'_>) + Sync); 2] = [&read, &conditional];
    for phase in phases {
        std::thread::scope(|s| {
            for cells in all.iter_mut() {
                s.spawn(move || phase(cells));
            }
        });
    }
    let results = all.into_iter().map(|c| (c.failures, c.checked));
    let mut checked = 0;
    let mut failures = Vec::new();
    for (fs, n) in results {
        checked += n;
        failures.extend(fs);
    }
    eprintln!(
        "{backend:?}: {checked} cells over {} stored types × {} roles in {:.1?}",
        m.types.len(),
        ROLES.len(),
        started.elapsed(),
    );
    assert!(
        failures.is_empty(),
        "{} of {checked} cells fail:\n{}",
        failures.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn no_role_reads_counts_or_learns_of_what_it_may_not_read() {
    let core = load_core();
    for backend in common::backends() {
        run(backend, &core);
    }
}
