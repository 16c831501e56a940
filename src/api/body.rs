//! Reading a request body within the size limit and the request deadline, and parsing it as the
//! resource it declares itself to be (JSON or XML, within the nesting limit). actix's extractors
//! would answer limit violations with their own plain-text errors; reading the payload here lets
//! every violation become an OperationOutcome.

use std::time::Instant;

use actix_web::http::header::CONTENT_LENGTH;
use actix_web::web::{Bytes, BytesMut, Payload};
use actix_web::{HttpMessage, HttpRequest};
use futures_util::StreamExt;

use super::AppState;
use super::negotiate::Format;
use crate::config::Limits;
use crate::error::Error;
use crate::fhir::{arrays, characters, json, xml};

pub async fn read(
    req: &HttpRequest,
    mut payload: Payload,
    state: &AppState,
    deadline: Instant,
) -> Result<Bytes, Error> {
    let limit = state.limits.max_body_bytes;
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(Error::PayloadTooLarge { limit });
    }
    let mut body = BytesMut::with_capacity(declared.unwrap_or(8192).min(limit));
    loop {
        let next = tokio::time::timeout_at(deadline.into(), payload.next())
            .await
            .map_err(|_| Error::RequestTimeout(state.limits.request_timeout))?;
        match next {
            None => break,
            Some(Ok(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Err(Error::PayloadTooLarge { limit });
                }
                body.extend_from_slice(&chunk);
            }
            Some(Err(e)) => {
                return Err(Error::invalid(
                    format!("the request body could not be read: {e}"),
                    "body",
                ));
            }
        }
    }
    if body.len() >= super::memory::LARGE_BODY {
        req.extensions_mut().insert(super::memory::LargeBody);
    }
    Ok(body.freeze())
}

/// The resource in a body of the given format; both become the same internal form, which holds
/// no character that a FHIR string may not.
pub fn parse(format: Format, bytes: &[u8], limits: &Limits) -> Result<serde_json::Value, Error> {
    let (depth, items) = (limits.max_json_depth, limits.max_array_items);
    let resource = match format {
        Format::Json => json::parse_resource_within(bytes, depth, items)?,
        Format::Xml => xml::parse_resource(bytes, depth)?,
    };
    checked(resource, limits)
}

/// A JSON body that is not a resource (a JSON Patch), under the same limits and character
/// rules, since what it holds ends up in a resource.
pub fn parse_json(bytes: &[u8], limits: &Limits) -> Result<serde_json::Value, Error> {
    let (depth, items) = (limits.max_json_depth, limits.max_array_items);
    checked(json::parse_value_within(bytes, depth, items)?, limits)
}

fn checked(resource: serde_json::Value, limits: &Limits) -> Result<serde_json::Value, Error> {
    let items = limits.max_array_items;
    if let Some(path) = arrays::too_long(&resource, items) {
        return Err(Error::TooManyItems { path, max: items });
    }
    if let Some((path, c)) = characters::forbidden_character(&resource) {
        return Err(Error::invalid(
            format!(
                "{path} holds the control character {}: FHIR strings allow none below U+0020 but tab, line feed and carriage return",
                characters::describe(c)
            ),
            path,
        ));
    }
    Ok(resource)
}
