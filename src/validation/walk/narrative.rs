//! The FHIR narrative rules for `xhtml` (<https://hl7.org/fhir/R4/narrative.html#xhtml>, invariants
//! txt-1 and txt-2): one well-formed `div` in the XHTML namespace, holding only the basic HTML 4
//! formatting elements and their attributes — no script, form, frame, object, head or body, no
//! event attributes (`on*`), no entities beyond the five XML ones and character references, no
//! external reference but links and images — and some text or an image. The element list is the
//! one the reference validator applies. A narrative is shown to people, so what could run or
//! fetch something when shown is refused rather than cleaned.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::reader::NsReader;

use crate::fhir::xml::XHTML_NS;
use crate::fhir::xml::problem::{attribute_problem, problem};
use crate::messages::markup::{NarrativeError, NarrativeError as N, XmlProblem};

const ELEMENTS: &[&str] = &[
    "p",
    "br",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "a",
    "span",
    "b",
    "em",
    "i",
    "strong",
    "small",
    "big",
    "tt",
    "dfn",
    "q",
    "var",
    "abbr",
    "acronym",
    "cite",
    "blockquote",
    "hr",
    "address",
    "bdo",
    "kbd",
    "sub",
    "sup",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "pre",
    "table",
    "caption",
    "colgroup",
    "col",
    "thead",
    "tr",
    "tfoot",
    "tbody",
    "th",
    "td",
    "code",
    "samp",
    "img",
    "map",
    "area",
];

/// Attributes any element may carry (HTML 4 core and i18n attributes, table layout).
const COMMON_ATTRIBUTES: &[&str] = &[
    "id",
    "class",
    "style",
    "title",
    "lang",
    "dir",
    "accesskey",
    "tabindex",
    "span",
    "width",
    "align",
    "valign",
    "char",
    "charoff",
    "abbr",
    "axis",
    "headers",
    "scope",
    "rowspan",
    "colspan",
];

/// Attributes only some elements may carry. The reference validator's list: the deprecated
/// presentational attributes of HTML 4 (`bgcolor`, `ol start`, `li value`, `hr size`…) are
/// refused, as the spec excludes deprecated content.
fn element_attributes(element: &str) -> &'static [&'static str] {
    match element {
        "a" => &[
            "href", "name", "charset", "hreflang", "type", "rel", "rev", "shape", "coords",
        ],
        "img" => &[
            "src", "alt", "longdesc", "height", "usemap", "ismap", "border",
        ],
        "table" => &[
            "summary",
            "border",
            "frame",
            "rules",
            "cellspacing",
            "cellpadding",
        ],
        "td" => &["nowrap"],
        "map" => &["name"],
        "area" => &["shape", "coords", "href", "nohref", "alt"],
        "blockquote" | "q" => &["cite"],
        // Keeps the whitespace of preformatted text as written; the reference validator only
        // hints at it.
        "pre" => &["xml:space"],
        _ => &[],
    }
}

/// Elements that open a block: none may sit inside a paragraph, however deep.
const BLOCKS: &[&str] = &["div", "blockquote", "table", "ol", "ul", "p"];

/// `Err(why)` when `xhtml` breaks a narrative rule.
pub(crate) fn check(xhtml: &str) -> Result<(), NarrativeError> {
    let mut reader = NsReader::from_str(xhtml);
    // Per open element: its name, and whether it sits in a paragraph (itself included).
    let mut open: Vec<(String, bool)> = Vec::new();
    let (mut root_seen, mut content) = (false, false);
    loop {
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|e| N::Malformed(problem(&e)))?;
        let depth = open.len();
        match event {
            Event::Start(ref tag) | Event::Empty(ref tag) => {
                if depth == 0 && root_seen {
                    return Err(N::NotSingleDiv);
                }
                let name = element(&ns, tag, depth == 0)?;
                let in_para = open.last().is_some_and(|(_, para)| *para);
                if in_para && BLOCKS.contains(&name.as_str()) {
                    let parent = open.last().map_or("p", |(n, _)| n.as_str()).to_string();
                    return Err(N::BlockInParagraph { name, parent });
                }
                content |= name == "img";
                attributes(&reader, &name, tag)?;
                root_seen = true;
                if matches!(event, Event::Start(_)) {
                    let para = in_para || name == "p";
                    open.push((name, para));
                }
            }
            Event::End(_) => {
                open.pop();
            }
            Event::Text(text) => {
                let text = text
                    .decode()
                    .map_err(|_| N::Malformed(XmlProblem::NotUtf8))?;
                if !text.trim().is_empty() {
                    if depth == 0 {
                        return Err(N::TextOutsideDiv);
                    }
                    content = true;
                }
            }
            Event::CData(data) => content |= depth > 0 && !data.trim_ascii().is_empty(),
            Event::GeneralRef(reference) => {
                let name = String::from_utf8_lossy(&reference).into_owned();
                entity(name)?;
                if depth == 0 {
                    return Err(N::TextOutsideDiv);
                }
                content = true;
            }
            Event::Comment(_) => {}
            Event::Decl(_) | Event::PI(_) => return Err(N::Instruction),
            Event::DocType(_) => return Err(N::Doctype),
            Event::Eof => break,
        }
    }
    if let Some((name, _)) = open.pop() {
        return Err(N::Malformed(XmlProblem::MissingEndTag { name }));
    }
    if !root_seen {
        return Err(N::NoDiv);
    }
    if !content {
        // txt-2
        return Err(N::NoContent);
    }
    Ok(())
}

/// `&name;`: only the five XML entities (a narrative has no DTD to declare others) and
/// character references to characters XML allows.
fn entity(name: String) -> Result<(), NarrativeError> {
    if matches!(name.as_str(), "lt" | "gt" | "amp" | "quot" | "apos") {
        return Ok(());
    }
    let Some(number) = name.strip_prefix('#') else {
        return Err(N::UndeclaredEntity { name });
    };
    let code = match number.strip_prefix(['x', 'X']) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => number.parse::<u32>().ok(),
    };
    // XML 1.0 `Char`: no NUL or other C0 controls but tab and newlines, no surrogates, no
    // U+FFFE/U+FFFF.
    let allowed = code.and_then(char::from_u32).is_some_and(|c| {
        matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && !matches!(c, '\u{FFFE}' | '\u{FFFF}'))
    });
    if allowed {
        Ok(())
    } else {
        Err(N::CharacterNotAllowed { reference: name })
    }
}

/// The local name of an allowed element in the XHTML namespace; the root must be `div`.
fn element(
    ns: &ResolveResult<'_>,
    tag: &BytesStart<'_>,
    root: bool,
) -> Result<String, NarrativeError> {
    let name = String::from_utf8_lossy(tag.local_name().as_ref()).into_owned();
    let xhtml = matches!(ns, ResolveResult::Bound(Namespace(n)) if *n == XHTML_NS.as_bytes());
    if !xhtml {
        return Err(N::NotXhtml { name });
    }
    if root && name != "div" {
        return Err(N::RootNotDiv { name });
    }
    if !ELEMENTS.contains(&name.as_str()) {
        return Err(N::ElementNotAllowed { name });
    }
    Ok(name)
}

fn attributes(
    reader: &NsReader<&[u8]>,
    element: &str,
    tag: &BytesStart<'_>,
) -> Result<(), NarrativeError> {
    for attribute in tag.attributes() {
        let attribute = attribute.map_err(|e| N::BadAttribute {
            element: element.to_string(),
            problem: attribute_problem(&e),
        })?;
        let key = String::from_utf8_lossy(attribute.key.as_ref()).into_owned();
        if key == "xmlns" || key.starts_with("xmlns:") || key == "xml:lang" {
            continue;
        }
        let local = key.rsplit(':').next().unwrap_or(&key).to_ascii_lowercase();
        if local.starts_with("on") {
            return Err(N::EventAttribute {
                element: element.to_string(),
                attribute: key,
            });
        }
        let allowed = COMMON_ATTRIBUTES.contains(&key.as_str())
            || element_attributes(element).contains(&key.as_str());
        if !allowed {
            return Err(N::AttributeNotAllowed {
                element: element.to_string(),
                attribute: key,
            });
        }
        let value = match attribute.decode_and_unescape_value(reader.decoder()) {
            Ok(value) => value,
            Err(e) => {
                return Err(N::BadAttributeValue {
                    element: element.to_string(),
                    attribute: key,
                    problem: problem(&e),
                });
            }
        };
        match key.as_str() {
            "href" | "cite" | "longdesc" => link(element, &key, &value)?,
            "src" => image_source(&value)?,
            "style" => style(element, &value)?,
            _ => {}
        }
    }
    Ok(())
}

fn scheme(url: &str) -> Option<String> {
    let trimmed: String = url
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect();
    let (scheme, _) = trimmed.split_once(':')?;
    let plain = scheme
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    plain.then(|| scheme.to_ascii_lowercase())
}

/// Links may go anywhere a reader can follow them, but never run anything.
fn link(element: &str, key: &str, url: &str) -> Result<(), NarrativeError> {
    match scheme(url) {
        None => Ok(()),
        Some(s) if matches!(s.as_str(), "http" | "https" | "mailto" | "tel" | "urn") => Ok(()),
        Some(scheme) => Err(N::LinkScheme {
            element: element.to_string(),
            attribute: key.to_string(),
            scheme,
        }),
    }
}

/// An image is shown without a click, so it may not be fetched from elsewhere: a contained or
/// bundled resource (`#id`, `Binary/…`) or inline data only.
fn image_source(src: &str) -> Result<(), NarrativeError> {
    let inline = src.starts_with('#')
        || src.starts_with("data:image/")
        || (scheme(src).is_none() && src.starts_with("Binary/"));
    if inline {
        Ok(())
    } else {
        Err(N::ExternalImage {
            src: src.to_string(),
        })
    }
}

/// Inline styles are allowed; what would load something (`url(`, `@import`, `expression(`) is not.
fn style(element: &str, style: &str) -> Result<(), NarrativeError> {
    let lower = style.to_ascii_lowercase();
    match ["url(", "@import", "expression("]
        .into_iter()
        .find(|bad| lower.contains(bad))
    {
        Some(found) => Err(N::StyleLoads {
            element: element.to_string(),
            found,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::messages::Language;

    fn div(inner: &str) -> String {
        format!(r#"<div xmlns="http://www.w3.org/1999/xhtml">{inner}</div>"#)
    }

    fn refused(xhtml: &str, expect: &str) {
        let why = check(xhtml)
            .err()
            .unwrap_or_else(|| panic!("accepted: {xhtml}"))
            .render(Language::English);
        assert!(why.contains(expect), "{why} (expected '{expect}')");
    }

    #[test]
    fn basic_formatting_is_accepted() {
        let ok = div(
            r##"<p class="x" style="color: red">山田 <b>太郎</b>&#160;&amp;<br/></p><table border="1"><tr><td colspan="2"><a href="https://example.org/a">a</a></td></tr></table><img src="#pic" alt="x"/>"##,
        );
        assert_eq!(check(&ok), Ok(()));
        assert_eq!(
            check(
                r#"<div xmlns="http://www.w3.org/1999/xhtml" xml:lang="ja" lang="ja"><!-- c -->x</div>"#
            ),
            Ok(())
        );
        assert_eq!(
            check(&div(r#"<img src="data:image/png;base64,AAAA"/>"#)),
            Ok(())
        );
    }

    #[test]
    fn scripts_forms_frames_and_objects_are_refused() {
        refused(&div("<script>alert(1)</script>"), "<script>");
        refused(&div("<form><input/></form>"), "<form>");
        refused(&div(r#"<iframe src="https://e.org"/>x"#), "<iframe>");
        refused(&div("<object/>x"), "<object>");
        refused(&div("<body>x</body>"), "<body>");
    }

    #[test]
    fn event_attributes_and_script_urls_are_refused() {
        refused(
            &div(r#"<p onclick="alert(1)">x</p>"#),
            "event attribute 'onclick'",
        );
        refused(&div(r##"<img src="#a" ONERROR="x"/>"##), "event attribute");
        refused(
            &div(r#"<a href="javascript:alert(1)">x</a>"#),
            "'javascript:'",
        );
        refused(
            &div(r#"<a href=" JaVa&#9;script:alert(1)">x</a>"#),
            "'javascript:'",
        );
        refused(
            &div(r#"<p style="background: url(https://e.org/t)">x</p>"#),
            "url(",
        );
        refused(
            &div(r#"<p xlink:href="x" xmlns:xlink="http://www.w3.org/1999/xlink">x</p>"#),
            "xlink:href",
        );
        refused(&div(r#"<p foo="x">x</p>"#), "'foo'");
    }

    #[test]
    fn the_reference_validators_attribute_list_is_applied() {
        let ok = div(
            r##"<a href="https://e.org" charset="utf-8" hreflang="ja">x</a><img src="#p" width="10" height="5" border="0"/><table width="100%" cellpadding="2"><tr><td nowrap="nowrap">y</td></tr></table><pre xml:space="preserve">z</pre>"##,
        );
        assert_eq!(check(&ok), Ok(()));
        refused(&div(r#"<ol start="3"><li>x</li></ol>"#), "'start'");
        refused(&div(r#"<ul><li value="2">x</li></ul>"#), "'value'");
        refused(
            &div(r#"<table><tr><td bgcolor="red">x</td></tr></table>"#),
            "'bgcolor'",
        );
        refused(&div(r#"<hr size="2"/>x"#), "'size'");
    }

    #[test]
    fn blocks_inside_a_paragraph_are_refused() {
        let ok =
            div("<p>a <b>b</b></p><ul><li><p>c</p></li></ul><blockquote><p>d</p></blockquote>");
        assert_eq!(check(&ok), Ok(()));
        refused(&div("<p>x<ul><li>y</li></ul></p>"), "<ul> is a block");
        refused(&div("<p>x<p>y</p></p>"), "<p> is a block");
        refused(
            &div("<p><span><table><tr><td>y</td></tr></table></span></p>"),
            "(in <span> within <p>)",
        );
        refused(&div("<p><em><div>y</div></em></p>"), "<div> is a block");
    }

    #[test]
    fn only_xml_entities_and_valid_character_references_are_accepted() {
        assert_eq!(
            check(&div("&lt;&gt;&amp;&quot;&apos;&#12354;&#x3042;&#xa0;")),
            Ok(())
        );
        refused(&div("&copy; 2024"), "&copy;");
        refused(&div("x&#0;"), "&#0;");
        refused(&div("x&#xD800;"), "&#xD800;");
        refused(&div("x&#xFFFF;"), "&#xFFFF;");
        refused(&div("x&#1;"), "&#1;");
        refused(&div("a & b"), "not well-formed");
        refused(&div(r#"<span title="a&nbsp;b">x</span>"#), "<span>");
    }

    #[test]
    fn malformed_xml_is_refused() {
        refused(
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><p>x</p>"#,
            "<div> is never closed",
        );
        refused(
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><p>x"#,
            "<p> is never closed",
        );
        refused(&div(r#"<p class="a" class="b">x</p>"#), "<p>");
        refused(&div(r#"<p class=a>x</p>"#), "<p>");
        refused(&div("<p>x</P>"), "not well-formed");
        refused(
            &div("<x:p xmlns:x=\"urn:x\">y</x:p>"),
            "not in the XHTML namespace",
        );
        refused(&div("<?php echo 1 ?>x"), "processing instruction");
        refused(
            r#"<!DOCTYPE div><div xmlns="http://www.w3.org/1999/xhtml">x</div>"#,
            "DOCTYPE",
        );
    }

    #[test]
    fn styles_that_load_or_run_are_refused() {
        assert_eq!(check(&div(r#"<p style="font-weight: bold">x</p>"#)), Ok(()));
        refused(
            &div(r#"<p style="width: expression(alert(1))">x</p>"#),
            "expression(",
        );
        refused(&div(r#"<p style="@import 'x.css'">x</p>"#), "@import");
    }

    #[test]
    fn external_images_are_refused() {
        refused(
            &div(r#"<img src="https://tracker.example/p.gif"/>"#),
            "refers outside",
        );
    }

    #[test]
    fn the_root_must_be_one_xhtml_div_with_content() {
        refused("<div>x</div>", "XHTML namespace");
        refused(
            r#"<p xmlns="http://www.w3.org/1999/xhtml">x</p>"#,
            "must be a div",
        );
        refused(&format!("{}{}", div("x"), div("y")), "single div");
        refused(&div("  "), "no text");
        refused(&div("<p> </p>"), "no text");
        refused("", "must be a div");
        refused(&div("<p>x</div>"), "not well-formed");
        refused(&div("&nbsp;x"), "&nbsp;");
    }
}
