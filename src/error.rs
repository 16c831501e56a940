//! The closed set of request errors and the one place that turns each into an HTTP status and an
//! OperationOutcome. Storage details are logged once here and never shown to the client.

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderValue};
use actix_web::{HttpResponse, ResponseError};

use crate::fhir::json::ParseError;
use crate::fhir::outcome::Text;
use crate::fhir::xml::XmlError;
use crate::fhir::{Issue, IssueType, OperationOutcome};
use crate::messages::requests::{ChainReason, Refusal};
use crate::messages::{Language, RequestMessage};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Parse(#[from] ParseError),
    #[error("{0}")]
    Xml(#[from] XmlError),
    #[error("{detail}")]
    Invalid {
        detail: Text,
        expression: Option<String>,
    },
    #[error("{0}")]
    Search(#[from] crate::search::Error),
    #[error("unknown resource type '{0}'")]
    UnknownType(String),
    /// A type R4 defines that this server does not serve (`interactions::UNSERVED_TYPES`).
    #[error(
        "{0} is not supported by this server: nothing delivers its notifications, so it cannot be created or updated"
    )]
    UnsupportedType(String),
    #[error("{res_type}/{id} is not known")]
    NotFound { res_type: String, id: String },
    #[error("{res_type}/{id} has no version {version}")]
    VersionNotFound {
        res_type: String,
        id: String,
        version: String,
    },
    #[error("{res_type}/{id} was deleted")]
    Gone { res_type: String, id: String },
    /// An operation input names something not loaded (a code system, a code, a value set).
    #[error("{detail}")]
    InputNotFound { detail: Text, parameter: String },
    /// A write to a resource type the server serves from its terminology, not its store.
    #[error(
        "{res_type} resources cannot be written here ({method}): they are managed by `kyoyu codesets import` and by package installation (`kyoyu package install`)"
    )]
    ManagedType { res_type: String, method: String },
    #[error("{0}")]
    RouteNotFound(Text),
    /// `allow`: the methods the route takes, as the 405's `Allow` header lists them.
    #[error("method {method} is not allowed on {path}")]
    MethodNotAllowed {
        method: String,
        path: String,
        allow: String,
    },
    /// The caller may not do this (e.g. acknowledge a referral addressed to another institution).
    #[error("{0}")]
    Forbidden(Text),
    /// No principal: missing or unknown credentials (401 with a `WWW-Authenticate` challenge).
    #[error("{0}")]
    Unauthorized(#[from] crate::access::AuthError),
    #[error("{0}")]
    Conflict(Text),
    #[error("{0}")]
    PreconditionFailed(Text),
    #[error("{0}")]
    MultipleMatches(Text),
    #[error("{path} has more than {max} items")]
    TooManyItems { path: String, max: usize },
    /// Every validation thread is busy and the queue of waiting validations is full.
    #[error("the server is busy validating other requests; retry in a moment")]
    Busy,
    #[error("the request body exceeds the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(Text),
    #[error("{0}")]
    NotAcceptable(Text),
    #[error("{0}")]
    NotSupported(Text),
    #[error("the resource is not acceptable ({} issues)", .0.len())]
    Unprocessable(Vec<Issue>),
    #[error("the request did not arrive completely within {0:?}")]
    RequestTimeout(std::time::Duration),
    #[error("the request could not be completed within the time limit")]
    ProcessingTimeout,
    #[error("a bundle entry failed: {source}")]
    InEntry {
        index: usize,
        #[source]
        source: Box<Error>,
    },
    #[error("{}", store_message(.0).render(Language::English))]
    Store(#[from] StoreError),
    /// The request's audit record could not be stored (DESIGN §9: fail closed): nothing it
    /// read is answered, nothing it changed is kept.
    #[error(
        "the audit record of this request could not be stored, so the request is refused; retry later"
    )]
    AuditNotStored(#[source] StoreError),
}

/// A bad `_count`, `_offset` or `_cursor` of any listing answers as a search value does.
impl From<crate::search::paging::PagingError> for Error {
    fn from(e: crate::search::paging::PagingError) -> Self {
        Error::Search(e.into())
    }
}

impl From<crate::validation::pool::PoolError> for Error {
    fn from(e: crate::validation::pool::PoolError) -> Self {
        match e {
            crate::validation::pool::PoolError::Busy => Error::Busy,
            crate::validation::pool::PoolError::Failed(why) => Error::Store(StoreError::Task(why)),
        }
    }
}

impl Error {
    pub fn invalid(detail: impl Into<Text>, expression: impl Into<String>) -> Self {
        Error::Invalid {
            detail: detail.into(),
            expression: Some(expression.into()),
        }
    }

    /// The status and issue type of this error: the single mapping table of the server.
    pub fn classify(&self) -> (StatusCode, IssueType) {
        match self {
            Error::Parse(ParseError::TooDeep { .. } | ParseError::TooManyItems { .. })
            | Error::TooManyItems { .. } => (StatusCode::BAD_REQUEST, IssueType::TooCosty),
            Error::Busy => (StatusCode::SERVICE_UNAVAILABLE, IssueType::Transient),
            Error::Parse(_) => (StatusCode::BAD_REQUEST, IssueType::Structure),
            Error::Xml(XmlError::TooDeep { .. }) => (StatusCode::BAD_REQUEST, IssueType::TooCosty),
            Error::Xml(XmlError::Doctype { .. }) => (StatusCode::BAD_REQUEST, IssueType::Security),
            // What is stored holds something XML cannot carry: JSON can still answer.
            Error::Xml(XmlError::Unwritable(_)) => {
                (StatusCode::NOT_ACCEPTABLE, IssueType::NotSupported)
            }
            Error::Xml(_) => (StatusCode::BAD_REQUEST, IssueType::Structure),
            Error::Invalid { .. } => (StatusCode::BAD_REQUEST, IssueType::Invalid),
            Error::Search(crate::search::Error::UnknownParameter(_)) => {
                (StatusCode::BAD_REQUEST, IssueType::NotSupported)
            }
            Error::Search(crate::search::Error::UnsupportedModifier { .. }) => {
                (StatusCode::BAD_REQUEST, IssueType::NotSupported)
            }
            Error::Search(
                crate::search::Error::Chain(_)
                | crate::search::Error::ReverseChain(_)
                | crate::search::Error::UnsupportedFilter(_),
            ) => (StatusCode::BAD_REQUEST, IssueType::NotSupported),
            Error::Search(crate::search::Error::UnsupportedSort(_)) => {
                (StatusCode::BAD_REQUEST, IssueType::NotSupported)
            }
            Error::Search(crate::search::Error::TooManyValues { .. }) => {
                (StatusCode::BAD_REQUEST, IssueType::TooCosty)
            }
            Error::Search(crate::search::Error::BadChain { reason, .. }) => match reason {
                ChainReason::TooDeep(_) => (StatusCode::BAD_REQUEST, IssueType::TooCosty),
                ChainReason::Form => (StatusCode::BAD_REQUEST, IssueType::Invalid),
                _ => (StatusCode::BAD_REQUEST, IssueType::NotSupported),
            },
            Error::Search(crate::search::Error::Include { reason, .. }) => {
                if reason.not_supported() {
                    (StatusCode::BAD_REQUEST, IssueType::NotSupported)
                } else {
                    (StatusCode::BAD_REQUEST, IssueType::Invalid)
                }
            }
            Error::Search(_) => (StatusCode::BAD_REQUEST, IssueType::Value),
            Error::UnknownType(_) | Error::UnsupportedType(_) => {
                (StatusCode::NOT_FOUND, IssueType::NotSupported)
            }
            Error::NotFound { .. } | Error::VersionNotFound { .. } | Error::RouteNotFound(_) => {
                (StatusCode::NOT_FOUND, IssueType::NotFound)
            }
            Error::InputNotFound { .. } => (StatusCode::NOT_FOUND, IssueType::NotFound),
            Error::Gone { .. } => (StatusCode::GONE, IssueType::Deleted),
            Error::MethodNotAllowed { .. } | Error::ManagedType { .. } => {
                (StatusCode::METHOD_NOT_ALLOWED, IssueType::NotSupported)
            }
            Error::Forbidden(_) => (StatusCode::FORBIDDEN, IssueType::Forbidden),
            Error::Unauthorized(_) => (StatusCode::UNAUTHORIZED, IssueType::Login),
            Error::Conflict(_) => (StatusCode::CONFLICT, IssueType::Conflict),
            Error::PreconditionFailed(_) => (StatusCode::PRECONDITION_FAILED, IssueType::Conflict),
            Error::MultipleMatches(_) => {
                (StatusCode::PRECONDITION_FAILED, IssueType::MultipleMatches)
            }
            Error::PayloadTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, IssueType::TooLong),
            Error::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, IssueType::NotSupported)
            }
            Error::NotAcceptable(_) => (StatusCode::NOT_ACCEPTABLE, IssueType::NotSupported),
            Error::NotSupported(_) => (StatusCode::BAD_REQUEST, IssueType::NotSupported),
            Error::Unprocessable(_) => (StatusCode::UNPROCESSABLE_ENTITY, IssueType::Processing),
            Error::RequestTimeout(_) => (StatusCode::REQUEST_TIMEOUT, IssueType::Timeout),
            Error::ProcessingTimeout | Error::Store(StoreError::Timeout) => {
                (StatusCode::SERVICE_UNAVAILABLE, IssueType::Timeout)
            }
            // Two writers raced past the locks (e.g. another server's schema), or PostgreSQL
            // aborted one of two transactions waiting on each other's rows: the state the
            // request assumed changed under it, and sending it again may succeed.
            Error::Store(e) if e.is_write_race() => (StatusCode::CONFLICT, IssueType::Conflict),
            // Another connection held a lock past the wait allowed (another process on the
            // SQLite file, a PostgreSQL `lock_timeout`): nothing was stored, and the same
            // request may succeed once the lock is released (`Retry-After`).
            Error::Store(StoreError::ShuttingDown | StoreError::Busy(_)) => {
                (StatusCode::SERVICE_UNAVAILABLE, IssueType::Transient)
            }
            // The database is down or every connection busy: the same request may succeed later
            // (`Retry-After`).
            Error::Store(e) if e.is_unavailable() => {
                (StatusCode::SERVICE_UNAVAILABLE, IssueType::NoStore)
            }
            Error::Store(StoreError::DiskFull(_)) => {
                (StatusCode::INSUFFICIENT_STORAGE, IssueType::NoStore)
            }
            Error::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, IssueType::Exception),
            Error::AuditNotStored(_) => (StatusCode::SERVICE_UNAVAILABLE, IssueType::Transient),
            Error::InEntry { source, .. } => source.classify(),
        }
    }

    pub fn outcome(&self) -> OperationOutcome {
        let (_, code) = self.classify();
        match self {
            Error::Unprocessable(issues) => OperationOutcome::new(issues.clone()),
            Error::InEntry { index, source } => {
                let mut outcome = source.outcome();
                let prefix = format!("Bundle.entry[{index}]");
                for issue in &mut outcome.issues {
                    if issue.expression.is_empty() {
                        issue.expression.push(prefix.clone());
                    }
                    for e in &mut issue.expression {
                        *e = entry_expression(&prefix, e, matches!(**source, Error::Search(_)));
                    }
                }
                outcome
            }
            _ => {
                let mut issue = Issue::error(code, self.message());
                if let Some(expression) = self.expression() {
                    issue = issue.at(expression);
                }
                OperationOutcome::single(issue)
            }
        }
    }

    /// The catalogue message a client is told: the same words as the log's in English. A
    /// detail composed where the error arose keeps its own message when it has one; else its
    /// kind is said in the client's language and the detail follows as composed.
    fn message(&self) -> Text {
        use RequestMessage as M;
        let refused = |kind, detail: &Text| match detail.message() {
            Some(m) => Text::from(m.clone()),
            None => Text::from(M::Refused {
                kind,
                detail: detail.to_string(),
            }),
        };
        let reference = |t: &str, id: &str| format!("{t}/{id}");
        let message = match self {
            Error::Parse(e) => M::Json(e.clone()),
            Error::Xml(e) => M::Xml(e.clone()),
            Error::Invalid { detail, .. } => return refused(Refusal::Invalid, detail),
            Error::Search(e) => M::Search(e.clone()),
            Error::UnknownType(t) => M::UnknownType(t.clone()),
            Error::UnsupportedType(t) => M::UnsupportedType(t.clone()),
            Error::NotFound { res_type, id } => M::NotFound {
                reference: reference(res_type, id),
            },
            Error::VersionNotFound {
                res_type,
                id,
                version,
            } => M::VersionNotFound {
                reference: reference(res_type, id),
                version: version.clone(),
            },
            Error::Gone { res_type, id } => M::Gone {
                reference: reference(res_type, id),
            },
            Error::InputNotFound { detail, .. } => return refused(Refusal::InputNotFound, detail),
            Error::ManagedType { res_type, method } => M::ManagedType {
                res_type: res_type.clone(),
                method: method.clone(),
            },
            Error::RouteNotFound(detail) => return refused(Refusal::NoRoute, detail),
            Error::MethodNotAllowed { method, path, .. } => M::MethodNotAllowed {
                method: method.clone(),
                path: path.clone(),
            },
            Error::Forbidden(detail) => return refused(Refusal::Forbidden, detail),
            Error::Unauthorized(e) => M::Unauthorized(e.clone()),
            Error::Conflict(detail) => return refused(Refusal::Conflict, detail),
            Error::PreconditionFailed(detail) => {
                return refused(Refusal::PreconditionFailed, detail);
            }
            Error::MultipleMatches(detail) => return refused(Refusal::MultipleMatches, detail),
            Error::TooManyItems { path, max } => M::TooManyItems {
                path: path.clone(),
                max: *max,
            },
            Error::Busy => M::Busy,
            Error::PayloadTooLarge { limit } => M::PayloadTooLarge { limit: *limit },
            Error::UnsupportedMediaType(detail) => {
                return refused(Refusal::UnsupportedMediaType, detail);
            }
            Error::NotAcceptable(detail) => return refused(Refusal::NotAcceptable, detail),
            Error::NotSupported(detail) => return refused(Refusal::NotSupported, detail),
            Error::RequestTimeout(limit) => M::RequestTimeout(*limit),
            Error::ProcessingTimeout => M::ProcessingTimeout,
            Error::Store(e) => store_message(e),
            Error::AuditNotStored(_) => M::AuditNotStored,
            // Both carry their own issues; a single line only for logs.
            Error::Unprocessable(_) | Error::InEntry { .. } => M::Refused {
                kind: Refusal::Invalid,
                detail: self.to_string(),
            },
        };
        Text::from(message)
    }

    fn expression(&self) -> Option<String> {
        match self {
            Error::Invalid { expression, .. } => expression.clone(),
            Error::Parse(ParseError::DuplicateKey { path, .. })
            | Error::Parse(ParseError::TooManyItems { path, .. })
            | Error::TooManyItems { path, .. } => Some(path.clone()),
            Error::InputNotFound { parameter, .. } => Some(parameter.clone()),
            Error::Search(e) => Some(e.param().to_string()),
            _ => None,
        }
    }

    /// Whether the request failed on contention with a concurrent transaction (a transaction
    /// Bundle's entry and a refused audit record included), for the metrics and the log.
    pub fn contention(&self) -> Option<crate::store::Contention> {
        match self {
            Error::Store(e) | Error::AuditNotStored(e) => e.contention(),
            Error::InEntry { source, .. } => source.contention(),
            _ => None,
        }
    }

    /// The methods a 405 answer lists in `Allow`, which RFC 9110 §15.5.6 requires on every 405.
    pub fn allow(&self) -> Option<&str> {
        match self {
            Error::MethodNotAllowed { allow, .. } => Some(allow.as_str()),
            // Terminology and the audit trail refuse writes at their type and instance paths,
            // where they are read and searched only.
            Error::ManagedType { .. } => Some("GET, HEAD"),
            // A transaction refused for one entry: the request went to the base URL, which
            // takes POST only; which entry and why is in the OperationOutcome.
            Error::InEntry { source, .. } if source.allow().is_some() => Some("POST"),
            _ => None,
        }
    }
}

/// Places an issue location inside a Bundle entry: entry-relative paths (`Bundle.entry.request`)
/// get the index, resource paths (`Patient.name`, `resourceType`) go under `.resource`, and a
/// search parameter belongs to the entry's request URL.
fn entry_expression(prefix: &str, expression: &str, is_search: bool) -> String {
    if let Some(rest) = expression.strip_prefix("Bundle.entry.") {
        return format!("{prefix}.{rest}");
    }
    if expression.starts_with(prefix) {
        return expression.to_string();
    }
    if is_search {
        return format!("{prefix}.request.url");
    }
    match expression.split_once('.') {
        Some((head, rest)) if head.starts_with(|c: char| c.is_ascii_uppercase()) => {
            format!("{prefix}.resource.{rest}")
        }
        _ => format!("{prefix}.resource.{expression}"),
    }
}

/// What a client is told of a storage failure: whether to retry, never the database's words.
fn store_message(e: &StoreError) -> RequestMessage {
    match e {
        e if e.is_unavailable() => RequestMessage::StoreUnavailable,
        StoreError::DiskFull(_) => RequestMessage::DiskFull,
        StoreError::ShuttingDown => RequestMessage::ShuttingDown,
        StoreError::Busy(_) => RequestMessage::StoreLocked,
        e if e.is_write_race() => RequestMessage::WriteRace,
        _ => RequestMessage::StorageFailure,
    }
}

/// Seconds a client should wait before retrying a 503 or 507.
pub const RETRY_AFTER_SECS: &str = "2";

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        self.classify().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, _) = self.classify();
        if status.is_server_error() && !matches!(self, Error::Busy) {
            // The only place a storage error's detail is written: to the log, not the client.
            tracing::error!(error = %self, source = ?std::error::Error::source(self), "request failed");
        }
        let body = self.outcome().to_json().to_string();
        let mut response = HttpResponse::build(status).body(body);
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static(crate::fhir::FHIR_JSON),
        );
        if matches!(
            status,
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::INSUFFICIENT_STORAGE
        ) {
            response.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECS),
            );
        }
        if let Some(allow) = self.allow().and_then(|a| HeaderValue::from_str(a).ok()) {
            response
                .headers_mut()
                .insert(actix_web::http::header::ALLOW, allow);
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                actix_web::http::header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"kyoyu\""),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::result::DatabaseErrorKind;

    #[test]
    fn each_error_has_its_status() {
        let cases: Vec<(Error, u16)> = vec![
            (Error::Parse(ParseError::Empty), 400),
            (Error::Xml(XmlError::Empty), 400),
            (Error::Xml(XmlError::Doctype { line: 1, column: 1 }), 400),
            (Error::Xml(XmlError::Unwritable("x".into())), 406),
            (Error::invalid("x", "Patient.id"), 400),
            (Error::UnknownType("Foo".into()), 404),
            (Error::UnsupportedType("Subscription".into()), 404),
            (
                Error::NotFound {
                    res_type: "Patient".into(),
                    id: "1".into(),
                },
                404,
            ),
            (
                Error::MethodNotAllowed {
                    method: "PATCH".into(),
                    path: "/".into(),
                    allow: "POST".into(),
                },
                405,
            ),
            (
                Error::InputNotFound {
                    detail: "x".into(),
                    parameter: "system".into(),
                },
                404,
            ),
            (
                Error::ManagedType {
                    res_type: "CodeSystem".into(),
                    method: "POST".into(),
                },
                405,
            ),
            (Error::Forbidden("x".into()), 403),
            (Error::Unauthorized(crate::access::AuthError::Missing), 401),
            (Error::NotAcceptable("xml".into()), 406),
            (
                Error::RequestTimeout(std::time::Duration::from_secs(1)),
                408,
            ),
            (Error::Conflict("x".into()), 409),
            (
                Error::Gone {
                    res_type: "Patient".into(),
                    id: "1".into(),
                },
                410,
            ),
            (Error::PreconditionFailed("x".into()), 412),
            (Error::MultipleMatches("x".into()), 412),
            (Error::PayloadTooLarge { limit: 1 }, 413),
            (Error::UnsupportedMediaType("x".into()), 415),
            (Error::Unprocessable(vec![]), 422),
            (Error::Store(StoreError::Timeout), 503),
            (Error::Store(StoreError::Unavailable("x".into())), 503),
            (Error::Store(StoreError::Connection("x".into())), 503),
            (Error::Store(StoreError::DiskFull("x".into())), 507),
            (Error::AuditNotStored(StoreError::Task("x".into())), 503),
            (Error::Store(StoreError::Busy("x".into())), 503),
            (Error::Store(StoreError::Corrupt("x".into())), 500),
        ];
        for (error, status) in cases {
            assert_eq!(error.classify().0.as_u16(), status, "{error:?}");
            // RFC 9110: every 405 lists what the route takes.
            let allow = error.error_response().headers().contains_key("allow");
            assert_eq!(allow, status == 405, "{error:?}");
            // The catalogue's English is what the log says.
            if !matches!(error, Error::Unprocessable(_)) {
                assert_eq!(error.outcome().issues[0].diagnostics, error.to_string());
            }
        }
    }

    #[test]
    fn an_unreachable_or_full_database_says_when_to_retry() {
        for (e, status, code) in [
            (StoreError::Unavailable("refused".into()), 503, "no-store"),
            (StoreError::DiskFull("full".into()), 507, "no-store"),
        ] {
            let e = Error::Store(e);
            assert_eq!(e.outcome().issues[0].code.as_str(), code);
            let response = e.error_response();
            assert_eq!(response.status().as_u16(), status);
            let retry = response.headers().get(actix_web::http::header::RETRY_AFTER);
            assert_eq!(retry.and_then(|v| v.to_str().ok()), Some(RETRY_AFTER_SECS));
        }
        let outcome = Error::Store(StoreError::Unavailable("secret detail".into())).outcome();
        let json = outcome.to_json().to_string();
        assert!(
            json.contains("no-store") && json.contains("retry later"),
            "{json}"
        );
        assert!(!json.contains("secret detail"), "{json}");
    }

    /// SQLite's `database is locked` and PostgreSQL's lock timeout, as they arrive through
    /// diesel: a passing state, not a broken server, and not a conflict of the request's own.
    #[test]
    fn a_lock_held_too_long_is_transient_and_says_when_to_retry() {
        for said in [
            "database is locked",
            "canceling statement due to lock timeout",
        ] {
            let info: Box<dyn diesel::result::DatabaseErrorInformation + Send + Sync> =
                Box::new(String::from(said));
            let store = StoreError::from(diesel::result::Error::DatabaseError(
                DatabaseErrorKind::Unknown,
                info,
            ));
            let e = Error::Store(store);
            assert_eq!(e.contention(), Some(crate::store::Contention::Busy));
            let response = e.error_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            let retry = response.headers().get(actix_web::http::header::RETRY_AFTER);
            assert_eq!(retry.and_then(|v| v.to_str().ok()), Some(RETRY_AFTER_SECS));
            let outcome = e.outcome();
            assert_eq!(outcome.issues[0].code.as_str(), "transient");
            let json = outcome.to_json().to_string();
            // The catalogue's words, never the database's.
            assert!(
                json.contains("locked by another connection; retry"),
                "{json}"
            );
            assert!(!json.contains("timeout"), "{json}");
            // A transaction Bundle's entry answers the same.
            let in_entry = Error::InEntry {
                index: 0,
                source: Box::new(e),
            };
            assert_eq!(in_entry.classify().0, StatusCode::SERVICE_UNAVAILABLE);
        }
    }

    #[test]
    fn a_deadlock_is_a_retryable_conflict() {
        // What PostgreSQL's 40P01 arrives as through diesel.
        let info: Box<dyn diesel::result::DatabaseErrorInformation + Send + Sync> =
            Box::new(String::from("deadlock detected"));
        let store = StoreError::from(diesel::result::Error::DatabaseError(
            DatabaseErrorKind::Unknown,
            info,
        ));
        assert!(matches!(store, StoreError::Deadlock(_)), "{store:?}");
        let e = Error::Store(store);
        let response = e.error_response();
        assert_eq!(response.status(), StatusCode::CONFLICT);
        let outcome = e.outcome();
        assert_eq!(outcome.issues[0].code.as_str(), "conflict");
        let json = outcome.to_json().to_string();
        assert!(json.contains("retry the request"), "{json}");
        assert!(!json.contains("deadlock detected"), "{json}");
        // Inside a transaction bundle the entry's error keeps the same answer.
        let in_entry = Error::InEntry {
            index: 1,
            source: Box::new(Error::Store(StoreError::Deadlock("x".into()))),
        };
        assert_eq!(in_entry.classify().0, StatusCode::CONFLICT);
        assert_eq!(
            in_entry.contention(),
            Some(crate::store::Contention::Deadlock)
        );
        let serialization: Box<dyn diesel::result::DatabaseErrorInformation + Send + Sync> =
            Box::new(String::from("could not serialize access"));
        let e = Error::Store(StoreError::Database(diesel::result::Error::DatabaseError(
            DatabaseErrorKind::SerializationFailure,
            serialization,
        )));
        assert_eq!(e.classify().0, StatusCode::CONFLICT);
        assert!(
            e.outcome()
                .to_json()
                .to_string()
                .contains("retry the request")
        );
    }

    #[test]
    fn unique_violations_are_conflicts() {
        let info: Box<dyn diesel::result::DatabaseErrorInformation + Send + Sync> =
            Box::new(String::from("dup"));
        let e = Error::Store(StoreError::Database(diesel::result::Error::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            info,
        )));
        assert_eq!(e.classify().0, StatusCode::CONFLICT);
    }

    #[test]
    fn a_transaction_refused_for_an_entry_allows_post() {
        let e = Error::InEntry {
            index: 0,
            source: Box::new(Error::ManagedType {
                res_type: "CodeSystem".into(),
                method: "POST".into(),
            }),
        };
        let response = e.error_response();
        assert_eq!(response.status().as_u16(), 405);
        let allow = response.headers().get(actix_web::http::header::ALLOW);
        assert_eq!(allow.and_then(|v| v.to_str().ok()), Some("POST"));
        let e = Error::InEntry {
            index: 0,
            source: Box::new(Error::invalid("x", "Patient.name")),
        };
        assert!(e.allow().is_none());
    }

    #[test]
    fn entry_errors_are_located_inside_the_entry() {
        let e = Error::InEntry {
            index: 2,
            source: Box::new(Error::invalid("x", "Patient.name")),
        };
        assert_eq!(
            e.outcome().issues[0].expression,
            ["Bundle.entry[2].resource.name"]
        );
        let e = Error::InEntry {
            index: 0,
            source: Box::new(Error::invalid("x", "Bundle.entry.request.url")),
        };
        assert_eq!(
            e.outcome().issues[0].expression,
            ["Bundle.entry[0].request.url"]
        );
    }
}
