//! Minimal keep-alive HTTP/1.1 client for the bench: one hyper connection per
//! worker, plus parsing of the (loopback-only) base URL.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::http::response;
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use super::load::Error;

/// Media type for both request bodies and the `Accept` header.
pub(crate) const FHIR_JSON: &str = "application/fhir+json";

/// Loopback connections either succeed or are refused almost at once; this
/// only guards against a wedged listener backlog.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the bench sends requests, resolved once up front.
#[derive(Debug)]
pub(crate) struct Target {
    /// Only loopback addresses, tried in order.
    addrs: Vec<SocketAddr>,
    /// `Host` header value, shared (refcounted) by every request.
    host: HeaderValue,
    /// Path of the FHIR base without a trailing slash, e.g. "" or "/fhir".
    path_prefix: String,
    /// `Authorization: Bearer …` for servers that require a principal.
    authorization: Option<HeaderValue>,
}

impl Target {
    /// Parses `base_url` and enforces the loopback-only rule.
    pub(crate) fn parse(base_url: &str) -> Result<Self, Error> {
        let invalid = |reason: &'static str| Error::InvalidBaseUrl {
            url: base_url.to_owned(),
            reason,
        };
        let uri: Uri = base_url
            .trim()
            .parse()
            .map_err(|_| invalid("not a valid absolute URL"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => return Err(invalid("https is not supported; use http://")),
            Some(_) => return Err(invalid("scheme must be http")),
            None => return Err(invalid("missing scheme, expected http://host:port")),
        }
        let authority = uri.authority().ok_or_else(|| invalid("missing host"))?;
        if authority.as_str().contains('@') {
            return Err(invalid("user info is not allowed"));
        }
        if uri.query().is_some() {
            return Err(invalid("a query string is not allowed"));
        }
        let host = authority.host();
        // `Uri` tolerates a non-numeric port and `port_u16` then reports none,
        // which would silently fall back to port 80.
        let port = match authority.as_str().get(host.len()..) {
            None | Some("") => 80,
            Some(rest) => rest
                .strip_prefix(':')
                .and_then(|p| p.parse::<u16>().ok())
                .filter(|p| *p != 0)
                .ok_or_else(|| invalid("port must be a number from 1 to 65535"))?,
        };
        let ips = loopback_ips(host).ok_or_else(|| Error::NonLoopbackHost {
            host: host.to_owned(),
        })?;
        let host_header = HeaderValue::from_str(authority.as_str())
            .map_err(|_| invalid("host is not a valid Host header"))?;
        Ok(Self {
            addrs: ips
                .into_iter()
                .map(|ip| SocketAddr::new(ip, port))
                .collect(),
            host: host_header,
            path_prefix: uri.path().trim_end_matches('/').to_owned(),
            authorization: None,
        })
    }

    /// Sends `token` as a bearer token with every request.
    pub(crate) fn with_token(mut self, token: Option<&str>) -> Result<Self, Error> {
        self.authorization = token
            .map(|t| HeaderValue::from_str(&format!("Bearer {t}")))
            .transpose()
            .map_err(|_| Error::InvalidOptions("the token is not a valid header value"))?;
        Ok(self)
    }

    /// Origin-form URI (what HTTP/1.1 sends on the request line) for `path`
    /// below the FHIR base; `path` starts with '/'.
    pub(crate) fn uri(&self, path: &str) -> Option<Uri> {
        let mut s = String::with_capacity(self.path_prefix.len() + path.len());
        s.push_str(&self.path_prefix);
        s.push_str(path);
        s.parse().ok()
    }

    /// Printable address list for error messages.
    pub(crate) fn describe(&self) -> String {
        let addrs: Vec<String> = self.addrs.iter().map(SocketAddr::to_string).collect();
        addrs.join(", ")
    }

    #[cfg(test)]
    pub(crate) fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    #[cfg(test)]
    pub(crate) fn path_prefix(&self) -> &str {
        &self.path_prefix
    }

    /// A request with the shared headers set; `body` empty means no
    /// Content-Type (hyper derives Content-Length from the full body).
    pub(crate) fn request(&self, method: Method, uri: Uri, body: Bytes) -> Request<Full<Bytes>> {
        let has_body = !body.is_empty();
        // Built field by field because `Request::builder` is fallible and
        // nothing here can fail.
        let mut req = Request::new(Full::new(body));
        *req.method_mut() = method;
        *req.uri_mut() = uri;
        let headers = req.headers_mut();
        headers.insert(HOST, self.host.clone());
        headers.insert(ACCEPT, HeaderValue::from_static(FHIR_JSON));
        if let Some(a) = &self.authorization {
            headers.insert(AUTHORIZATION, a.clone());
        }
        if has_body {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
        }
        req
    }
}

/// Loopback IPs for `host`, or `None` if the host may not be targeted.
///
/// `localhost` maps to fixed loopback addresses instead of going through the
/// resolver, so a hosts-file entry can never point the bench elsewhere.
pub(crate) fn loopback_ips(host: &str) -> Option<Vec<IpAddr>> {
    if host.eq_ignore_ascii_case("localhost") {
        return Some(vec![
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ]);
    }
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let ip: IpAddr = bare.parse().ok()?;
    // is_loopback is exactly 127.0.0.0/8 for v4 and ::1 for v6.
    ip.is_loopback().then(|| vec![ip])
}

/// One keep-alive HTTP/1.1 connection.
pub(crate) struct Conn {
    sender: SendRequest<Full<Bytes>>,
    /// Drives the socket; aborted on drop so a wedged connection cannot
    /// outlive its worker.
    driver: JoinHandle<()>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

impl Conn {
    pub(crate) async fn connect(target: &Target) -> Result<Self, Error> {
        let connect = TcpStream::connect(target.addrs.as_slice());
        let stream = match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
            Ok(Ok(s)) => s,
            Ok(Err(source)) => {
                return Err(Error::Connect {
                    addr: target.describe(),
                    source,
                });
            }
            Err(_) => {
                return Err(Error::Connect {
                    addr: target.describe(),
                    source: std::io::ErrorKind::TimedOut.into(),
                });
            }
        };
        // Small request/response pairs: Nagle would add delayed-ACK stalls
        // that measure the TCP stack instead of the server.
        let _ = stream.set_nodelay(true);
        let (sender, connection) =
            http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|source| Error::Handshake {
                    addr: target.describe(),
                    source,
                })?;
        let driver = tokio::spawn(async move {
            // A closed or broken connection surfaces to the worker through
            // the sender, which then reconnects; nothing to do here.
            let _ = connection.await;
        });
        Ok(Self { sender, driver })
    }

    /// True once the server (or an error) has closed the connection.
    pub(crate) fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }

    /// Waits until the connection can take a request; `false` means it is
    /// gone and the caller should reconnect.
    pub(crate) async fn ready(&mut self) -> bool {
        self.sender.ready().await.is_ok()
    }

    /// Sends `req` and reads the whole response body (discarding it, so no
    /// buffer grows), returning the response head.
    pub(crate) async fn exchange(
        &mut self,
        req: Request<Full<Bytes>>,
    ) -> Result<response::Parts, hyper::Error> {
        let resp = self.sender.send_request(req).await?;
        let (head, mut body) = resp.into_parts();
        while let Some(frame) = body.frame().await {
            frame?;
        }
        Ok(head)
    }

    /// Sends `req` and returns the response head with its whole body, for a bench that reads
    /// the answer (following paging links).
    pub(crate) async fn fetch(
        &mut self,
        req: Request<Full<Bytes>>,
    ) -> Result<(response::Parts, Bytes), hyper::Error> {
        let resp = self.sender.send_request(req).await?;
        let (head, body) = resp.into_parts();
        Ok((head, body.collect().await?.to_bytes()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_accepted() {
        assert_eq!(
            loopback_ips("127.0.0.1"),
            Some(vec![IpAddr::V4(Ipv4Addr::LOCALHOST)])
        );
        assert!(loopback_ips("127.255.3.4").is_some());
        assert_eq!(
            loopback_ips("[::1]"),
            Some(vec![IpAddr::V6(Ipv6Addr::LOCALHOST)])
        );
        assert_eq!(loopback_ips("LocalHost").map(|v| v.len()), Some(2));
    }

    #[test]
    fn non_loopback_hosts_are_rejected() {
        for host in [
            "10.0.0.1",
            "192.168.1.10",
            "0.0.0.0",
            "128.0.0.1",
            "[::]",
            "[::ffff:127.0.0.1]",
            "[fe80::1]",
            "example.com",
            "localhost.example.com",
            "127.1",
            "",
        ] {
            assert_eq!(loopback_ips(host), None, "{host} must be rejected");
        }
    }

    #[test]
    fn parses_base_url_with_port_and_prefix() {
        let t = Target::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            t.addrs(),
            &["127.0.0.1:8080".parse::<SocketAddr>().unwrap()]
        );
        assert_eq!(t.path_prefix(), "");
        assert_eq!(t.uri("/Observation").unwrap(), "/Observation");

        let t = Target::parse("http://localhost:9000/fhir/").unwrap();
        assert_eq!(t.addrs().len(), 2);
        assert!(
            t.addrs()
                .iter()
                .all(|a| a.ip().is_loopback() && a.port() == 9000)
        );
        assert_eq!(t.uri("/Observation/abc").unwrap(), "/fhir/Observation/abc");

        let t = Target::parse("http://[::1]").unwrap();
        assert_eq!(t.addrs(), &["[::1]:80".parse::<SocketAddr>().unwrap()]);
    }

    #[test]
    fn rejects_non_loopback_base_url() {
        for url in [
            "http://10.1.2.3:8080",
            "http://example.com/fhir",
            "http://[2001:db8::1]:8080",
        ] {
            assert!(
                matches!(Target::parse(url), Err(Error::NonLoopbackHost { .. })),
                "{url}"
            );
        }
    }

    #[test]
    fn rejects_malformed_base_url() {
        for url in [
            "",
            "127.0.0.1:8080",
            "/fhir",
            "https://127.0.0.1:8443",
            "ftp://127.0.0.1",
            "http://user@127.0.0.1:8080",
            "http://127.0.0.1:8080/fhir?x=1",
            "http://127.0.0.1:notaport",
            "http://127.0.0.1:",
            "http://127.0.0.1:0",
            "http://127.0.0.1:70000",
        ] {
            assert!(
                matches!(Target::parse(url), Err(Error::InvalidBaseUrl { .. })),
                "{url}: {:?}",
                Target::parse(url)
            );
        }
    }
}
