//! The XML parser's errors as the catalogue's [`XmlProblem`]s, so that a client is told what is
//! wrong with its XML in its own language rather than in the parser's English.

use quick_xml::errors::{Error, IllFormedError, SyntaxError};
use quick_xml::escape::{EscapeError, ParseCharRefError};
use quick_xml::events::attributes::AttrError;
use quick_xml::name::NamespaceError;

use crate::messages::markup::{AttributeProblem, Construct, XmlProblem};

pub(crate) fn problem(e: &Error) -> XmlProblem {
    match e {
        Error::Io(_) => XmlProblem::Unreadable,
        Error::Syntax(e) => XmlProblem::Unclosed(match e {
            SyntaxError::InvalidBangMarkup => return XmlProblem::BadMarkup,
            SyntaxError::UnclosedPIOrXmlDecl => Construct::Instruction,
            SyntaxError::UnclosedComment => Construct::Comment,
            SyntaxError::UnclosedDoctype => Construct::Doctype,
            SyntaxError::UnclosedCData => Construct::CData,
            SyntaxError::UnclosedTag => Construct::Tag,
        }),
        Error::IllFormed(e) => match e {
            IllFormedError::MissingDeclVersion(_) => XmlProblem::DeclarationWithoutVersion,
            IllFormedError::MissingDoctypeName => XmlProblem::DoctypeWithoutName,
            IllFormedError::MissingEndTag(name) => XmlProblem::MissingEndTag { name: name.clone() },
            IllFormedError::UnmatchedEndTag(name) => {
                XmlProblem::UnmatchedEndTag { name: name.clone() }
            }
            IllFormedError::MismatchedEndTag { expected, found } => XmlProblem::MismatchedEndTag {
                expected: expected.clone(),
                found: found.clone(),
            },
            IllFormedError::DoubleHyphenInComment => XmlProblem::DoubleHyphenInComment,
            IllFormedError::UnclosedReference => XmlProblem::Unclosed(Construct::Reference),
        },
        Error::InvalidAttr(e) => attribute_problem(e),
        // Whatever the encoding error, the text that arrived is not the UTF-8 it must be.
        Error::Encoding(_) => XmlProblem::NotUtf8,
        Error::Escape(e) => escape_problem(e),
        Error::Namespace(NamespaceError::UnknownPrefix(prefix)) => XmlProblem::UnknownPrefix {
            prefix: String::from_utf8_lossy(prefix).into_owned(),
        },
        Error::Namespace(_) => XmlProblem::ReservedPrefix,
    }
}

pub(crate) fn attribute_problem(e: &AttrError) -> XmlProblem {
    XmlProblem::Attribute(match e {
        AttrError::ExpectedEq(_) => AttributeProblem::NoEquals,
        AttrError::ExpectedValue(_) => AttributeProblem::NoValue,
        AttrError::UnquotedValue(_) => AttributeProblem::Unquoted,
        AttrError::ExpectedQuote(_, quote) => AttributeProblem::Unterminated {
            quote: char::from(*quote),
        },
        AttrError::Duplicated(..) => AttributeProblem::Duplicated,
    })
}

pub(crate) fn escape_problem(e: &EscapeError) -> XmlProblem {
    match e {
        EscapeError::UnrecognizedEntity(_, name) => {
            XmlProblem::UnknownEntity { name: name.clone() }
        }
        EscapeError::UnterminatedEntity(_) => XmlProblem::UnterminatedReference,
        EscapeError::InvalidCharRef(
            ParseCharRefError::InvalidCodepoint(code) | ParseCharRefError::IllegalCharacter(code),
        ) => XmlProblem::CharacterNotAllowed { code: *code },
        EscapeError::InvalidCharRef(_) => XmlProblem::BadCharacterReference,
    }
}
