//! RT-25: "application entered stage X" is emitted once per transition, even when the same
//! state is seen by several syncs; moving out and back in is a new transition. A candidate
//! whose details change is one `candidate.updated`.

use ats_host::store::{RunState, SyncKind};
use ats_tests::sync_rig::SyncRig;

#[tokio::test]
async fn rt25_a_stage_transition_is_emitted_once_and_a_return_is_a_new_one() {
    let rig = SyncRig::start().await;
    assert_eq!(rig.run(SyncKind::Jobs).await.state, RunState::Success);
    assert_eq!(rig.run(SyncKind::Applications).await.state, RunState::Success);
    let created = rig.events_of_type("application.created").await;
    assert!(!created.is_empty(), "the sandbox seeds applications");
    let application = rig.applications().await.into_iter().next().expect("an application");
    let original = application.stage_id.clone().expect("a stage");
    let target = if original == "stage-3" { "stage-4" } else { "stage-3" };
    rig.sandbox.move_application(&application.remote_id, target);
    rig.run(SyncKind::Applications).await;
    rig.run(SyncKind::Applications).await;
    let moved = rig.events_of_type("application.stage_changed").await;
    assert_eq!(moved.len(), 1, "seen by two syncs, emitted once: {moved:?}");
    assert_eq!(moved[0].data["stage_id"], target);
    assert_eq!(moved[0].data["previous_stage_id"], original.as_str());
    assert!(moved[0].data["stage_name"].is_string(), "the stage name is resolved");
    rig.sandbox.move_application(&application.remote_id, &original);
    rig.run(SyncKind::Applications).await;
    rig.sandbox.move_application(&application.remote_id, target);
    rig.run(SyncKind::Applications).await;
    assert_eq!(
        rig.events_of_type("application.stage_changed").await.len(),
        3,
        "out and back in again are new transitions"
    );
}

#[tokio::test]
async fn a_candidate_whose_details_change_is_one_candidate_updated_event() {
    let rig = SyncRig::start().await;
    assert_eq!(rig.run(SyncKind::Applications).await.state, RunState::Success);
    assert!(
        rig.events_of_type("candidate.updated").await.is_empty(),
        "first sight is the baseline"
    );
    let application = rig.applications().await.into_iter().next().expect("an application");
    let candidate = application.candidate_id.clone();

    rig.sandbox.change_candidate_email(&candidate, "new.address@example.nl");
    let stage =
        if application.stage_id.as_deref() == Some("stage-3") { "stage-4" } else { "stage-3" };
    rig.sandbox.move_application(&application.remote_id, stage);
    assert_eq!(rig.run(SyncKind::Applications).await.state, RunState::Success);
    assert_eq!(rig.run(SyncKind::Applications).await.state, RunState::Success);

    let updated = rig.events_of_type("candidate.updated").await;
    assert_eq!(updated.len(), 1, "seen by two syncs, emitted once: {updated:?}");
    assert_eq!(updated[0].subject_id, candidate);
    assert_eq!(updated[0].data["after"]["emails"][0], "new.address@example.nl");
    assert_ne!(updated[0].data["before"]["emails"], updated[0].data["after"]["emails"]);
}
