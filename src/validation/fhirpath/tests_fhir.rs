//! Focused tests of FHIR JSON handling: navigation, primitive extensions (`_x`), choice types
//! with and without a type model, resolve() in Bundles and contained, delegated terminology.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};

use super::test_model::CoreModel;
use super::tests::{b, patient, run, texts};
use super::*;

#[test]
fn navigation_and_primitive_extensions() {
    let p = patient();
    assert_eq!(
        texts(&run(&p, "name.given.where(hasValue())", None).unwrap()),
        ["太郎", "Taro"]
    );
    // Three given names: "太郎", an extension-only entry, "Taro".
    assert_eq!(b(&p, "name.given.count() = 3"), Some(true));
    assert_eq!(
        b(&p, "name.given.where(hasValue()).count() = 2"),
        Some(true)
    );
    assert_eq!(b(&p, "name[0].given[1].hasValue()"), Some(false));
    assert_eq!(
        b(&p, "name[0].given[1].extension.value = 'ext-only'"),
        Some(true)
    );
    assert_eq!(b(&p, "name.given.extension.exists()"), Some(true));
    assert_eq!(b(&p, "Patient.name.family.first() = '山田'"), Some(true));
    assert_eq!(
        b(&p, "birthDate.exists() and birthDate.hasValue().not()"),
        Some(true)
    );
    assert_eq!(
        b(
            &p,
            "birthDate.extension('http://hl7.org/fhir/StructureDefinition/data-absent-reason').value = 'unknown'"
        ),
        Some(true)
    );
    assert_eq!(b(&p, "birthDate = @2000-01-01"), None);
    // ele-1 on an element that has only an extension.
    assert_eq!(
        b(
            &p,
            "birthDate.all(hasValue() or (children().count() > id.count()))"
        ),
        Some(true)
    );
    assert_eq!(
        b(
            &p,
            "gender.hasValue() and gender = 'male' and active = true"
        ),
        Some(true)
    );
    assert_eq!(b(&p, "name.children().count() = 5"), Some(true));
    assert_eq!(
        b(&p, "descendants().where($this = 'ext-only').exists()"),
        Some(true)
    );
    assert_eq!(b(&p, "resourceType.empty()"), Some(true));
    assert_eq!(b(&p, "Observation.exists()"), Some(false));
    // The engine also accepts a focus made of a value-less primitive.
    let expr = Expression::parse("hasValue() or (children().count() > id.count())").unwrap();
    let ext = &p["_birthDate"];
    let focus = [Item::Node(Node::new(None, Some(ext), Some("date")))];
    assert_eq!(
        evaluate_bool_items(&expr, &focus, &Env::new(&p)).unwrap(),
        Some(true)
    );
}

#[test]
fn choice_types_without_model() {
    let p = patient();
    assert_eq!(
        b(&p, "deceased = false and deceased is boolean"),
        Some(true)
    );
    assert_eq!(
        b(&p, "multipleBirth = 2 and multipleBirth is Integer"),
        Some(true)
    );
    let obs = json!({
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "x"},
        "valueQuantity": {"value": 5.5, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"},
        "effectiveDateTime": "2021-03-04T10:00:00+09:00",
        "_effectiveDateTime": {"id": "e1"},
        "codeFilter": [{"path": "x"}]
    });
    assert_eq!(
        b(&obs, "value.value = 5.5 and value.unit = 'mg'"),
        Some(true)
    );
    assert_eq!(
        b(
            &obs,
            "value is Quantity and value.ofType(Quantity).exists() and value.as(string).empty()"
        ),
        Some(true)
    );
    assert_eq!(b(&obs, "value > 5 'mg' and value < 6 'mg'"), Some(true));
    assert_eq!(
        b(
            &obs,
            "effective is dateTime and effective > @2021-03-04T00:00:00Z"
        ),
        Some(true)
    );
    assert_eq!(b(&obs, "effective.id = 'e1'"), Some(true));
    assert_eq!(b(&obs, "effective > @2021"), None);
    // `codeFilter` is not `code` + a type name.
    assert_eq!(b(&obs, "code.count() = 1"), Some(true));
    assert_eq!(
        b(&obs, "code is CodeableConcept"),
        Some(false),
        "untyped without a model"
    );
}

#[test]
fn typed_navigation_with_core_model() {
    let Some(model) = CoreModel::shared() else {
        crate::test_data::missing("the R4 core package");
    };
    let obs = json!({
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "1-8"}]},
        "valueQuantity": {"value": 5, "code": "mg"},
        "component": [{"code": {"text": "c"}, "valueString": "s"}],
        "effectivePeriod": {"start": "2020-01-01", "end": "2019-12-31T10:00:00+09:00"}
    });
    let m: Option<&dyn TypeModel> = Some(model);
    let env = Env {
        resource: &obs,
        root: &obs,
        model: m,
        terminology: None,
        strict: false,
    };
    let bb = |src: &str| evaluate_bool(&Expression::parse(src).unwrap(), &obs, None, &env).unwrap();
    assert_eq!(bb("Observation.code is CodeableConcept"), Some(true));
    assert_eq!(
        bb("code.coding.first() is Coding and code.coding.code is code"),
        Some(true)
    );
    assert_eq!(
        bb("code.coding.code is string"),
        Some(true),
        "code derives from string"
    );
    assert_eq!(
        bb(
            "status is code and status.is(FHIR.code) and status is String and (status is System.String).not()"
        ),
        Some(true)
    );
    assert_eq!(
        bb("component.code is CodeableConcept and component.value is string"),
        Some(true)
    );
    assert_eq!(
        bb("value is Quantity and value.value is decimal"),
        Some(true)
    );
    assert_eq!(bb("effective.start is dateTime"), Some(true));
    assert_eq!(bb("effective.start > effective.end"), Some(true));
    assert_eq!(bb("effective.start <= effective.end"), Some(false));
    assert_eq!(
        bb("Observation is DomainResource and Observation is Resource"),
        Some(true)
    );
    assert_eq!(bb("descendants().ofType(Coding).count() = 1"), Some(true));
    assert_eq!(
        bb("children().ofType(CodeableConcept).count() = 1"),
        Some(true)
    );
    // An inline BackboneElement as the focus: the caller names its definition path.
    let comp = &obs["component"][0];
    let focus = [Item::Node(
        Node::new(Some(comp), None, None).with_definition("Observation.component"),
    )];
    let expr = Expression::parse("code is CodeableConcept and $this is BackboneElement").unwrap();
    assert_eq!(
        evaluate_bool_items(&expr, &focus, &env).unwrap(),
        Some(true)
    );
    let expr = Expression::parse("code is CodeableConcept and value is string").unwrap();
    assert_eq!(
        evaluate_bool(&expr, comp, Some("Observation.component"), &env).unwrap(),
        Some(true)
    );

    let md = json!({"resourceType": "MedicationDispense", "whenPrepared": "2020-01-02", "whenHandedOver": "2020-01-02T10:00:00+09:00"});
    let env = Env {
        resource: &md,
        root: &md,
        model: m,
        terminology: None,
        strict: false,
    };
    let expr = Expression::parse(
        "whenHandedOver.empty() or whenPrepared.empty() or whenHandedOver >= whenPrepared",
    )
    .unwrap();
    assert_eq!(
        evaluate_bool(&expr, &md, None, &env).unwrap(),
        None,
        "different precision"
    );
    let expr =
        Expression::parse("whenHandedOver > @2020-01-01T00:00:00Z and whenPrepared is dateTime")
            .unwrap();
    assert_eq!(evaluate_bool(&expr, &md, None, &env).unwrap(), Some(true));

    let range = json!({"low": {"value": 1, "unit": "mg", "code": "mg"}, "high": {"value": 2, "code": "mg"}});
    let env = Env {
        resource: &range,
        root: &range,
        model: m,
        terminology: None,
        strict: false,
    };
    let expr = Expression::parse("low.empty() or high.empty() or (low <= high)").unwrap();
    assert_eq!(
        evaluate_bool(&expr, &range, Some("Range"), &env).unwrap(),
        Some(true)
    );
    let expr = Expression::parse("low > high").unwrap();
    assert_eq!(
        evaluate_bool(&expr, &range, Some("Range"), &env).unwrap(),
        Some(false)
    );
}

#[test]
fn resolve_in_bundle_and_contained() {
    let bundle = json!({
        "resourceType": "Bundle",
        "type": "document",
        "entry": [
            {"fullUrl": "urn:uuid:11111111-1111-1111-1111-111111111111",
             "resource": {"resourceType": "Composition", "id": "c",
                          "subject": {"reference": "urn:uuid:22222222-2222-2222-2222-222222222222"},
                          "author": [{"reference": "Practitioner/d1"}, {"reference": "Practitioner/missing"}]}},
            {"fullUrl": "urn:uuid:22222222-2222-2222-2222-222222222222",
             "resource": {"resourceType": "Patient", "id": "p", "name": [{"family": "Yamada"}]}},
            {"fullUrl": "http://example.org/fhir/Practitioner/d1",
             "resource": {"resourceType": "Practitioner", "id": "d1"}}
        ]
    });
    assert_eq!(
        b(
            &bundle,
            "entry.first().resource.subject.resolve().name.family = 'Yamada'"
        ),
        Some(true)
    );
    assert_eq!(
        b(
            &bundle,
            "entry.first().resource.subject.resolve() is Patient"
        ),
        Some(true)
    );
    assert_eq!(
        b(
            &bundle,
            "entry.first().resource.author.resolve().count() = 1"
        ),
        Some(true)
    );
    assert_eq!(
        b(
            &bundle,
            "entry.first().resource.author.resolve().ofType(Practitioner).id = 'd1'"
        ),
        Some(true)
    );
    assert_eq!(
        b(&bundle, "entry.resource.first().is(Composition)"),
        Some(true)
    );

    let cond = json!({
        "resourceType": "Condition",
        "contained": [{"resourceType": "Encounter", "id": "enc", "status": "finished"}],
        "encounter": {"reference": "#enc"},
        "subject": {"reference": "Patient/elsewhere"}
    });
    assert_eq!(
        b(&cond, "encounter.resolve().status = 'finished'"),
        Some(true)
    );
    assert_eq!(b(&cond, "subject.resolve().empty()"), Some(true));
    // dom-3: every contained resource is referenced from the container.
    let dom3 = "contained.where((('#'+id in (%resource.descendants().reference | %resource.descendants().as(canonical) | %resource.descendants().as(uri) | %resource.descendants().as(url))) or descendants().where(reference = '#').exists() or descendants().where(as(canonical) = '#').exists() or descendants().where(as(canonical) = '#').exists()).not()).trace('unmatched', id).empty()";
    assert_eq!(b(&cond, dom3), Some(true));
    let orphan = json!({"resourceType": "Condition", "contained": [{"resourceType": "Encounter", "id": "enc"}]});
    assert_eq!(b(&orphan, dom3), Some(false));
}

struct FakeTerminology;

impl Terminology for FakeTerminology {
    fn member_of(&self, item: &Item<'_>, value_set: &str) -> Option<bool> {
        (value_set == "http://example.org/vs").then(|| {
            item.as_json()
                .and_then(|v| v.get("code"))
                .and_then(Value::as_str)
                == Some("a")
        })
    }
}

#[test]
fn terminology_is_delegated() {
    let v = json!({"coding": [{"system": "s", "code": "a"}]});
    let err = run(&v, "coding.memberOf('http://example.org/vs')", None).unwrap_err();
    assert!(err.is_unsupported(), "{err}");
    let term = FakeTerminology;
    let env = Env {
        resource: &v,
        root: &v,
        model: None,
        terminology: Some(&term),
        strict: false,
    };
    let e = Expression::parse("coding.memberOf('http://example.org/vs')").unwrap();
    assert_eq!(evaluate_bool(&e, &v, None, &env).unwrap(), Some(true));
    let e = Expression::parse("coding.memberOf('http://example.org/other')").unwrap();
    assert!(
        evaluate_bool(&e, &v, None, &env)
            .unwrap_err()
            .is_unsupported()
    );
    let e = Expression::parse("conformsTo('http://example.org/p')").unwrap();
    assert!(
        evaluate_bool(&e, &v, None, &env)
            .unwrap_err()
            .is_unsupported()
    );
    let e = Expression::parse("htmlChecks()").unwrap();
    assert_eq!(evaluate_bool(&e, &v, None, &env).unwrap(), Some(true));
}
