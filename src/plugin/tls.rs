//! AutoMTLS: the server certificate this process presents and the client
//! verifier that trusts exactly the certificate Terraform handed us.
//!
//! Terraform (through go-plugin) passes its own self-signed client certificate
//! in `PLUGIN_CLIENT_CERT` and expects the plugin's self-signed certificate in
//! the handshake line. Both are CA certificates used as leaves, which WebPKI
//! path building rejects, so the client is authenticated by comparing the
//! presented certificate with the expected one byte for byte and checking the
//! handshake signature with its key.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{self, CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};

/// A freshly generated self-signed certificate and its key.
pub struct ServerIdentity {
    pub cert_der: Vec<u8>,
    key_der: Vec<u8>,
}

impl ServerIdentity {
    /// Generates an ECDSA P-256 certificate for `localhost`, usable for both
    /// server and client authentication, as go-plugin's own is.
    pub fn generate() -> Result<ServerIdentity, rcgen::Error> {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()])?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "localhost");
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "HashiCorp");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::DigitalSignature,
            rcgen::KeyUsagePurpose::KeyEncipherment,
            rcgen::KeyUsagePurpose::KeyCertSign,
        ];
        params.extended_key_usages = vec![
            rcgen::ExtendedKeyUsagePurpose::ServerAuth,
            rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let now = std::time::SystemTime::now();
        params.not_before = (now - std::time::Duration::from_secs(30)).into();
        params.not_after = (now + std::time::Duration::from_secs(30 * 24 * 3600)).into();
        let cert = params.self_signed(&key)?;
        Ok(ServerIdentity {
            cert_der: cert.der().to_vec(),
            key_der: key.serialize_der(),
        })
    }

    /// The certificate as the handshake line carries it: base64 of the DER
    /// bytes, standard alphabet without padding.
    pub fn handshake_encoding(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(&self.cert_der)
    }
}

/// The ring provider, used by every TLS configuration in this process.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(crypto::ring::default_provider())
}

/// Decodes the PEM certificate Terraform passes in `PLUGIN_CLIENT_CERT`.
pub fn parse_client_cert_pem(pem: &str) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    let begin = "-----BEGIN CERTIFICATE-----";
    let end = "-----END CERTIFICATE-----";
    let start = pem
        .find(begin)
        .ok_or("PLUGIN_CLIENT_CERT holds no PEM certificate")?
        + begin.len();
    let stop = pem[start..]
        .find(end)
        .ok_or("PLUGIN_CLIENT_CERT: unterminated PEM certificate")?
        + start;
    let body: String = pem[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|e| format!("PLUGIN_CLIENT_CERT: invalid base64: {e}"))
}

/// A server configuration that requires the client to present exactly
/// `client_cert_der`.
pub fn server_config(
    identity: &ServerIdentity,
    client_cert_der: Vec<u8>,
) -> Result<ServerConfig, rustls::Error> {
    let provider = crypto_provider();
    let verifier = Arc::new(PinnedClientCert {
        expected: client_cert_der,
        algorithms: provider.signature_verification_algorithms,
    });
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from(identity.cert_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(identity.key_der.clone())),
        )?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// Accepts exactly one certificate, compared byte for byte.
#[derive(Debug)]
struct PinnedClientCert {
    expected: Vec<u8>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for PinnedClientCert {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.expected.as_slice() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "client certificate does not match PLUGIN_CLIENT_CERT".into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        if dss.scheme == SignatureScheme::ECDSA_NISTP521_SHA512 {
            return verify_p521(message, cert, dss);
        }
        crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        if dss.scheme == SignatureScheme::ECDSA_NISTP521_SHA512 {
            return verify_p521(message, cert, dss);
        }
        crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        // go-plugin's client certificates use P-521, which the ring provider
        // does not verify; that scheme is checked with `p521`.
        let mut schemes = self.algorithms.supported_schemes();
        schemes.push(SignatureScheme::ECDSA_NISTP521_SHA512);
        schemes
    }
}

/// Verifies an ECDSA P-521 / SHA-512 handshake signature made with the key
/// of `cert`.
fn verify_p521(
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
) -> Result<HandshakeSignatureValid, rustls::Error> {
    use p521::ecdsa::signature::Verifier as _;
    use p521::pkcs8::DecodePublicKey as _;
    let bad = |what: &str| rustls::Error::General(format!("client certificate: {what}"));
    let parsed = webpki::EndEntityCert::try_from(cert).map_err(|_| bad("unparsable"))?;
    let spki = parsed.subject_public_key_info();
    let public =
        p521::PublicKey::from_public_key_der(spki.as_ref()).map_err(|_| bad("not a P-521 key"))?;
    let key = p521::ecdsa::VerifyingKey::from_sec1_bytes(&public.to_sec1_bytes())
        .map_err(|_| bad("not a P-521 key"))?;
    let signature = p521::ecdsa::Signature::from_der(dss.signature())
        .map_err(|_| bad("malformed signature"))?;
    key.verify(message, &signature)
        .map(|()| HandshakeSignatureValid::assertion())
        .map_err(|_| rustls::Error::InvalidCertificate(rustls::CertificateError::BadSignature))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_certificate_round_trips_through_pem() {
        use base64::Engine as _;
        let id = ServerIdentity::generate().expect("generate");
        let pem = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            base64::engine::general_purpose::STANDARD.encode(&id.cert_der)
        );
        assert_eq!(parse_client_cert_pem(&pem).expect("parse"), id.cert_der);
        assert!(!id.handshake_encoding().ends_with('='));
    }

    #[test]
    fn garbage_client_cert_is_an_error() {
        assert!(parse_client_cert_pem("nonsense").is_err());
        assert!(parse_client_cert_pem("-----BEGIN CERTIFICATE-----\n!!\n").is_err());
        assert!(parse_client_cert_pem(
            "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----"
        )
        .is_err());
    }

    #[test]
    fn verifier_accepts_only_the_pinned_certificate() {
        let a = ServerIdentity::generate().expect("a");
        let b = ServerIdentity::generate().expect("b");
        let v = PinnedClientCert {
            expected: a.cert_der.clone(),
            algorithms: crypto_provider().signature_verification_algorithms,
        };
        let now = UnixTime::now();
        assert!(v
            .verify_client_cert(&CertificateDer::from(a.cert_der.clone()), &[], now)
            .is_ok());
        assert!(v
            .verify_client_cert(&CertificateDer::from(b.cert_der.clone()), &[], now)
            .is_err());
    }
}
