//! Semantic checks of a manifest whose sections deserialized: names and formats in
//! `[connector]` and `[[config]]`, egress entries, `[defaults]`, the keys each auth kind
//! needs, error rules, and (in [`crate::validate_ops`]) every operation. Every problem is
//! collected with its key path and a message that says how to fix it.

use crate::limits::{MAX_CONFIG_FIELDS, MAX_EGRESS_HOSTS, MAX_LABEL_CHARS, MAX_PAGE_SIZE};
use crate::manifest::{Manifest, Problem};
use crate::schema::RESULT_MODES;
use crate::select::Selector;
use crate::spec::{AuthKind, AuthSpec, Method};
use crate::template::{Scope, Template};
use crate::tree::KeyPath;

/// Collects problems while walking a manifest.
pub(crate) struct Checker<'a> {
    pub problems: &'a mut Vec<Problem>,
    pub config_names: Vec<String>,
    pub session: bool,
}

impl Checker<'_> {
    pub fn error(&mut self, path: KeyPath, message: impl Into<String>) {
        self.problems.push(Problem { path, span: None, message: message.into() });
    }

    pub fn template(&mut self, path: KeyPath, text: &str, scope: &Scope<'_>) {
        if let Err(message) = Template::parse(text, scope) {
            self.error(path, message);
        }
    }

    pub fn selector(&mut self, path: KeyPath, text: &str) {
        if let Err(message) = Selector::parse(text) {
            self.error(path, message);
        }
    }

    pub fn page_size(&mut self, path: KeyPath, size: Option<u32>) {
        if let Some(size) = size
            && !(1..=MAX_PAGE_SIZE).contains(&size)
        {
            self.error(path, format!("page_size must be between 1 and {MAX_PAGE_SIZE}"));
        }
    }

    pub fn header_name(&mut self, path: KeyPath, name: &str) {
        let token = !name.is_empty()
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token {
            self.error(path, format!("`{name}` is not a valid HTTP header name"));
        }
    }
}

/// The scope of templates outside operations (defaults, auth): any input key.
pub(crate) fn outer_scope(config_names: &[String], session: bool) -> Scope<'_> {
    Scope { config_fields: Some(config_names), input: None, record: false, session, matched: false }
}

fn is_machine_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

fn is_semver(version: &str) -> bool {
    let core = version.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Checks a whole manifest.
pub(crate) fn manifest(manifest: &Manifest, problems: &mut Vec<Problem>) {
    let config_names: Vec<String> = manifest.config.iter().map(|f| f.name.clone()).collect();
    let mut checker =
        Checker { problems, config_names, session: manifest.auth.kind == AuthKind::Session };
    connector(&mut checker, manifest);
    config(&mut checker, manifest);
    defaults(&mut checker, manifest);
    auth(&mut checker, &manifest.auth, manifest.defaults.base_url.is_some());
    errors(&mut checker, manifest);
    crate::validate_ops::operations(&mut checker, manifest);
    if let Some(webhook) = &manifest.webhook {
        crate::webhook::validate(&mut checker, webhook);
    }
}

fn connector(c: &mut Checker<'_>, manifest: &Manifest) {
    let path = KeyPath::root().key("connector");
    let spec = &manifest.connector;
    if !is_machine_name(&spec.id) || spec.id.len() > 64 {
        c.error(
            path.key("id"),
            format!("id `{}` must be lowercase letters, digits and dashes (at most 64), e.g. \"acme-ats\"", spec.id),
        );
    }
    if spec.ats_name.trim().is_empty() || spec.ats_name.chars().count() > MAX_LABEL_CHARS {
        c.error(path.key("ats_name"), "ats_name must name the ATS, e.g. \"Acme ATS\"");
    }
    if !is_semver(&spec.version) {
        c.error(
            path.key("version"),
            format!("version `{}` must be semver, e.g. \"1.0.0\"", spec.version),
        );
    }
    if spec.egress_hosts.len() > MAX_EGRESS_HOSTS {
        c.error(path.key("egress_hosts"), format!("at most {MAX_EGRESS_HOSTS} egress entries"));
    }
    for (i, entry) in spec.egress_hosts.iter().enumerate() {
        if let Err(message) = egress_entry(entry, &c.config_names) {
            c.error(path.key("egress_hosts").index(i), message);
        }
    }
    for (i, mode) in spec.result_modes.iter().enumerate() {
        if !RESULT_MODES.contains(&mode.as_str()) {
            c.error(
                path.key("result_modes").index(i),
                format!("unknown result mode `{mode}`; use {}", RESULT_MODES.join(", ")),
            );
        }
    }
}

/// `{field}`, or `scheme://host[:port]` (`*.` wildcard, `:*` port, `{field}` parts), as the
/// host's egress rules read them.
fn egress_entry(entry: &str, config_names: &[String]) -> Result<(), String> {
    let hint = "use scheme://host[:port] (e.g. https://api.example.com, https://*.example.com) or {config-field}";
    let mut sample = String::new();
    let mut rest = entry;
    while let Some(open) = rest.find('{') {
        sample.push_str(&rest[..open]);
        let close =
            rest[open..].find('}').ok_or_else(|| format!("`{entry}` has an unclosed `{{`"))?;
        let field = &rest[open + 1..open + close];
        if !config_names.iter().any(|name| name == field) {
            return Err(format!("`{{{field}}}` in `{entry}` is not a declared config field"));
        }
        sample.push_str("placeholder");
        rest = &rest[open + close + 1..];
    }
    sample.push_str(rest);
    if sample == "placeholder" {
        return Ok(());
    }
    let Some((scheme, authority)) = sample.split_once("://") else {
        return Err(format!("`{entry}` has no scheme; {hint}"));
    };
    if !matches!(scheme, "http" | "https" | "placeholder") {
        return Err(format!("`{entry}`: the scheme must be http or https"));
    }
    let authority = authority.strip_suffix('/').unwrap_or(authority);
    if authority.is_empty() || authority.contains(['/', '?', '#', '@', '\\', ' ']) {
        return Err(format!("`{entry}` is not a host: no paths, queries or credentials; {hint}"));
    }
    if let Some((_, port)) = authority.rsplit_once(':')
        && port != "*"
        && port != "placeholder"
        && port.parse::<u16>().is_err()
    {
        return Err(format!("`{entry}` has a bad port"));
    }
    Ok(())
}

fn config(c: &mut Checker<'_>, manifest: &Manifest) {
    let path = KeyPath::root().key("config");
    if manifest.config.len() > MAX_CONFIG_FIELDS {
        c.error(path.clone(), format!("at most {MAX_CONFIG_FIELDS} config fields"));
    }
    for (i, field) in manifest.config.iter().enumerate() {
        let valid = !field.name.is_empty()
            && field.name.len() <= 64
            && field
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !valid {
            c.error(
                path.index(i).key("name"),
                format!("config name `{}` must be lowercase letters, digits, `-` or `_`, e.g. \"api-key\"", field.name),
            );
        }
        if manifest.config[..i].iter().any(|other| other.name == field.name) {
            c.error(
                path.index(i).key("name"),
                format!("config field `{}` is declared twice", field.name),
            );
        }
        if field.help.chars().count() > MAX_LABEL_CHARS {
            c.error(
                path.index(i).key("help"),
                format!("help is longer than {MAX_LABEL_CHARS} characters"),
            );
        }
    }
}

fn defaults(c: &mut Checker<'_>, manifest: &Manifest) {
    let path = KeyPath::root().key("defaults");
    let names = c.config_names.clone();
    let scope = outer_scope(&names, c.session);
    let defaults = &manifest.defaults;
    if let Some(base) = &defaults.base_url {
        c.template(path.key("base_url"), base, &scope);
    }
    for (name, value) in &defaults.headers {
        c.header_name(path.key("headers").key(name), name);
        c.template(path.key("headers").key(name), value, &scope);
    }
    for (name, value) in &defaults.query {
        c.template(path.key("query").key(name), value, &scope);
    }
    c.page_size(path.key("page_size"), defaults.page_size);
}

/// The keys each auth kind takes (besides `kind`), required ones first.
fn auth_keys(kind: AuthKind) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        AuthKind::None => (&[], &[]),
        AuthKind::ApiKey => (&["name", "value"], &["in"]),
        AuthKind::Basic => (&["username", "password"], &[]),
        AuthKind::Bearer => (&["token"], &[]),
        AuthKind::Oauth2ClientCredentials => {
            (&["token_url", "client_id", "client_secret"], &["scope", "client_auth"])
        }
        AuthKind::Oauth2RefreshToken => (
            &["token_url", "client_id", "refresh_token"],
            &["client_secret", "scope", "client_auth"],
        ),
        AuthKind::Session => {
            (&["login"], &["token_path", "token_header", "ttl_seconds", "header", "value"])
        }
    }
}

fn auth(c: &mut Checker<'_>, spec: &AuthSpec, has_base_url: bool) {
    let path = KeyPath::root().key("auth");
    let set: [(&str, bool); 16] = [
        ("token", spec.token.is_some()),
        ("in", spec.location.is_some()),
        ("name", spec.name.is_some()),
        ("value", spec.value.is_some()),
        ("username", spec.username.is_some()),
        ("password", spec.password.is_some()),
        ("token_url", spec.token_url.is_some()),
        ("client_id", spec.client_id.is_some()),
        ("client_secret", spec.client_secret.is_some()),
        ("scope", spec.scope.is_some()),
        ("client_auth", spec.client_auth.is_some()),
        ("refresh_token", spec.refresh_token.is_some()),
        ("login", spec.login.is_some()),
        ("token_path", spec.token_path.is_some()),
        ("token_header", spec.token_header.is_some()),
        ("ttl_seconds", spec.ttl_seconds.is_some()),
    ];
    let header_set = spec.header.is_some();
    let (required, optional) = auth_keys(spec.kind);
    let kind = format!("\"{}\"", spec.kind.name());
    for (key, present) in set.iter().copied().chain([("header", header_set)]) {
        if present && !required.contains(&key) && !optional.contains(&key) {
            c.error(
                path.key(key),
                format!(
                    "`{key}` does not apply to auth kind {kind}; it takes {}",
                    required.iter().chain(optional).copied().collect::<Vec<_>>().join(", ")
                ),
            );
        }
    }
    for key in required {
        let present =
            set.iter().chain([("header", header_set)].iter()).any(|(k, p)| k == key && *p);
        if !present {
            c.error(path.key(key), format!("auth kind {kind} needs `{key}`"));
        }
    }
    let names = c.config_names.clone();
    let scope = outer_scope(&names, c.session);
    let templates = [
        ("token", &spec.token),
        ("name", &spec.name),
        ("value", &spec.value),
        ("username", &spec.username),
        ("password", &spec.password),
        ("token_url", &spec.token_url),
        ("client_id", &spec.client_id),
        ("client_secret", &spec.client_secret),
        ("scope", &spec.scope),
        ("refresh_token", &spec.refresh_token),
    ];
    for (key, text) in templates {
        if let Some(text) = text {
            c.template(path.key(key), text, &scope);
        }
    }
    if spec.kind == AuthKind::Session {
        match (&spec.token_path, &spec.token_header) {
            (Some(selector), None) => c.selector(path.key("token_path"), selector),
            (None, Some(header)) => c.header_name(path.key("token_header"), header),
            _ => c.error(
                path.key("token_path"),
                "a session needs exactly one of `token_path` (where the token is in the login answer, e.g. \"data.token\") and `token_header`",
            ),
        }
        if let Some(header) = &spec.header {
            c.header_name(path.key("header"), header);
        } else if spec.value.is_some() {
            c.error(
                path.key("value"),
                "`value` is sent in `header`; set header = \"Authorization\" (or another name)",
            );
        }
        if spec.ttl_seconds.is_some_and(|ttl| ttl == 0 || ttl > 30 * 86_400) {
            c.error(path.key("ttl_seconds"), "ttl_seconds must be between 1 and 2592000 (30 days)");
        }
        if let Some(login) = &spec.login {
            let absolute =
                login.path.0.iter().all(|p| p.starts_with("http://") || p.starts_with("https://"));
            if !has_base_url && !absolute {
                c.error(
                    path.key("login").key("path"),
                    "no base URL for the login: set [defaults] base_url or give an absolute URL",
                );
            }
            let login_scope = Scope { session: false, ..scope };
            crate::validate_request::request(
                c,
                &path.key("login"),
                login,
                &login_scope,
                Method::Post,
            );
        }
    }
    if spec.kind == AuthKind::ApiKey
        && spec.location != Some(crate::spec::ApiKeyIn::Query)
        && let Some(name) = &spec.name
    {
        c.header_name(path.key("name"), name);
    }
}

fn errors(c: &mut Checker<'_>, manifest: &Manifest) {
    let path = KeyPath::root().key("errors");
    for (i, rule) in manifest.errors.iter().enumerate() {
        if rule.status.is_empty() {
            c.error(
                path.index(i).key("status"),
                "list at least one status, e.g. status = [401] or [\"5xx\"]",
            );
        }
        for (key, header) in
            [("retry_after_header", &rule.retry_after_header), ("reset_header", &rule.reset_header)]
        {
            if let Some(header) = header {
                c.header_name(path.index(i).key(key), header);
            }
        }
        if rule.body_contains.as_deref().is_some_and(str::is_empty) {
            c.error(
                path.index(i).key("body_contains"),
                "body_contains is empty; remove it or give the text to look for",
            );
        }
    }
}
