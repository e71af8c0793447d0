use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn register_login_me_refresh_logout() {
    let app = TestApp::spawn().await;
    let reg = app.register("  Alice@Example.COM ").await;
    assert_eq!(reg["user"]["email"], "alice@example.com");
    assert_eq!(reg["token_type"], "Bearer");
    assert_eq!(reg["expires_in"], 900);
    assert!(reg["user"]["created_at"].as_str().unwrap().ends_with('Z'));
    let user_id = reg["user"]["id"].as_str().unwrap().to_string();

    let login = app
        .post(
            "/v1/auth/login",
            json!({"email": "alice@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(login.status(), StatusCode::OK);
    let login: Value = login.json().await.unwrap();
    assert_eq!(login["user"]["id"], user_id.as_str());

    let me = app
        .get_authed("/v1/me", &token(&login, "access_token"))
        .await;
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["id"], user_id.as_str());
    assert_eq!(me["email"], "alice@example.com");
    assert!(me.get("password_hash").is_none());

    let refreshed = app
        .post(
            "/v1/auth/refresh",
            json!({"refresh_token": token(&login, "refresh_token")}),
        )
        .await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    let refreshed: Value = refreshed.json().await.unwrap();
    assert_ne!(refreshed["refresh_token"], login["refresh_token"]);
    assert_eq!(refreshed["user"]["id"], user_id.as_str());
    let me = app
        .get_authed("/v1/me", &token(&refreshed, "access_token"))
        .await;
    assert_eq!(me.status(), StatusCode::OK);

    let logout = app
        .post(
            "/v1/auth/logout",
            json!({"refresh_token": token(&refreshed, "refresh_token")}),
        )
        .await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let after = app
        .post(
            "/v1/auth/refresh",
            json!({"refresh_token": token(&refreshed, "refresh_token")}),
        )
        .await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);

    // The session from registration is a separate family and still works.
    let other = app
        .post(
            "/v1/auth/refresh",
            json!({"refresh_token": token(&reg, "refresh_token")}),
        )
        .await;
    assert_eq!(other.status(), StatusCode::OK);
}

#[tokio::test]
async fn wrong_password_and_unknown_account_look_the_same() {
    let app = TestApp::spawn().await;
    app.register("bob@example.com").await;
    let wrong = app
        .post(
            "/v1/auth/login",
            json!({"email": "bob@example.com", "password": "not the password"}),
        )
        .await;
    let wrong = assert_problem(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let unknown = app
        .post(
            "/v1/auth/login",
            json!({"email": "nobody@example.com", "password": "not the password"}),
        )
        .await;
    let unknown = assert_problem(unknown, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(wrong, unknown);
    let malformed = app
        .post(
            "/v1/auth/login",
            json!({"email": "not-an-email", "password": "x"}),
        )
        .await;
    let malformed =
        assert_problem(malformed, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(malformed, unknown);
}

#[tokio::test]
async fn duplicate_email_and_validation() {
    let app = TestApp::spawn().await;
    app.register("carol@example.com").await;
    let dup = app
        .post(
            "/v1/auth/register",
            json!({"email": "CAROL@example.com", "password": PASSWORD}),
        )
        .await;
    assert_problem(dup, StatusCode::CONFLICT, "email_taken").await;
    let bad_email = app
        .post(
            "/v1/auth/register",
            json!({"email": "carol", "password": PASSWORD}),
        )
        .await;
    assert_problem(bad_email, StatusCode::UNPROCESSABLE_ENTITY, "invalid_email").await;
    let weak = app
        .post(
            "/v1/auth/register",
            json!({"email": "dan@example.com", "password": "short"}),
        )
        .await;
    assert_problem(weak, StatusCode::UNPROCESSABLE_ENTITY, "weak_password").await;
}

#[tokio::test]
async fn refresh_token_reuse_revokes_the_family() {
    let app = TestApp::spawn().await;
    let reg = app.register("erin@example.com").await;
    let first = token(&reg, "refresh_token");
    let second: Value = app
        .post("/v1/auth/refresh", json!({"refresh_token": first}))
        .await
        .json()
        .await
        .unwrap();
    let second = token(&second, "refresh_token");

    // An attacker replays the spent token.
    let replay = app
        .post("/v1/auth/refresh", json!({"refresh_token": first}))
        .await;
    assert_problem(replay, StatusCode::UNAUTHORIZED, "refresh_token_reused").await;

    // The legitimate holder's newer token is revoked too.
    let legit = app
        .post("/v1/auth/refresh", json!({"refresh_token": second}))
        .await;
    assert_eq!(legit.status(), StatusCode::UNAUTHORIZED);

    let garbage = app
        .post("/v1/auth/refresh", json!({"refresh_token": "rt_nope"}))
        .await;
    assert_problem(garbage, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn sign(alg: jsonwebtoken::Algorithm, typ: &str, secret: &str, claims: &Value) -> String {
    let mut header = jsonwebtoken::Header::new(alg);
    header.typ = Some(typ.to_string());
    jsonwebtoken::encode(
        &header,
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn sign_hs256(secret: &str, header: &Value, claims: &Value) -> String {
    let typ = header["typ"].as_str().unwrap_or("JWT");
    sign(jsonwebtoken::Algorithm::HS256, typ, secret, claims)
}

#[tokio::test]
async fn expired_forged_and_unsigned_tokens_are_rejected() {
    let app = TestApp::spawn().await;
    let reg = app.register("frank@example.com").await;
    let sub = reg["user"]["id"].as_str().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = json!({"alg": "HS256", "typ": "at+jwt"});
    let claims = |exp: u64, aud: &str| json!({"sub": sub, "iss": "runway", "aud": aud, "iat": now - 1000, "exp": exp, "jti": "x"});

    // Control: a token we sign ourselves with the right key is accepted, so
    // the rejections below are about the one thing each one changes.
    let good = sign_hs256(SECRET, &header, &claims(now + 600, "runway-api"));
    assert_eq!(
        app.get_authed("/v1/me", &good).await.status(),
        StatusCode::OK
    );

    let cases = [
        (
            "expired",
            sign_hs256(SECRET, &header, &claims(now - 120, "runway-api")),
        ),
        (
            "forged",
            sign_hs256(
                "another-key-another-key-another-key!",
                &header,
                &claims(now + 600, "runway-api"),
            ),
        ),
        (
            "wrong audience",
            sign_hs256(SECRET, &header, &claims(now + 600, "other-service")),
        ),
        (
            "not an access token",
            sign_hs256(
                SECRET,
                &json!({"alg": "HS256", "typ": "JWT"}),
                &claims(now + 600, "runway-api"),
            ),
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(json!({"alg": "none", "typ": "at+jwt"})
                    .to_string()
                    .as_bytes()),
                b64(claims(now + 600, "runway-api").to_string().as_bytes())
            ),
        ),
        (
            "alg HS512",
            sign(
                jsonwebtoken::Algorithm::HS512,
                "at+jwt",
                SECRET,
                &claims(now + 600, "runway-api"),
            ),
        ),
        ("garbage", "not.a.jwt".to_string()),
        ("refresh token as bearer", token(&reg, "refresh_token")),
    ];
    for (name, jwt) in cases {
        let resp = app.get_authed("/v1/me", &jwt).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{name}");
        assert!(resp.headers().contains_key("www-authenticate"), "{name}");
        let body = assert_problem(resp, StatusCode::UNAUTHORIZED, "invalid_token").await;
        assert!(
            !body.to_string().contains(&jwt),
            "{name}: the token is echoed"
        );
    }
    let missing = app.client.get(app.url("/v1/me")).send().await.unwrap();
    assert_problem(missing, StatusCode::UNAUTHORIZED, "missing_token").await;
}
