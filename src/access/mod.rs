//! Access: who is calling (principals from bearer tokens or client certificates) and what they
//! may see (DESIGN §9: own submissions, consent, referral addressees, emergency viewing, the
//! patient's own view). Every decision is also an audit record (see `crate::audit`).

pub mod caller;
pub mod classify;
pub mod compartment;
pub mod person;
pub mod principal;
pub mod principals;
pub mod scope;
pub mod tls;

pub use caller::{Caller, Emergency};
pub use principal::{Principal, Role};
pub use principals::Principals;
pub use scope::Scope;

/// How a request proves who it is. The TLS layer puts the client certificate's SHA-256
/// fingerprint into the connection's data; the `Authorization: Bearer` header carries a token.
#[derive(Debug, Clone)]
pub enum Authentication {
    /// No credentials configured: every request is [`Principal::Open`] (loopback only).
    Open,
    Required(std::sync::Arc<Principals>),
}

/// The SHA-256 (hex, lower case) of the DER client certificate of a mutual-TLS connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCertificate(pub String);

// Why a request has no principal: a text of the catalogue, defined there.
pub use crate::messages::requests::AuthError;

impl Authentication {
    /// The principal of a request. A client certificate, when present, wins over a token: it was
    /// proven in the handshake.
    pub fn principal(
        &self,
        bearer: Option<&str>,
        certificate: Option<&ClientCertificate>,
    ) -> Result<Principal, AuthError> {
        let principals = match self {
            Authentication::Open => return Ok(Principal::Open),
            Authentication::Required(p) => p,
        };
        if let Some(ClientCertificate(fingerprint)) = certificate {
            return principals
                .by_certificate(fingerprint)
                .cloned()
                .ok_or(AuthError::UnknownCertificate);
        }
        match bearer {
            Some(token) => principals
                .by_token(token)
                .cloned()
                .ok_or(AuthError::UnknownToken),
            None => Err(AuthError::Missing),
        }
    }
}
