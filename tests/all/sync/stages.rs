//! RT-25: "application entered stage X" is emitted once per transition, even when the same
//! state is seen by several syncs; moving out and back in is a new transition.

use ats_host::store::{RunState, SyncKind};
use ats_tests::sync_rig::SyncRig;

#[tokio::test]
async fn rt25_a_stage_transition_is_emitted_once_and_a_return_is_a_new_one() {
    let rig = SyncRig::start().await;
    assert_eq!(rig.run(SyncKind::Jobs).await.state, RunState::Success);
    assert_eq!(rig.run(SyncKind::Applications).await.state, RunState::Success);
    let created = rig.events_of_type("application.created");
    assert!(!created.is_empty(), "the sandbox seeds applications");
    let application = rig.applications().into_iter().next().expect("an application");
    let original = application.stage_id.clone().expect("a stage");
    let target = if original == "stage-3" { "stage-4" } else { "stage-3" };
    rig.sandbox.move_application(&application.remote_id, target);
    rig.run(SyncKind::Applications).await;
    rig.run(SyncKind::Applications).await;
    let moved = rig.events_of_type("application.stage_changed");
    assert_eq!(moved.len(), 1, "seen by two syncs, emitted once: {moved:?}");
    assert_eq!(moved[0].data["stage_id"], target);
    assert_eq!(moved[0].data["previous_stage_id"], original.as_str());
    assert!(moved[0].data["stage_name"].is_string(), "the stage name is resolved");
    rig.sandbox.move_application(&application.remote_id, &original);
    rig.run(SyncKind::Applications).await;
    rig.sandbox.move_application(&application.remote_id, target);
    rig.run(SyncKind::Applications).await;
    assert_eq!(
        rig.events_of_type("application.stage_changed").len(),
        3,
        "out and back in again are new transitions"
    );
}
