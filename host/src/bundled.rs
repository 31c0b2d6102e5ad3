//! Connectors compiled into the binary by `build.rs` (every crate under `connectors/`, the
//! example connector, and the manifests under `connectors/manifests/`), loaded by `serve`
//! before the watched directory.

use std::borrow::Cow;

include!(concat!(env!("OUT_DIR"), "/bundled.rs"));

/// A bundled connector ready to load: its name (cargo package or manifest directory) and
/// component bytes.
pub struct BundledComponent {
    pub name: &'static str,
    pub wasm: Cow<'static, [u8]>,
}

/// Every bundled connector as a component: the compiled ones (not the generic manifest
/// template, which is no connector) and each bundled manifest packed into that template.
/// A manifest that does not pack is reported with its problems and left out.
pub fn components() -> Vec<Result<BundledComponent, crate::declarative::PackError>> {
    let compiled = BUNDLED
        .iter()
        .filter(|(package, _)| *package != crate::declarative::TEMPLATE_PACKAGE)
        .map(|(name, wasm)| Ok(BundledComponent { name, wasm: Cow::Borrowed(*wasm) }));
    let manifests = BUNDLED_MANIFESTS.iter().map(|(name, text)| {
        let file = format!("connectors/manifests/{name}/connector.toml");
        crate::declarative::pack(&file, text)
            .map(|wasm| BundledComponent { name, wasm: Cow::Owned(wasm) })
    });
    compiled.chain(manifests).collect()
}

/// One bundled connector by name (cargo package such as `connector-otys`, or manifest
/// directory such as `greenhouse`).
pub fn component(name: &str) -> Option<Result<Vec<u8>, crate::declarative::PackError>> {
    if let Some((_, wasm)) = BUNDLED.iter().find(|(package, _)| *package == name) {
        return Some(Ok(wasm.to_vec()));
    }
    let (_, text) = BUNDLED_MANIFESTS.iter().find(|(manifest, _)| *manifest == name)?;
    Some(crate::declarative::pack(&format!("connectors/manifests/{name}/connector.toml"), text))
}
