//! Every family of OperationOutcome text in Japanese for a client that asks (`Accept-Language:
//! ja`): value and calendar checks, IG-release notes, document rules, search notes, transaction
//! entries, 403, 409 and 412 refusals; and `Vary: Accept-Language` on each, so no cache hands
//! one language to a client that asked for the other.

use crate::common;

use common::documents::{VERSION, referral, set_version};
use common::principals::{Principal, SignedIn};
use common::{Backend, Options, TestServer, with_shipped_profiles};
use reqwest::blocking::RequestBuilder;
use serde_json::{Value, json};

struct Answer {
    status: u16,
    vary: String,
    language: Option<String>,
    body: Value,
}

fn send(request: RequestBuilder, language: &str) -> Answer {
    let r = request.header("accept-language", language).send().unwrap();
    let header = |name: &str| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    Answer {
        status: r.status().as_u16(),
        vary: header("vary").unwrap_or_default(),
        language: header("content-language"),
        body: r.json().unwrap_or(Value::Null),
    }
}

fn post(srv: &TestServer, path: &str, body: &Value, language: &str) -> Answer {
    let request = srv
        .client
        .post(srv.url(path))
        .header("content-type", common::FHIR_JSON)
        .body(body.to_string());
    send(request, language)
}

/// The diagnostics of every issue of an OperationOutcome.
fn diagnostics(outcome: &Value) -> Vec<String> {
    outcome["issue"]
        .as_array()
        .unwrap_or_else(|| panic!("not an OperationOutcome: {outcome}"))
        .iter()
        .filter_map(|i| i["diagnostics"].as_str().map(str::to_string))
        .collect()
}

/// The answer says `said` in one of its issues and varies on the language.
fn says(answer: &Answer, status: u16, said: &str) {
    assert_eq!(answer.status, status, "{}", answer.body);
    let all = diagnostics(&answer.body);
    assert!(
        all.iter().any(|d| d.contains(said)),
        "no issue says {said:?}: {all:?}"
    );
    assert!(
        answer.vary.to_ascii_lowercase().contains("accept-language"),
        "Vary is {:?}",
        answer.vary
    );
}

/// Japanese answers say so in `Content-Language`.
fn says_in_japanese(answer: &Answer, status: u16, said: &str) {
    says(answer, status, said);
    assert_eq!(answer.language.as_deref(), Some("ja"), "{}", answer.body);
}

/// English answers, the default, go unmarked.
fn says_in_english(answer: &Answer, status: u16, said: &str) {
    says(answer, status, said);
    assert_eq!(answer.language, None);
}

backend_test!(value_checks_are_told_in_japanese, |srv| {
    let patient = json!({"resourceType": "Patient", "birthDate": "2023-02-29", "gender": ["male"]});
    let ja = post(&srv, "Patient/$validate", &patient, "ja");
    says_in_japanese(&ja, 200, "2023-02 に 29 日はありません");
    says_in_japanese(&ja, 200, "配列ではなく単一の値でなければなりません");
    let en = post(&srv, "Patient/$validate", &patient, "en");
    says_in_english(&en, 200, "2023-02 has no day 29");
});

backend_test!(
    search_notes_and_transaction_entries_are_told_in_japanese,
    |srv| {
        let search = send(srv.client.get(srv.url("Patient?_unknown=1")), "ja");
        assert_eq!(search.status, 200);
        assert!(search.vary.contains("Accept-Language"), "{}", search.vary);
        let outcome = search.body["entry"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["search"]["mode"] == "outcome")
            .map(|e| e["resource"].clone())
            .unwrap();
        assert_eq!(
            diagnostics(&outcome),
            ["検索パラメータ '_unknown' には対応していないため、無視しました"]
        );

        let transaction = json!({
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [{"resource": {"resourceType": "Patient"}}]
        });
        let ja = post(&srv, "", &transaction, "ja");
        says_in_japanese(&ja, 400, "entry.request は必須です");
        let en = post(&srv, "", &transaction, "en");
        says_in_english(&en, 400, "entry.request is required");

        let batch = json!({
            "resourceType": "Bundle",
            "type": "batch",
            "entry": [{"request": {"method": "PATCH", "url": "Patient/1"}}]
        });
        let ja = post(&srv, "", &batch, "ja");
        assert_eq!(ja.status, 200, "{}", ja.body);
        assert!(ja.vary.contains("Accept-Language"), "{}", ja.vary);
        let failed = &ja.body["entry"][0]["response"]["outcome"];
        assert_eq!(
            diagnostics(failed),
            [
                "PATCH の entry では、JSON Patch を Binary リソース（contentType application/json-patch+json、data にパッチの base64）で、または FHIRPath Patch を Parameters リソースで送ってください"
            ]
        );
    }
);

backend_test!(a_failed_precondition_is_told_in_japanese, |srv| {
    let created = srv.create(&json!({"resourceType": "Patient", "active": true}));
    let id = created["id"].as_str().unwrap();
    let mut changed = created.clone();
    changed["active"] = json!(false);
    let request = srv
        .client
        .put(srv.url(&format!("Patient/{id}")))
        .header("content-type", common::FHIR_JSON)
        .header("if-match", "W/\"5\"")
        .body(changed.to_string());
    let ja = send(request, "ja");
    says_in_japanese(
        &ja,
        412,
        &format!(
            "If-Match は Patient/{id} のバージョン 5 を指定していますが、現在のバージョンは 1です"
        ),
    );
    assert_eq!(ja.language.as_deref(), Some("ja"));
});

fn shipped(backend: Backend) -> TestServer {
    common::require_shared_data();
    TestServer::start_with(
        backend,
        Options {
            configure: Box::new(with_shipped_profiles),
            ..Options::default()
        },
    )
}

backend_test!(
    release_notes_and_document_rules_are_told_in_japanese,
    |srv| {
        let srv = shipped(srv.backend);
        let doc = referral();
        let checked = post(&srv, "Bundle/$validate", &doc, "ja");
        says_in_japanese(&checked, 200, "で検証しました: ");

        let mut preliminary = doc.clone();
        preliminary["entry"][0]["resource"]["status"] = json!("preliminary");
        let refused = post(&srv, "Bundle", &preliminary, "ja");
        says_in_japanese(
            &refused,
            422,
            "文書は Composition.status が final のものを登録します（preliminary は登録できません）",
        );

        // A version older than the one registered: 409, in Japanese.
        let mut newer = doc.clone();
        set_version(&mut newer, "2");
        assert_eq!(post(&srv, "Bundle", &newer, "en").status, 201);
        let older = post(&srv, "Bundle", &doc, "ja");
        says_in_japanese(&older, 409, "それより古いため反映しませんでした");
        assert!(
            doc["entry"][0]["resource"]["extension"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["url"] == VERSION),
            "the example carries its version"
        );
    }
);

#[derive(Debug, Clone, Copy)]
struct Operator;

impl Principal for Operator {
    fn grant(self) -> String {
        "role = \"operator\"".into()
    }
}

backend_test!(a_forbidden_write_is_told_in_japanese, |srv| {
    let signed = SignedIn::start(srv.backend, &[Operator], |_| {});
    let request = signed
        .srv
        .client
        .post(signed.srv.url("Patient"))
        .bearer_auth(Operator.token())
        .header("content-type", common::FHIR_JSON)
        .body(json!({"resourceType": "Patient"}).to_string());
    let ja = send(request, "ja");
    says_in_japanese(&ja, 403, "operator には書き込みの権限がありません");
});

/// The first run of three or more lower-case English words between two Japanese characters: a
/// sentence left untranslated inside a Japanese one.
fn english_sentence(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii()).find_map(|stretch| {
        let words: Vec<&str> = stretch
            .split(' ')
            .map(|t| t.trim_matches(|c: char| matches!(c, ',' | ';' | ':' | '(' | ')')))
            .collect();
        words
            .windows(3)
            .find(|w| {
                w.iter()
                    .all(|t| t.len() > 1 && t.chars().all(|c| c.is_ascii_lowercase()))
            })
            .map(|w| w.join(" "))
    })
}

/// As [`says_in_japanese`], and the issue that says it has no English in it.
fn says_only_japanese(answer: &Answer, status: u16, said: &str) {
    says_in_japanese(answer, status, said);
    for d in diagnostics(&answer.body)
        .iter()
        .filter(|d| d.contains(said))
    {
        assert_eq!(english_sentence(d), None, "English left in {d}");
    }
}

backend_test!(
    narrative_and_code_system_findings_are_japanese_throughout,
    |srv| {
        let observation = json!({
            "resourceType": "Observation",
            "status": "final",
            "text": {"status": "generated",
                "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p onclick=\"x()\">山田</p></div>"},
            "code": {"coding": [{"system": "http://medis.or.jp/CodeSystem/master-JLAC10-17digits",
                "code": "3A01500000232910X"}]}
        });
        let ja = post(&srv, "Observation/$validate", &observation, "ja");
        says_only_japanese(
            &ja,
            200,
            "<p> にイベント属性 'onclick' があります: ナラティブにスクリプトは使えません",
        );
        says_only_japanese(
            &ja,
            200,
            "JLAC10 コード 3A01500000232910X: 結果識別（16〜17 文字目）は数字 2 桁でなければなりませんが、\"0X\" です",
        );
        let en = post(&srv, "Observation/$validate", &observation, "en");
        says_in_english(&en, 200, "<p> has the event attribute 'onclick'");
        says_in_english(
            &en,
            200,
            "JLAC10 code 3A01500000232910X: the result field (characters 16–17) must be 2 digits",
        );
    }
);

backend_test!(
    terminology_refusals_and_unreadable_bodies_are_japanese_throughout,
    |srv| {
        let expand = send(srv.client.get(srv.url("ValueSet/$expand")), "ja");
        says_only_japanese(
            &expand,
            400,
            "ValueSet/$expand には値セットの指定が必要です",
        );
        let search = send(srv.client.get(srv.url("Patient?_count=x")), "ja");
        says_only_japanese(
            &search,
            400,
            "検索パラメータ '_count' の値 'x' が正しくありません: 0 以上の整数でなければなりません",
        );
        let history = send(srv.client.get(srv.url("Patient/_history?_count=x")), "ja");
        says_only_japanese(
            &history,
            400,
            "検索パラメータ '_count' の値 'x' が正しくありません: 0 以上の整数でなければなりません",
        );
        let xml = srv
            .client
            .post(srv.url("Patient"))
            .header("content-type", "application/fhir+xml")
            .header("accept", common::FHIR_JSON)
            .body("<Patient xmlns=\"http://hl7.org/fhir\">\n  <id value=\"a\">\n</Patient>");
        let xml = send(xml, "ja");
        says_only_japanese(&xml, 400, "</id> があるべきところに </Patient> があります");
        let json = srv
            .client
            .post(srv.url("Patient"))
            .header("content-type", common::FHIR_JSON)
            .body("{\"resourceType\": \"Patient\",\n \"active\": tru}");
        says_only_japanese(
            &send(json, "ja"),
            400,
            "true、false、null のいずれかであるべきところです",
        );
    }
);
