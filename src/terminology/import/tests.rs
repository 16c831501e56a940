//! Readers on small inputs made here: malformed rows, encodings, detection, options.

use super::*;
use crate::terminology::Content;

const MASTER_B: &str = "receipt_masterB_disease_codes.csv";

fn read(name: &str, text: &str) -> Result<ImportSet, ImportError> {
    read_bytes(name, text.as_bytes(), &ImportOptions::default())
}

fn row_error(result: Result<ImportSet, ImportError>) -> (u64, String) {
    match result {
        Err(ImportError::Row { line, message, .. }) => (line, message),
        other => panic!("expected a row error, got {other:?}"),
    }
}

#[test]
fn a_short_record_is_reported_at_its_line_even_after_crlf_and_multi_line_fields() {
    let (line, message) = row_error(read(MASTER_B, "code,display\n0000999,x\n8830052\n"));
    assert_eq!(line, 3);
    assert!(
        message.contains("1 fields where the header has 2"),
        "{message}"
    );
    // csv's own line count is one short after CRLF ends; ours is not.
    let (line, _) = row_error(read(MASTER_B, "code,display\r\n1,a\r\n2,b\r\n3\r\n"));
    assert_eq!(line, 4);
    let text = "code,display\r\n1,\"two\r\nlines\"\r\n\r\n2\r\n";
    assert_eq!(row_error(read(MASTER_B, text)).0, 5);
}

#[test]
fn a_duplicate_code_names_both_lines() {
    let (line, message) = row_error(read(MASTER_B, "code,display\nA,x\nB,y\nA,z\n"));
    assert_eq!(line, 4);
    assert!(message.contains("`A` already on line 2"), "{message}");
}

#[test]
fn an_empty_code_fails() {
    let (line, message) = row_error(read(MASTER_B, "code,display\nA,x\n ,y\n"));
    assert_eq!((line, message.as_str()), (3, "empty code"));
}

const TABLE_HEADER: &str = "codesystem,url,code,display,parent,level,comment\n";

#[test]
fn a_parent_must_be_a_code_of_the_same_system() {
    let text =
        format!("{TABLE_HEADER}A_CS,http://x/a,ROOT,Root,,0,\nB_CS,http://x/b,KID,Kid,ROOT,1,\n");
    let (line, message) = row_error(read("cs.csv", &text));
    assert_eq!(line, 3);
    assert!(message.contains("parent `ROOT` of `KID` is not a code of http://x/b"));
    let cycle = format!("{TABLE_HEADER}A,http://x/a,P,p,Q,0,\nA,http://x/a,Q,q,P,0,\n");
    let (line, message) = row_error(read("cs.csv", &cycle));
    assert_eq!(line, 2);
    assert!(message.contains("its own ancestor"), "{message}");
}

#[test]
fn a_code_system_table_groups_rows_by_url_and_maps_oids() {
    let text = format!(
        "{TABLE_HEADER}Ex,urn:oid:1.2.392.200119.4.101.6,A006,結節性肝硬変,,0,\n\
         Items,http://x/items,ALB,,,0,\nItems,http://x/items,3A015,ALB,ALB,1,\n\
         Ex,urn:oid:1.2.392.200119.4.101.6,A00A,足底血管脂肪腫,,0,\n"
    );
    let set = read("table_v2.0.csv", &text).unwrap();
    let urls: Vec<&str> = set.systems.iter().map(|s| s.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "http://medis.or.jp/CodeSystem/master-disease-exCode",
            "http://x/items"
        ]
    );
    assert_eq!(set.systems[0].concepts.len(), 2);
    assert_eq!(set.systems[0].version.as_deref(), Some("2.0"));
    assert_eq!(set.systems[1].concepts[0].display, None);
    assert_eq!(set.systems[1].concepts[1].parent.as_deref(), Some("ALB"));
}

#[test]
fn cp932_is_decoded_and_noted() {
    // ① and 髙 are cp932 extensions (NEC special and IBM kanji), not plain Shift_JIS.
    let text = "code,display\r\n0000999,＊＊　未コード化傷病名　＊＊\r\n8830052,①髙血圧症\r\n";
    let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&bytes).is_err());
    let set = read_bytes(MASTER_B, &bytes, &ImportOptions::default()).unwrap();
    let concepts = &set.systems[0].concepts;
    assert_eq!(concepts[1].display.as_deref(), Some("①髙血圧症"));
    assert_eq!(
        concepts[0].display.as_deref(),
        Some("＊＊　未コード化傷病名　＊＊")
    );
    assert!(set.notes[0].contains("Shift_JIS"));

    let broken = b"code,display\n1,\x82";
    let err = read_bytes(MASTER_B, broken, &ImportOptions::default()).unwrap_err();
    assert!(matches!(err, ImportError::Encoding { .. }), "{err}");
}

#[test]
fn a_utf8_bom_is_not_part_of_the_header() {
    let set = read(MASTER_B, "\u{feff}code,display\n0000999,x\n").unwrap();
    assert_eq!(set.systems[0].concepts.len(), 1);
}

#[test]
fn an_unknown_header_is_a_layout_error_naming_it() {
    let err = read("x.csv", "コード,名称\n1,a\n").unwrap_err();
    assert!(matches!(err, ImportError::Layout { .. }));
    let message = err.to_string();
    assert!(
        message.contains("unrecognised header `コード,名称`"),
        "{message}"
    );
    assert!(message.contains("code-system-table"), "{message}");
}

#[test]
fn code_display_files_are_told_apart_by_name_or_need_a_layout() {
    let text = "code,display\n8282,・高分化型\n";
    let url = |name: &str, options: &ImportOptions| {
        let set = read_bytes(name, text.as_bytes(), options).unwrap();
        set.systems[0].url.clone()
    };
    let default = ImportOptions::default();
    assert_eq!(
        url("receipt_masterZ_modifier_codes.csv", &default),
        urls::MASTER_Z
    );
    assert_eq!(
        url("MEDIS_Modifier_2024.csv", &default),
        urls::MEDIS_MODIFIER
    );
    assert_eq!(url("b/receipt_MASTERB.csv", &default), urls::MASTER_B);
    let err = read("modifiers.csv", text).unwrap_err().to_string();
    assert!(err.contains("pass --layout"), "{err}");
    let explicit = ImportOptions {
        layout: Some(Layout::ReceiptModifier),
        ..ImportOptions::default()
    };
    assert_eq!(url("modifiers.csv", &explicit), urls::MASTER_Z);
}

#[test]
fn an_explicit_layout_names_a_missing_column() {
    let options = ImportOptions {
        layout: Some(Layout::Yakka),
        ..ImportOptions::default()
    };
    let err = read_bytes("list.csv", b"code,display\n1,a\n", &options).unwrap_err();
    assert!(
        err.to_string()
            .contains("no column `薬価基準収載医薬品コード`"),
        "{err}"
    );
}

#[test]
fn the_mapped_layout_needs_columns_and_a_system() {
    let text = "番号,名称,親\nA,Alpha,\nB,Beta,A\n";
    let columns: ColumnMap = "code=番号,display=名称,parent=親".parse().unwrap();
    let options = ImportOptions {
        columns: Some(columns),
        system: Some("urn:oid:1.2.392.200119.4.504".to_string()),
        ..ImportOptions::default()
    };
    let set = read_bytes("local_codes_20240101.csv", text.as_bytes(), &options).unwrap();
    let s = &set.systems[0];
    assert_eq!(s.url, urls::JLAC10);
    assert_eq!(s.name, "local_codes_20240101");
    assert_eq!(s.version.as_deref(), Some("20240101"));
    assert_eq!(s.concepts[1].parent.as_deref(), Some("A"));
    assert_eq!(s.concepts[1].display.as_deref(), Some("Beta"));

    let no_system = ImportOptions {
        system: None,
        ..options
    };
    let err = read_bytes("l.csv", text.as_bytes(), &no_system).unwrap_err();
    assert!(matches!(err, ImportError::Layout { .. }), "{err}");
    let no_columns = ImportOptions {
        layout: Some(Layout::Mapped),
        system: Some("http://x".into()),
        ..ImportOptions::default()
    };
    let err = read_bytes("l.csv", text.as_bytes(), &no_columns).unwrap_err();
    assert!(err.to_string().contains("--columns"), "{err}");
}

#[test]
fn options_override_and_apply_to_one_system() {
    let options = ImportOptions {
        system: Some("http://example.org/cs".into()),
        version: Some("7".into()),
        content: Some(Content::Fragment),
        value_sets: vec!["http://example.org/vs".into()],
        ..ImportOptions::default()
    };
    let set = read_bytes(MASTER_B, b"code,display\n1,a\n", &options).unwrap();
    let s = &set.systems[0];
    assert_eq!(s.url, "http://example.org/cs");
    assert_eq!(s.version.as_deref(), Some("7"));
    assert_eq!(s.content, Content::Fragment);
    assert_eq!(s.value_sets, ["http://example.org/vs"]);

    let table = format!("{TABLE_HEADER}A,http://x/a,1,a,,0,\nB,http://x/b,1,b,,0,\n");
    let options = ImportOptions {
        system: Some("http://example.org/cs".into()),
        ..ImportOptions::default()
    };
    let err = read_bytes("t.csv", table.as_bytes(), &options).unwrap_err();
    assert!(matches!(err, ImportError::Options { .. }), "{err}");
}

#[test]
fn jfagy_rows_take_their_parent_from_level_and_system_from_the_meta_code() {
    let header = "\"DISPLAYSEQ\",\"JFAGYCODE\",\"JPTERM\",\"LEVEL\",\"ENDDATE\"\n";
    let text = format!(
        "{header}3,J9FA00000000,農産食品,2,99999999\n1,00F,食品,1,99999999\n\
         4,J9FA12000000,玄米,3,99999999\n5,J9FA12000011,米ぬか,6,99999999\n\
         6,J9FA13000000,白米,3,20250331\n2,D9M000000000,医薬品ダミー,1,99999999\n"
    );
    let set = read("JFAGY_J9FN_20250401_R01.csv", &text).unwrap();
    let food = &set.systems[0];
    let parents: Vec<(&str, Option<&str>)> = food
        .concepts
        .iter()
        .map(|c| (c.code.as_str(), c.parent.as_deref()))
        .collect();
    assert_eq!(
        parents,
        [
            ("00F", None),
            ("J9FA00000000", Some("00F")),
            ("J9FA12000000", Some("J9FA00000000")),
            ("J9FA12000011", Some("J9FA12000000")),
        ]
    );
    assert_eq!(set.systems.len(), 3, "food, YCM, GCM: no non-food rows");
    assert!(set.notes[0].contains("J9FA13000000"));

    let bad = format!("{header}1,X9F000000000,?,1,99999999\n");
    let (line, message) = row_error(read("jfagy.csv", &bad));
    assert_eq!(line, 2);
    assert!(message.contains("meta-code"), "{message}");
}

#[test]
fn layout_and_column_map_parse_from_flags() {
    for layout in Layout::ALL {
        assert_eq!(layout.to_string().parse::<Layout>(), Ok(*layout));
    }
    assert!(
        "csv"
            .parse::<Layout>()
            .unwrap_err()
            .contains("clins-master")
    );
    let columns: ColumnMap = "code=A, display = B".parse().unwrap();
    assert_eq!(columns.display.as_deref(), Some("B"));
    assert_eq!(columns.parent, None);
    assert!("display=B".parse::<ColumnMap>().is_err());
    assert!("code=A,code=B".parse::<ColumnMap>().is_err());
    assert!("code=A,label=B".parse::<ColumnMap>().is_err());
    assert!("code=".parse::<ColumnMap>().is_err());
}

#[test]
fn versions_come_from_plain_file_name_tokens() {
    let v = |name: &str| table::version_from_name(name);
    assert_eq!(
        v("a/mhlw_yakka_kijun_20250716.csv").as_deref(),
        Some("20250716")
    );
    assert_eq!(
        v("MEDIS_disease_exchange_code_v5.11.csv").as_deref(),
        Some("5.11")
    );
    assert_eq!(
        v("ippanmei_shohou_master_R4.6.17.csv").as_deref(),
        Some("R4.6.17")
    );
    assert_eq!(
        v("JFAGY_J9FN_20250401_R01.csv").as_deref(),
        Some("20250401")
    );
    assert_eq!(v("medis_jlac10_17digits_codes.csv"), None);
    assert_eq!(v("receipt_masterB_disease_codes.csv"), None);
}

#[test]
fn a_folder_refuses_two_definitions_of_one_system() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a_masterB.csv", "b_masterB.csv"] {
        std::fs::write(dir.path().join(name), "code,display\n1,a\n").unwrap();
    }
    let err = read_path(dir.path(), &ImportOptions::default()).unwrap_err();
    assert!(err.to_string().contains("is also defined by"), "{err}");
}
