//! CloudFront signed URLs against fixed vectors.
//!
//! moto does not verify CloudFront signatures, so these check runway's
//! signer against an independent implementation: the fixtures were made with
//! OpenSSL from the throwaway key `fixtures/cloudfront-test-key.pem`:
//!
//! ```sh
//! printf '%s' "$POLICY" | openssl dgst -sha1 -sign cloudfront-test-key.pem \
//!   | base64 -w0 | tr '+=/' '-_~'
//! ```
//!
//! RSA PKCS#1 v1.5 signatures are deterministic, so runway's must be equal
//! byte for byte (blinding does not change the result).

use runway_blob::cloudfront::{CloudFrontSigner, CustomPolicy, canned_policy, cloudfront_base64};

const KEY: &str = include_str!("fixtures/cloudfront-test-key.pem");
const URL: &str = "https://d111111abcdef8.cloudfront.net/media/u1/photo.webp";

fn query(url: &str) -> std::collections::HashMap<String, String> {
    url.split_once('?')
        .unwrap()
        .1
        .split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

#[test]
fn canned_policy_matches_the_documented_form() {
    assert_eq!(
        canned_policy(URL, 1767225600),
        r#"{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/media/u1/photo.webp","Condition":{"DateLessThan":{"AWS:EpochTime":1767225600}}}]}"#
    );
}

#[test]
fn canned_url_signature_matches_openssl() {
    let signer = CloudFrontSigner::from_pem("K2JCJMDEHXQW5F", KEY).unwrap();
    let url = signer.canned_url(URL, 1767225600);
    assert!(url.starts_with(&format!("{URL}?Expires=1767225600&Signature=")));
    let q = query(&url);
    assert_eq!(q["Key-Pair-Id"], "K2JCJMDEHXQW5F");
    assert_eq!(q["Signature"], include_str!("fixtures/canned.sig").trim());
    assert!(!q["Signature"].contains(['+', '=', '/']));
}

#[test]
fn custom_policy_url_matches_openssl() {
    let signer = CloudFrontSigner::from_pem("K2JCJMDEHXQW5F", KEY).unwrap();
    let policy = CustomPolicy {
        resource: "https://d111111abcdef8.cloudfront.net/media/u1/*".into(),
        date_less_than: 1767225600,
        date_greater_than: Some(1767139200),
        ip_address: Some("192.0.2.0/24".into()),
    };
    let url = signer.custom_url(URL, &policy);
    let q = query(&url);
    assert_eq!(q["Policy"], include_str!("fixtures/custom.policy").trim());
    assert_eq!(q["Signature"], include_str!("fixtures/custom.sig").trim());
    assert_eq!(q["Key-Pair-Id"], "K2JCJMDEHXQW5F");
    assert!(!url.contains("Expires="));
}

#[test]
fn url_safe_base64_replaces_the_three_characters() {
    assert_eq!(cloudfront_base64(&[0xfb, 0xff]), "-~8_");
}

#[test]
fn bad_keys_are_configuration_errors() {
    assert!(CloudFrontSigner::from_pem("K1", "not a key").is_err());
    assert!(CloudFrontSigner::from_pem("", KEY).is_err());
}
