//! Who sent a request: the principal of its client certificate or bearer token, and the
//! emergency declaration (救急時医療情報閲覧) it makes, checked against the principal's permission.
//!
//! Emergency viewing is declared with two headers, both required:
//! - `X-Emergency-Reason`: why (free text; percent-encode non-ASCII, e.g. UTF-8 Japanese);
//! - `X-Emergency-2FA`: the second factor the practitioner used (`totp`, `sms`, `fido`, `card`…).
//!
//! Nothing here is logged: tokens, certificates and reasons stay out of the request log.

use actix_web::HttpRequest;
use actix_web::http::header::AUTHORIZATION;

use super::AppState;
use crate::access::{Caller, ClientCertificate, Emergency, Principal};
use crate::error::Error;
use crate::messages::InteractionMessage;

pub const EMERGENCY_REASON: &str = "x-emergency-reason";
pub const EMERGENCY_2FA: &str = "x-emergency-2fa";

/// The second-factor methods accepted in `X-Emergency-2FA`.
const TWO_FACTOR_METHODS: &[&str] = &["totp", "sms", "fido", "card", "biometric", "push"];

/// The principal of `req`: 401 without a recognised credential.
pub fn principal(state: &AppState, req: &HttpRequest) -> Result<Principal, Error> {
    let bearer = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let certificate = req.conn_data::<ClientCertificate>();
    Ok(state.authentication.principal(bearer, certificate)?)
}

/// The caller `principal` is on `req`; a refused emergency declaration (403: the principal may
/// not make it, or makes it incompletely) comes with the caller as declared, for its record.
pub fn caller(req: &HttpRequest, principal: Principal) -> Result<Caller, Box<(Caller, Error)>> {
    match emergency(req, &principal) {
        Ok(emergency) => Ok(Caller {
            principal,
            emergency,
        }),
        Err(e) => {
            let declared = Emergency {
                method: header(req, EMERGENCY_2FA).unwrap_or_default(),
                reason: header(req, EMERGENCY_REASON).unwrap_or_default(),
            };
            Err(Box::new((
                Caller {
                    principal,
                    emergency: Some(declared),
                },
                e,
            )))
        }
    }
}

fn header(req: &HttpRequest, name: &str) -> Option<String> {
    let raw = req.headers().get(name)?.to_str().ok()?;
    let decoded = percent_decode(raw.trim());
    (!decoded.is_empty()).then_some(decoded)
}

fn emergency(req: &HttpRequest, principal: &Principal) -> Result<Option<Emergency>, Error> {
    let reason = header(req, EMERGENCY_REASON);
    let method = header(req, EMERGENCY_2FA).map(|m| m.to_ascii_lowercase());
    if reason.is_none() && method.is_none() {
        return Ok(None);
    }
    if *principal == Principal::Open {
        // Development mode reads everything anyway; the declaration is ignored.
        return Ok(None);
    }
    if !matches!(
        principal,
        Principal::Practitioner {
            emergency: true,
            ..
        }
    ) {
        return Err(Error::Forbidden(
            InteractionMessage::EmergencyNotPermitted.into(),
        ));
    }
    match (reason, method) {
        (Some(reason), Some(method)) if TWO_FACTOR_METHODS.contains(&method.as_str()) => {
            Ok(Some(Emergency { method, reason }))
        }
        (Some(_), Some(_)) => Err(Error::Forbidden(
            InteractionMessage::EmergencyUnknownMethod {
                methods: TWO_FACTOR_METHODS.join(", "),
            }
            .into(),
        )),
        (None, _) => Err(Error::Forbidden(
            InteractionMessage::EmergencyNoReason.into(),
        )),
        (_, None) => Err(Error::Forbidden(
            InteractionMessage::EmergencyNoMethod.into(),
        )),
    }
}

fn percent_decode(s: &str) -> String {
    form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoded_reasons_are_decoded() {
        assert_eq!(percent_decode("%E6%95%91%E6%80%A5"), "救急");
        assert_eq!(percent_decode("a+b"), "a+b");
    }
}
