//! Hand-written XML for the cases the examples exercise least, and hostile XML.

use serde_json::{Value, json};

use super::*;

const DEPTH: usize = 64;

fn parse(xml: &str) -> Value {
    parse_resource(xml.as_bytes(), DEPTH).unwrap()
}

/// A JSON number with exactly this text (`json!(1.50)` would be written `1.5`).
fn decimal(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn round_trip(resource: &Value) -> Value {
    let xml = to_xml(resource, false).unwrap();
    parse_resource(xml.as_bytes(), DEPTH).unwrap_or_else(|e| panic!("{e}\n{xml}"))
}

#[test]
fn primitive_extensions_without_a_value_become_underscore_properties() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<Patient xmlns="http://hl7.org/fhir">
  <!-- a comment is dropped -->
  <id value="p1"/>
  <active value="true"/>
  <name>
    <given value="Taro"/>
    <given id="g2">
      <extension url="http://example.org/kana"><valueString value="タロウ"/></extension>
    </given>
    <given value="Jr"/>
  </name>
  <birthDate>
    <extension url="http://hl7.org/fhir/StructureDefinition/data-absent-reason">
      <valueCode value="unknown"/>
    </extension>
  </birthDate>
  <multipleBirthInteger value="2"/>
</Patient>"#;
    assert_eq!(
        parse(xml),
        json!({
            "resourceType": "Patient",
            "id": "p1",
            "active": true,
            "name": [{
                "given": ["Taro", null, "Jr"],
                "_given": [null, {"id": "g2", "extension": [
                    {"url": "http://example.org/kana", "valueString": "タロウ"}
                ]}, null]
            }],
            "_birthDate": {"extension": [{
                "url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                "valueCode": "unknown"
            }]},
            "multipleBirthInteger": 2
        })
    );
}

#[test]
fn the_narrative_div_is_kept_as_written() {
    let div = r#"<div xmlns="http://www.w3.org/1999/xhtml"><p>患者 <b>山田</b> &amp; <br/>家族</p></div>"#;
    let xml = format!(
        r#"<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/>{div}</text><gender value="male"/></Patient>"#
    );
    let value = parse(&xml);
    assert_eq!(value["text"]["div"], div);
    assert_eq!(value["gender"], "male");
    assert_eq!(to_xml(&value, false).unwrap(), xml);
}

#[test]
fn a_div_that_is_no_single_xhtml_element_cannot_inject_markup() {
    let value = json!({"resourceType": "Patient", "text": {"status": "generated",
        "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div></text><active value=\"true\"/><text><div>"}});
    let xml = to_xml(&value, false).unwrap();
    let back = parse(&xml);
    assert!(back.get("active").is_none(), "{xml}");
    assert_eq!(
        back["text"]["div"]
            .as_str()
            .unwrap()
            .matches("<div")
            .count(),
        1
    );
    // A div without the namespace gets it.
    let value =
        json!({"resourceType": "Patient", "text": {"status": "generated", "div": "<div>ok</div>"}});
    let back = round_trip(&value);
    assert_eq!(
        back["text"]["div"],
        "<div xmlns=\"http://www.w3.org/1999/xhtml\">ok</div>"
    );
}

#[test]
fn nested_resources_sit_inside_their_containers() {
    let xml = r##"<Bundle xmlns="http://hl7.org/fhir">
  <type value="collection"/>
  <entry>
    <fullUrl value="urn:uuid:1"/>
    <resource>
      <Observation>
        <contained><Patient><id value="pat"/></Patient></contained>
        <status value="final"/>
        <code><text value="x"/></code>
        <subject><reference value="#pat"/></subject>
        <valueQuantity><value value="1.50"/><unit value="mg"/></valueQuantity>
      </Observation>
    </resource>
  </entry>
</Bundle>"##;
    assert_eq!(
        parse(xml),
        json!({"resourceType": "Bundle", "type": "collection", "entry": [{
            "fullUrl": "urn:uuid:1",
            "resource": {
                "resourceType": "Observation",
                "contained": [{"resourceType": "Patient", "id": "pat"}],
                "status": "final",
                "code": {"text": "x"},
                "subject": {"reference": "#pat"},
                // The decimal as written, trailing zero included.
                "valueQuantity": {"value": decimal("1.50"), "unit": "mg"}
            }
        }]})
    );
}

#[test]
fn elements_are_written_in_definition_order_whatever_the_json_order() {
    let value = json!({"gender": "female", "id": "x", "resourceType": "Patient",
        "fhir_comments": ["dropped"], "_gender": {"id": "g"},
        "name": [{"family": "Yamada", "extension": [{"valueBoolean": false, "url": "u"}]}]});
    assert_eq!(
        to_xml(&value, false).unwrap(),
        concat!(
            r#"<Patient xmlns="http://hl7.org/fhir"><id value="x"/><name><extension url="u"><valueBoolean value="false"/></extension>"#,
            r#"<family value="Yamada"/></name><gender value="female" id="g"/></Patient>"#
        )
    );
}

#[test]
fn strings_keep_line_breaks_and_markup_characters() {
    let value = json!({"resourceType": "Observation", "status": "final", "code": {"text": "a\nb\t\"c\" <d> & e\r\n"}});
    assert_eq!(round_trip(&value), value);
    let pretty = to_xml(&value, true).unwrap();
    assert_eq!(parse(&pretty), value);
}

#[test]
fn literal_whitespace_in_attributes_is_normalised_as_xml_says() {
    let value = parse(
        "<Observation xmlns=\"http://hl7.org/fhir\"><code><text value=\"a\nb\"/></code></Observation>",
    );
    assert_eq!(value["code"]["text"], "a b");
}

#[test]
fn numbers_and_booleans_are_typed_by_the_definitions() {
    let value = parse(
        r#"<Observation xmlns="http://hl7.org/fhir"><valueQuantity><value value="-0.0100"/></valueQuantity><component><code><text value="1"/></code><valueBoolean value="yes"/></component></Observation>"#,
    );
    assert_eq!(value["valueQuantity"]["value"], decimal("-0.0100"));
    assert_eq!(value["component"][0]["code"]["text"], "1");
    // Not a boolean: kept as text for validation to report where it is.
    assert_eq!(value["component"][0]["valueBoolean"], "yes");
}

#[test]
fn prefixed_fhir_namespaces_are_fhir_too() {
    let value = parse(
        r#"<f:Patient xmlns:f="http://hl7.org/fhir" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="x"><f:id value="a"/></f:Patient>"#,
    );
    assert_eq!(value, json!({"resourceType": "Patient", "id": "a"}));
}

fn error(xml: &str) -> XmlError {
    parse_resource(xml.as_bytes(), DEPTH).unwrap_err()
}

#[test]
fn malformed_xml_names_line_and_column() {
    match error("<Patient xmlns=\"http://hl7.org/fhir\">\n  <id value=\"a\">\n</Patient>") {
        XmlError::Syntax { line, .. } => assert_eq!(line, 3),
        other => panic!("{other:?}"),
    }
    match error("<Patient xmlns=\"http://hl7.org/fhir\">\n  <nickname value=\"a\"/>\n</Patient>") {
        XmlError::Structure {
            line,
            column,
            problem,
        } => {
            assert_eq!((line, column), (2, 3));
            let message = problem.render(crate::messages::Language::English);
            assert!(message.contains("nickname"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        error("<Patient><id value=\"a\"/></Patient>"),
        XmlError::Structure { .. }
    ));
    assert!(matches!(
        error("<Foo xmlns=\"http://hl7.org/fhir\"/>"),
        XmlError::Structure { .. }
    ));
    assert!(matches!(
        error(
            "<Patient xmlns=\"http://hl7.org/fhir\"><gender value=\"a\"/><gender value=\"b\"/></Patient>"
        ),
        XmlError::Structure { .. }
    ));
    assert_eq!(error("  "), XmlError::Empty);
}

#[test]
fn hostile_xml_is_refused() {
    let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<Patient xmlns="http://hl7.org/fhir"><id value="&lol2;"/></Patient>"#;
    assert_eq!(error(laughs), XmlError::Doctype { line: 2, column: 1 });
    let external = r#"<!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><Patient xmlns="http://hl7.org/fhir"><id value="&x;"/></Patient>"#;
    assert!(matches!(error(external), XmlError::Doctype { .. }));
    // Without a DTD an entity is simply undefined.
    let undefined = r#"<Patient xmlns="http://hl7.org/fhir"><id value="&lol;"/></Patient>"#;
    assert!(matches!(error(undefined), XmlError::Structure { .. }));
    let mut deep = String::from(r#"<Questionnaire xmlns="http://hl7.org/fhir">"#);
    for _ in 0..100 {
        deep.push_str("<item>");
    }
    for _ in 0..100 {
        deep.push_str("</item>");
    }
    deep.push_str("</Questionnaire>");
    assert!(matches!(error(&deep), XmlError::TooDeep { max: DEPTH, .. }));
    assert!(matches!(
        error(r#"<Patient xmlns="http://hl7.org/fhir">text</Patient>"#),
        XmlError::Structure { .. }
    ));
}

#[test]
fn unknown_json_keys_are_written_rather_than_lost() {
    let value = json!({"resourceType": "Patient", "foo": "bar", "baz": {"qux": 1}});
    let xml = to_xml(&value, false).unwrap();
    assert!(
        xml.contains(r#"<foo value="bar"/><baz><qux value="1"/></baz>"#),
        "{xml}"
    );
    let value = json!({"resourceType": "Patient", "bad name": "x"});
    assert!(matches!(
        to_xml(&value, false),
        Err(XmlError::Unwritable(_))
    ));
}

#[test]
fn a_leading_byte_order_mark_is_skipped() {
    let body = b"\xEF\xBB\xBF<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"a\"/></Patient>";
    let value = parse_resource(body, DEPTH).unwrap();
    assert_eq!(value, json!({"resourceType": "Patient", "id": "a"}));
}

#[test]
fn bytes_that_are_not_utf8_are_named() {
    // "山" in Shift_JIS: the encoding many Japanese systems still write.
    let body = b"<Patient xmlns=\"http://hl7.org/fhir\">\n<name><family value=\"\x8eR\"/></name></Patient>";
    assert_eq!(
        parse_resource(body, DEPTH).unwrap_err(),
        XmlError::NotUtf8 {
            byte: 0x8E,
            line: 2,
            column: 22
        }
    );
}

#[test]
fn decimals_keep_the_text_they_were_written_with() {
    let value: Value = serde_json::from_str(
        r#"{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1.50},"referenceRange":[{"low":{"value":1e-99999}}]}"#,
    )
    .unwrap();
    let xml = to_xml(&value, false).unwrap();
    assert!(xml.contains(r#"<value value="1.50"/>"#), "{xml}");
    assert!(xml.contains(r#"<value value="1e-99999"/>"#), "{xml}");
    assert_eq!(round_trip(&value).to_string(), value.to_string());
}
