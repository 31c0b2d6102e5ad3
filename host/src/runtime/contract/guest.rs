//! A loaded component's exports, whatever contract version it implements: the
//! `InstancePre`, the export index of every function its version has (resolved once), and a
//! call that type-checks only the one function it invokes. (The generated world types
//! type-check every export on every instantiation; with a fresh instance per call that was
//! a large share of the per-call cost, see `cargo bench -p ats-host --bench runtime`.)

use super::convert::Convert;
use super::{ContractVersion, v0_1, v0_2};
use crate::model::{AtsError, Field, Operation};
use crate::runtime::call::{Invocation, Output};
use crate::runtime::call_state::CallState;
use wasmtime::Store;
use wasmtime::component::{
    Component, ComponentExportIndex, ComponentNamedList, Instance, InstancePre, Lift, Lower,
};

/// The exports of one loaded component.
pub struct GuestPre {
    version: ContractVersion,
    instance_pre: InstancePre<CallState>,
    exports: Exports,
}

/// The export indices of one component, resolved once at load.
pub(super) struct Exports {
    pub describe: ComponentExportIndex,
    pub operations: Vec<(Operation, ComponentExportIndex)>,
}

impl Exports {
    /// Resolves `describe` and every operation of `operations` in `interface`; an error
    /// names the export that is missing.
    pub fn resolve(
        component: &Component,
        interface: &str,
        operations: &[Operation],
    ) -> Result<Self, String> {
        let instance = component
            .get_export_index(None, interface)
            .ok_or_else(|| format!("the component does not export `{interface}`"))?;
        let function = |name: &str| {
            component
                .get_export_index(Some(&instance), name)
                .ok_or_else(|| format!("`{interface}` has no function `{name}`"))
        };
        let describe = function("describe")?;
        let operations = operations
            .iter()
            .map(|op| function(op.wit_name()).map(|index| (*op, index)))
            .collect::<Result<_, _>>()?;
        Ok(Exports { describe, operations })
    }

    pub fn index(&self, operation: Operation) -> wasmtime::Result<&ComponentExportIndex> {
        self.operations
            .iter()
            .find(|(op, _)| *op == operation)
            .map(|(_, index)| index)
            .ok_or_else(|| wasmtime::format_err!("no export index for {}", operation.wit_name()))
    }
}

impl GuestPre {
    /// Checks that the component implements `version`'s world (every export with its
    /// type) and resolves its exports.
    pub fn new(
        version: ContractVersion,
        instance_pre: InstancePre<CallState>,
    ) -> Result<Self, String> {
        let exports = match version {
            ContractVersion::V0_1 => v0_1::exports(&instance_pre)?,
            ContractVersion::V0_2 => v0_2::exports(&instance_pre)?,
        };
        Ok(GuestPre { version, instance_pre, exports })
    }

    pub fn version(&self) -> ContractVersion {
        self.version
    }

    pub async fn instantiate(&self, store: &mut Store<CallState>) -> wasmtime::Result<Instance> {
        self.instance_pre.instantiate_async(store).await
    }

    /// Calls the export `invocation` names on a fresh `instance`. The outer error is a trap
    /// or a host failure; the inner one is the connector's typed answer. An operation the
    /// component's contract version does not have answers `unsupported` without a call.
    pub async fn call(
        &self,
        instance: &Instance,
        store: &mut Store<CallState>,
        config: &[Field],
        invocation: Invocation,
    ) -> wasmtime::Result<Result<Output, AtsError>> {
        if let Some(operation) = invocation.operation()
            && !self.version.operations().contains(&operation)
        {
            return Ok(Err(self.version.lacks(operation)));
        }
        match self.version {
            ContractVersion::V0_1 => {
                v0_1::call(&self.exports, instance, store, config, invocation).await
            }
            ContractVersion::V0_2 => {
                v0_2::call(&self.exports, instance, store, config, invocation).await
            }
        }
    }
}

/// Type-checks one export against the host's view of its signature, then calls it.
pub(super) async fn typed<P, R>(
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

/// Calls an operation whose WIT result is `result<O, E>` and converts the answer into the
/// host's model.
pub(super) async fn operation<P, O, E, M>(
    store: &mut Store<CallState>,
    instance: &Instance,
    index: &ComponentExportIndex,
    params: P,
) -> wasmtime::Result<Result<M, AtsError>>
where
    P: ComponentNamedList + Lower + Send + Sync,
    (Result<O, E>,): ComponentNamedList + Lift + Send + Sync + 'static,
    O: Convert<M>,
    E: Convert<AtsError>,
{
    let (answer,) = typed::<P, (Result<O, E>,)>(store, instance, index, params).await?;
    Ok(answer.convert())
}
