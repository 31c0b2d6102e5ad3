//! Checks of the ATS's failure answers: 429 with `Retry-After`, expired sessions, 5xx, bad
//! credentials; and that no secret leaks into logs or errors.

use super::*;

fn first_page() -> Invocation {
    Invocation::ListJobs(PageRequest { page_token: None, since: None, limit: Some(10) })
}

/// A cheap read the checks below use to provoke the fake's faults.
fn probe(kit: &Kit<'_>) -> Invocation {
    if kit.supports(Operation::ListJobs) {
        first_page()
    } else if kit.supports(Operation::ListStages) {
        Invocation::ListStages {
            job_id: None,
            page: PageRequest { page_token: None, since: None, limit: Some(10) },
        }
    } else {
        kit.fail("probe", "the connector supports neither list-jobs nor list-stages")
    }
}

/// 429 → `rate-limited` with the delay the ATS asked for, as seconds or as an HTTP-date.
pub async fn rate_limits_carry_the_retry_after(kit: &Kit<'_>) {
    let check = "rate-limit";
    kit.call(probe(kit)).await.ok(); // authenticate first, so the 429 hits the API call
    kit.fake.faults().rate_limit_next("7");
    match kit.call(probe(kit)).await {
        Err(CallError::Connector(AtsError::RateLimited(limit))) => {
            assert_eq!(
                limit.retry_after_seconds,
                Some(7),
                "[{}] {check}: wrong retry-after",
                kit.name()
            )
        }
        other => kit.fail(check, format!("429 gave {other:?}")),
    }
    let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
    kit.fake.faults().rate_limit_next(&date);
    match kit.call(probe(kit)).await {
        Err(CallError::Connector(AtsError::RateLimited(limit))) => {
            let seconds = limit.retry_after_seconds.unwrap_or(0);
            assert!(
                (110..=121).contains(&seconds),
                "[{}] {check}: HTTP-date Retry-After gave {seconds}s",
                kit.name()
            );
        }
        other => kit.fail(check, format!("429 with an HTTP-date gave {other:?}")),
    }
}

/// An expired session or token costs exactly one re-authentication, then the call succeeds.
pub async fn expired_session_reauthenticates_exactly_once(kit: &Kit<'_>) {
    let check = "expired-session";
    if !kit.fake.issues_sessions() {
        return;
    }
    if let Err(error) = kit.call(probe(kit)).await {
        kit.fail(check, format!("warm-up call failed: {error}"));
    }
    let before = kit.fake.auth_count();
    kit.call(probe(kit))
        .await
        .unwrap_or_else(|e| kit.fail(check, format!("second call failed: {e}")));
    assert_eq!(
        kit.fake.auth_count(),
        before,
        "[{}] {check}: the session was not reused",
        kit.name()
    );
    kit.fake.expire_sessions();
    kit.call(probe(kit))
        .await
        .unwrap_or_else(|e| kit.fail(check, format!("call after expiry failed: {e}")));
    assert_eq!(
        kit.fake.auth_count(),
        before + 1,
        "[{}] {check}: expected exactly one re-authentication",
        kit.name()
    );
}

/// 5xx answers are `transient`: the host may retry.
pub async fn server_errors_are_transient(kit: &Kit<'_>) {
    let check = "server-error";
    kit.call(probe(kit)).await.ok();
    kit.fake.faults().fail_next(20);
    let result = kit.call(probe(kit)).await;
    kit.fake.faults().fail_next(0);
    match result {
        Err(CallError::Connector(AtsError::Transient(_))) => {}
        other => kit.fail(check, format!("500 gave {other:?}")),
    }
}

/// Credentials the ATS rejects are `unauthorized`, on a fresh connection with no session.
pub async fn bad_credentials_are_unauthorized(kit: &Kit<'_>) {
    let check = "bad-credentials";
    let context = kit.context_for(
        &new_connection_id(kit.fake.connector_package()),
        kit.fake.bad_credentials_config(),
    );
    match kit.call_with(&context, probe(kit)).await {
        Err(CallError::Connector(AtsError::Unauthorized(_))) => {}
        other => kit.fail(check, format!("bad credentials gave {other:?}")),
    }
}

/// No secret of the connection appears in any error message of the kit or in the host logs.
pub fn secrets_never_leak(kit: &Kit<'_>) {
    let check = "secrets";
    let errors = kit.errors.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let logs = log_capture::captured();
    assert!(
        logs.contains(&kit.connection),
        "[{}] {check}: the host logs of this connection were not captured, so the check cannot run",
        kit.name()
    );
    for secret in kit.fake.secrets() {
        assert!(
            secret.len() >= 8,
            "[{}] {check}: fake secrets must be long enough to search for",
            kit.name()
        );
        for error in &errors {
            assert!(
                !error.contains(&secret),
                "[{}] {check}: a secret appears in an error: {error}",
                kit.name()
            );
        }
        assert!(
            !logs.contains(&secret),
            "[{}] {check}: a secret appears in the host logs",
            kit.name()
        );
    }
}
