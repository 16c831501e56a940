//! Search over HTTP: token, reference, string, date, `_id` and `_lastUpdated` parameters with
//! their prefixes and modifiers; paging, sorting, unknown parameters, and what deletes and
//! updates do to results. Date expectations follow the R4 range semantics
//! (https://hl7.org/fhir/R4/search.html#prefix) with the server zone +09:00 for values written
//! without one.

use crate::common;

use std::collections::BTreeSet;

use common::{TestServer, first_issue, link};
use serde_json::{Value, json};

/// `Type?query` with every value form-encoded, so `+` (in a zone), `|` and kanji arrive as
/// written. `raw` is `name=value&name=value` with nothing encoded.
fn url(res_type: &str, raw: &str) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        s.append_pair(k, v);
    }
    format!("{res_type}?{}", s.finish())
}

/// The ids a search finds, sorted, checking that `total` agrees.
fn found(srv: &TestServer, res_type: &str, raw: &str) -> Vec<String> {
    let bundle = srv.search(&url(res_type, raw));
    assert_eq!(bundle["type"], "searchset");
    let mut ids = common::ids(&bundle);
    assert_eq!(bundle["total"], ids.len(), "{res_type}?{raw}: total");
    ids.sort();
    ids
}

/// Runs every `(query, expected ids)` case and reports all mismatches at once.
fn expect(srv: &TestServer, res_type: &str, cases: &[(&str, &[&str])]) {
    let mut wrong = Vec::new();
    for (raw, want) in cases {
        let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        want.sort();
        let got = found(srv, res_type, raw);
        if got != want {
            wrong.push(format!("{res_type}?{raw}: expected {want:?}, got {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

/// PUTs `resource` under its own id (update as create), returning the stored resource.
fn put(srv: &TestServer, resource: Value) -> Value {
    let t = resource["resourceType"].as_str().unwrap().to_string();
    let id = resource["id"].as_str().unwrap().to_string();
    let r = srv.put(&format!("{t}/{id}"), &resource);
    let status = r.status();
    let body: Value = r.json().unwrap();
    assert!(
        status == 200 || status == 201,
        "PUT {t}/{id}: {status} {body}"
    );
    body
}

/// Stores the targets the fixtures reference: writes refuse a reference to nothing.
fn targets(srv: &TestServer, references: &[&str]) {
    for reference in references {
        let (t, id) = reference.split_once('/').unwrap();
        let mut resource = json!({"resourceType": t, "id": id});
        if t == "Group" {
            resource["type"] = json!("person");
            resource["actual"] = json!(true);
        }
        put(srv, resource);
    }
}

/// A search that must fail with 400; returns the OperationOutcome.
fn bad_search(srv: &TestServer, path: &str) -> Value {
    let r = srv.get(path);
    let status = r.status();
    let body: Value = r.json().unwrap();
    assert_eq!(status, 400, "{path}: {body}");
    assert_eq!(body["resourceType"], "OperationOutcome", "{path}: {body}");
    body
}

fn get_json(srv: &TestServer, absolute: &str) -> Value {
    let r = srv.client.get(absolute).send().unwrap();
    assert_eq!(r.status(), 200, "{absolute}");
    r.json().unwrap()
}

fn coding(system: &str, code: &str) -> Value {
    json!({"coding": [{"system": system, "code": code}]})
}

const LOINC: &str = "http://loinc.org";
const LOCAL: &str = "http://example.jp/local-lab";
const OBS_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
const CLINICAL: &str = "http://terminology.hl7.org/CodeSystem/condition-clinical";

fn observation(id: &str) -> Value {
    json!({"resourceType": "Observation", "id": id, "status": "final",
           "code": coding(LOINC, "2345-7")})
}

backend_test!(token_search_on_code_system_and_code, |srv| {
    let mut glu = observation("glu");
    glu["code"] = json!({"coding": [
        {"system": LOINC, "code": "15074-8"},
        {"system": LOCAL, "code": "GLU"}
    ]});
    put(&srv, glu);
    let mut bare = observation("glu-no-system");
    bare["code"] = json!({"coding": [{"code": "GLU"}]});
    put(&srv, bare);
    let mut hba1c = observation("hba1c");
    hba1c["code"] = coding(LOINC, "4548-4");
    put(&srv, hba1c);
    let mut other = observation("other-system");
    other["code"] = coding("http://example.jp/other", "15074-8");
    put(&srv, other);

    expect(
        &srv,
        "Observation",
        &[
            ("code=http://loinc.org|15074-8", &["glu"]),
            ("code=15074-8", &["glu", "other-system"]),
            ("code=GLU", &["glu", "glu-no-system"]),
            ("code=|GLU", &["glu-no-system"]),
            ("code=http://example.jp/local-lab|GLU", &["glu"]),
            ("code=http://loinc.org|", &["glu", "hba1c"]),
            ("code=http://example.jp/nothing|", &[]),
            ("code=http://loinc.org|GLU", &[]),
            ("code=glu", &[]),
            // Comma: OR; repeated parameter: AND.
            ("code=4548-4,|GLU", &["glu-no-system", "hba1c"]),
            ("code=GLU&code=http://loinc.org|15074-8", &["glu"]),
            ("code=GLU&code=4548-4", &[]),
            ("code:not=GLU", &["hba1c", "other-system"]),
            ("code:not=GLU,4548-4", &["other-system"]),
            (
                "code:missing=false",
                &["glu", "glu-no-system", "hba1c", "other-system"],
            ),
            ("code:missing=true", &[]),
        ],
    );
});

backend_test!(token_search_on_identifier_category_and_status, |srv| {
    targets(&srv, &["Patient/p1"]);
    let sys = "http://jpfhir.jp/fhir/core/IdSystem/resourceInstance-identifier";
    let mut lab = observation("lab");
    lab["identifier"] = json!([{"system": sys, "value": "1311234567^2026^LAB-1"}]);
    lab["category"] = json!([coding(OBS_CATEGORY, "laboratory")]);
    put(&srv, lab);
    let mut vital = observation("vital");
    vital["identifier"] = json!([{"value": "V-1"}]);
    vital["category"] = json!([coding(OBS_CATEGORY, "vital-signs")]);
    vital["status"] = json!("amended");
    put(&srv, vital);
    let mut both = observation("both");
    both["category"] = json!([
        coding(OBS_CATEGORY, "laboratory"),
        coding(OBS_CATEGORY, "vital-signs")
    ]);
    both["status"] = json!("preliminary");
    put(&srv, both);
    let mut none = observation("uncategorized");
    none["status"] = json!("cancelled");
    put(&srv, none);

    expect(
        &srv,
        "Observation",
        &[
            (&format!("identifier={sys}|1311234567^2026^LAB-1"), &["lab"]),
            ("identifier=1311234567^2026^LAB-1", &["lab"]),
            ("identifier=|V-1", &["vital"]),
            (&format!("identifier={sys}|"), &["lab"]),
            ("identifier=LAB-1", &[]),
            ("identifier:missing=true", &["both", "uncategorized"]),
            ("category=laboratory", &["both", "lab"]),
            (
                &format!("category={OBS_CATEGORY}|vital-signs"),
                &["both", "vital"],
            ),
            ("category=laboratory&category=vital-signs", &["both"]),
            ("category=laboratory,vital-signs", &["both", "lab", "vital"]),
            // :not also finds resources without any value.
            ("category:not=laboratory", &["uncategorized", "vital"]),
            ("category:missing=true", &["uncategorized"]),
            ("category:missing=false", &["both", "lab", "vital"]),
            ("status=final", &["lab"]),
            ("status=final,amended", &["lab", "vital"]),
            ("status=|final", &["lab"]),
            ("status:not=final", &["both", "uncategorized", "vital"]),
            ("status:not=final&status:not=cancelled", &["both", "vital"]),
            ("status=final&category=laboratory", &["lab"]),
            ("status=FINAL", &[]),
        ],
    );

    let condition = |id: &str, status: &str| {
        json!({"resourceType": "Condition", "id": id,
               "clinicalStatus": coding(CLINICAL, status),
               "subject": {"reference": "Patient/p1"}})
    };
    put(&srv, condition("c-active", "active"));
    put(&srv, condition("c-resolved", "resolved"));
    put(
        &srv,
        json!({"resourceType": "Condition", "id": "c-none", "subject": {"reference": "Patient/p1"}}),
    );
    expect(
        &srv,
        "Condition",
        &[
            ("clinical-status=active", &["c-active"]),
            (
                &format!("clinical-status={CLINICAL}|resolved"),
                &["c-resolved"],
            ),
            ("clinical-status=http://example.jp/x|resolved", &[]),
            ("clinical-status:not=resolved", &["c-active", "c-none"]),
            ("clinical-status:missing=true", &["c-none"]),
            (
                "clinical-status=active,resolved",
                &["c-active", "c-resolved"],
            ),
        ],
    );
});

backend_test!(reference_search_by_type_and_id_in_every_form, |srv| {
    let obs = |id: &str, subject: &str| {
        let mut o = observation(id);
        o["subject"] = json!({"reference": subject});
        o
    };
    targets(&srv, &["Patient/p1", "Patient/p2", "Group/p1"]);
    put(&srv, obs("o-p1", "Patient/p1"));
    put(
        &srv,
        obs("o-p1-abs", "http://other.example.jp/fhir/Patient/p1"),
    );
    put(&srv, obs("o-p2", "Patient/p2"));
    put(&srv, obs("o-group", "Group/p1"));
    put(&srv, observation("o-nobody"));

    let base_p1 = format!("{}/Patient/p1", srv.base);
    expect(
        &srv,
        "Observation",
        &[
            ("patient=Patient/p1", &["o-p1", "o-p1-abs"]),
            ("patient=p1", &["o-p1", "o-p1-abs"]),
            ("patient=p2", &["o-p2"]),
            ("patient=p1,p2", &["o-p1", "o-p1-abs", "o-p2"]),
            ("subject=Patient/p1", &["o-p1", "o-p1-abs"]),
            ("subject:Patient=p1", &["o-p1", "o-p1-abs"]),
            (&format!("subject={base_p1}"), &["o-p1", "o-p1-abs"]),
            // Without a type, `subject` (which has several target types) matches any type.
            ("subject=p1", &["o-group", "o-p1", "o-p1-abs"]),
            ("subject=Group/p1", &["o-group"]),
            ("subject:Group=p1", &["o-group"]),
            ("subject=Patient/p3", &[]),
            ("subject:missing=true", &["o-nobody"]),
            ("patient:missing=true", &["o-group", "o-nobody"]),
        ],
    );
    // `patient` only takes patients; a type contradicting the modifier is an invalid value.
    let outcome = bad_search(&srv, "Observation?patient=Group/p1");
    assert_eq!(first_issue(&outcome)["expression"][0], "patient");
    let outcome = bad_search(&srv, "Observation?subject:Patient=Group/p1");
    assert_eq!(first_issue(&outcome)["expression"][0], "subject:Patient");
});

backend_test!(
    string_search_folds_case_and_width_and_handles_japanese_names,
    |srv| {
        let patient =
            |id: &str, names: Value| json!({"resourceType": "Patient", "id": id, "name": names});
        put(
            &srv,
            patient("yamada", json!([{"family": "Yamada", "given": ["Taro"]}])),
        );
        put(
            &srv,
            patient(
                "yamamoto",
                json!([{"family": "Yamamoto", "given": ["Jiro"]}]),
            ),
        );
        put(
            &srv,
            patient(
                "fullwidth",
                json!([{"family": "ＹＡＭＡＳＨＩＴＡ", "given": ["Ｋｅｎ"]}]),
            ),
        );
        put(
            &srv,
            patient(
                "kanji",
                json!([
                    {"text": "山田　花子", "family": "山田", "given": ["花子"]},
                    {"text": "ヤマダ ハナコ", "family": "ヤマダ", "given": ["ハナコ"]}
                ]),
            ),
        );
        put(
            &srv,
            patient(
                "halfwidth-kana",
                json!([{"family": "ﾔﾏﾀﾞ", "given": ["ﾀﾛｳ"]}]),
            ),
        );
        put(
            &srv,
            patient("accent", json!([{"family": "Müller", "given": ["José"]}])),
        );
        put(
            &srv,
            patient("underscore", json!([{"family": "O_Brien 100%"}])),
        );
        put(
            &srv,
            patient("no-underscore", json!([{"family": "Oxbrien 1000"}])),
        );
        put(&srv, json!({"resourceType": "Patient", "id": "nameless"}));

        expect(
            &srv,
            "Patient",
            &[
                // Default: starts with, case-insensitive, full-width ASCII folded.
                ("family=yama", &["fullwidth", "yamada", "yamamoto"]),
                ("family=YAMA", &["fullwidth", "yamada", "yamamoto"]),
                ("family=ＹａＭａ", &["fullwidth", "yamada", "yamamoto"]),
                ("family=yamada", &["yamada"]),
                ("family=yamashita", &["fullwidth"]),
                ("family=ada", &[]),
                ("given=ken", &["fullwidth"]),
                ("name=taro", &["yamada"]),
                ("name=jiro,ken", &["fullwidth", "yamamoto"]),
                ("family=yama&given=taro", &["yamada"]),
                ("family=muller", &["accent"]),
                ("given=jose", &["accent"]),
                // :exact compares the value as written.
                ("family:exact=Yamada", &["yamada"]),
                ("family:exact=yamada", &[]),
                ("family:exact=Yamad", &[]),
                ("family:exact=ＹＡＭＡＳＨＩＴＡ", &["fullwidth"]),
                ("family:exact=YAMASHITA", &[]),
                ("family:exact=Müller", &["accent"]),
                // :contains matches anywhere, with the same folding.
                ("family:contains=MOT", &["yamamoto"]),
                ("family:contains=ａｄａ", &["yamada"]),
                ("name:contains=aro", &["yamada"]),
                // Kanji and kana, as written in JP Core names.
                ("family=山田", &["kanji"]),
                ("family=山", &["kanji"]),
                ("family=田", &[]),
                ("family:contains=田", &["kanji"]),
                ("given=花子", &["kanji"]),
                ("name=花子", &["kanji"]),
                ("name=山田 花子", &["kanji"]),
                ("name=山田　花", &["kanji"]),
                ("family:exact=山田", &["kanji"]),
                // Half-width katakana is folded to full-width on both sides.
                ("family=ヤマダ", &["halfwidth-kana", "kanji"]),
                ("family=ﾔﾏﾀﾞ", &["halfwidth-kana", "kanji"]),
                ("given=タロウ", &["halfwidth-kana"]),
                ("family:exact=ﾔﾏﾀﾞ", &["halfwidth-kana"]),
                ("family:exact=ヤマダ", &["kanji"]),
                // Hiragana is not katakana.
                ("family=やまだ", &[]),
                // LIKE wildcards in the value are literal characters.
                ("family=o_b", &["underscore"]),
                ("family=o%", &[]),
                ("family:contains=100%", &["underscore"]),
                ("family:contains=%", &["underscore"]),
                ("family:contains=_", &["underscore"]),
                ("family:contains=\\", &[]),
                ("name:missing=true", &["nameless"]),
            ],
        );
    }
);

backend_test!(id_and_last_updated_with_prefixes, |srv| {
    let a = srv.create(&json!({"resourceType": "Patient", "active": true}));
    let b = srv.create(&json!({"resourceType": "Patient", "active": true}));
    let c = srv.create(&json!({"resourceType": "Patient", "active": false}));
    let id = |r: &Value| r["id"].as_str().unwrap().to_string();
    let at = |r: &Value| r["meta"]["lastUpdated"].as_str().unwrap().to_string();
    let (a_id, b_id, c_id) = (id(&a), id(&b), id(&c));
    let (ta, tb, tc) = (at(&a), at(&b), at(&c));
    assert!(ta < tb && tb < tc, "{ta} {tb} {tc}");
    let (a, b, c) = (a_id.as_str(), b_id.as_str(), c_id.as_str());

    expect(
        &srv,
        "Patient",
        &[
            (&format!("_id={a}"), &[a]),
            (&format!("_id={a},{c}"), &[a, c]),
            (&format!("_id={a}&active=false"), &[]),
            (&format!("_id={c}&active=false"), &[c]),
            ("_id=unknown-id", &[]),
            (&format!("_lastUpdated={tb}"), &[b]),
            (&format!("_lastUpdated=eq{tb}"), &[b]),
            (&format!("_lastUpdated=ne{tb}"), &[a, c]),
            (&format!("_lastUpdated=gt{ta}"), &[b, c]),
            (&format!("_lastUpdated=ge{tb}"), &[b, c]),
            (&format!("_lastUpdated=lt{tc}"), &[a, b]),
            (&format!("_lastUpdated=le{ta}"), &[a]),
            (&format!("_lastUpdated=sa{ta}"), &[b, c]),
            (&format!("_lastUpdated=eb{tc}"), &[a, b]),
            (&format!("_lastUpdated=gt{ta}&_lastUpdated=lt{tc}"), &[b]),
            ("_lastUpdated=gt2000-01-01", &[a, b, c]),
            ("_lastUpdated=lt2000", &[]),
            ("_lastUpdated=ge2999", &[]),
            (&format!("_lastUpdated=ge{ta}&_id={c}"), &[c]),
        ],
    );
    let outcome = bad_search(&srv, "Patient?_lastUpdated=yesterday");
    assert_eq!(first_issue(&outcome)["expression"][0], "_lastUpdated");
    let outcome = bad_search(&srv, "Patient?_id=a/b");
    assert_eq!(first_issue(&outcome)["expression"][0], "_id");
});

backend_test!(
    observation_date_prefixes_follow_range_semantics_across_zones,
    |srv| {
        let obs = |id: &str, effective: Value| {
            let mut o = observation(id);
            let obj = o.as_object_mut().unwrap();
            for (k, v) in effective.as_object().unwrap() {
                obj.insert(k.clone(), v.clone());
            }
            o
        };
        // 2023-12-31T15:30:00Z, but 2024-01-01 on the server's wall clock.
        put(
            &srv,
            obs(
                "tz",
                json!({"effectiveDateTime": "2024-01-01T00:30:00+09:00"}),
            ),
        );
        // 2024-01-01T09:30+09:00.
        put(
            &srv,
            obs("zulu", json!({"effectiveDateTime": "2024-01-01T00:30:00Z"})),
        );
        // A whole day in the server zone: [2024-01-01T15:00Z, 2024-01-02T15:00Z).
        put(&srv, obs("day", json!({"effectiveDateTime": "2024-01-02"})));
        // Open end: from 2024-03-01T00:00Z on.
        put(
            &srv,
            obs(
                "open",
                json!({"effectivePeriod": {"start": "2024-03-01T09:00:00+09:00"}}),
            ),
        );
        // February 2024 (leap year) in the server zone, as a Period of two dates.
        put(
            &srv,
            obs(
                "feb",
                json!({"effectivePeriod": {"start": "2024-02-01", "end": "2024-02-29"}}),
            ),
        );
        put(&srv, obs("undated", json!({})));

        const AFTER_TZ: &[&str] = &["day", "feb", "open", "zulu"];
        expect(
            &srv,
            "Observation",
            &[
                ("date=2024-01-01", &["tz", "zulu"]),
                ("date=eq2024-01-01", &["tz", "zulu"]),
                ("date=2023-12-31", &[]),
                ("date=2023", &[]),
                ("date=2024", &["day", "feb", "tz", "zulu"]),
                ("date=2024-01", &["day", "tz", "zulu"]),
                ("date=2024-02", &["feb"]),
                ("date=2024-01-02", &["day"]),
                ("date=2023-12-31T15:30:00Z", &["tz"]),
                ("date=2024-01-01T00:30:00+09:00", &["tz"]),
                ("date=2024-01-01T00:30+09:00", &["tz"]),
                ("date=2024-01-01T00:30", &["tz"]),
                ("date=2023-12-31T10:30:00-05:00", &["tz"]),
                ("date=2024-01-01T00:30:00Z", &["zulu"]),
                ("date=2024-01-01T00:30:00.000Z", &[]),
                // Before midnight UTC on the 1st: only the +09:00 value, which is 15:30Z on the 31st.
                ("date=lt2024-01-01T00:00:00Z", &["tz"]),
                ("date=lt2024-01-01T00:30:00+09:00", &[]),
                ("date=le2024-01-01T00:30:00+09:00", &["tz"]),
                ("date=gt2023-12-31T15:30:00Z", AFTER_TZ),
                (
                    "date=ge2023-12-31T15:30:00Z",
                    &["day", "feb", "open", "tz", "zulu"],
                ),
                // One second either side of the value.
                (
                    "date=gt2023-12-31T15:29:59Z",
                    &["day", "feb", "open", "tz", "zulu"],
                ),
                ("date=lt2023-12-31T15:30:01Z", &["tz"]),
                (
                    "date=sa2023-12-31T15:29:59Z",
                    &["day", "feb", "open", "tz", "zulu"],
                ),
                ("date=sa2023-12-31T15:30:00Z", AFTER_TZ),
                ("date=eb2023-12-31T15:30:01Z", &["tz"]),
                ("date=eb2023-12-31T15:30:00Z", &[]),
                ("date=ne2024-01-01", &["day", "feb", "open"]),
                ("date=ne2023-12-31T15:30:00Z", AFTER_TZ),
                // Periods: contained only when both ends are inside; an open end never is.
                ("date=2024-03-01", &[]),
                ("date=2024-03", &[]),
                ("date=gt2024-12-31", &["open"]),
                ("date=gt2099", &["open"]),
                ("date=sa2024-02-29", &["open"]),
                ("date=lt2024-03-01", &["day", "feb", "tz", "zulu"]),
                (
                    "date=lt2024-03-01T09:00:01+09:00",
                    &["day", "feb", "open", "tz", "zulu"],
                ),
                (
                    "date=le2024-03-01T09:00:00+09:00",
                    &["day", "feb", "tz", "zulu"],
                ),
                ("date=ge2024-02-29", &["open"]),
                ("date=ge2024-02", &["feb", "open"]),
                ("date=le2024-01-02", &["day", "tz", "zulu"]),
                ("date=eb2024-02-01", &["day", "tz", "zulu"]),
                ("date=eb2024-02-02", &["day", "tz", "zulu"]),
                ("date=gt2024-02-15", &["feb", "open"]),
                ("date=lt2024-02-15", &["day", "feb", "tz", "zulu"]),
                // Ranges by AND, alternatives by OR.
                ("date=ge2024-01-01&date=lt2024-01-02", &["tz", "zulu"]),
                ("date=2023-12-31T15:30:00Z,2024-02", &["feb", "tz"]),
                ("date:missing=true", &["undated"]),
            ],
        );
        // A `+` left unencoded arrives as a space and is still read as the zone.
        let bundle = srv.search("Observation?date=2024-01-01T00:30:00+09:00");
        assert_eq!(common::ids(&bundle), ["tz"]);
    }
);

backend_test!(
    condition_onset_date_with_days_instants_and_open_periods,
    |srv| {
        targets(&srv, &["Patient/p1"]);
        let condition = |id: &str, onset: Value| {
            let mut c = json!({"resourceType": "Condition", "id": id,
                           "subject": {"reference": "Patient/p1"}});
            if let Some(onset) = onset.as_object() {
                for (k, v) in onset {
                    c[k] = v.clone();
                }
            }
            c
        };
        // [2024-05-31T15:00Z, 2024-06-01T15:00Z)
        put(
            &srv,
            condition("day", json!({"onsetDateTime": "2024-06-01"})),
        );
        // 2024-06-01T05:00+09:00.
        put(
            &srv,
            condition("utc", json!({"onsetDateTime": "2024-05-31T20:00:00Z"})),
        );
        // Open start, ending with May 2020.
        put(
            &srv,
            condition("until-2020-05", json!({"onsetPeriod": {"end": "2020-05"}})),
        );
        put(&srv, condition("no-onset", json!({})));

        const NOON: &str = "2024-06-01T12:00:00+09:00";
        expect(
            &srv,
            "Condition",
            &[
                ("onset-date=2024-06-01", &["day", "utc"]),
                ("onset-date=2024-05-31", &[]),
                ("onset-date=2024-06", &["day", "utc"]),
                ("onset-date=2024", &["day", "utc"]),
                // A day is not inside one second, but overlaps both sides of it.
                (&format!("onset-date={NOON}"), &[]),
                (
                    &format!("onset-date=ne{NOON}"),
                    &["day", "until-2020-05", "utc"],
                ),
                (&format!("onset-date=gt{NOON}"), &["day"]),
                (
                    &format!("onset-date=lt{NOON}"),
                    &["day", "until-2020-05", "utc"],
                ),
                (&format!("onset-date=sa{NOON}"), &[]),
                (&format!("onset-date=eb{NOON}"), &["until-2020-05", "utc"]),
                ("onset-date=gt2024-06-01", &[]),
                ("onset-date=ge2024-06-01", &["day", "utc"]),
                ("onset-date=lt2024-06-01", &["until-2020-05"]),
                ("onset-date=le2024-06-01", &["day", "until-2020-05", "utc"]),
                ("onset-date=sa2024-05-31", &["day", "utc"]),
                ("onset-date=eb2024-06-02", &["day", "until-2020-05", "utc"]),
                ("onset-date=lt1900", &["until-2020-05"]),
                ("onset-date=2020-05", &[]),
                ("onset-date=gt2020-05", &["day", "utc"]),
                ("onset-date=eb2020-06", &["until-2020-05"]),
                ("onset-date=eb2020-05-31", &[]),
                ("onset-date:missing=true", &["no-onset"]),
            ],
        );
    }
);

backend_test!(
    medication_request_authoredon_around_a_leap_day_and_midnight,
    |srv| {
        // Prescriptions enter the store only as extracted from a referral: register one that
        // carries them, then name each stored one by its resource identifier.
        let request = |name: &str, authored: &str| {
            json!({"resourceType": "MedicationRequest", "status": "completed",
               "intent": "order",
               "identifier": [{"system": "http://jpfhir.jp/fhir/core/IdSystem/resourceInstance-identifier", "value": name}],
               "medicationCodeableConcept": coding("urn:oid:1.2.392.200119.4.403.1", "620000033"),
               "authoredOn": authored})
        };
        let referral = common::documents::minimal_referral(
            "1318814790^2024^authoredon",
            vec![
                // 2024-02-29T14:59:59Z: the last second of the leap day in Japan.
                request("leap", "2024-02-29T23:59:59+09:00"),
                // 2024-03-01T05:00+09:00.
                request("utc", "2024-02-29T20:00:00Z"),
                // March in the server zone.
                request("march", "2024-03"),
            ],
        );
        common::documents::post_document(&srv, &referral, 201);
        let named = |raw: &str| -> Vec<String> {
            let bundle = srv.search(&url("MedicationRequest", raw));
            let mut names: Vec<String> = bundle["entry"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| {
                    e["resource"]["identifier"][0]["value"]
                        .as_str()
                        .unwrap()
                        .to_string()
                })
                .collect();
            assert_eq!(bundle["total"], names.len(), "{raw}: total");
            names.sort();
            names
        };
        let cases: &[(&str, &[&str])] = &[
            ("authoredon=2024-02-29", &["leap"]),
            ("authoredon=2024-03-01", &["utc"]),
            ("authoredon=2024-02", &["leap"]),
            ("authoredon=2024-03", &["march", "utc"]),
            ("authoredon=2024", &["leap", "march", "utc"]),
            ("authoredon=2024-02-29T14:59:59Z", &["leap"]),
            (
                "authoredon=gt2024-02-29T23:59:58+09:00",
                &["leap", "march", "utc"],
            ),
            ("authoredon=gt2024-02-29T23:59:59+09:00", &["march", "utc"]),
            ("authoredon=lt2024-03-01T00:00:00+09:00", &["leap"]),
            ("authoredon=lt2024-03-01T00:00:01+09:00", &["leap", "march"]),
            ("authoredon=lt2024-02-29T23:59:59+09:00", &[]),
            ("authoredon=ge2024-03-01", &["march", "utc"]),
            ("authoredon=le2024-02-29", &["leap"]),
            ("authoredon=sa2024-02", &["march", "utc"]),
            ("authoredon=eb2024-03", &["leap"]),
            ("authoredon=ne2024-03", &["leap"]),
            ("authoredon=ne2024", &[]),
        ];
        let wrong: Vec<String> = cases
            .iter()
            .filter(|(raw, want)| named(raw) != *want)
            .map(|(raw, want)| format!("{raw}: expected {want:?}, got {:?}", named(raw)))
            .collect();
        assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
        for bad in [
            "2024-02-30",
            "2023-02-29",
            "2024-13",
            "24-01-01",
            "ge",
            "xx2024",
        ] {
            let outcome = bad_search(
                &srv,
                &url("MedicationRequest", &format!("authoredon={bad}")),
            );
            let issue = first_issue(&outcome);
            assert_eq!(issue["expression"][0], "authoredon", "{bad}: {outcome}");
            assert_eq!(issue["severity"], "error");
        }
    }
);

backend_test!(patient_birthdate_with_partial_dates_on_both_sides, |srv| {
    let patient =
        |id: &str, birth: &str| json!({"resourceType": "Patient", "id": id, "birthDate": birth});
    put(&srv, patient("b1970", "1970-01-01"));
    put(&srv, patient("b1980", "1980"));
    put(&srv, patient("b1999-12", "1999-12"));
    const ALL: &[&str] = &["b1970", "b1980", "b1999-12"];

    expect(
        &srv,
        "Patient",
        &[
            ("birthdate=1970-01-01", &["b1970"]),
            ("birthdate=1970-01", &["b1970"]),
            ("birthdate=1970", &["b1970"]),
            ("birthdate=1969", &[]),
            ("birthdate=1969-12-31", &[]),
            ("birthdate=1970-01-02", &[]),
            ("birthdate=eq1970-01-01T00:00:00+09:00", &[]),
            ("birthdate=ne1970", &["b1980", "b1999-12"]),
            ("birthdate=gt1969-12-31", ALL),
            ("birthdate=gt1970-01-01", &["b1980", "b1999-12"]),
            ("birthdate=ge1970-01-01", ALL),
            ("birthdate=lt1970-01-01", &[]),
            ("birthdate=lt1970-01-02", &["b1970"]),
            ("birthdate=le1970-01-01", &["b1970"]),
            ("birthdate=sa1969", ALL),
            ("birthdate=eb1971", &["b1970"]),
            ("birthdate=eb1970", &[]),
            // A year-precision birth date is not inside a month, but overlaps both sides of it.
            ("birthdate=1980", &["b1980"]),
            ("birthdate=1980-06", &[]),
            ("birthdate=ne1980-06", ALL),
            ("birthdate=gt1980-06", &["b1980", "b1999-12"]),
            ("birthdate=lt1980-06", &["b1970", "b1980"]),
            ("birthdate=sa1980-06", &["b1999-12"]),
            ("birthdate=eb1980-06", &["b1970"]),
            ("birthdate=1999", &["b1999-12"]),
            ("birthdate=1999-12-31", &[]),
            ("birthdate=ge1999-12", &["b1999-12"]),
            // Nothing of December 1999 lies after its last day, and it is not inside that day.
            ("birthdate=ge1999-12-31", &[]),
            ("birthdate=le1999-12-01", &["b1970", "b1980"]),
            ("birthdate=ge1980&birthdate=le1999", &["b1980", "b1999-12"]),
        ],
    );
    let outcome = bad_search(&srv, "Patient?birthdate=1970-13");
    assert_eq!(first_issue(&outcome)["expression"][0], "birthdate");
    assert_eq!(first_issue(&outcome)["code"], "value");
    let outcome = bad_search(&srv, "Patient?birthdate=1970-01-01T25:00");
    assert_eq!(first_issue(&outcome)["expression"][0], "birthdate");
    let outcome = bad_search(&srv, "Observation?date=2024-01-01,notadate");
    assert_eq!(first_issue(&outcome)["expression"][0], "date");
});

backend_test!(
    paging_through_250_matches_with_next_and_previous_links,
    |srv| {
        let entries: Vec<Value> = (0..250)
            .map(|i| {
                json!({
                    "resource": {"resourceType": "Observation", "status": "final",
                                 "category": [coding(OBS_CATEGORY, "paging")],
                                 "code": coding(LOINC, &format!("code-{i}"))},
                    "request": {"method": "POST", "url": "Observation"}
                })
            })
            .collect();
        let r = srv.post(
            "",
            &json!({"resourceType": "Bundle", "type": "transaction", "entry": entries}),
        );
        assert_eq!(r.status(), 200);
        // Resources that the filter must keep out of every page.
        for _ in 0..3 {
            srv.create(&observation("ignored"));
        }

        let mut page = srv.search("Observation?category=paging&_count=100");
        let mut seen = Vec::new();
        let mut sizes = Vec::new();
        let mut pages = vec![page.clone()];
        loop {
            assert_eq!(page["total"], 250);
            assert!(link(&page, "self").unwrap().contains("category=paging"));
            assert!(link(&page, "first").unwrap().contains("_offset=0"));
            let ids = common::ids(&page);
            sizes.push(ids.len());
            seen.extend(ids);
            match link(&page, "next") {
                Some(next) => {
                    assert!(
                        next.contains("category=paging") && next.contains("_count=100"),
                        "{next}"
                    );
                    page = get_json(&srv, next);
                    pages.push(page.clone());
                }
                None => break,
            }
            assert!(sizes.len() < 10, "runaway paging");
        }
        assert_eq!(sizes, [100, 100, 50]);
        let unique: BTreeSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), 250, "no duplicates");
        let all = srv.search("Observation?category=paging&_count=1000");
        assert_eq!(
            common::ids(&all),
            seen,
            "the pages together are the whole result, in order"
        );
        assert!(link(&pages[0], "previous").is_none());

        // Walking back from the last page gives the same pages.
        let back = get_json(&srv, link(&pages[2], "previous").unwrap());
        assert_eq!(common::ids(&back), common::ids(&pages[1]));
        let back = get_json(&srv, link(&back, "previous").unwrap());
        assert_eq!(common::ids(&back), common::ids(&pages[0]));
        assert!(link(&back, "previous").is_none());
        let first = get_json(&srv, link(&pages[2], "first").unwrap());
        assert_eq!(common::ids(&first), common::ids(&pages[0]));
        // The self link reproduces its page.
        let again = get_json(&srv, link(&pages[1], "self").unwrap());
        assert_eq!(common::ids(&again), common::ids(&pages[1]));

        // An offset past the end is an empty page, not an error.
        let beyond = srv.search("Observation?category=paging&_count=100&_offset=300");
        assert_eq!(beyond["total"], 250);
        assert!(common::ids(&beyond).is_empty());
        assert!(link(&beyond, "next").is_none());

        // _count=0: the total only.
        let only_total = srv.search("Observation?category=paging&_count=0");
        assert_eq!(only_total["total"], 250);
        assert!(common::ids(&only_total).is_empty());
        assert!(link(&only_total, "next").is_none());
        let everything = srv.search("Observation?_count=0");
        assert_eq!(everything["total"], 253);

        // Without _count the default page size applies.
        let default = srv.search("Observation?category=paging");
        assert_eq!(common::ids(&default).len(), 20);
        // _total=none leaves the total out; a full page still offers the next one.
        let untotalled = srv.search("Observation?category=paging&_count=100&_total=none");
        assert!(untotalled.get("total").is_none(), "{}", untotalled["total"]);
        assert!(link(&untotalled, "next").is_some());
    }
);

backend_test!(sort_by_date_and_last_updated_with_stable_ties, |srv| {
    let obs = |id: &str, date: Option<&str>| {
        let mut o = observation(id);
        if let Some(d) = date {
            o["effectiveDateTime"] = json!(d);
        }
        o
    };
    // Written in this order; the ties share an instant.
    put(&srv, obs("feb", Some("2024-02-01")));
    put(&srv, obs("tie-b", Some("2024-02-15T10:00:00+09:00")));
    put(&srv, obs("jan", Some("2024-01-01")));
    put(&srv, obs("undated", None));
    put(&srv, obs("mar", Some("2024-03-01")));
    put(&srv, obs("tie-a", Some("2024-02-15T01:00:00Z")));

    let order = |raw: &str| common::ids(&srv.search(&url("Observation", raw)));
    assert_eq!(
        order("_sort=date"),
        ["jan", "feb", "tie-b", "tie-a", "mar", "undated"]
    );
    assert_eq!(
        order("_sort=-date"),
        ["mar", "tie-b", "tie-a", "feb", "jan", "undated"]
    );
    assert_eq!(
        order("_sort=date,_id"),
        ["jan", "feb", "tie-a", "tie-b", "mar", "undated"]
    );
    assert_eq!(
        order("_sort=-date,-_id"),
        ["mar", "tie-b", "tie-a", "feb", "jan", "undated"]
    );
    assert_eq!(
        order("_sort=date&date=ge2024-02"),
        ["feb", "tie-b", "tie-a", "mar"]
    );
    // Ties stay in one order across requests and across pages.
    for raw in ["_sort=date", "_sort=-date"] {
        let whole = order(raw);
        assert_eq!(order(raw), whole);
        let mut paged = Vec::new();
        let mut page = srv.search(&url("Observation", &format!("{raw}&_count=2")));
        loop {
            paged.extend(common::ids(&page));
            match link(&page, "next") {
                Some(next) => page = get_json(&srv, next),
                None => break,
            }
        }
        assert_eq!(paged, whole, "{raw}");
    }

    let written = ["feb", "tie-b", "jan", "undated", "mar", "tie-a"];
    assert_eq!(order("_sort=_lastUpdated"), written);
    let mut reversed = written;
    reversed.reverse();
    assert_eq!(order("_sort=-_lastUpdated"), reversed);
    // An update moves a resource to the end.
    put(&srv, obs("feb", Some("2024-02-02")));
    assert_eq!(
        order("_sort=_lastUpdated"),
        ["tie-b", "jan", "undated", "mar", "tie-a", "feb"]
    );
    assert_eq!(
        order("_sort=_id"),
        ["feb", "jan", "mar", "tie-a", "tie-b", "undated"]
    );
});

backend_test!(sort_ties_from_one_transaction_keep_entry_order, |srv| {
    // One transaction stamps every entry with the same lastUpdated.
    let entries: Vec<Value> = (0..5)
        .map(|i| {
            json!({"resource": {"resourceType": "Patient", "id": format!("p{i}"),
                                "birthDate": if i % 2 == 0 { "1990-01-01" } else { "1980-01-01" }},
                   "request": {"method": "PUT", "url": format!("Patient/p{i}")}})
        })
        .collect();
    let r = srv.post(
        "",
        &json!({"resourceType": "Bundle", "type": "transaction", "entry": entries}),
    );
    assert_eq!(r.status(), 200);
    let order = |raw: &str| common::ids(&srv.search(&url("Patient", raw)));
    assert_eq!(order("_sort=_lastUpdated"), ["p0", "p1", "p2", "p3", "p4"]);
    assert_eq!(order("_sort=-_lastUpdated"), ["p0", "p1", "p2", "p3", "p4"]);
    assert_eq!(order("_sort=birthdate"), ["p1", "p3", "p0", "p2", "p4"]);
    assert_eq!(order("_sort=-birthdate"), ["p0", "p2", "p4", "p1", "p3"]);
    assert_eq!(
        order("_sort=birthdate,-_id"),
        ["p3", "p1", "p4", "p2", "p0"]
    );
});

backend_test!(
    unknown_parameters_warn_by_default_and_fail_when_strict,
    |srv| {
        put(&srv, observation("final-1"));
        let mut amended = observation("amended-1");
        amended["status"] = json!("amended");
        put(&srv, amended);

        let bundle = srv.search("Observation?status=final&foo=bar");
        assert_eq!(common::ids(&bundle), ["final-1"]);
        assert_eq!(bundle["total"], 1);
        let outcomes: Vec<&Value> = bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["search"]["mode"] == "outcome")
            .collect();
        assert_eq!(outcomes.len(), 1, "{bundle}");
        let issue = first_issue(&outcomes[0]["resource"]);
        assert_eq!(issue["severity"], "warning");
        assert_eq!(issue["code"], "not-supported");
        assert_eq!(issue["expression"][0], "foo");
        assert!(issue["diagnostics"].as_str().unwrap().contains("foo"));
        // The ignored parameter is not part of the self link.
        let self_link = link(&bundle, "self").unwrap();
        assert!(
            self_link.contains("status=final") && !self_link.contains("foo"),
            "{self_link}"
        );

        // Unsupported result parameters and sort keys are warned about the same way.
        let bundle = srv.search("Observation?_count:x=5&_sort=status");
        assert_eq!(common::ids(&bundle).len(), 2);
        let outcome = bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["search"]["mode"] == "outcome")
            .unwrap();
        let expressions: Vec<&Value> = outcome["resource"]["issue"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| &i["expression"][0])
            .collect();
        assert_eq!(expressions, [&json!("_count:x"), &json!("_sort=status")]);

        // No warning entry when everything was understood.
        let clean = srv.search("Observation?status=final");
        assert_eq!(clean["entry"].as_array().unwrap().len(), 1);

        let strict = |path: &str| {
            let r = srv
                .client
                .get(srv.url(path))
                .header("prefer", "handling=strict")
                .send()
                .unwrap();
            let status = r.status();
            (status, r.json::<Value>().unwrap())
        };
        let (status, outcome) = strict("Observation?status=final&foo=bar");
        assert_eq!(status, 400);
        assert_eq!(first_issue(&outcome)["code"], "not-supported");
        assert_eq!(first_issue(&outcome)["expression"][0], "foo");
        let (status, outcome) = strict("Observation?code:text=glucose");
        assert_eq!(status, 400);
        assert_eq!(first_issue(&outcome)["expression"][0], "code");
        let (status, outcome) = strict("Observation?_sort=status");
        assert_eq!(status, 400);
        assert_eq!(first_issue(&outcome)["code"], "not-supported");
        assert_eq!(first_issue(&outcome)["expression"][0], "_sort");
        let (status, bundle) = strict("Observation?status=final");
        assert_eq!(status, 200);
        assert_eq!(common::ids(&bundle), ["final-1"]);
        let r = srv
            .client
            .get(srv.url("Observation?foo=bar"))
            .header("prefer", "handling=lenient")
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);

        // Invalid values are errors however lenient the client asks us to be.
        for (path, param) in [
            ("Observation?_count=abc", "_count"),
            ("Observation?_count=-1", "_count"),
            ("Observation?_count=1.5", "_count"),
            ("Observation?_offset=x", "_offset"),
            ("Observation?_total=some", "_total"),
            ("Observation?status=final,,amended", "status"),
            ("Observation?code=a|b|c", "code"),
            ("Observation?status:missing=maybe", "status:missing"),
        ] {
            let outcome = bad_search(&srv, path);
            assert_eq!(first_issue(&outcome)["expression"][0], param, "{path}");
        }
        // Too large a _count is reduced, not refused.
        let big = srv.search("Observation?_count=100000");
        assert!(
            link(&big, "self").unwrap().contains("_count=1000&"),
            "{big}"
        );
        // Unknown types are 404.
        assert_eq!(srv.get("Observatio?status=final").status(), 404);
    }
);

backend_test!(
    deleted_and_updated_resources_are_found_by_their_current_state,
    |srv| {
        let created = srv.create(
            &json!({"resourceType": "Patient", "name": [{"family": "Before"}],
                                     "gender": "female"}),
        );
        let id = created["id"].as_str().unwrap().to_string();
        let other =
            srv.create(&json!({"resourceType": "Patient", "name": [{"family": "Bystander"}]}));
        let other_id = other["id"].as_str().unwrap().to_string();
        assert_eq!(found(&srv, "Patient", "family=before"), [id.as_str()]);
        assert_eq!(found(&srv, "Patient", "gender=female"), [id.as_str()]);

        let mut changed = created.clone();
        changed["name"] = json!([{"family": "After"}]);
        changed["gender"] = json!("male");
        assert_eq!(srv.put(&format!("Patient/{id}"), &changed).status(), 200);
        assert!(found(&srv, "Patient", "family=before").is_empty());
        assert!(found(&srv, "Patient", "gender=female").is_empty());
        assert_eq!(found(&srv, "Patient", "family=after"), [id.as_str()]);
        assert_eq!(found(&srv, "Patient", "gender=male"), [id.as_str()]);
        assert_eq!(found(&srv, "Patient", "family=b"), [other_id.as_str()]);
        let bundle = srv.search(&format!("Patient?_id={id}"));
        assert_eq!(bundle["entry"][0]["resource"]["meta"]["versionId"], "2");
        // An element removed by the update is missing now.
        assert_eq!(
            found(&srv, "Patient", "gender:missing=true"),
            [other_id.as_str()]
        );

        assert_eq!(srv.delete(&format!("Patient/{id}")).status(), 204);
        assert!(found(&srv, "Patient", "family=after").is_empty());
        assert!(found(&srv, "Patient", &format!("_id={id}")).is_empty());
        assert!(found(&srv, "Patient", "gender:missing=false").is_empty());
        assert_eq!(found(&srv, "Patient", ""), [other_id.as_str()]);
        assert_eq!(srv.search("Patient?_count=0")["total"], 1);

        // Re-created under the same id, it is found again by its new content only.
        let revived = json!({"resourceType": "Patient", "id": id, "name": [{"family": "Again"}]});
        assert_eq!(srv.put(&format!("Patient/{id}"), &revived).status(), 201);
        assert_eq!(found(&srv, "Patient", "family=again"), [id.as_str()]);
        assert!(found(&srv, "Patient", "family=after").is_empty());
    }
);

backend_test!(post_search_with_a_form_body_matches_get, |srv| {
    for (id, family, birth) in [
        ("a", "山田", "1970-01-01"),
        ("b", "Yamada", "1980-05-05"),
        ("c", "Suzuki", "1990-12-31"),
    ] {
        put(
            &srv,
            json!({"resourceType": "Patient", "id": id, "name": [{"family": family}],
                   "birthDate": birth}),
        );
    }
    let post_search = |body: &str, query: &str| {
        let r = srv.post_form(&format!("Patient/_search{query}"), body);
        assert_eq!(r.status(), 200, "{body}");
        r.json::<Value>().unwrap()
    };
    for raw in [
        "family=yama",
        "family=山田",
        "birthdate=ge1980-01-01T00:00:00+09:00&_sort=-birthdate",
        "_id=a,c&_sort=_id",
        "birthdate=lt1990&family:exact=Yamada",
        "_count=1&_sort=_id",
    ] {
        let get = srv.search(&url("Patient", raw));
        let body = url("", raw);
        let post = post_search(body.trim_start_matches('?'), "");
        assert_eq!(common::ids(&post), common::ids(&get), "{raw}");
        assert_eq!(post["total"], get["total"], "{raw}");
        assert!(!common::ids(&get).is_empty(), "{raw}");
        assert_eq!(link(&post, "next"), link(&get, "next"), "{raw}");
    }
    // The query string and the body are combined (ANDed).
    let both = post_search("family=yama", "?birthdate=1970");
    assert!(common::ids(&both).is_empty(), "{both}");
    let both = post_search("family=yama", "?birthdate=1980");
    assert_eq!(common::ids(&both), ["b"]);
    // The body must be a form.
    let r = srv
        .client
        .post(srv.url("Patient/_search"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(r.status(), 415);
    // Invalid values are refused the same way as in GET.
    let r = srv.post_form("Patient/_search", "birthdate=1970-13");
    assert_eq!(r.status(), 400);
    assert_eq!(
        first_issue(&r.json().unwrap())["expression"][0],
        "birthdate"
    );
});

/// A request with `accept-language: ja`: its status, `Content-Language` and body.
fn get_in_japanese(srv: &TestServer, path: &str) -> (u16, Option<String>, Value) {
    let r = srv
        .client
        .get(srv.url(path))
        .header("accept-language", "ja")
        .send()
        .unwrap();
    let status = r.status().as_u16();
    let language = r
        .headers()
        .get("content-language")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (status, language, r.json().unwrap())
}

/// The expressions of a searchset's warning entry (the parameters it ignored).
fn ignored(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["search"]["mode"] == "outcome")
        .flat_map(|e| e["resource"]["issue"].as_array().unwrap().iter())
        .map(|i| i["expression"][0].as_str().unwrap().to_string())
        .collect()
}

backend_test!(
    filters_the_server_cannot_apply_are_refused_never_widened,
    |srv| {
        put(&srv, observation("final-1"));
        let mut amended = observation("amended-1");
        amended["status"] = json!("amended");
        put(&srv, amended);

        // Each of these would have answered every Observation had it been ignored.
        for (path, expression, words) in [
            (
                "Observation?subject:Patient.nonsense=nobody",
                "subject:Patient.nonsense",
                "no search parameter 'nonsense'",
            ),
            (
                "Observation?subject.nonsense=nobody",
                "subject.nonsense",
                "'nonsense'",
            ),
            (
                "Observation?subject:Patient.organization.nonsense=x",
                "subject:Patient.organization.nonsense",
                "no type 'organization' references has a search parameter 'nonsense'",
            ),
            ("Observation?code:unknownmod=GLU", "code", ":unknownmod"),
            ("Observation?code:text=glucose", "code", ":text"),
            (
                "Observation?subject:identifier=x|1",
                "subject",
                ":identifier",
            ),
            ("Observation?_id:missing=true", "_id", ":missing"),
            (
                "Patient?_has:Observation:patient:nonsense=GLU",
                "_has:Observation:patient:nonsense",
                "'nonsense'",
            ),
            ("Observation?_tag:text=urgent", "_tag", ":text"),
            ("Observation?_profile:contains=x", "_profile", ":contains"),
            ("Observation?_text=glucose", "_text", "_text"),
            ("Observation?foo:exact=x", "foo:exact", "foo:exact"),
            (
                "CodeSystem?url:below=http://example.org",
                "url:below",
                "url:below",
            ),
            ("AuditEvent?entity.name=x", "entity.name", "chained"),
        ] {
            let outcome = bad_search(&srv, path);
            let issue = first_issue(&outcome);
            assert_eq!(issue["severity"], "error", "{path}");
            assert_eq!(issue["code"], "not-supported", "{path}");
            assert_eq!(issue["expression"][0], expression, "{path}");
            let diagnostics = issue["diagnostics"].as_str().unwrap();
            assert!(diagnostics.contains(words), "{path}: {diagnostics}");
        }
        // POSTed searches are judged the same way.
        let r = srv.post_form(
            "Observation/_search",
            "status=final&subject.nonsense=nobody",
        );
        assert_eq!(r.status(), 400);
        assert_eq!(
            first_issue(&r.json().unwrap())["expression"][0],
            "subject.nonsense"
        );

        // In Japanese, with the same parameter named.
        for (path, expression, words) in [
            (
                "Observation?subject:Patient.nonsense=nobody",
                "subject:Patient.nonsense",
                "検索パラメータ 'nonsense' がありません",
            ),
            (
                "Patient?_has:Observation:patient:nonsense=GLU",
                "_has:Observation:patient:nonsense",
                "検索パラメータ 'nonsense' がありません",
            ),
            (
                "Observation?code:unknownmod=GLU",
                "code",
                "修飾子 ':unknownmod'",
            ),
            (
                "Observation?_text=glucose",
                "_text",
                "無視すると条件に合わないリソースまで返す",
            ),
        ] {
            let (status, language, outcome) = get_in_japanese(&srv, path);
            assert_eq!(status, 400, "{path}: {outcome}");
            assert_eq!(language.as_deref(), Some("ja"), "{path}");
            let issue = first_issue(&outcome);
            assert_eq!(issue["expression"][0], expression, "{path}");
            let diagnostics = issue["diagnostics"].as_str().unwrap();
            assert!(diagnostics.contains(words), "{path}: {diagnostics}");
        }

        // Result parameters never change which resources match: they stay a warning, the
        // matches are those of the filters alone, and strict handling still refuses them.
        let bundle = srv
            .search("Observation?status=final&_contained=true&_containedType=contained&_count:x=1");
        assert_eq!(common::ids(&bundle), ["final-1"]);
        assert_eq!(
            ignored(&bundle),
            ["_contained", "_containedType", "_count:x"]
        );
        let (status, _, bundle) = get_in_japanese(&srv, "Observation?_contained=true");
        assert_eq!(status, 200);
        assert_eq!(common::ids(&bundle).len(), 2);
        let warning = bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["search"]["mode"] == "outcome")
            .unwrap();
        let diagnostics = first_issue(&warning["resource"])["diagnostics"]
            .as_str()
            .unwrap();
        assert!(diagnostics.contains("無視しました"), "{diagnostics}");
        let r = srv
            .client
            .get(srv.url("Observation?_contained=true"))
            .header("prefer", "handling=strict")
            .send()
            .unwrap();
        assert_eq!(r.status(), 400);
        // A plain unknown name stays a warning, as the spec's lenient default wants.
        assert_eq!(ignored(&srv.search("Observation?foo=bar")), ["foo"]);
    }
);

backend_test!(summary_count_answers_the_total_without_entries, |srv| {
    put(&srv, observation("final-1"));
    let mut amended = observation("amended-1");
    amended["status"] = json!("amended");
    put(&srv, amended);

    let count = srv.search("Observation?_summary=count");
    assert_eq!(count["total"], 2, "{count}");
    assert!(common::ids(&count).is_empty(), "{count}");
    assert!(ignored(&count).is_empty(), "{count}");
    assert!(
        link(&count, "self").unwrap().contains("_summary=count"),
        "{count}"
    );
    assert!(link(&count, "next").is_none(), "{count}");
    // Filters still apply, and `_count` or `_total=none` cannot bring entries back.
    let count = srv.search("Observation?status=final&_count=5&_summary=count&_total=none");
    assert_eq!(count["total"], 1, "{count}");
    assert!(common::ids(&count).is_empty(), "{count}");
    // `false` is the whole resource, as without it.
    let whole = srv.search("Observation?_summary=false&_sort=_id");
    assert_eq!(common::ids(&whole), ["amended-1", "final-1"]);
    assert!(ignored(&whole).is_empty(), "{whole}");
    let outcome = bad_search(&srv, "Observation?_summary=all");
    assert_eq!(first_issue(&outcome)["expression"][0], "_summary");
});

/// Whether a resource carries the SUBSETTED tag.
fn subsetted(resource: &Value) -> bool {
    resource["meta"]["tag"].as_array().is_some_and(|tags| {
        tags.iter().any(|t| {
            t["system"] == "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"
                && t["code"] == "SUBSETTED"
        })
    })
}

/// The top-level element names of a resource, sorted.
fn elements_of(resource: &Value) -> Vec<String> {
    let mut names: Vec<String> = resource.as_object().unwrap().keys().cloned().collect();
    names.sort();
    names
}

backend_test!(
    summary_and_elements_show_part_of_each_resource_marked_subsetted,
    |srv| {
        targets(&srv, &["Patient/p-1"]);
        let mut full = observation("full-1");
        full["text"] = json!({"status": "generated",
        "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">glucose 5.1</div>"});
        full["subject"] = json!({"reference": "Patient/p-1"});
        full["valueQuantity"] = json!({"value": 5.1, "unit": "mmol/L"});
        full["note"] = json!([{"text": "fasting"}]);
        put(&srv, full);

        let first = |path: &str| {
            let bundle = srv.search(path);
            assert!(ignored(&bundle).is_empty(), "{path}: {bundle}");
            assert_eq!(bundle["total"], 1, "{path}");
            // The links keep asking for the same part.
            let self_link = link(&bundle, "self").unwrap();
            assert!(
                self_link.contains("_summary=") || self_link.contains("_elements="),
                "{self_link}"
            );
            bundle["entry"][0]["resource"].clone()
        };
        let meta_and = |names: &[&str]| {
            let mut all: Vec<String> = ["id", "meta", "resourceType"]
                .iter()
                .chain(names)
                .map(|s| s.to_string())
                .collect();
            all.sort();
            all
        };
        // Summary elements of the base definition; the mandatory ones always.
        let summary = first("Observation?_summary=true");
        assert_eq!(
            elements_of(&summary),
            meta_and(&["code", "status", "subject", "valueQuantity"])
        );
        assert!(subsetted(&summary), "{summary}");
        assert_eq!(summary["meta"]["versionId"], "1");
        let text = first("Observation?_summary=text");
        assert_eq!(elements_of(&text), meta_and(&["code", "status", "text"]));
        let data = first("Observation?_summary=data");
        assert!(
            data.get("text").is_none() && data.get("note").is_some(),
            "{data}"
        );
        assert!(subsetted(&data));
        let some = first("Observation?_elements=value,note");
        assert_eq!(
            elements_of(&some),
            meta_and(&["code", "note", "status", "valueQuantity"])
        );
        assert!(subsetted(&some));
        // Nothing asked for is left out: the whole resource, untagged.
        let whole = first("Observation?_summary=false");
        assert!(whole.get("note").is_some() && !subsetted(&whole), "{whole}");

        // Read and vread take the same parameters.
        let read = |path: &str| {
            let r = srv.get(path);
            assert_eq!(r.status(), 200, "{path}");
            r.json::<Value>().unwrap()
        };
        let summary = read("Observation/full-1?_summary=true");
        assert_eq!(
            elements_of(&summary),
            meta_and(&["code", "status", "subject", "valueQuantity"])
        );
        assert!(subsetted(&summary));
        let some = read("Observation/full-1/_history/1?_elements=subject");
        assert_eq!(elements_of(&some), meta_and(&["code", "status", "subject"]));
        assert!(subsetted(&some));
        let whole = read("Observation/full-1");
        assert!(whole.get("note").is_some() && !subsetted(&whole));
        // The stored resource is untouched.
        assert!(!subsetted(&read("Observation/full-1?_summary=false")));
        for (path, param) in [
            ("Observation/full-1?_summary=count", "_summary"),
            ("Observation/full-1?_summary=all", "_summary"),
            ("Observation/full-1?_elements=a.b", "_elements"),
            ("Observation?_elements=note,", "_elements"),
        ] {
            let outcome = bad_search(&srv, path);
            assert_eq!(first_issue(&outcome)["expression"][0], param, "{path}");
        }
    }
);
