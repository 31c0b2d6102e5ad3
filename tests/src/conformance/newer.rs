//! Checks of the operations contract 0.2.0 added, for a connector that declares them:
//! `check` names the account (and refuses bad credentials), the directory reads (`list-tags`,
//! `list-rejection-reasons`, `list-users`) page to an end with ids, `get-application` reads
//! back what `create-application` made, `remove-tag` undoes `add-tag` in the fake, and
//! `register-webhook` / `unregister-webhook` create and delete a subscription in the fake.
//! Undeclared ones answer `unsupported` ([`super::unsupported_operations_answer_unsupported`]).

use super::*;

/// Most pages a directory read may take in the kit before it counts as a paging loop.
const MAX_DIRECTORY_PAGES: usize = 50;

pub async fn newer_operations_round_trip(kit: &Kit<'_>) {
    let check = "contract-0.2";
    if kit.supports(Operation::Check) {
        let Output::Account(account) = kit.expect(check, Invocation::Check).await else {
            kit.fail(check, "check returned something else")
        };
        if account.display_name.trim().is_empty() {
            kit.fail(check, "check named no account");
        }
        let context = kit.context_for(
            &new_connection_id(kit.fake.connector_package()),
            kit.fake.bad_credentials_config(),
        );
        match kit.call_with(&context, Invocation::Check).await {
            Err(CallError::Connector(AtsError::Unauthorized(_))) => {}
            other => kit.fail(check, format!("check with bad credentials gave {other:?}")),
        }
    }
    for operation in [Operation::ListTags, Operation::ListRejectionReasons, Operation::ListUsers] {
        if kit.supports(operation) {
            directory(kit, check, operation).await;
        }
    }
    let needs_candidate =
        [Operation::GetApplication, Operation::RemoveTag].into_iter().any(|op| kit.supports(op));
    if needs_candidate && kit.supports(Operation::UpsertCandidate) {
        candidate_round_trip(kit, check).await;
    }
    if kit.supports(Operation::RegisterWebhook) {
        webhook_round_trip(kit, check).await;
    }
}

/// Pages through one directory read; every item has an id.
async fn directory(kit: &Kit<'_>, check: &str, operation: Operation) {
    let mut token = None;
    for _ in 0..MAX_DIRECTORY_PAGES {
        let page = PageRequest { page_token: token.take(), since: None, limit: Some(50) };
        let invocation = match operation {
            Operation::ListTags => Invocation::ListTags(page),
            Operation::ListRejectionReasons => Invocation::ListRejectionReasons(page),
            _ => Invocation::ListUsers(page),
        };
        let (ids, next) = match kit.expect(check, invocation).await {
            Output::Tags(p) => {
                (p.items.into_iter().map(|t| t.id).collect::<Vec<_>>(), p.next_page_token)
            }
            Output::RejectionReasons(p) => {
                (p.items.into_iter().map(|r| r.id).collect(), p.next_page_token)
            }
            Output::Users(p) => (p.items.into_iter().map(|u| u.id).collect(), p.next_page_token),
            other => kit.fail(check, format!("{} returned {other:?}", operation.wit_name())),
        };
        if ids.iter().any(|id| id.trim().is_empty()) {
            kit.fail(check, format!("{} returned an item without id", operation.wit_name()));
        }
        match next {
            Some(next) => token = Some(next),
            None => return,
        }
    }
    kit.fail(
        check,
        format!("{} did not end within {MAX_DIRECTORY_PAGES} pages", operation.wit_name()),
    );
}

/// `get-application` after `create-application`; `remove-tag` after `add-tag`.
async fn candidate_round_trip(kit: &Kit<'_>, check: &str) {
    let email = format!("{}@kit.example", unique("newer"));
    let input = candidate_input("Kit", "Newer", &email, &unique_phone(), None);
    let Output::Upserted(upserted) = kit.expect(check, Invocation::UpsertCandidate(input)).await
    else {
        kit.fail(check, "upsert-candidate returned something else")
    };
    let candidate_id = upserted.candidate_id;
    if kit.supports(Operation::GetApplication) && kit.supports(Operation::CreateApplication) {
        let job_id = kit.fake.seed_jobs(1, BASELINE).into_iter().next().unwrap_or_default();
        let input = ApplicationInput {
            candidate_id: candidate_id.clone(),
            job_id: job_id.clone(),
            ..Default::default()
        };
        let Output::Application(created) =
            kit.expect(check, Invocation::CreateApplication(input)).await
        else {
            kit.fail(check, "create-application returned something else")
        };
        let Output::Application(read) = kit
            .expect(check, Invocation::GetApplication { application_id: created.id.clone() })
            .await
        else {
            kit.fail(check, "get-application returned something else")
        };
        if (read.id.as_str(), read.job_id.as_str()) != (created.id.as_str(), job_id.as_str()) {
            kit.fail(check, format!("get-application read {read:?} for {created:?}"));
        }
        match kit
            .call(Invocation::GetApplication { application_id: "000000000000000000".into() })
            .await
        {
            Err(CallError::Connector(AtsError::NotFound(_))) => {}
            other => kit.fail(check, format!("get-application of an unknown id gave {other:?}")),
        }
    }
    if kit.supports(Operation::RemoveTag) && kit.supports(Operation::AddTag) {
        let tag = unique("kit-removed-");
        let target = Target::Candidate(candidate_id.clone());
        kit.expect(
            check,
            Invocation::AddTag(TagInput { target: target.clone(), tag: tag.clone() }),
        )
        .await;
        kit.expect(check, Invocation::RemoveTag(TagInput { target, tag: tag.clone() })).await;
        let tags = &kit.candidates_with_email(&email)[0].tags;
        if tags.contains(&tag) {
            kit.fail(check, format!("remove-tag left `{tag}` on the candidate: {tags:?}"));
        }
    }
}

/// `register-webhook` creates a subscription in the fake; `unregister-webhook` deletes it.
async fn webhook_round_trip(kit: &Kit<'_>, check: &str) {
    let url = format!("https://hooks.example/v1/inbound/{}/token", unique("c"));
    let subscription = WebhookSubscription { url: url.clone(), secret: None, kinds: vec![] };
    let Output::Receipt(receipt) =
        kit.expect(check, Invocation::RegisterWebhook(subscription)).await
    else {
        kit.fail(check, "register-webhook returned something else")
    };
    let Some(remote_id) = receipt.remote_id else {
        kit.fail(check, "register-webhook returned no remote id to unregister with")
    };
    if !kit.fake.webhooks().iter().any(|(_, target)| *target == url) {
        kit.fail(check, format!("no subscription to {url} in the fake: {:?}", kit.fake.webhooks()));
    }
    if kit.supports(Operation::UnregisterWebhook) {
        kit.expect(check, Invocation::UnregisterWebhook { remote_id }).await;
        if kit.fake.webhooks().iter().any(|(_, target)| *target == url) {
            kit.fail(check, format!("the subscription to {url} outlived unregister-webhook"));
        }
    }
}
