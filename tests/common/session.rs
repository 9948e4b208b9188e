//! Signing in through the real login form, and [`Session`]: a signed-in client with its CSRF token.

use reqwest::Response;
use reqwest::header::HeaderMap;
use uuid::Uuid;

use super::app::TestApp;

/// A check run on every answer a [`Session`] reads: what was asked (`GET /path`), the headers, the body.
pub type AnswerCheck = fn(&str, &HeaderMap, &str);

/// A signed-in browser-less client.
#[derive(Clone)]
pub struct Session {
    /// Client with the session cookie (does not follow redirects).
    pub client: reqwest::Client,
    /// The session's CSRF token.
    pub token: String,
    /// The user.
    pub user_id: Uuid,
    /// Their email.
    pub email: String,
    /// Run on every body [`Session::get`] and [`Session::post_text`] read, if set.
    check: Option<AnswerCheck>,
}

impl Session {
    /// A session from a signed-in client and its CSRF token.
    pub fn new(client: reqwest::Client, token: String, user_id: Uuid, email: &str) -> Self {
        Self {
            client,
            token,
            user_id,
            email: email.to_owned(),
            check: None,
        }
    }

    /// The same session, running `check` on every answer it reads (the web pages check their CSP so).
    pub fn checking(mut self, check: AnswerCheck) -> Self {
        self.check = Some(check);
        self
    }

    fn run_check(&self, what: &str, headers: &HeaderMap, body: &str) {
        if let Some(check) = self.check {
            check(what, headers, body);
        }
    }

    /// GET a path: status and body.
    pub async fn get(&self, app: &TestApp, path: &str) -> (u16, String) {
        let r = self.client.get(app.url(path)).send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r.text().await.unwrap();
        self.run_check(&format!("GET {path}"), &headers, &body);
        (status, body)
    }

    /// POST a form (the CSRF token added): the response.
    pub async fn post(&self, app: &TestApp, path: &str, fields: &[(&str, &str)]) -> Response {
        let mut form: Vec<(&str, &str)> = vec![("csrf_token", self.token.as_str())];
        form.extend_from_slice(fields);
        self.client
            .post(app.url(path))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// POST a form: status and (for a 303 redirect) the location, else the body.
    pub async fn post_text(
        &self,
        app: &TestApp,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (u16, String) {
        let r = self.post(app, path, fields).await;
        let status = r.status().as_u16();
        if status == 303 {
            let loc = r.headers()[reqwest::header::LOCATION]
                .to_str()
                .unwrap()
                .to_owned();
            (status, loc)
        } else {
            let headers = r.headers().clone();
            let body = r.text().await.unwrap();
            self.run_check(&format!("POST {path}"), &headers, &body);
            (status, body)
        }
    }
}

/// Extract the value of `<input ... name="NAME" ... value="VALUE">` from an HTML page (first match).
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\"");
    let pos = html.find(&needle)?;
    let tag_start = html[..pos].rfind('<')?;
    let tag_end = pos + html[pos..].find('>')?;
    let tag = &html[tag_start..tag_end];
    let v = tag.find("value=\"")? + 7;
    let end = tag[v..].find('"')? + v;
    Some(tag[v..end].replace("&#x2f;", "/").replace("&#43;", "+"))
}

impl TestApp {
    /// Log `client` in through the real login form: GET /login (which sets the `esaas_csrf` double-submit
    /// cookie), read its `csrf_token`, POST email and password, and assert the 303 redirect. Returns the new
    /// session's CSRF token (read from /account), to post other forms with:
    /// `client.post(app.url("/x")).form(&[("csrf_token", token.as_str()), ...])`.
    pub async fn login(&self, client: &reqwest::Client, email: &str, password: &str) -> String {
        let page = client
            .get(self.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let token = input_value(&page, "csrf_token").expect("the login form has a csrf_token");
        let response = client
            .post(self.url("/login"))
            .form(&[
                ("csrf_token", token.as_str()),
                ("email", email),
                ("password", password),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            reqwest::StatusCode::SEE_OTHER,
            "logging in as {email} should redirect"
        );
        self.csrf_token(client).await
    }

    /// The CSRF token of `client`'s session (from the forms of the signed-in /account page).
    pub async fn csrf_token(&self, client: &reqwest::Client) -> String {
        let response = client.get(self.url("/account")).send().await.unwrap();
        assert_eq!(
            response.status(),
            reqwest::StatusCode::OK,
            "GET /account needs a session"
        );
        let page = response.text().await.unwrap();
        input_value(&page, "csrf_token").expect("signed-in pages carry a csrf_token")
    }
}
