//! TLS for the HTTP server (rustls, ring provider): the server certificate and key, and — when a
//! client CA bundle is configured — mutual TLS. A client certificate that no configured CA signed is
//! refused in the handshake, so a request never sees it; a trusted one is reduced to its SHA-256
//! fingerprint ([`ClientCertificate`]) in the connection's data, which the principals file maps to
//! a principal. Certificates and keys are never logged, nor shown in errors: only file names.

use std::any::Any;
use std::path::Path;
use std::sync::Arc;

use actix_tls::accept::rustls_0_23::TlsStream;
use actix_web::dev::Extensions;
use actix_web::rt::net::TcpStream;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

use super::ClientCertificate;

/// A TLS setting that cannot be used, named by its configuration key (the configuration
/// reports it as its own error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct TlsError {
    pub key: &'static str,
    pub message: String,
}

fn bad(key: &'static str, message: impl Into<String>) -> TlsError {
    TlsError {
        key,
        message: message.into(),
    }
}

/// The TLS settings as given; paths are read by [`TlsFiles::load`].
#[derive(Debug, Clone, Copy, Default)]
pub struct TlsFiles<'a> {
    pub cert: Option<&'a Path>,
    pub key: Option<&'a Path>,
    pub client_ca: Option<&'a Path>,
    pub client_required: bool,
}

/// A loaded, consistent TLS configuration.
#[derive(Debug, Clone)]
pub struct Tls {
    pub server: Arc<ServerConfig>,
    /// Client certificates are asked for (a client CA bundle is configured).
    pub mutual: bool,
    /// Connections without a client certificate are refused in the handshake.
    pub client_required: bool,
}

impl Tls {
    /// For the start-up log line: `on`, `mutual` or `mutual-required`.
    pub fn mode(&self) -> &'static str {
        match (self.mutual, self.client_required) {
            (false, _) => "on",
            (true, false) => "mutual",
            (true, true) => "mutual-required",
        }
    }
}

impl TlsFiles<'_> {
    /// `None` when no TLS setting is given. Reads and checks every file now, so a wrong path or a
    /// key that does not match the certificate stops the server at start-up, not at the first
    /// handshake.
    pub fn load(&self) -> Result<Option<Tls>, TlsError> {
        if self.client_required && self.client_ca.is_none() {
            return Err(bad(
                "tls_client_required",
                "needs tls_client_ca (the CAs that sign client certificates)",
            ));
        }
        let (cert, key) = match (self.cert, self.key) {
            (None, None) => {
                if self.client_ca.is_some() {
                    return Err(bad("tls_client_ca", "needs tls_cert and tls_key"));
                }
                return Ok(None);
            }
            (Some(_), None) => return Err(bad("tls_key", "tls_cert is set but tls_key is not")),
            (None, Some(_)) => return Err(bad("tls_cert", "tls_key is set but tls_cert is not")),
            (Some(c), Some(k)) => (c, k),
        };
        let chain = read_certificates("tls_cert", cert)?;
        let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| {
            bad(
                "tls_key",
                format!("{}: no usable private key: {e}", key.display()),
            )
        })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| bad("tls_cert", e.to_string()))?;
        let builder = match self.client_ca {
            Some(ca) => builder.with_client_cert_verifier(client_verifier(
                ca,
                self.client_required,
                provider,
            )?),
            None => builder.with_no_client_auth(),
        };
        let server = builder.with_single_cert(chain, key_der).map_err(|e| {
            bad(
                "tls_key",
                format!(
                    "{} does not fit the certificate in {}: {e}",
                    key.display(),
                    cert.display()
                ),
            )
        })?;
        Ok(Some(Tls {
            server: Arc::new(server),
            mutual: self.client_ca.is_some(),
            client_required: self.client_required,
        }))
    }
}

fn read_certificates(
    key: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certificates = CertificateDer::pem_file_iter(path)
        .and_then(|items| items.collect::<Result<Vec<_>, _>>())
        .map_err(|e| bad(key, format!("{}: {e}", path.display())))?;
    if certificates.is_empty() {
        return Err(bad(
            key,
            format!("{}: holds no PEM CERTIFICATE", path.display()),
        ));
    }
    Ok(certificates)
}

/// Trusts exactly the CAs of the bundle; without `required`, a client may also connect without
/// a certificate (and then needs a bearer token).
fn client_verifier(
    path: &Path,
    required: bool,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, TlsError> {
    let mut roots = RootCertStore::empty();
    for certificate in read_certificates("tls_client_ca", path)? {
        roots.add(certificate).map_err(|e| {
            bad(
                "tls_client_ca",
                format!("{}: not a usable CA certificate: {e}", path.display()),
            )
        })?;
    }
    let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
    let builder = if required {
        builder
    } else {
        builder.allow_unauthenticated()
    };
    builder
        .build()
        .map_err(|e| bad("tls_client_ca", format!("{}: {e}", path.display())))
}

/// For `HttpServer::on_connect`: runs once per connection, after the handshake, and records the
/// client certificate (if any) for every request on that connection.
pub fn on_connect(connection: &dyn Any, data: &mut Extensions) {
    if let Some(tls) = connection.downcast_ref::<TlsStream<TcpStream>>() {
        let (_, session) = tls.get_ref();
        if let Some(leaf) = session.peer_certificates().and_then(|c| c.first()) {
            data.insert(ClientCertificate(fingerprint(leaf)));
        }
    }
}

/// SHA-256 of a DER certificate, lower-case hex: the `certificate_sha256` of the principals file
/// (`openssl x509 -in client.pem -outform DER | sha256sum`).
pub fn fingerprint(der: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
