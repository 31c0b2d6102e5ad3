//! The calls every served contract version has in common (0.1.0's operations but
//! `parse-webhook`, whose answer changed in 0.2.0), written once. The macro expands in a
//! version module, where `wit` names that version's `types` interface, `Convert`,
//! `operation`, `typed`, `Invocation`, `Output` and `Operation` are in scope; the arms that
//! differ between versions follow as `$extra`.

/// `match $invocation { <the common arms> $extra }`.
macro_rules! dispatch {
    (
        $invocation:expr, $s:ident, $instance:ident, $exports:ident, $config:ident, $op:ident;
        $($extra:tt)*
    ) => {
        match $invocation {
        Invocation::Describe => {
            let (manifest,) =
                typed::<(), (wit::Manifest,)>($s, $instance, &$exports.describe, ()).await?;
            Ok(Output::Manifest(manifest.convert()))
        }
        Invocation::ListJobs(page) => {
            let page: wit::PageRequest = page.convert();
            operation::<_, wit::JobPage, wit::AtsError, _>(
                $s,
                $instance,
                $op(Operation::ListJobs)?,
                ($config, &page),
            )
            .await?
            .map(Output::Jobs)
        }
        Invocation::ListStages { job_id, page } => {
            let page: wit::PageRequest = page.convert();
            operation::<_, wit::StagePage, wit::AtsError, _>(
                $s,
                $instance,
                $op(Operation::ListStages)?,
                ($config, job_id.as_deref(), &page),
            )
            .await?
            .map(Output::Stages)
        }
        Invocation::ListApplications(page) => {
            let page: wit::PageRequest = page.convert();
            operation::<_, wit::ApplicationPage, wit::AtsError, _>(
                $s,
                $instance,
                $op(Operation::ListApplications)?,
                ($config, &page),
            )
            .await?
            .map(Output::Applications)
        }
        Invocation::GetCandidate { candidate_id } => {
            operation::<_, wit::Candidate, wit::AtsError, _>(
                $s,
                $instance,
                $op(Operation::GetCandidate)?,
                ($config, candidate_id.as_str()),
            )
            .await?
            .map(Output::Candidate)
        }
        Invocation::FindCandidates { lookup, page } => {
            let (lookup, page): (wit::CandidateLookup, wit::PageRequest) =
                (lookup.convert(), page.convert());
            operation::<_, wit::CandidatePage, wit::AtsError, _>(
                $s,
                $instance,
                $op(Operation::FindCandidates)?,
                ($config, &lookup, &page),
            )
            .await?
            .map(Output::Candidates)
        }
        Invocation::UpsertCandidate(input) => {
            let input: wit::CandidateInput = input.convert();
            operation::<_, wit::UpsertResult, wit::AtsError, _>(
                $s,
                $instance,
                $op(Operation::UpsertCandidate)?,
                ($config, &input),
            )
            .await?
            .map(Output::Upserted)
        }
        Invocation::CreateApplication(input) => {
            let input: wit::ApplicationInput = input.convert();
            operation::<_, wit::Application, wit::AtsError, _>(
                $s,
                $instance,
                $op(Operation::CreateApplication)?,
                ($config, &input),
            )
            .await?
            .map(Output::Application)
        }
        Invocation::MoveApplication { application_id, stage_id } => {
            operation::<_, wit::WriteReceipt, wit::AtsError, _>(
                $s,
                $instance,
                $op(Operation::MoveApplication)?,
                ($config, application_id.as_str(), stage_id.as_str()),
            )
            .await?
            .map(Output::Receipt)
        }
        Invocation::AddNote(input) => {
            let input: wit::NoteInput = input.convert();
            operation::<_, wit::WriteReceipt, wit::AtsError, _>(
                $s,
                $instance,
                $op(Operation::AddNote)?,
                ($config, &input),
            )
            .await?
            .map(Output::Receipt)
        }
        Invocation::AddTag(input) => {
            let input: wit::TagInput = input.convert();
            operation::<_, wit::WriteReceipt, wit::AtsError, _>(
                $s,
                $instance,
                $op(Operation::AddTag)?,
                ($config, &input),
            )
            .await?
            .map(Output::Receipt)
        }
        Invocation::AddAttachment(input) => {
            let input: wit::AttachmentInput = input.convert();
            operation::<_, wit::WriteReceipt, wit::AtsError, _>(
                $s,
                $instance,
                $op(Operation::AddAttachment)?,
                ($config, &input),
            )
            .await?
            .map(Output::Receipt)
        }
        Invocation::RejectApplication(input) => {
            let input: wit::RejectInput = input.convert();
            operation::<_, wit::WriteReceipt, wit::AtsError, _>(
                $s,
                $instance,
                $op(Operation::RejectApplication)?,
                ($config, &input),
            )
            .await?
            .map(Output::Receipt)
        }
        Invocation::WriteResult(input) => {
            let input: wit::ResultInput = input.convert();
            operation::<_, wit::WriteReceipt, wit::AtsError, _>(
                $s,
                $instance,
                $op(Operation::WriteResult)?,
                ($config, &input),
            )
            .await?
            .map(Output::Receipt)
        }
            $($extra)*
        }
    };
}

pub(crate) use dispatch;
