//! The exports of a loaded connector version, resolved once: its `InstancePre` and the export
//! index of every function of `ats:connector/connector`. A call instantiates and then
//! type-checks only the one function it invokes. (The generated `ConnectorWorld` type-checks
//! all fifteen exports on every instantiation; with a fresh instance per call that was a
//! large share of the per-call cost, see `cargo bench -p ats-host --bench runtime`.)

use super::bindings::ats::connector::types::Config;
use super::bindings::*;
use super::call::{Invocation, Output};
use super::call_state::CallState;
use wasmtime::Store;
use wasmtime::component::{
    ComponentExportIndex, ComponentNamedList, Instance, InstancePre, Lift, Lower,
};

/// The connector interface every connector exports.
pub const INTERFACE: &str = "ats:connector/connector@0.1.0";

pub struct GuestPre {
    instance_pre: InstancePre<CallState>,
    describe: ComponentExportIndex,
    operations: Vec<(Operation, ComponentExportIndex)>,
}

impl GuestPre {
    /// Resolves the exports of a component already checked to implement the world
    /// (`ConnectorWorldPre::new`); an error names the export that is missing.
    pub fn new(pre: &ConnectorWorldPre<CallState>) -> Result<Self, String> {
        let instance_pre = pre.instance_pre().clone();
        let component = instance_pre.component();
        let interface = component
            .get_export_index(None, INTERFACE)
            .ok_or_else(|| format!("the component does not export `{INTERFACE}`"))?;
        let function = |name: &str| {
            component
                .get_export_index(Some(&interface), name)
                .ok_or_else(|| format!("`{INTERFACE}` has no function `{name}`"))
        };
        let describe = function("describe")?;
        let operations = Operation::ALL
            .iter()
            .map(|op| function(op.wit_name()).map(|index| (*op, index)))
            .collect::<Result<_, _>>()?;
        Ok(GuestPre { instance_pre, describe, operations })
    }

    pub async fn instantiate(&self, store: &mut Store<CallState>) -> wasmtime::Result<Instance> {
        self.instance_pre.instantiate_async(store).await
    }

    fn index(&self, operation: Operation) -> wasmtime::Result<&ComponentExportIndex> {
        self.operations
            .iter()
            .find(|(op, _)| *op == operation)
            .map(|(_, index)| index)
            .ok_or_else(|| wasmtime::format_err!("no export index for {}", operation.wit_name()))
    }

    /// Calls the export `invocation` names on a fresh `instance`. The outer error is a trap
    /// or a host failure; the inner one is the connector's typed answer.
    pub async fn call(
        &self,
        instance: &Instance,
        store: &mut Store<CallState>,
        config: &Config,
        invocation: Invocation,
    ) -> wasmtime::Result<Result<Output, AtsError>> {
        let s = &mut *store;
        let config = config.as_slice();
        let op = |operation| self.index(operation);
        Ok(match invocation {
            Invocation::Describe => {
                let (manifest,) = typed::<(), (Manifest,)>(s, instance, &self.describe, ()).await?;
                Ok(Output::Manifest(manifest))
            }
            Invocation::ListJobs(page) => typed::<_, (Result<JobPage, AtsError>,)>(
                s,
                instance,
                op(Operation::ListJobs)?,
                (config, &page),
            )
            .await?
            .0
            .map(Output::Jobs),
            Invocation::ListStages { job_id, page } => typed::<_, (Result<StagePage, AtsError>,)>(
                s,
                instance,
                op(Operation::ListStages)?,
                (config, job_id.as_deref(), &page),
            )
            .await?
            .0
            .map(Output::Stages),
            Invocation::ListApplications(page) => typed::<_, (Result<ApplicationPage, AtsError>,)>(
                s,
                instance,
                op(Operation::ListApplications)?,
                (config, &page),
            )
            .await?
            .0
            .map(Output::Applications),
            Invocation::GetCandidate { candidate_id } => {
                typed::<_, (Result<Candidate, AtsError>,)>(
                    s,
                    instance,
                    op(Operation::GetCandidate)?,
                    (config, candidate_id.as_str()),
                )
                .await?
                .0
                .map(Output::Candidate)
            }
            Invocation::FindCandidates { lookup, page } => {
                typed::<_, (Result<CandidatePage, AtsError>,)>(
                    s,
                    instance,
                    op(Operation::FindCandidates)?,
                    (config, &lookup, &page),
                )
                .await?
                .0
                .map(Output::Candidates)
            }
            Invocation::UpsertCandidate(input) => typed::<_, (Result<UpsertResult, AtsError>,)>(
                s,
                instance,
                op(Operation::UpsertCandidate)?,
                (config, &input),
            )
            .await?
            .0
            .map(Output::Upserted),
            Invocation::CreateApplication(input) => typed::<_, (Result<Application, AtsError>,)>(
                s,
                instance,
                op(Operation::CreateApplication)?,
                (config, &input),
            )
            .await?
            .0
            .map(Output::Application),
            Invocation::MoveApplication { application_id, stage_id } => {
                receipt(
                    s,
                    instance,
                    op(Operation::MoveApplication)?,
                    (config, application_id.as_str(), stage_id.as_str()),
                )
                .await?
            }
            Invocation::AddNote(input) => {
                receipt(s, instance, op(Operation::AddNote)?, (config, &input)).await?
            }
            Invocation::AddTag(input) => {
                receipt(s, instance, op(Operation::AddTag)?, (config, &input)).await?
            }
            Invocation::AddAttachment(input) => {
                receipt(s, instance, op(Operation::AddAttachment)?, (config, &input)).await?
            }
            Invocation::RejectApplication(input) => {
                receipt(s, instance, op(Operation::RejectApplication)?, (config, &input)).await?
            }
            Invocation::WriteResult(input) => {
                receipt(s, instance, op(Operation::WriteResult)?, (config, &input)).await?
            }
            Invocation::ParseWebhook(request) => typed::<_, (Result<Vec<ChangeEvent>, AtsError>,)>(
                s,
                instance,
                op(Operation::ParseWebhook)?,
                (config, &request),
            )
            .await?
            .0
            .map(Output::Events),
        })
    }
}

/// Type-checks one export against the host's view of its signature, then calls it.
async fn typed<P, R>(
    store: &mut Store<CallState>,
    instance: &Instance,
    index: &ComponentExportIndex,
    params: P,
) -> wasmtime::Result<R>
where
    P: ComponentNamedList + Lower + Send + Sync,
    R: ComponentNamedList + Lift + Send + Sync + 'static,
{
    let func = instance.get_typed_func::<P, R>(&mut *store, index)?;
    func.call_async(&mut *store, params).await
}

/// The writes that answer a `write-receipt`.
async fn receipt<P>(
    store: &mut Store<CallState>,
    instance: &Instance,
    index: &ComponentExportIndex,
    params: P,
) -> wasmtime::Result<Result<Output, AtsError>>
where
    P: ComponentNamedList + Lower + Send + Sync,
{
    let (answer,) =
        typed::<P, (Result<WriteReceipt, AtsError>,)>(store, instance, index, params).await?;
    Ok(answer.map(Output::Receipt))
}
