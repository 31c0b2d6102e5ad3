//! Checks of reads and dedupe: paging, incremental `since`, one candidate per person.

use super::*;

/// Paging through more than 1,000 jobs returns each exactly once.
pub async fn paging_returns_every_job_once(kit: &Kit<'_>) {
    if !kit.supports(Operation::ListJobs) {
        return;
    }
    let check = "paging";
    let seeded: HashSet<String> = kit.fake.seed_jobs(1_050, BULK).into_iter().collect();
    let listed = kit.all_jobs(check, None).await;
    let ids: Vec<&String> = listed.iter().map(|(id, _)| id).collect();
    let unique_ids: HashSet<&String> = ids.iter().copied().collect();
    assert_eq!(ids.len(), unique_ids.len(), "[{}] {check}: a job was listed twice", kit.name());
    let missing = seeded.iter().filter(|id| !unique_ids.contains(id)).count();
    assert_eq!(
        missing,
        0,
        "[{}] {check}: {missing} of 1,050 seeded jobs were not listed",
        kit.name()
    );
}

/// `since` returns only records changed at or after it, even when many share one timestamp
/// across a page boundary.
pub async fn incremental_since_returns_only_changed_jobs(kit: &Kit<'_>) {
    if !kit.supports(Operation::ListJobs) {
        return;
    }
    let check = "incremental";
    let older = kit.fake.seed_jobs(1, BULK);
    let same_instant: HashSet<String> = kit.fake.seed_jobs(150, SAME_INSTANT).into_iter().collect();
    let listed: HashSet<String> =
        kit.all_jobs(check, Some(SAME_INSTANT)).await.into_iter().map(|(id, _)| id).collect();
    let missing = same_instant.difference(&listed).count();
    assert_eq!(
        missing,
        0,
        "[{}] {check}: {missing} of 150 jobs sharing one timestamp were lost",
        kit.name()
    );
    assert!(
        listed.iter().all(|id| same_instant.contains(id)),
        "[{}] {check}: older jobs were returned",
        kit.name()
    );

    let touched =
        older.first().cloned().unwrap_or_else(|| kit.fail(check, "seed_jobs returned no id"));
    kit.fake.touch_job(&touched, "Renamed by the kit", TOUCHED);
    let changed = kit.all_jobs(check, Some(TOUCHED)).await;
    assert_eq!(
        changed.len(),
        1,
        "[{}] {check}: expected only the touched job, got {}",
        kit.name(),
        changed.len()
    );
    assert_eq!(
        changed[0],
        (touched, "Renamed by the kit".to_string()),
        "[{}] {check}: the change is not visible",
        kit.name()
    );
}

/// The same person pushed twice (same e-mail, then same phone) stays one candidate.
pub async fn upsert_twice_keeps_one_candidate(kit: &Kit<'_>) {
    if !kit.supports(Operation::UpsertCandidate) {
        return;
    }
    let check = "upsert-twice";
    let email = format!("{}@kit.example", unique("twice"));
    let phone = unique_phone();
    let upsert = |email: String, phone: String| {
        Invocation::UpsertCandidate(candidate_input("Grace", "Hopper", &email, &phone, None))
    };
    let Output::Upserted(first) = kit.expect(check, upsert(email.clone(), phone.clone())).await
    else {
        kit.fail(check, "upsert returned something else")
    };
    let Output::Upserted(by_email) = kit.expect(check, upsert(email.clone(), unique_phone())).await
    else {
        kit.fail(check, "upsert returned something else")
    };
    assert_eq!(
        first.outcome,
        UpsertOutcome::Created,
        "[{}] {check}: first push must create",
        kit.name()
    );
    assert_eq!(
        by_email.outcome,
        UpsertOutcome::Matched,
        "[{}] {check}: same e-mail must match",
        kit.name()
    );
    assert_eq!(
        by_email.candidate_id,
        first.candidate_id,
        "[{}] {check}: same e-mail, other candidate",
        kit.name()
    );
    let Output::Upserted(by_phone) =
        kit.expect(check, upsert(format!("other-{email}"), phone.clone())).await
    else {
        kit.fail(check, "upsert returned something else")
    };
    assert_eq!(
        by_phone.outcome,
        UpsertOutcome::Matched,
        "[{}] {check}: same phone must match",
        kit.name()
    );
    assert_eq!(
        by_phone.candidate_id,
        first.candidate_id,
        "[{}] {check}: same phone, other candidate",
        kit.name()
    );
    let same_person = kit
        .fake
        .candidates()
        .into_iter()
        .filter(|c| c.id == first.candidate_id || c.phones.contains(&phone))
        .count();
    assert_eq!(
        same_person,
        1,
        "[{}] {check}: the fake holds {same_person} records for one person",
        kit.name()
    );
}
