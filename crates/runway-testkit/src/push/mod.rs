//! Local fakes of the push providers' protocols, for runway-push's own tests
//! and the server's API tests.
//!
//! - [`FakeApns`]: HTTP/2 over TLS (ALPN h2) with a throwaway CA, verifying
//!   the provider JWT on every request like APNs does.
//! - [`FakeFcm`]: the OAuth2 token endpoint and FCM HTTP v1 `messages:send`.
//! - [`FakePushService`] and [`WebPushSubscriber`]: an RFC 8030 push service
//!   checking VAPID, and the browser side that decrypts (RFC 8291).
//! - SNS runs against moto: [`sns_client`], [`sns_platform_applications`],
//!   [`moto_sns_endpoint`].
//!
//! The fakes verify signatures and decrypt with aws-lc-rs, so they share no
//! crypto code with runway-push (RustCrypto).
//!
//! Every fake has its own clock offset (`advance_clock`) so tests can age
//! tokens without sleeping. Servers bind 127.0.0.1 on a random port and stop
//! when the fake is dropped.

pub mod apns;
pub mod fcm;
pub mod webpush;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub use apns::{ApnsReply, FakeApns, ReceivedApns};
pub use fcm::{FakeFcm, FcmReply, ReceivedFcm};
pub use webpush::{FakePushService, ReceivedWebPush, WebPushReply, WebPushSubscriber};

/// System time plus an offset that tests move forward.
#[derive(Debug, Default)]
pub(crate) struct FakeClock {
    offset_secs: AtomicU64,
}

impl FakeClock {
    pub(crate) fn advance(&self, by: Duration) {
        self.offset_secs.fetch_add(by.as_secs(), Ordering::SeqCst);
    }

    pub(crate) fn unix(&self) -> u64 {
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + self.offset_secs.load(Ordering::SeqCst)
    }
}

pub(crate) fn b64url(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()
}

/// A compact JWS split and decoded: (header, claims, signing input, signature).
pub(crate) struct Jws {
    pub header: serde_json::Value,
    pub claims: serde_json::Value,
    pub signing_input: String,
    pub signature: Vec<u8>,
}

pub(crate) fn parse_jws(jwt: &str) -> Option<Jws> {
    let mut parts = jwt.split('.');
    let (h, c, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    Some(Jws {
        header: serde_json::from_slice(&b64url_decode(h)?).ok()?,
        claims: serde_json::from_slice(&b64url_decode(c)?).ok()?,
        signing_input: format!("{h}.{c}"),
        signature: b64url_decode(s)?,
    })
}

/// ES256 as JWS defines it: the signature is the raw 64-byte r||s.
pub(crate) fn verify_es256(jws: &Jws, public_key_uncompressed: &[u8]) -> bool {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
    jws.signature.len() == 64
        && UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public_key_uncompressed)
            .verify(jws.signing_input.as_bytes(), &jws.signature)
            .is_ok()
}

/// RS256 with a PKCS#1 RSAPublicKey (DER).
pub(crate) fn verify_rs256(jws: &Jws, public_key_pkcs1: &[u8]) -> bool {
    use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public_key_pkcs1)
        .verify(jws.signing_input.as_bytes(), &jws.signature)
        .is_ok()
}

pub(crate) fn random_id(len: usize) -> String {
    uuid::Uuid::new_v4().simple().to_string()[..len].to_uppercase()
}

/// A throwaway CA and a server certificate for 127.0.0.1 and localhost.
pub(crate) struct TestCa {
    pub ca_pem: String,
    pub server_config: rustls::ServerConfig,
}

impl TestCa {
    pub(crate) fn new(alpn: &[&[u8]]) -> TestCa {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
        };
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "runway testkit CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);

        let leaf_key = KeyPair::generate().unwrap();
        let mut leaf_params =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "runway testkit server");
        let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();

        let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut server_config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
            )
            .unwrap();
        server_config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        TestCa {
            ca_pem: ca_cert.pem(),
            server_config,
        }
    }
}

/// An SNS client pointed at moto (`AWS_ENDPOINT_URL`).
pub async fn sns_client() -> aws_sdk_sns::Client {
    aws_sdk_sns::Client::new(&crate::aws_config().await)
}

/// Platform application ARNs created on moto with dummy credentials.
#[derive(Debug, Clone)]
pub struct SnsApplications {
    pub ios: String,
    pub ios_sandbox: String,
    pub android: String,
}

/// New APNS, APNS_SANDBOX and GCM platform applications on moto.
pub async fn sns_platform_applications() -> SnsApplications {
    let sns = sns_client().await;
    let name = crate::unique("runway-");
    let mut arns = Vec::new();
    for (platform, principal) in [
        ("APNS", Some("dummy-certificate")),
        ("APNS_SANDBOX", Some("dummy-certificate")),
        ("GCM", None),
    ] {
        let mut request = sns
            .create_platform_application()
            .name(format!("{name}-{}", platform.to_lowercase()))
            .platform(platform)
            .attributes("PlatformCredential", "dummy-credential");
        if let Some(p) = principal {
            request = request.attributes("PlatformPrincipal", p);
        }
        let out = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("moto at {} is not usable: {e:?}", crate::aws_endpoint()));
        arns.push(out.platform_application_arn.expect("application ARN"));
    }
    SnsApplications {
        ios: arns[0].clone(),
        ios_sandbox: arns[1].clone(),
        android: arns[2].clone(),
    }
}

/// One SNS platform endpoint as moto's `/moto-api/data.json` shows it.
#[derive(Debug, Clone)]
pub struct MotoEndpoint {
    pub arn: String,
    pub token: String,
    pub enabled: bool,
    pub custom_user_data: Option<String>,
    /// Published messages (the raw `Message` parameter), in no particular
    /// order (moto keys them by random message id).
    pub messages: Vec<String>,
}

/// The platform endpoint `arn` in moto's state, if moto ever had it. Moto's
/// data.json also lists deleted endpoints: use GetEndpointAttributes to ask
/// whether one still exists.
pub async fn moto_sns_endpoint(arn: &str) -> Option<MotoEndpoint> {
    let url = format!("{}/moto-api/data.json", crate::aws_endpoint());
    let data: serde_json::Value = reqwest::get(&url)
        .await
        .expect("moto data.json")
        .json()
        .await
        .expect("moto data.json is JSON");
    let endpoints = data["sns"]["PlatformEndpoint"].as_array()?;
    let e = endpoints.iter().find(|e| e["arn"] == arn)?;
    // The attributes are what GetEndpointAttributes returns (moto's plain
    // `token` field keeps the token the endpoint was created with).
    let attributes = &e["attributes"];
    Some(MotoEndpoint {
        arn: arn.to_string(),
        token: attributes["Token"]
            .as_str()
            .or(e["token"].as_str())
            .unwrap_or_default()
            .to_string(),
        enabled: match &attributes["Enabled"] {
            serde_json::Value::Bool(b) => *b,
            serde_json::Value::String(s) => s == "true",
            _ => e["enabled"].as_bool().unwrap_or(true),
        },
        custom_user_data: e["custom_user_data"].as_str().map(str::to_string),
        messages: e["messages"]
            .as_object()
            .map(|m| {
                m.values()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
    })
}
