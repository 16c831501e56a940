//! Turns a stored resource into the index rows its search parameters define, by walking each
//! parameter's element paths and converting what is found by its JSON shape. Indexing must never
//! fail or panic: values that cannot be indexed are skipped (the validator reports them).
//! Also home of the string normalization and reference parsing the query side shares.

use super::date::parse_fhir_date;
use super::params::{META_PARAMS, ParamDef, ParamKind, param_def, params_for};
use super::{
    DateValue, IndexRows, Micros, NumberValue, QuantityRow, ReferenceValue, StringValue,
    TokenValue, UriValue,
};
use chrono::FixedOffset;
use serde_json::{Map, Value};

/// The index rows of `resource` (a `resource_type`); duplicates within a parameter are dropped.
/// Date values without a zone are read in `default_offset`.
pub fn extract(resource_type: &str, resource: &Value, default_offset: FixedOffset) -> IndexRows {
    let mut rows = IndexRows::default();
    for def in params_for(resource_type).iter().chain(META_PARAMS) {
        if super::unions::union_of(resource_type, def.name).is_some() {
            continue;
        }
        for node in def.paths.iter().flat_map(|path| walk(resource, path)) {
            add_node(def, node, default_offset, &mut rows);
        }
    }
    super::composite::extract(resource_type, resource, &mut rows);
    IndexRows {
        tokens: dedup(rows.tokens),
        strings: dedup(rows.strings),
        dates: dedup(rows.dates),
        references: dedup(rows.references),
        numbers: dedup(rows.numbers),
        quantities: dedup(rows.quantities),
        uris: dedup(rows.uris),
        token_pairs: dedup(rows.token_pairs),
    }
}

/// Adds the index rows of the computed parameter `param` of `resource_type` (one the registry
/// declares without paths) for `node`, converted by its JSON shape like a value found by a path.
/// Returns false when the type has no such parameter.
pub fn index_computed(
    resource_type: &str,
    param: &str,
    node: &Value,
    default_offset: FixedOffset,
    rows: &mut IndexRows,
) -> bool {
    let Some(def) = param_def(resource_type, param) else {
        return false;
    };
    add_node(def, node, default_offset, rows);
    true
}

/// The values at a dot-separated `path` below `root`, arrays flattened at every step.
pub(crate) fn walk<'a>(root: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut current = vec![root];
    for segment in path.split('.') {
        let mut next = Vec::new();
        for node in current {
            match node.get(segment) {
                Some(Value::Array(items)) => next.extend(items.iter()),
                Some(Value::Null) | None => {}
                Some(value) => next.push(value),
            }
        }
        current = next;
    }
    current
}

fn add_node(def: &ParamDef, node: &Value, offset: FixedOffset, rows: &mut IndexRows) {
    let param = def.name;
    match def.kind {
        ParamKind::Token => {
            let mut found = Vec::new();
            tokens_of(node, &mut found);
            rows.tokens
                .extend(found.into_iter().map(|(system, code)| TokenValue {
                    param,
                    system,
                    code,
                }));
        }
        ParamKind::String => {
            let mut found = Vec::new();
            strings_of(node, &mut found);
            rows.strings
                .extend(found.into_iter().map(|exact| StringValue {
                    param,
                    normalized: normalize(exact),
                    exact: exact.to_string(),
                }));
        }
        ParamKind::Date => {
            if let Some((start, end)) = date_of(node, offset) {
                rows.dates.push(DateValue { param, start, end });
            }
        }
        ParamKind::Reference => {
            if let Some((target_type, target_id)) = reference_target(node)
                && (def.targets.is_empty() || def.targets.contains(&target_type))
            {
                rows.references.push(ReferenceValue {
                    param,
                    target_type: target_type.to_string(),
                    target_id: target_id.to_string(),
                });
            }
        }
        ParamKind::Number => {
            if let Some(value) = super::number::stored_number(node) {
                rows.numbers.push(NumberValue { param, value });
            }
        }
        ParamKind::Quantity => rows.quantities.extend(quantity_row(param, node)),
        ParamKind::Uri => {
            if let Some(uri) = node.as_str().filter(|u| !u.is_empty()) {
                rows.uris.push(UriValue {
                    param,
                    uri: uri.to_string(),
                });
            }
        }
        // Pairs of parts of one element: `composite::extract` reads them.
        ParamKind::Composite => {}
    }
}

/// The index row of a Quantity (or Age, Duration…): its value, its unit as written (the code,
/// else the unit text) and, for a UCUM unit the server understands, the value in base units.
pub(crate) fn quantity_row(param: &'static str, node: &Value) -> Option<QuantityRow> {
    let map = node.as_object()?;
    let value = super::number::stored_number(map.get("value")?)?;
    let text = |key: &str| {
        map.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let system = text("system");
    let code = text("code").or_else(|| text("unit"));
    let canonical = super::number::canonical(value, system.as_deref(), text("code").as_deref());
    Some(QuantityRow {
        param,
        system,
        code,
        value,
        canonical,
        component: None,
    })
}

/// Token values by shape: code/string, boolean, CodeableConcept, Coding, Identifier/ContactPoint.
pub(crate) fn tokens_of(node: &Value, out: &mut Vec<(Option<String>, String)>) {
    match node {
        Value::String(code) if !code.is_empty() => out.push((None, code.clone())),
        Value::Bool(flag) => out.push((None, flag.to_string())),
        Value::Object(map) => {
            if let Some(codings) = map.get("coding") {
                let codings = match codings {
                    Value::Array(items) => items.as_slice(),
                    single => std::slice::from_ref(single),
                };
                out.extend(
                    codings
                        .iter()
                        .filter_map(Value::as_object)
                        .filter_map(|c| system_and(c, "code")),
                );
            } else if map.contains_key("code") {
                out.extend(system_and(map, "code"));
            } else {
                out.extend(system_and(map, "value"));
            }
        }
        _ => {}
    }
}

/// `(system, map[key])` when `map[key]` is a non-empty string.
fn system_and(map: &Map<String, Value>, key: &str) -> Option<(Option<String>, String)> {
    let code = map.get(key)?.as_str().filter(|c| !c.is_empty())?;
    let system = map
        .get("system")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    Some((system.map(str::to_string), code.to_string()))
}

/// The parts of HumanName and Address that string search looks at.
const STRING_PARTS: &[&str] = &[
    "text",
    "family",
    "given",
    "prefix",
    "suffix",
    "line",
    "city",
    "district",
    "state",
    "postalCode",
    "country",
];

/// String values by shape: a plain string, or the parts of a HumanName or Address.
fn strings_of<'a>(node: &'a Value, out: &mut Vec<&'a str>) {
    match node {
        Value::String(s) => out.push(s),
        Value::Object(map) => {
            for part in STRING_PARTS.iter().filter_map(|key| map.get(*key)) {
                match part {
                    Value::String(s) => out.push(s),
                    Value::Array(items) => out.extend(items.iter().filter_map(Value::as_str)),
                    _ => {}
                }
            }
        }
        _ => {}
    }
    out.retain(|s| !s.trim().is_empty());
}

/// The range of a date/dateTime/instant string or of a Period.
fn date_of(node: &Value, offset: FixedOffset) -> Option<(Micros, Micros)> {
    match node {
        Value::String(s) => parse_fhir_date(s, offset).ok().map(|r| (r.start, r.end)),
        Value::Object(map) => period_of(map, offset),
        _ => None,
    }
}

/// A Period covers from the start of its start to the end of its end; a missing side is open.
fn period_of(map: &Map<String, Value>, offset: FixedOffset) -> Option<(Micros, Micros)> {
    let bound = |key: &str| match map.get(key) {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(s)) => parse_fhir_date(s, offset).ok().map(Some),
        Some(_) => None,
    };
    let (start, end) = (bound("start")?, bound("end")?);
    if start.is_none() && end.is_none() {
        return None;
    }
    let start = start.map_or(Micros::MIN, |r| r.start);
    let end = end.map_or(Micros::MAX, |r| r.end);
    (start <= end).then_some((start, end))
}

/// `(type, id)` of a Reference element that points at a resource on a server.
fn reference_target(node: &Value) -> Option<(&str, &str)> {
    node.get("reference")
        .and_then(Value::as_str)
        .and_then(parse_reference)
}

/// `(type, id)` of a literal reference: `Type/id`, an absolute URL ending in `Type/id`, either
/// optionally followed by `/_history/version` (ignored). Contained (`#id`) and `urn:` references
/// name no stored resource, so they give `None`.
pub fn parse_reference(reference: &str) -> Option<(&str, &str)> {
    if reference.starts_with('#') || reference.starts_with("urn:") {
        return None;
    }
    let mut segments: Vec<&str> = reference.split('/').collect();
    if segments.len() >= 4 && segments[segments.len() - 2] == "_history" {
        segments.truncate(segments.len() - 2);
    }
    match segments[..] {
        [.., target_type, id] if is_type_name(target_type) && is_valid_id(id) => {
            Some((target_type, id))
        }
        _ => None,
    }
}

/// Shaped like a resource type name (the list of types is checked elsewhere).
pub fn is_type_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.len() <= 64
        && s.chars().all(|c| c.is_ascii_alphanumeric())
}

/// A FHIR logical id: 1–64 of `A-Z a-z 0-9 - .`.
pub fn is_valid_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

fn dedup<T: PartialEq>(items: Vec<T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// The form string search compares: lower case, full- and half-width variants folded to their
/// usual form (Ａ→a, ｶﾞ→ガ, ideographic space → space), accents of Latin letters removed.
/// Kana and kanji are otherwise kept as written. A hand-made subset of NFKC plus case folding,
/// covering what Japanese clinical data contains, so no Unicode tables are needed.
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().map(fold_width) {
        if matches!(c, '\u{3099}' | '\u{309A}')
            && let Some(composed) = out
                .chars()
                .next_back()
                .and_then(|prev| compose_sound_mark(prev, c))
        {
            out.pop();
            out.push(composed);
            continue;
        }
        if ('\u{0300}'..='\u{036F}').contains(&c) {
            continue;
        }
        out.extend(strip_latin_accent(c).to_lowercase());
    }
    out
}

/// Half-width katakana U+FF61…U+FF9D, in order, as their usual (full-width) forms.
const HALF_WIDTH_KANA: &str = concat!(
    "。「」、・ヲァィゥェォャュョッー",
    "アイウエオカキクケコサシスセソタチツテトナニヌネノ",
    "ハヒフヘホマミムメモヤユヨラリルレロワン",
);

fn fold_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        '\u{FF61}'..='\u{FF9D}' => HALF_WIDTH_KANA
            .chars()
            .nth((c as u32 - 0xFF61) as usize)
            .unwrap_or(c),
        // Half-width (semi-)voiced sound marks become the combining ones, as in NFKC.
        '\u{FF9E}' => '\u{3099}',
        '\u{FF9F}' => '\u{309A}',
        other => other,
    }
}

/// The kana `base` with the combining (semi-)voiced sound `mark`, when such a letter exists.
fn compose_sound_mark(base: char, mark: char) -> Option<char> {
    let semi = mark == '\u{309A}';
    let katakana = match base {
        '\u{3041}'..='\u{3096}' => char::from_u32(base as u32 + 0x60)?,
        _ => base,
    };
    let composed = match (katakana, semi) {
        (
            'カ' | 'キ' | 'ク' | 'ケ' | 'コ' | 'サ' | 'シ' | 'ス' | 'セ' | 'ソ' | 'タ' | 'チ'
            | 'ツ' | 'テ' | 'ト',
            false,
        )
        | ('ハ' | 'ヒ' | 'フ' | 'ヘ' | 'ホ', false) => katakana as u32 + 1,
        ('ハ' | 'ヒ' | 'フ' | 'ヘ' | 'ホ', true) => katakana as u32 + 2,
        ('ウ', false) => 'ヴ' as u32,
        ('ワ', false) if base == katakana => 'ヷ' as u32,
        ('ヲ', false) if base == katakana => 'ヺ' as u32,
        _ => return None,
    };
    let hiragana_shift = if base == katakana { 0 } else { 0x60 };
    char::from_u32(composed - hiragana_shift)
}

/// Latin-1 letters with diacritics to their base letter.
fn strip_latin_accent(c: char) -> char {
    match c {
        'À'..='Å' => 'A',
        'Ç' => 'C',
        'È'..='Ë' => 'E',
        'Ì'..='Ï' => 'I',
        'Ñ' => 'N',
        'Ò'..='Ö' => 'O',
        'Ù'..='Ü' => 'U',
        'Ý' => 'Y',
        'à'..='å' => 'a',
        'ç' => 'c',
        'è'..='ë' => 'e',
        'ì'..='ï' => 'i',
        'ñ' => 'n',
        'ò'..='ö' => 'o',
        'ù'..='ü' => 'u',
        'ý' | 'ÿ' => 'y',
        other => other,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn jst() -> FixedOffset {
        FixedOffset::east_opt(9 * 3600).unwrap()
    }

    fn at(rfc3339: &str) -> Micros {
        chrono::DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .timestamp_micros()
    }

    fn tokens(rows: &IndexRows, param: &str) -> Vec<(Option<String>, String)> {
        rows.tokens
            .iter()
            .filter(|t| t.param == param)
            .map(|t| (t.system.clone(), t.code.clone()))
            .collect()
    }

    fn refs(rows: &IndexRows, param: &str) -> Vec<String> {
        rows.references
            .iter()
            .filter(|r| r.param == param)
            .map(|r| format!("{}/{}", r.target_type, r.target_id))
            .collect()
    }

    fn strings(rows: &IndexRows, param: &str) -> Vec<String> {
        rows.strings
            .iter()
            .filter(|s| s.param == param)
            .map(|s| s.normalized.clone())
            .collect()
    }

    fn dates(rows: &IndexRows, param: &str) -> Vec<(Micros, Micros)> {
        rows.dates
            .iter()
            .filter(|d| d.param == param)
            .map(|d| (d.start, d.end))
            .collect()
    }

    fn some(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    const JLAC10: &str = "urn:oid:1.2.392.200119.4.504";

    /// A laboratory result as JP-CLINS sends it, with its specimen contained.
    fn lab_observation() -> Value {
        json!({
            "resourceType": "Observation",
            "id": "obs-1",
            "meta": {"lastUpdated": "2024-04-01T12:00:00+09:00"},
            "contained": [{
                "resourceType": "Specimen",
                "id": "sp1",
                "identifier": [{"system": "http://example.jp/specimen", "value": "SP-CONTAINED"}],
                "type": {"coding": [{"system": "http://example.jp/specimen-type", "code": "023"}]}
            }],
            "identifier": [
                {"system": "http://jpfhir.jp/fhir/core/IdSystem/resourceInstance-identifier", "value": "1311234567_OBS_1"}
            ],
            "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}],
            "code": {
                "coding": [
                    {"system": JLAC10, "code": "3D010000001926101", "display": "グルコース"},
                    {"system": "http://example.jp/local-lab", "code": "GLU"},
                    {"system": JLAC10, "code": "3D010000001926101"},
                    {"display": "no code here"}
                ],
                "text": "血糖"
            },
            "subject": {"reference": "Patient/pt-1"},
            "encounter": {"reference": "Encounter/enc-1"},
            "effectiveDateTime": "2024-04-01T10:00:00+09:00",
            "valueQuantity": {"value": 98, "unit": "mg/dL"},
            "specimen": {"reference": "#sp1"},
            "performer": [{"reference": "http://example.jp/fhir/Organization/org-1/_history/3"}]
        })
    }

    #[test]
    fn observation_tokens_dates_and_references() {
        let rows = extract("Observation", &lab_observation(), jst());
        assert_eq!(
            tokens(&rows, "code"),
            vec![
                (some(JLAC10), "3D010000001926101".to_string()),
                (some("http://example.jp/local-lab"), "GLU".to_string())
            ]
        );
        assert_eq!(tokens(&rows, "status"), vec![(None, "final".to_string())]);
        assert_eq!(tokens(&rows, "category")[0].1, "laboratory");
        assert_eq!(tokens(&rows, "identifier")[0].1, "1311234567_OBS_1");
        let instant = at("2024-04-01T01:00:00Z");
        assert_eq!(dates(&rows, "date"), vec![(instant, instant + 999_999)]);
        assert_eq!(refs(&rows, "subject"), vec!["Patient/pt-1"]);
        assert_eq!(refs(&rows, "patient"), vec!["Patient/pt-1"]);
        assert_eq!(refs(&rows, "encounter"), vec!["Encounter/enc-1"]);
        assert_eq!(refs(&rows, "performer"), vec!["Organization/org-1"]);
        assert!(
            refs(&rows, "specimen").is_empty(),
            "contained references are not indexed"
        );
        assert!(
            !rows.tokens.iter().any(|t| t.code == "SP-CONTAINED"),
            "contained resources are not walked"
        );
    }

    #[test]
    fn patient_param_keeps_only_patient_references() {
        let obs = json!({"resourceType": "Observation", "subject": {"reference": "Group/g-1"}});
        let rows = extract("Observation", &obs, jst());
        assert_eq!(refs(&rows, "subject"), vec!["Group/g-1"]);
        assert!(refs(&rows, "patient").is_empty());
    }

    #[test]
    fn condition_with_periods_and_bundle_local_references() {
        let condition = json!({
            "resourceType": "Condition",
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
            "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]},
            "code": {"coding": [{"system": "http://medis.or.jp/CodeSystem/master-disease-keyNumber", "code": "20059056", "display": "２型糖尿病"}]},
            "subject": {"reference": "urn:uuid:0a48a4bf-0d87-4efb-aafd-d45e0842a4dd"},
            "onsetPeriod": {"start": "2020-05"},
            "abatementPeriod": {"end": "2023-12-31"},
            "recordedDate": "2024-04-01"
        });
        let rows = extract("Condition", &condition, jst());
        assert_eq!(tokens(&rows, "clinical-status")[0].1, "active");
        assert_eq!(tokens(&rows, "code")[0].1, "20059056");
        assert!(
            rows.references.is_empty(),
            "urn:uuid references name no stored resource"
        );
        assert_eq!(
            dates(&rows, "onset-date"),
            vec![(at("2020-05-01T00:00:00+09:00"), Micros::MAX)]
        );
        assert_eq!(
            dates(&rows, "abatement-date"),
            vec![(Micros::MIN, at("2024-01-01T00:00:00+09:00") - 1)]
        );
        assert_eq!(
            dates(&rows, "recorded-date"),
            vec![(
                at("2024-04-01T00:00:00+09:00"),
                at("2024-04-02T00:00:00+09:00") - 1
            )]
        );
    }

    /// A patient as JP Core writes it: a kanji name and a kana reading, marked by extensions.
    fn japanese_patient() -> Value {
        let representation = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";
        json!({
            "resourceType": "Patient",
            "id": "pt-1",
            "identifier": [{"system": "urn:oid:1.2.392.100495.20.3.51.11311234567", "value": "00000010"}],
            "active": true,
            "name": [
                {"extension": [{"url": representation, "valueCode": "IDE"}], "use": "official",
                 "text": "山田　太郎", "family": "山田", "given": ["太郎"]},
                {"extension": [{"url": representation, "valueCode": "SYL"}], "use": "official",
                 "text": "ﾔﾏﾀﾞ ﾀﾛｳ", "family": "ﾔﾏﾀﾞ", "given": ["ﾀﾛｳ"]}
            ],
            "telecom": [{"system": "phone", "value": "03-1234-5678"}],
            "gender": "male",
            "birthDate": "1970-01-01",
            "address": [{"text": "東京都千代田区", "postalCode": "１００－０００１", "city": "千代田区", "state": "東京都"}]
        })
    }

    #[test]
    fn patient_names_in_kanji_and_kana() {
        let rows = extract("Patient", &japanese_patient(), jst());
        assert_eq!(strings(&rows, "family"), vec!["山田", "ヤマダ"]);
        assert_eq!(strings(&rows, "given"), vec!["太郎", "タロウ"]);
        assert_eq!(
            strings(&rows, "name"),
            vec![
                "山田 太郎",
                "山田",
                "太郎",
                "ヤマダ タロウ",
                "ヤマダ",
                "タロウ"
            ]
        );
        let exact: Vec<&str> = rows
            .strings
            .iter()
            .filter(|s| s.param == "family")
            .map(|s| s.exact.as_str())
            .collect();
        assert_eq!(exact, vec!["山田", "ﾔﾏﾀﾞ"]);
        assert_eq!(strings(&rows, "address-postalcode"), vec!["100-0001"]);
        assert!(strings(&rows, "address").contains(&"千代田区".to_string()));
        assert_eq!(tokens(&rows, "active"), vec![(None, "true".to_string())]);
        assert_eq!(tokens(&rows, "gender"), vec![(None, "male".to_string())]);
        assert_eq!(
            tokens(&rows, "telecom"),
            vec![(some("phone"), "03-1234-5678".to_string())]
        );
        assert_eq!(tokens(&rows, "identifier")[0].1, "00000010");
        assert_eq!(dates(&rows, "birthdate").len(), 1);
    }

    #[test]
    fn coding_and_identifier_shapes() {
        let encounter = json!({
            "resourceType": "Encounter",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "type": [{"coding": {"code": "single-coding-object"}}],
            "identifier": [{"value": "E-1"}, {"value": "E-1"}, {"system": "s", "value": ""}],
            "period": {"start": "2024-04-01T09:00:00+09:00", "end": "2024-04-01T10:00:00+09:00"},
            "subject": {"reference": "Patient/pt-2"},
            "participant": [
                {"individual": {"reference": "Practitioner/dr-1"}},
                {"individual": {"reference": "PractitionerRole/role-1"}}
            ]
        });
        let rows = extract("Encounter", &encounter, jst());
        assert_eq!(
            tokens(&rows, "class"),
            vec![(
                some("http://terminology.hl7.org/CodeSystem/v3-ActCode"),
                "AMB".to_string()
            )]
        );
        assert_eq!(
            tokens(&rows, "type"),
            vec![(None, "single-coding-object".to_string())]
        );
        assert_eq!(tokens(&rows, "identifier"), vec![(None, "E-1".to_string())]);
        assert_eq!(
            dates(&rows, "date"),
            vec![(
                at("2024-04-01T00:00:00Z"),
                at("2024-04-01T01:00:00Z") + 999_999
            )]
        );
        assert_eq!(
            refs(&rows, "participant"),
            vec!["Practitioner/dr-1", "PractitionerRole/role-1"]
        );
        assert_eq!(refs(&rows, "practitioner"), vec!["Practitioner/dr-1"]);
    }

    #[test]
    fn allergy_reaction_paths() {
        let allergy = json!({
            "resourceType": "AllergyIntolerance",
            "patient": {"reference": "Patient/pt-3"},
            "category": ["medication", "food"],
            "recordedDate": "2024-04-01T10:00:00+09:00",
            "reaction": [
                {"substance": {"coding": [{"system": "urn:oid:1.2.392.200119.4.403.1", "code": "620000033"}]},
                 "manifestation": [{"coding": [{"code": "rash"}]}], "onset": "2024-03"},
                {"manifestation": [{"coding": [{"code": "rash"}]}], "onset": "not a date"}
            ]
        });
        let rows = extract("AllergyIntolerance", &allergy, jst());
        assert_eq!(refs(&rows, "patient"), vec!["Patient/pt-3"]);
        assert_eq!(tokens(&rows, "category").len(), 2);
        assert_eq!(tokens(&rows, "code")[0].1, "620000033");
        assert_eq!(
            tokens(&rows, "manifestation"),
            vec![(None, "rash".to_string())]
        );
        assert_eq!(
            dates(&rows, "onset").len(),
            1,
            "unparsable dates are skipped"
        );
    }

    #[test]
    fn odd_shapes_never_panic_and_index_nothing() {
        let weird = json!({
            "resourceType": "Observation",
            "status": 3,
            "code": [[{"coding": 7}]],
            "category": [null, {"coding": [null, "x", {"code": 5}]}],
            "subject": {"reference": 12},
            "effectivePeriod": {"start": 5},
            "effectiveDateTime": null,
            "effectiveInstant": {"start": "2024-02-01", "end": "2024-01-01"},
            "identifier": {"value": {"nested": true}},
            "valueString": "   "
        });
        assert_eq!(extract("Observation", &weird, jst()), IndexRows::default());
        assert_eq!(
            extract("Observation", &json!("not an object"), jst()),
            IndexRows::default()
        );
        assert_eq!(
            extract("Basic", &lab_observation(), jst()),
            IndexRows::default()
        );
        assert_eq!(
            extract("Observation", &json!({"effectivePeriod": {}}), jst()),
            IndexRows::default()
        );
    }

    #[test]
    fn reference_forms() {
        assert_eq!(parse_reference("Patient/123"), Some(("Patient", "123")));
        assert_eq!(
            parse_reference("https://x.example/fhir/Patient/a-1.b"),
            Some(("Patient", "a-1.b"))
        );
        assert_eq!(
            parse_reference("Patient/123/_history/4"),
            Some(("Patient", "123"))
        );
        assert_eq!(
            parse_reference("http://x/fhir/Patient/123/_history/4"),
            Some(("Patient", "123"))
        );
        assert_eq!(parse_reference("#sp1"), None);
        assert_eq!(
            parse_reference("urn:uuid:0a48a4bf-0d87-4efb-aafd-d45e0842a4dd"),
            None
        );
        assert_eq!(parse_reference("urn:oid:1.2.3"), None);
        assert_eq!(parse_reference("123"), None);
        assert_eq!(parse_reference("patient/123"), None);
        assert_eq!(parse_reference("Patient/"), None);
        assert_eq!(parse_reference("Patient/a b"), None);
        assert_eq!(parse_reference(""), None);
    }

    #[test]
    fn normalization_folds_case_width_and_accents() {
        assert_eq!(normalize("ＹＡＭＡＤＡ Ｔａｒｏ１２３"), "yamada taro123");
        assert_eq!(normalize("山田　太郎"), "山田 太郎");
        assert_eq!(normalize("ﾔﾏﾀﾞ ﾀﾛｳ"), "ヤマダ タロウ");
        assert_eq!(normalize("ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ ｳﾞ ｶﾞｷﾞｸﾞｹﾞｺﾞ"), "パピプペポ ヴ ガギグゲゴ");
        assert_eq!(
            normalize("ｱﾞ"),
            "ア\u{3099}",
            "no precomposed letter: the mark stays, combining"
        );
        assert_eq!(normalize("か\u{3099}は\u{309A}"), "がぱ");
        assert_eq!(normalize("ﾜﾞ"), "ヷ");
        assert_eq!(normalize("José Müller"), "jose muller");
        assert_eq!(normalize("Jose\u{301}"), "jose");
        assert_eq!(normalize("ÀÉÎÕÜÇÑÝ"), "aeioucny");
        assert_eq!(normalize("ヤマダ"), "ヤマダ");
        assert_eq!(normalize("やまだ"), "やまだ");
        assert_eq!(normalize(""), "");
    }
}
