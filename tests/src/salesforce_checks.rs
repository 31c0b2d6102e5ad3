//! Checks shared by the connectors of Salesforce packages (Tigris, MySolution), run against
//! the one fake org.

use crate::fakes::FakeAts;
use crate::fakes::salesforce::{SalesforceOrg, unmapped};
use crate::harness::{Harness, with};
use ats_host::model::*;
use ats_host::runtime::{CallError, Invocation};
use std::ops::Deref;

/// With nothing mapped, add-tag, list-stages and move-application answer `unsupported`
/// naming the config field to set, notes turned off do too, an undeclared operation is
/// refused, and none of it makes a request. `application_id` is an application record id
/// of the connector's application object.
pub async fn unmapped_operations_answer_unsupported_without_a_request<F>(
    h: &Harness<F>,
    application_id: &str,
) where
    F: FakeAts + Deref<Target = SalesforceOrg>,
{
    let unmapped = unmapped(h.fake.config());
    let page = PageRequest::first();
    let candidate = Target::Candidate("003000000000001AAA".into());
    let calls = [
        (Invocation::ListStages { job_id: None, page: page.clone() }, "stage-object"),
        (Invocation::AddTag(TagInput { target: candidate.clone(), tag: "x".into() }), "tag-field"),
        (
            Invocation::MoveApplication {
                application_id: application_id.into(),
                stage_id: "a0P000000000001AAA".into(),
            },
            "stage-object",
        ),
        (
            Invocation::RejectApplication(RejectInput {
                application_id: application_id.into(),
                reason: "x".into(),
                reason_id: None,
            }),
            "not declared",
        ),
    ];
    for (invocation, named) in calls {
        match h.call_with(&unmapped, invocation).await {
            Err(CallError::Connector(AtsError::Unsupported(message))) => {
                assert!(message.contains(named), "{message}")
            }
            Err(error @ CallError::NotDeclared { .. }) => {
                assert_eq!(named, "not declared", "{error}")
            }
            other => panic!("expected unsupported, got {other:?}"),
        }
    }
    let notes_off = with(unmapped, "note-object", "none");
    let note = Invocation::AddNote(NoteInput { target: candidate, body: "x".into() });
    let result = h.call_with(&notes_off, note).await;
    assert!(
        matches!(&result, Err(CallError::Connector(AtsError::Unsupported(m))) if m.contains("note-object")),
        "{result:?}"
    );
    assert_eq!((h.fake.faults().requests(), h.fake.grants()), (0, 0), "no request was made");
}
