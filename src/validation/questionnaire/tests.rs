//! One test per rule, each with its Questionnaire written here: the response is checked against
//! a contained copy unless the test is about finding the Questionnaire.

use serde_json::{Value, json};

use super::{Sources, check_response, unresolved_questionnaires};
use crate::fhir::{Issue, IssueSeverity, IssueType};
use crate::packages::PackageSet;
use crate::validation::binding_check::{BindingCheck, CodeCheck, CodedValue, Membership};
use crate::validation::walk::tests_support::assert_all_speak_japanese;

const COLOURS: &str = "http://example.org/ValueSet/colours";
const COLOUR: &str = "http://example.org/CodeSystem/colour";

/// Knows one value set, {red, green}; any other is not loaded.
struct Colours;

impl BindingCheck for Colours {
    fn check(&self, value_set: &str, value: CodedValue<'_>) -> CodeCheck {
        let membership = if value_set != COLOURS {
            Membership::Unknown(format!("value set {value_set} is not loaded"))
        } else if value.system == Some(COLOUR) && matches!(value.code, "red" | "green") {
            Membership::Member
        } else {
            Membership::NotMember
        };
        CodeCheck { membership }
    }
}

fn questionnaire(items: Value) -> Value {
    json!({"resourceType": "Questionnaire", "id": "q", "status": "active", "item": items})
}

fn response(status: &str, items: Value) -> Value {
    json!({
        "resourceType": "QuestionnaireResponse", "questionnaire": "#q", "status": status,
        "item": items
    })
}

fn check_with(qr: &Value, root: &Value) -> Vec<Issue> {
    let mut out = Vec::new();
    let sources = Sources {
        root,
        packages: &PackageSet::new(),
        stored: &[],
    };
    check_response(qr, &sources, &Colours, "QuestionnaireResponse", &mut out);
    assert_all_speak_japanese(&out);
    out
}

/// The issues of a `status` response with `items` against a contained Questionnaire of `defs`.
fn run(defs: Value, status: &str, items: Value) -> Vec<Issue> {
    let mut qr = response(status, items);
    qr["contained"] = json!([questionnaire(defs)]);
    check_with(&qr, &qr)
}

fn show(issues: &[Issue]) -> String {
    crate::validation::walk::tests_support::show(&issues.iter().collect::<Vec<_>>())
}

/// Exactly one issue, of this severity and code, at `at`.
fn only(issues: &[Issue], severity: IssueSeverity, code: IssueType, at: &str) {
    assert_eq!(issues.len(), 1, "{}", show(issues));
    let i = &issues[0];
    assert!(
        i.severity == severity && i.code == code && i.expression == [at],
        "expected {} {} @{at}:\n{}",
        severity.as_str(),
        code.as_str(),
        show(issues)
    );
}

fn error(issues: &[Issue], code: IssueType, at: &str) {
    only(issues, IssueSeverity::Error, code, at);
}

fn clean(issues: &[Issue]) {
    assert!(issues.is_empty(), "{}", show(issues));
}

fn question(link_id: &str, kind: &str) -> Value {
    json!({"linkId": link_id, "type": kind, "text": link_id})
}

fn answered(link_id: &str, answer: Value) -> Value {
    json!({"linkId": link_id, "answer": [answer]})
}

#[test]
fn a_response_that_follows_its_questionnaire_has_no_issues() {
    let defs = json!([
        {"linkId": "g", "type": "group", "required": true, "item": [
            question("name", "string"),
            {"linkId": "colour", "type": "choice", "answerValueSet": COLOURS},
            {"linkId": "pets", "type": "integer", "item": [question("names", "text")]},
        ]},
        {"linkId": "note", "type": "display", "text": "thanks"},
    ]);
    let items = json!([{"linkId": "g", "item": [
        {"linkId": "name", "text": "name", "answer": [{"valueString": "Hanako"}]},
        answered("colour", json!({"valueCoding": {"system": COLOUR, "code": "red"}})),
        {"linkId": "pets", "answer": [{"valueInteger": 1, "item": [
            answered("names", json!({"valueString": "Tama"}))
        ]}]},
    ]}]);
    clean(&run(defs, "completed", items));
}

#[test]
fn a_link_id_the_questionnaire_does_not_have_is_an_error() {
    let issues = run(
        json!([question("a", "string")]),
        "completed",
        json!([answered("zz", json!({"valueString": "x"}))]),
    );
    error(
        &issues,
        IssueType::NotFound,
        "QuestionnaireResponse.item[0]",
    );
    assert!(issues[0].diagnostics.contains("zz"));
}

#[test]
fn an_item_at_another_nesting_than_its_definition_is_an_error() {
    let defs = json!([{"linkId": "g", "type": "group", "item": [question("a", "string")]}]);
    let issues = run(
        defs,
        "completed",
        json!([answered("a", json!({"valueString": "x"}))]),
    );
    error(
        &issues,
        IssueType::Structure,
        "QuestionnaireResponse.item[0]",
    );
    assert!(issues[0].diagnostics.contains("wrong place"));
}

#[test]
fn items_out_of_the_questionnaire_order_are_an_error() {
    let defs = json!([question("a", "string"), question("b", "string")]);
    let items = json!([
        answered("b", json!({"valueString": "x"})),
        answered("a", json!({"valueString": "y"})),
    ]);
    error(
        &run(defs, "completed", items),
        IssueType::Structure,
        "QuestionnaireResponse.item[1]",
    );
}

#[test]
fn each_item_type_takes_its_own_answer_type_only() {
    let cases = [
        (
            "boolean",
            json!({"valueBoolean": true}),
            json!({"valueString": "yes"}),
        ),
        (
            "decimal",
            json!({"valueDecimal": 1.5}),
            json!({"valueInteger": 1}),
        ),
        (
            "integer",
            json!({"valueInteger": 2}),
            json!({"valueDecimal": 2.5}),
        ),
        (
            "date",
            json!({"valueDate": "2024-01-02"}),
            json!({"valueDateTime": "2024-01-02T10:00:00+09:00"}),
        ),
        (
            "dateTime",
            json!({"valueDateTime": "2024-01-02T10:00:00+09:00"}),
            json!({"valueDate": "2024-01-02"}),
        ),
        (
            "time",
            json!({"valueTime": "10:00:00"}),
            json!({"valueString": "10:00"}),
        ),
        (
            "string",
            json!({"valueString": "x"}),
            json!({"valueUri": "http://x"}),
        ),
        (
            "text",
            json!({"valueString": "long"}),
            json!({"valueBoolean": false}),
        ),
        (
            "url",
            json!({"valueUri": "http://x"}),
            json!({"valueString": "http://x"}),
        ),
        (
            "attachment",
            json!({"valueAttachment": {"url": "http://x"}}),
            json!({"valueString": "x"}),
        ),
        (
            "reference",
            json!({"valueReference": {"reference": "Patient/1"}}),
            json!({"valueUri": "Patient/1"}),
        ),
        (
            "quantity",
            json!({"valueQuantity": {"value": 60, "unit": "kg"}}),
            json!({"valueDecimal": 60}),
        ),
        (
            "choice",
            json!({"valueString": "b"}),
            json!({"valueBoolean": true}),
        ),
        (
            "open-choice",
            json!({"valueString": "anything"}),
            json!({"valueQuantity": {"value": 1}}),
        ),
    ];
    for (kind, good, bad) in cases {
        let mut def = question("a", kind);
        def["answerOption"] = json!([{"valueString": "b"}]);
        let issues = run(
            json!([def.clone()]),
            "completed",
            json!([answered("a", good)]),
        );
        assert!(issues.is_empty(), "{kind}: {}", show(&issues));
        let key = bad.as_object().unwrap().keys().next().unwrap().clone();
        let issues = run(json!([def]), "completed", json!([answered("a", bad)]));
        error(
            &issues,
            IssueType::Structure,
            &format!("QuestionnaireResponse.item[0].answer[0].{key}"),
        );
    }
}

#[test]
fn a_required_item_missing_is_an_error_when_completed_and_a_warning_in_progress() {
    let defs =
        json!([{"linkId": "a", "type": "string", "required": true}, question("b", "string")]);
    let items = json!([answered("b", json!({"valueString": "x"}))]);
    error(
        &run(defs.clone(), "completed", items.clone()),
        IssueType::Required,
        "QuestionnaireResponse",
    );
    only(
        &run(defs.clone(), "in-progress", items),
        IssueSeverity::Warning,
        IssueType::Required,
        "QuestionnaireResponse",
    );
    // An item with its linkId and nothing else is as good as absent.
    let bare = json!([{"linkId": "a"}]);
    error(
        &run(defs, "completed", bare),
        IssueType::Required,
        "QuestionnaireResponse",
    );
}

#[test]
fn a_required_item_that_enable_when_disables_may_be_absent() {
    let defs = json!([
        question("smoker", "boolean"),
        {"linkId": "packs", "type": "integer", "required": true,
         "enableWhen": [{"question": "smoker", "operator": "=", "answerBoolean": true}]},
    ]);
    let no = json!([answered("smoker", json!({"valueBoolean": false}))]);
    clean(&run(defs.clone(), "completed", no));
    let yes = json!([answered("smoker", json!({"valueBoolean": true}))]);
    error(
        &run(defs, "completed", yes),
        IssueType::Required,
        "QuestionnaireResponse",
    );
}

#[test]
fn an_answer_to_a_disabled_item_is_an_error() {
    let defs = json!([
        question("smoker", "boolean"),
        {"linkId": "packs", "type": "integer",
         "enableWhen": [{"question": "smoker", "operator": "=", "answerBoolean": true}]},
    ]);
    let items = json!([
        answered("smoker", json!({"valueBoolean": false})),
        answered("packs", json!({"valueInteger": 3})),
    ]);
    let issues = run(defs, "completed", items);
    error(&issues, IssueType::Invalid, "QuestionnaireResponse.item[1]");
    assert!(issues[0].diagnostics.contains("packs"));
}

#[test]
fn an_item_that_does_not_repeat_takes_one_answer_and_appears_once() {
    let defs = json!([question("a", "string")]);
    let two_answers =
        json!([{"linkId": "a", "answer": [{"valueString": "x"}, {"valueString": "y"}]}]);
    error(
        &run(defs.clone(), "completed", two_answers),
        IssueType::Invalid,
        "QuestionnaireResponse.item[0].answer[1]",
    );
    let two_items = json!([
        answered("a", json!({"valueString": "x"})),
        answered("a", json!({"valueString": "y"}))
    ]);
    error(
        &run(defs, "completed", two_items.clone()),
        IssueType::Invalid,
        "QuestionnaireResponse.item[1]",
    );
    let mut repeating = question("a", "string");
    repeating["repeats"] = json!(true);
    clean(&run(json!([repeating]), "completed", two_items));
}

#[test]
fn a_choice_answer_must_be_one_of_the_answer_options() {
    let def = json!({"linkId": "a", "type": "choice", "answerOption": [
        {"valueCoding": {"system": COLOUR, "code": "red"}},
        {"valueInteger": 3},
        {"valueString": "small"},
    ]});
    let at = "QuestionnaireResponse.item[0].answer[0]";
    for good in [
        json!({"valueCoding": {"system": COLOUR, "code": "red", "display": "Red"}}),
        json!({"valueInteger": 3}),
        json!({"valueString": "small"}),
    ] {
        clean(&run(
            json!([def.clone()]),
            "completed",
            json!([answered("a", good)]),
        ));
    }
    for (bad, key) in [
        (
            json!({"valueCoding": {"system": COLOUR, "code": "blue"}}),
            "valueCoding",
        ),
        (
            json!({"valueCoding": {"system": "http://other", "code": "red"}}),
            "valueCoding",
        ),
        (json!({"valueInteger": 4}), "valueInteger"),
        (json!({"valueString": "large"}), "valueString"),
    ] {
        let issues = run(
            json!([def.clone()]),
            "completed",
            json!([answered("a", bad)]),
        );
        error(&issues, IssueType::CodeInvalid, &format!("{at}.{key}"));
    }
    // No date options at all: a date cannot be one of them.
    let issues = run(
        json!([def]),
        "completed",
        json!([answered("a", json!({"valueDate": "2024-01-01"}))]),
    );
    error(&issues, IssueType::Structure, &format!("{at}.valueDate"));
}

#[test]
fn an_open_choice_takes_free_text_and_only_warns_of_an_unlisted_code() {
    let def = json!({"linkId": "a", "type": "open-choice", "answerOption": [
        {"valueCoding": {"system": COLOUR, "code": "red"}},
    ]});
    clean(&run(
        json!([def.clone()]),
        "completed",
        json!([answered("a", json!({"valueString": "mauve"}))]),
    ));
    let blue = json!({"valueCoding": {"system": COLOUR, "code": "blue"}});
    let issues = run(json!([def]), "completed", json!([answered("a", blue)]));
    only(
        &issues,
        IssueSeverity::Warning,
        IssueType::CodeInvalid,
        "QuestionnaireResponse.item[0].answer[0].valueCoding",
    );
}

#[test]
fn a_coded_answer_must_be_in_the_answer_value_set_when_it_can_be_expanded() {
    let def = json!({"linkId": "a", "type": "choice", "answerValueSet": COLOURS});
    let at = "QuestionnaireResponse.item[0].answer[0].valueCoding";
    let green = json!({"valueCoding": {"system": COLOUR, "code": "green"}});
    clean(&run(
        json!([def.clone()]),
        "completed",
        json!([answered("a", green.clone())]),
    ));
    let blue = json!({"valueCoding": {"system": COLOUR, "code": "blue"}});
    error(
        &run(json!([def]), "completed", json!([answered("a", blue)])),
        IssueType::CodeInvalid,
        at,
    );
    // A value set that is not loaded: never a silent pass.
    let elsewhere = json!({"linkId": "a", "type": "choice", "answerValueSet": "http://example.org/ValueSet/unknown"});
    let issues = run(
        json!([elsewhere]),
        "completed",
        json!([answered("a", green)]),
    );
    only(&issues, IssueSeverity::Warning, IssueType::NotSupported, at);
}

#[test]
fn an_answer_value_set_contained_in_the_questionnaire_is_expanded_there() {
    use crate::validation::valuesets::ValueSetEngine;
    let engine = ValueSetEngine::packages_only(std::sync::Arc::new(PackageSet::new()));
    let check = |value_set: &str, code: &str| {
        let mut q = questionnaire(json!([
            {"linkId": "a", "type": "choice", "answerValueSet": value_set}
        ]));
        q["contained"] = json!([{"resourceType": "ValueSet", "id": "sizes", "status": "active",
            "compose": {"include": [{"system": COLOUR, "concept": [{"code": "small"}, {"code": "large"}]}]}}]);
        let mut qr = response(
            "completed",
            json!([answered(
                "a",
                json!({"valueCoding": {"system": COLOUR, "code": code}})
            )]),
        );
        qr["contained"] = json!([q]);
        let mut out = Vec::new();
        let sources = Sources {
            root: &qr,
            packages: &PackageSet::new(),
            stored: &[],
        };
        check_response(&qr, &sources, &engine, "QuestionnaireResponse", &mut out);
        assert_all_speak_japanese(&out);
        out
    };
    let at = "QuestionnaireResponse.item[0].answer[0].valueCoding";
    clean(&check("#sizes", "large"));
    error(&check("#sizes", "medium"), IssueType::CodeInvalid, at);
    // `#id` naming nothing the Questionnaire contains: unchecked, and said so.
    let issues = check("#shapes", "large");
    only(&issues, IssueSeverity::Warning, IssueType::NotSupported, at);
    assert!(
        issues[0].diagnostics.contains("shapes"),
        "{}",
        show(&issues)
    );
}

/// An item `x`, required, that `enableWhen` shows when the date question `d` equals `when`.
fn date_gate(when: Value) -> Value {
    let mut condition = json!({"question": "d", "operator": "="});
    let (key, value) = match when.as_str() {
        Some(s) if s.contains('T') => ("answerDateTime", when.clone()),
        _ => ("answerDate", when.clone()),
    };
    condition[key] = value;
    json!([
        question("d", "date"),
        {"linkId": "x", "type": "string", "required": true, "enableWhen": [condition]},
    ])
}

#[test]
fn enable_when_dates_of_another_precision_leave_the_item_undecided() {
    let day = json!("2020-01-15");
    let d = |date: &str| answered("d", json!({"valueDate": date}));
    let x = answered("x", json!({"valueString": "yes"}));
    // Definite: the same day enables x (so it is required), another month disables it.
    error(
        &run(
            date_gate(day.clone()),
            "completed",
            json!([d("2020-01-15")]),
        ),
        IssueType::Required,
        "QuestionnaireResponse",
    );
    clean(&run(
        date_gate(day.clone()),
        "completed",
        json!([d("2020-02")]),
    ));
    error(
        &run(
            date_gate(day.clone()),
            "completed",
            json!([d("2020-02"), x.clone()]),
        ),
        IssueType::Invalid,
        "QuestionnaireResponse.item[1]",
    );
    // `2020-01` against `2020-01-15`: neither equal nor unequal, so x is neither demanded nor
    // refused; an information issue says why, on the item or where it would be.
    for (items, at) in [
        (json!([d("2020-01")]), "QuestionnaireResponse"),
        (
            json!([d("2020-01"), x.clone()]),
            "QuestionnaireResponse.item[1]",
        ),
    ] {
        let issues = run(date_gate(day.clone()), "completed", items);
        only(
            &issues,
            IssueSeverity::Information,
            IssueType::Informational,
            at,
        );
        assert!(
            issues[0].diagnostics.contains("precision"),
            "{}",
            show(&issues)
        );
    }
    // A date against a date-time: the day holds the instant, yet is not equal to it.
    let instant = json!("2020-01-15T10:00:00+09:00");
    let issues = run(date_gate(instant), "completed", json!([d("2020-01-15"), x]));
    only(
        &issues,
        IssueSeverity::Information,
        IssueType::Informational,
        "QuestionnaireResponse.item[1]",
    );
    // Another year is definite whatever the precision.
    clean(&run(date_gate(day), "completed", json!([d("2021")])));
}

#[test]
fn enable_when_operators_compare_the_question_answer() {
    let gate = |operator: &str, expected: Value| {
        json!([
            question("age", "integer"),
            {"linkId": "x", "type": "string",
             "enableWhen": [{"question": "age", "operator": operator, "answerInteger": expected}]},
        ])
    };
    let with_age = |age: i64| {
        json!([
            answered("age", json!({"valueInteger": age})),
            answered("x", json!({"valueString": "y"}))
        ])
    };
    let cases = [
        ("=", 40, 40, true),
        ("=", 40, 41, false),
        ("!=", 40, 41, true),
        ("!=", 40, 40, false),
        (">", 40, 41, true),
        (">", 40, 40, false),
        ("<", 40, 39, true),
        ("<", 40, 40, false),
        (">=", 40, 40, true),
        (">=", 40, 39, false),
        ("<=", 40, 40, true),
        ("<=", 40, 41, false),
    ];
    for (op, expected, age, enabled) in cases {
        let issues = run(gate(op, json!(expected)), "completed", with_age(age));
        assert_eq!(
            issues.is_empty(),
            enabled,
            "{age} {op} {expected}: {}",
            show(&issues)
        );
    }
}

#[test]
fn enable_when_exists_and_coded_answers() {
    let defs = |exists: bool| {
        json!([
            {"linkId": "colour", "type": "choice", "answerValueSet": COLOURS},
            {"linkId": "why", "type": "string",
             "enableWhen": [{"question": "colour", "operator": "exists", "answerBoolean": exists}]},
            {"linkId": "red", "type": "string",
             "enableWhen": [{"question": "colour", "operator": "=", "answerCoding": {"system": COLOUR, "code": "red"}}]},
        ])
    };
    let red = json!([
        answered(
            "colour",
            json!({"valueCoding": {"system": COLOUR, "code": "red"}})
        ),
        answered("why", json!({"valueString": "warm"})),
        answered("red", json!({"valueString": "yes"})),
    ]);
    clean(&run(defs(true), "completed", red.clone()));
    error(
        &run(defs(false), "completed", red),
        IssueType::Invalid,
        "QuestionnaireResponse.item[1]",
    );
    let green = json!([
        answered(
            "colour",
            json!({"valueCoding": {"system": COLOUR, "code": "green"}})
        ),
        answered("red", json!({"valueString": "yes"})),
    ]);
    error(
        &run(defs(true), "completed", green),
        IssueType::Invalid,
        "QuestionnaireResponse.item[1]",
    );
    let nothing = json!([answered("why", json!({"valueString": "none given"}))]);
    clean(&run(defs(false), "completed", nothing));
}

#[test]
fn enable_behavior_all_needs_every_condition_and_any_one() {
    let defs = |behavior: &str| {
        json!([
            question("a", "boolean"),
            question("b", "boolean"),
            {"linkId": "c", "type": "string", "enableBehavior": behavior, "enableWhen": [
                {"question": "a", "operator": "=", "answerBoolean": true},
                {"question": "b", "operator": "=", "answerBoolean": true},
            ]},
        ])
    };
    let items = json!([
        answered("a", json!({"valueBoolean": true})),
        answered("b", json!({"valueBoolean": false})),
        answered("c", json!({"valueString": "x"})),
    ]);
    clean(&run(defs("any"), "completed", items.clone()));
    error(
        &run(defs("all"), "completed", items),
        IssueType::Invalid,
        "QuestionnaireResponse.item[2]",
    );
}

#[test]
fn enable_when_reads_the_answer_of_its_own_repetition_of_a_group() {
    let defs = json!([{"linkId": "child", "type": "group", "repeats": true, "item": [
        question("ill", "boolean"),
        {"linkId": "what", "type": "string",
         "enableWhen": [{"question": "ill", "operator": "=", "answerBoolean": true}]},
    ]}]);
    let items = json!([
        {"linkId": "child", "item": [
            answered("ill", json!({"valueBoolean": true})),
            answered("what", json!({"valueString": "cold"})),
        ]},
        {"linkId": "child", "item": [
            answered("ill", json!({"valueBoolean": false})),
            answered("what", json!({"valueString": "flu"})),
        ]},
    ]);
    error(
        &run(defs, "completed", items),
        IssueType::Invalid,
        "QuestionnaireResponse.item[1].item[1]",
    );
}

#[test]
fn groups_take_no_answers_and_display_items_neither_answers_nor_items() {
    let group = json!([{"linkId": "g", "type": "group", "item": [question("a", "string")]}]);
    let issues = run(
        group,
        "completed",
        json!([answered("g", json!({"valueString": "x"}))]),
    );
    error(
        &issues,
        IssueType::Structure,
        "QuestionnaireResponse.item[0].answer[0]",
    );
    let display = json!([{"linkId": "d", "type": "display", "text": "read me"}]);
    let issues = run(
        display.clone(),
        "completed",
        json!([answered("d", json!({"valueString": "x"}))]),
    );
    error(
        &issues,
        IssueType::Structure,
        "QuestionnaireResponse.item[0].answer[0]",
    );
    let issues = run(
        display,
        "completed",
        json!([{"linkId": "d", "item": [{"linkId": "e"}]}]),
    );
    assert!(
        issues.iter().any(|i| i.severity == IssueSeverity::Error
            && i.expression == ["QuestionnaireResponse.item[0]"]
            && i.diagnostics.contains("display")),
        "{}",
        show(&issues)
    );
}

#[test]
fn a_question_keeps_its_nested_items_in_its_answers() {
    let defs = json!([{"linkId": "a", "type": "boolean", "item": [question("b", "string")]}]);
    let outside = json!([{"linkId": "a", "answer": [{"valueBoolean": true}],
        "item": [answered("b", json!({"valueString": "x"}))]}]);
    let issues = run(defs.clone(), "completed", outside);
    assert!(
        issues
            .iter()
            .any(|i| i.expression == ["QuestionnaireResponse.item[0]"]
                && i.diagnostics.contains("answer.item")),
        "{}",
        show(&issues)
    );
    let inside = json!([{"linkId": "a", "answer": [{"valueBoolean": true,
        "item": [answered("b", json!({"valueInteger": 1}))]}]}]);
    error(
        &run(defs, "completed", inside),
        IssueType::Structure,
        "QuestionnaireResponse.item[0].answer[0].item[0].answer[0].valueInteger",
    );
}

#[test]
fn an_item_text_other_than_the_questionnaire_s_is_an_error() {
    let items =
        json!([{"linkId": "a", "text": "something else", "answer": [{"valueString": "x"}]}]);
    error(
        &run(json!([question("a", "string")]), "completed", items),
        IssueType::Invalid,
        "QuestionnaireResponse.item[0].text",
    );
}

#[test]
fn the_questionnaire_is_found_in_the_same_bundle_by_url() {
    let mut q = questionnaire(json!([question("a", "integer")]));
    q["url"] = json!("http://example.jp/Questionnaire/intake");
    q["version"] = json!("2");
    let mut qr = response(
        "completed",
        json!([answered("a", json!({"valueString": "x"}))]),
    );
    for name in [
        "http://example.jp/Questionnaire/intake",
        "http://example.jp/Questionnaire/intake|2",
    ] {
        qr["questionnaire"] = json!(name);
        let bundle = json!({"resourceType": "Bundle", "type": "collection", "entry": [
            {"fullUrl": "urn:uuid:1", "resource": q.clone()},
            {"fullUrl": "urn:uuid:2", "resource": qr.clone()},
        ]});
        let issues = check_with(&bundle["entry"][1]["resource"], &bundle);
        error(
            &issues,
            IssueType::Structure,
            "QuestionnaireResponse.item[0].answer[0].valueString",
        );
    }
}

#[test]
fn a_questionnaire_not_found_is_a_warning_and_none_named_is_information() {
    let mut qr = response(
        "completed",
        json!([answered("a", json!({"valueString": "x"}))]),
    );
    qr["questionnaire"] = json!("http://example.jp/Questionnaire/absent");
    let issues = check_with(&qr, &qr);
    only(
        &issues,
        IssueSeverity::Warning,
        IssueType::NotFound,
        "QuestionnaireResponse.questionnaire",
    );
    qr.as_object_mut().unwrap().remove("questionnaire");
    let issues = check_with(&qr, &qr);
    only(
        &issues,
        IssueSeverity::Information,
        IssueType::Informational,
        "QuestionnaireResponse",
    );
}

#[test]
fn the_questionnaire_is_found_in_a_loaded_package() {
    let tmp = tempfile::tempdir().unwrap();
    let package = tmp.path().join("example.forms-1.0.0/package");
    std::fs::create_dir_all(&package).unwrap();
    let manifest = json!({"name": "example.forms", "version": "1.0.0", "fhirVersions": ["4.0.1"]});
    std::fs::write(package.join("package.json"), manifest.to_string()).unwrap();
    let mut q = questionnaire(json!([question("a", "boolean")]));
    q["url"] = json!("http://example.jp/Questionnaire/forms");
    std::fs::write(package.join("Questionnaire-q.json"), q.to_string()).unwrap();
    let set = PackageSet::load(&[tmp.path().join("example.forms-1.0.0")]).unwrap();
    let mut qr = response(
        "completed",
        json!([answered("a", json!({"valueInteger": 1}))]),
    );
    qr["questionnaire"] = json!("http://example.jp/Questionnaire/forms");
    let mut issues = Vec::new();
    let sources = Sources {
        root: &qr,
        packages: &set,
        stored: &[],
    };
    check_response(
        &qr,
        &sources,
        &Colours,
        "QuestionnaireResponse",
        &mut issues,
    );
    error(
        &issues,
        IssueType::Structure,
        "QuestionnaireResponse.item[0].answer[0].valueInteger",
    );
}

#[test]
fn the_profile_walk_checks_a_response_against_its_questionnaire() {
    let Some(engine) = crate::validation::walk::tests_support::engine() else {
        return;
    };
    let mut qr = response(
        "completed",
        json!([answered("a", json!({"valueString": "x"}))]),
    );
    qr["contained"] = json!([questionnaire(
        json!([{"linkId": "a", "type": "integer", "text": "a"}])
    )]);
    let mut issues = Vec::new();
    engine.validate_against(
        &qr,
        "http://hl7.org/fhir/StructureDefinition/QuestionnaireResponse",
        "QuestionnaireResponse",
        &mut issues,
    );
    let errors: Vec<Issue> = issues
        .into_iter()
        .filter(|i| i.severity == IssueSeverity::Error)
        .collect();
    error(
        &errors,
        IssueType::Structure,
        "QuestionnaireResponse.item[0].answer[0].valueString",
    );
}

#[test]
fn the_questionnaires_to_look_up_on_the_server_are_those_the_request_lacks() {
    let qr = |canonical: &str| {
        json!({"resourceType": "QuestionnaireResponse", "questionnaire": canonical,
               "status": "completed"})
    };
    let none = PackageSet::new();
    assert_eq!(
        unresolved_questionnaires(&qr("http://x/q|2"), &none),
        ["http://x/q|2"]
    );
    // Contained, or not a response at all: nothing to look up.
    assert!(unresolved_questionnaires(&qr("#q"), &none).is_empty());
    assert!(unresolved_questionnaires(&questionnaire(json!([])), &none).is_empty());
    // In a Bundle: each missing canonical once; one the Bundle holds is not missing.
    let mut held = questionnaire(json!([]));
    held["url"] = json!("http://x/held");
    let bundle = json!({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": qr("http://x/q")}, {"resource": qr("http://x/q")},
        {"resource": qr("http://x/held")}, {"resource": held},
        {"resource": {"resourceType": "Bundle", "type": "collection", "entry": [
            {"resource": qr("http://x/inner")}]}},
    ]});
    assert_eq!(
        unresolved_questionnaires(&bundle, &none),
        ["http://x/q", "http://x/inner"]
    );
    let holder = json!({"resourceType": "Composition", "contained": [qr("http://x/c")]});
    assert_eq!(unresolved_questionnaires(&holder, &none), ["http://x/c"]);
}
