//! A gRPC client that connects to the provider the way Terraform does.
//!
//! Terraform (through go-plugin) generates a self-signed ECDSA P-521
//! certificate, hands it to the plugin in `PLUGIN_CLIENT_CERT`, and trusts
//! exactly the certificate the plugin prints in its handshake line. Both are
//! CA certificates used as leaves, so neither side can use WebPKI path
//! building: the client here pins the server certificate byte for byte and
//! checks handshake signatures with the ring provider.
//!
//! ring cannot sign with P-521, and rcgen (built on ring) cannot make a P-521
//! certificate; [`ClientIdentity::generate`] therefore writes the P-521
//! certificate's DER itself and signs with the `p521` crate, so that the
//! tests exercise the same verification path real Terraform does.

use std::net::SocketAddr;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::ResolvesClientCert;
use rustls::crypto::{self, CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::sign::{CertifiedKey, Signer, SigningKey};
use rustls::{DigitallySignedStruct, SignatureAlgorithm, SignatureScheme};
use tonic::transport::{Channel, Endpoint, Uri};

/// The curve of a client certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Curve {
    P256,
    P384,
    /// What Terraform uses.
    P521,
}

/// A client certificate and the key that signs with it.
#[derive(Clone, Debug)]
pub struct ClientIdentity {
    pub curve: Curve,
    pub cert_der: Vec<u8>,
    key: Arc<dyn SigningKey>,
}

fn ring() -> Arc<CryptoProvider> {
    Arc::new(crypto::ring::default_provider())
}

impl ClientIdentity {
    /// A self-signed certificate shaped like go-plugin's: CN and DNS name
    /// `localhost`, organisation HashiCorp, CA, server and client auth.
    pub fn generate(curve: Curve) -> ClientIdentity {
        match curve {
            Curve::P256 => Self::with_rcgen(curve, &rcgen::PKCS_ECDSA_P256_SHA256),
            Curve::P384 => Self::with_rcgen(curve, &rcgen::PKCS_ECDSA_P384_SHA384),
            Curve::P521 => p521_identity(),
        }
    }

    fn with_rcgen(curve: Curve, alg: &'static rcgen::SignatureAlgorithm) -> ClientIdentity {
        let key = rcgen::KeyPair::generate_for(alg).expect("generate key");
        let mut params =
            rcgen::CertificateParams::new(vec!["localhost".to_string()]).expect("params");
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
        let cert = params.self_signed(&key).expect("self-sign");
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let signing = ring().key_provider.load_private_key(der).expect("load key");
        ClientIdentity {
            curve,
            cert_der: cert.der().to_vec(),
            key: signing,
        }
    }

    /// The certificate as `PLUGIN_CLIENT_CERT` carries it.
    pub fn pem(&self) -> String {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&self.cert_der);
        let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(chunk).expect("base64 is ascii"));
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
        pem
    }

    fn certified_key(&self) -> Arc<CertifiedKey> {
        Arc::new(CertifiedKey::new(
            vec![CertificateDer::from(self.cert_der.clone())],
            self.key.clone(),
        ))
    }
}

// ---- P-521, by hand ---------------------------------------------------------------

/// DER: a tag, its length, its contents.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

const OID_ECDSA_WITH_SHA512: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04];
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_SECP521R1: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
const OID_O: &[u8] = &[0x55, 0x04, 0x0a];
const OID_BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
const OID_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f];
const OID_EXT_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];
const OID_SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];
const OID_SERVER_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];
const OID_CLIENT_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02];

fn oid(o: &[u8]) -> Vec<u8> {
    tlv(0x06, o)
}

fn extension(id: &[u8], critical: bool, value: Vec<u8>) -> Vec<u8> {
    let mut parts = vec![oid(id)];
    if critical {
        parts.push(tlv(0x01, &[0xff]));
    }
    parts.push(tlv(0x04, &value));
    seq(&parts)
}

/// rand 0.9's generator behind the rand_core 0.6 traits the `p521` crate uses.
struct Rng09;

impl p521::elliptic_curve::rand_core::RngCore for Rng09 {
    fn next_u32(&mut self) -> u32 {
        rand::random()
    }
    fn next_u64(&mut self) -> u64 {
        rand::random()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        rand::Rng::fill(&mut rand::rng(), dest);
    }
    fn try_fill_bytes(
        &mut self,
        dest: &mut [u8],
    ) -> Result<(), p521::elliptic_curve::rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl p521::elliptic_curve::rand_core::CryptoRng for Rng09 {}

fn p521_sign(key: &p521::ecdsa::SigningKey, message: &[u8]) -> Vec<u8> {
    use p521::ecdsa::signature::RandomizedSigner as _;
    let signature: p521::ecdsa::Signature = key.sign_with_rng(&mut Rng09, message);
    signature.to_der().as_bytes().to_vec()
}

fn p521_identity() -> ClientIdentity {
    let key = loop {
        let mut scalar = [0u8; 66];
        rand::Rng::fill(&mut rand::rng(), &mut scalar[..]);
        scalar[0] &= 0x01;
        if let Ok(k) = p521::ecdsa::SigningKey::from_slice(&scalar) {
            break k;
        }
    };
    let point = p521::ecdsa::VerifyingKey::from(&key).to_encoded_point(false);
    let mut bits = vec![0u8];
    bits.extend_from_slice(point.as_bytes());
    let spki = seq(&[
        seq(&[oid(OID_EC_PUBLIC_KEY), oid(OID_SECP521R1)]),
        tlv(0x03, &bits),
    ]);
    let name = seq(&[
        tlv(0x31, &seq(&[oid(OID_O), tlv(0x0c, b"HashiCorp")])),
        tlv(0x31, &seq(&[oid(OID_CN), tlv(0x0c, b"localhost")])),
    ]);
    let mut serial: [u8; 16] = rand::random();
    serial[0] = (serial[0] & 0x7f) | 0x01;
    let sig_alg = seq(&[oid(OID_ECDSA_WITH_SHA512)]);
    let extensions = seq(&[
        extension(OID_KEY_USAGE, true, tlv(0x03, &[0x02, 0xa4])),
        extension(
            OID_EXT_KEY_USAGE,
            false,
            seq(&[oid(OID_SERVER_AUTH), oid(OID_CLIENT_AUTH)]),
        ),
        extension(OID_BASIC_CONSTRAINTS, true, seq(&[tlv(0x01, &[0xff])])),
        extension(OID_SUBJECT_ALT_NAME, false, seq(&[tlv(0x82, b"localhost")])),
    ]);
    let tbs = seq(&[
        tlv(0xa0, &tlv(0x02, &[0x02])),
        tlv(0x02, &serial),
        sig_alg.clone(),
        name.clone(),
        seq(&[tlv(0x17, b"250101000000Z"), tlv(0x17, b"491231235959Z")]),
        name,
        spki,
        tlv(0xa3, &extensions),
    ]);
    let mut signature_bits = vec![0u8];
    signature_bits.extend(p521_sign(&key, &tbs));
    let cert_der = seq(&[tbs, sig_alg, tlv(0x03, &signature_bits)]);
    ClientIdentity {
        curve: Curve::P521,
        cert_der,
        key: Arc::new(P521Key(key)),
    }
}

/// A P-521 key for rustls, signing with SHA-512 as TLS requires.
struct P521Key(p521::ecdsa::SigningKey);

impl std::fmt::Debug for P521Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("P521Key")
    }
}

impl SigningKey for P521Key {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        offered
            .contains(&SignatureScheme::ECDSA_NISTP521_SHA512)
            .then(|| Box::new(P521Signer(self.0.clone())) as Box<dyn Signer>)
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::ECDSA
    }
}

struct P521Signer(p521::ecdsa::SigningKey);

impl std::fmt::Debug for P521Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("P521Signer")
    }
}

impl Signer for P521Signer {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        Ok(p521_sign(&self.0, message))
    }

    fn scheme(&self) -> SignatureScheme {
        SignatureScheme::ECDSA_NISTP521_SHA512
    }
}

// ---- the client side of AutoMTLS ------------------------------------------------------

/// Trusts exactly the certificate from the handshake line.
#[derive(Debug)]
struct PinnedServerCert {
    expected: Vec<u8>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedServerCert {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.expected.as_slice() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Always presents one certificate.
#[derive(Debug)]
struct PresentCert(Arc<CertifiedKey>);

impl ResolvesClientCert for PresentCert {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

fn client_builder(
    server_cert_der: &[u8],
) -> rustls::ConfigBuilder<rustls::ClientConfig, rustls::client::WantsClientCert> {
    let provider = ring();
    let verifier = Arc::new(PinnedServerCert {
        expected: server_cert_der.to_vec(),
        algorithms: provider.signature_verification_algorithms,
    });
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(verifier)
}

/// A TLS client configuration as go-plugin's: trust exactly `server_cert_der`,
/// present `identity`, offer ALPN h2.
pub fn client_config(server_cert_der: &[u8], identity: &ClientIdentity) -> rustls::ClientConfig {
    let mut config = client_builder(server_cert_der)
        .with_client_cert_resolver(Arc::new(PresentCert(identity.certified_key())));
    config.alpn_protocols = vec![b"h2".to_vec()];
    config
}

/// Connects over mTLS (SNI `localhost`), as Terraform does after the
/// handshake line.
pub async fn connect_mtls(
    addr: SocketAddr,
    server_cert_der: &[u8],
    identity: &ClientIdentity,
) -> Result<Channel, tonic::transport::Error> {
    connect_tls(addr, client_config(server_cert_der, identity)).await
}

/// Connects over TLS without presenting a client certificate.
pub async fn connect_tls_without_client_cert(
    addr: SocketAddr,
    server_cert_der: &[u8],
) -> Result<Channel, tonic::transport::Error> {
    let mut config = client_builder(server_cert_der).with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    connect_tls(addr, config).await
}

async fn connect_tls(
    addr: SocketAddr,
    config: rustls::ClientConfig,
) -> Result<Channel, tonic::transport::Error> {
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let dial = tower::service_fn(move |_: Uri| {
        let connector = connector.clone();
        async move {
            let tcp = tokio::net::TcpStream::connect(addr).await?;
            tcp.set_nodelay(true)?;
            let name = ServerName::try_from("localhost").expect("server name");
            let tls = connector.connect(name, tcp).await?;
            Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(tls))
        }
    });
    Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect_with_connector(dial)
        .await
}

/// Connects without TLS (debug mode).
pub async fn connect_plain(addr: SocketAddr) -> Result<Channel, tonic::transport::Error> {
    Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .tcp_nodelay(true)
        .connect()
        .await
}
