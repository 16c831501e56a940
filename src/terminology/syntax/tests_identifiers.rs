//! Identifier rules on good values and single defects, look-alike hints, and input no rule
//! expects.

use super::id_systems::*;
use super::systems::*;
use super::tests_codes::one;
use super::*;

#[test]
fn institution_number() {
    let ok = |v| assert!(check_identifier(INSTITUTION, v).is_empty(), "{v}");
    ok("1318814790");
    ok("0131234567");
    ok("4731234567");
    one(
        check_identifier(INSTITUTION, "4813123456"),
        Severity::Error,
        &[
            "institution number 4813123456: the prefecture (characters 1–2) must be 01–47, found \"48\"",
        ],
    );
    one(
        check_identifier(INSTITUTION, "1343123456"),
        Severity::Error,
        &["the fee-table code (character 3) must be 1, 2 or 3, found \"4\""],
    );
    one(
        check_identifier(INSTITUTION, "0031234567"),
        Severity::Error,
        &["found \"00\""],
    );
    one(
        check_identifier(INSTITUTION, "131881479"),
        Severity::Error,
        &["must be 10 digits, found 9 characters"],
    );
    one(
        check_identifier(INSTITUTION, "13188１4790"),
        Severity::Error,
        &["\"１\" at character 6"],
    );
}

#[test]
fn bundle_id() {
    assert!(check_identifier(BUNDLE, "1318814790^2024^0123-IDa-203949583949").is_empty());
    one(
        check_identifier(BUNDLE, "1318814790^2199^0123-IDa"),
        Severity::Error,
        &["the year (part 2) must be 2020–2039, found \"2199\""],
    );
    one(
        check_identifier(BUNDLE, "4818814790^2024^0123-IDa"),
        Severity::Error,
        &[
            "institution number 4818814790 (part 1)",
            "prefecture",
            "\"48\"",
        ],
    );
    one(
        check_identifier(BUNDLE, "1318814790^2024^0123_IDa"),
        Severity::Error,
        &["the local id (part 3)", "\"_\" at character 5"],
    );
    one(
        check_identifier(BUNDLE, &format!("1318814790^2024^{}", "a".repeat(37))),
        Severity::Error,
        &["1–36 characters", "found 37 characters"],
    );
    one(
        check_identifier(BUNDLE, "1318814790^2024"),
        Severity::Error,
        &["3 parts joined by ^", "found 2 parts"],
    );
}

#[test]
fn resource_identifier_is_checked_only_in_the_caret_form() {
    for v in [
        "102934701",
        "1318814790-9990767-0A172BAD00C8F82023091412502302-1",
        "1234567890.1.1",
    ] {
        assert!(check_identifier(RESOURCE, v).is_empty(), "{v}");
    }
    assert!(check_identifier(RESOURCE, "1318814790^2024^abc").is_empty());
    one(
        check_identifier(RESOURCE, "1318814790^24^abc"),
        Severity::Warning,
        &["the year (part 2) must be 4 digits, found \"24\""],
    );
    one(
        check_identifier(RESOURCE, "abc^def"),
        Severity::Warning,
        &["uses ^", "found 2 parts"],
    );
}

#[test]
fn member_ids() {
    for v in [
        "00012345:あいう:１８７:01",
        "00012345::１８７:",
        "00012345:::",
    ] {
        assert!(check_identifier(INSURANCE_MEMBER, v).is_empty(), "{v}");
    }
    one(
        check_identifier(INSURANCE_MEMBER, "012345::１８７:"),
        Severity::Error,
        &[
            "the insurer number (part 1) must be 8 digits, found \"012345\"",
            "leading zeros",
        ],
    );
    one(
        check_identifier(INSURANCE_MEMBER, "00012345:あ　い:１８７:"),
        Severity::Error,
        &["the symbol (part 2) must not contain spaces or ^, found a full-width space (U+3000)"],
    );
    one(
        check_identifier(INSURANCE_MEMBER, "00012345::１８７:1"),
        Severity::Error,
        &["the branch number (part 4) must be empty or 2 digits, found \"1\""],
    );
    one(
        check_identifier(INSURANCE_MEMBER, "00012345:１８７"),
        Severity::Error,
        &["4 parts joined by :", "found 2 parts"],
    );
    assert!(check_identifier(PUBLIC_PAYER_MEMBER, "12345678::1234567:").is_empty());
    one(
        check_identifier(PUBLIC_PAYER_MEMBER, "12345678::123456:"),
        Severity::Error,
        &["the recipient number (part 3) must be 7 digits, found \"123456\""],
    );
    one(
        check_identifier(PUBLIC_PAYER_MEMBER, "12345678:x:1234567:"),
        Severity::Error,
        &["the symbol (part 2) must be empty, found \"x\""],
    );
}

#[test]
fn lookalike_hints() {
    let hint = lookalike_hint("⾎糖").unwrap().render(Language::English);
    assert!(hint.contains("U+2F8E ⾎ → 血 U+8840"), "{hint}");
    assert!(hint.contains("use the unified"), "{hint}");
    let hint = lookalike_hint("⽩血球").unwrap().render(Language::English);
    assert!(hint.contains("U+2F69 ⽩ → 白 U+767D"), "{hint}");
    assert_eq!(lookalike_hint("血糖"), None);
    assert_eq!(lookalike_hint(""), None);
    // Radicals supplement (table), compatibility ideographs (decomposition), once each.
    let hint = lookalike_hint("\u{2ED1}期 \u{FA19} \u{FA19} \u{2E80}")
        .unwrap()
        .render(Language::English);
    assert!(hint.contains("U+2ED1 ⻑ → 長 U+9577"), "{hint}");
    let compat = format!("U+FA19 {} → 神 U+795E", '\u{FA19}');
    assert!(hint.contains(&compat), "{hint}");
    assert!(
        hint.contains("U+2E80 ⺀ (a radical with no unified equivalent)"),
        "{hint}"
    );
    assert_eq!(hint.matches("U+FA19").count(), 1, "{hint}");
    // 﨑 (U+FA11) is a unified ideograph in the compatibility block.
    assert_eq!(lookalike_hint("山\u{FA11}"), None);
    let many: String = ('\u{2F00}'..='\u{2F20}').collect();
    assert!(
        lookalike_hint(&many)
            .unwrap()
            .render(Language::English)
            .ends_with("and 23 more; use the unified ideographs instead")
    );
}

#[test]
fn odd_input_never_panics() {
    let systems = [
        JLAC10,
        CLINS_CORE_JLAC10,
        CLINS_CORE_JLAC11,
        YJ,
        GENERAL_NAME,
        JFAGY_FOOD,
        JFAGY_NON_FOOD,
        JFAGY_DRUG_YJ,
        JFAGY_DRUG_GENERAL,
        DISEASE_KEY_NUMBER,
        DISEASE_EXCHANGE,
        MODIFIER_EXCHANGE,
        MODIFIER_KEY_NUMBER,
        RECEIPT_DISEASE,
        RECEIPT_MODIFIER,
    ];
    let id_systems = [
        INSTITUTION,
        BUNDLE,
        RESOURCE,
        INSURANCE_MEMBER,
        PUBLIC_PAYER_MEMBER,
    ];
    let long = "9".repeat(10_000);
    let inputs = [
        "",
        " ",
        "^",
        "^^",
        ":::",
        "::::",
        "\u{0}",
        "\"",
        "血",
        "血液検査血液検査血液検査血液検査血",
        "３Ａ０１５０００００２３２９１０１",
        "YCM",
        "GCM",
        "D9M",
        "00F",
        "YCM血",
        "GCM血血血血血血血血血血血血",
        "J9F血血血血血血血血血",
        "１２３４５６７８９０",
        "1318814790^２０２４^a",
        "20\u{e9}",
        "1318814790^20\u{e9}^a",
        &long,
    ];
    for input in inputs {
        for system in systems {
            let _ = check_code(system, input);
        }
        for system in id_systems {
            let _ = check_identifier(system, input);
        }
        let _ = yj_check_digit(input);
        let _ = lookalike_hint(input);
    }
    let findings = check_code(JLAC10, &long);
    assert!(findings[0].text().len() < 200, "{}", findings[0].text());
}
