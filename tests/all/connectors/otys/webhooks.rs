//! Webhooks: inbound service-call webhooks as change events, and subscriptions per service
//! call, reused, filtered by kind and unsubscribed together.

use super::harness;
use ats_host::model::*;
use ats_host::runtime::{CallError, Invocation, Output};
use ats_tests::fakes::FakeAts;

fn webhook(body: &str) -> Invocation {
    Invocation::ParseWebhook(WebhookRequest { headers: vec![], body: body.as_bytes().to_vec() })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_on_service_calls_become_change_events() {
    let h = harness().await;
    let cases = [
        (
            r#"{"request":{"method":"Otys.Services.VacancyService.update","args":["s","42",{"title":"x"}]}}"#,
            Some((ChangeKind::JobChanged, "42")),
        ),
        (
            r#"{"request":{"method":"Otys.Services.VacancyService.delete","args":["s",42]}}"#,
            Some((ChangeKind::JobDeleted, "42")),
        ),
        (
            r#"{"request":{"method":"Otys.Services.CandidateService.updateEx","args":["s","7",{}]}}"#,
            Some((ChangeKind::CandidateChanged, "7")),
        ),
        (
            r#"{"request":{"method":"Otys.Services.ProcedureService.update","args":["s","9",{"ProcedureStatus1":{"uid":"1_102"}}]}}"#,
            Some((ChangeKind::ApplicationStageChanged, "9")),
        ),
        (
            r#"{"request":{"method":"Otys.Services.ProcedureService.update","args":["s","9",{"UtmTags":{}}]}}"#,
            Some((ChangeKind::ApplicationChanged, "9")),
        ),
        (r#"{"request":{"method":"Otys.Services.CsmService.setValue","args":["s","SE1"]}}"#, None),
    ];
    for (body, expected) in cases {
        let Output::Webhook(WebhookOutcome { events, .. }) = h.ok(webhook(body)).await else {
            panic!("not events")
        };
        let got: Vec<(ChangeKind, &str)> =
            events.iter().map(|e| (e.kind, e.remote_id.as_str())).collect();
        assert_eq!(got, expected.into_iter().collect::<Vec<_>>(), "{body}");
    }
    let bad = h.call(webhook("not json")).await;
    assert!(matches!(bad, Err(CallError::Connector(AtsError::InvalidInput(_)))), "{bad:?}");
}

fn subscription(url: &str, kinds: Vec<ChangeKind>) -> Invocation {
    Invocation::RegisterWebhook(WebhookSubscription {
        url: url.into(),
        secret: Some("not-used-by-otys".into()),
        kinds,
    })
}

fn receipt_of(output: Output) -> WriteReceipt {
    match output {
        Output::Receipt(receipt) => receipt,
        other => panic!("not a receipt: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_subscribed_per_service_call_and_unsubscribed_together() {
    let h = harness().await;
    let url = "https://host.example/v1/inbound/otys-1";
    let all = receipt_of(h.ok(subscription(url, vec![])).await);
    let remote_id = all.remote_id.clone().expect("a remote id");
    let live = h.fake.webhook_subscriptions();
    let calls: Vec<&str> = live.iter().map(|(_, call, _, _)| call.as_str()).collect();
    assert_eq!(
        calls,
        [
            "VacancyService.update",
            "VacancyService.updateEx",
            "VacancyService.delete",
            "CandidateService.update",
            "CandidateService.updateEx",
            "ProcedureService.update"
        ]
    );
    assert!(live.iter().all(|(_, _, target, global)| target == url && *global), "{live:?}");
    let uids: Vec<String> = h.fake.webhooks().into_iter().map(|(uid, _)| uid).collect();
    assert_eq!(remote_id, uids.join(","));
    assert!(all.remark.as_deref().is_some_and(|r| r.contains("does not sign")), "{all:?}");

    // Registering again reuses the live subscriptions.
    let again = receipt_of(h.ok(subscription(url, vec![])).await);
    assert_eq!(again.remote_id.as_deref(), Some(remote_id.as_str()));
    assert_eq!(h.fake.webhooks().len(), 6);

    // Only the calls of the kinds asked for.
    let other = "https://host.example/v1/inbound/otys-2";
    let jobs = receipt_of(h.ok(subscription(other, vec![ChangeKind::JobChanged])).await);
    let stages =
        receipt_of(h.ok(subscription(other, vec![ChangeKind::ApplicationStageChanged])).await);
    let of = |receipt: &WriteReceipt| -> Vec<String> {
        let uids: Vec<&str> = receipt.remote_id.as_deref().unwrap_or("").split(',').collect();
        let live = h.fake.webhook_subscriptions();
        uids.iter()
            .filter_map(|uid| {
                live.iter().find(|(u, ..)| u == uid).map(|(_, call, ..)| call.clone())
            })
            .collect()
    };
    assert_eq!(of(&jobs), ["VacancyService.update", "VacancyService.updateEx"]);
    assert_eq!(of(&stages), ["ProcedureService.update"]);

    let gone =
        receipt_of(h.ok(Invocation::UnregisterWebhook { remote_id: remote_id.clone() }).await);
    assert!(gone.remark.as_deref().is_some_and(|r| r.starts_with("6 ")), "{gone:?}");
    assert!(h.fake.webhooks().iter().all(|(_, target)| target == other), "{:?}", h.fake.webhooks());
    assert_eq!(h.fake.webhooks().len(), 3);
    let twice = receipt_of(h.ok(Invocation::UnregisterWebhook { remote_id }).await);
    assert!(twice.remark.as_deref().is_some_and(|r| r.contains("6 already gone")), "{twice:?}");

    let bad = h.call(subscription("ftp://host.example/x", vec![])).await;
    assert!(matches!(bad, Err(CallError::Connector(AtsError::InvalidInput(_)))), "{bad:?}");
}
