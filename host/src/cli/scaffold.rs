//! `ats-host connector new NAME [--manifest]`: a new connector that builds and passes the
//! conformance kit against the sandbox ATS this binary carries (`connector test … --sandbox`)
//! on its first run. A manifest connector is a copy of the sandbox example manifest; a Rust
//! one is a crate with the example connector's code, depending on this repository's SDK.
//! Nothing is overwritten.

use anyhow::{Context, bail};
use clap::Args;
use std::path::{Path, PathBuf};

const EXAMPLE_MANIFEST: &str = include_str!("../../../sdk/declarative/examples/sandbox.toml");
const EXAMPLE_RUST: &str = include_str!("../../../examples/minimal-connector/src/lib.rs");
/// The SDK of the repository this binary was built from.
const BUILT_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../sdk");

#[derive(Debug, Args)]
pub struct NewArgs {
    /// The connector's id: lowercase letters, digits and dashes, e.g. `acme-ats`.
    pub name: String,
    /// A manifest connector (one TOML file, no Rust toolchain) instead of a Rust crate.
    #[arg(long)]
    pub manifest: bool,
    /// Where to create it; `./NAME` by default. Must not exist yet.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// The connector SDK crate a Rust connector depends on (default: this build's `sdk/`).
    #[arg(long)]
    pub sdk: Option<PathBuf>,
}

pub fn run(args: NewArgs) -> anyhow::Result<()> {
    check_name(&args.name)?;
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from(&args.name));
    if dir.exists() {
        bail!("{} exists already; choose another --dir (nothing was written)", dir.display());
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let written = if args.manifest {
        manifest_connector(&args.name, &dir)?
    } else {
        rust_connector(&args.name, &dir, args.sdk.as_deref())?
    };
    println!("created {} connector `{}` in {}:", kind(&args), args.name, dir.display());
    for file in written {
        println!("  {}", file.display());
    }
    println!("next: see {}", dir.join("README.md").display());
    Ok(())
}

fn kind(args: &NewArgs) -> &'static str {
    if args.manifest { "manifest" } else { "Rust" }
}

fn check_name(name: &str) -> anyhow::Result<()> {
    let valid = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-');
    if !valid {
        bail!(
            "`{name}` is not a connector id: use lowercase letters, digits and dashes, starting with a letter (≤ 64), e.g. `acme-ats`"
        );
    }
    Ok(())
}

fn write(dir: &Path, file: &str, text: &str) -> anyhow::Result<PathBuf> {
    let path = dir.join(file);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

fn manifest_connector(name: &str, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let manifest = EXAMPLE_MANIFEST
        .replacen("id = \"sandbox-declarative\"", &format!("id = \"{name}\""), 1)
        .replacen("version = \"1.0.0\"", "version = \"0.1.0\"", 1);
    let readme = format!(
        r#"# {name}: a manifest connector

`connector.toml` maps an ATS's REST API onto the connector contract. It starts as a copy of
the manifest for the sandbox ATS that `ats-host` carries, so it works before you change a line:

```sh
ats-host connector test connector.toml --sandbox      # every check against the sandbox ATS
```

Then point it at your ATS, one operation at a time (the format: `sdk/declarative/README.md`
of the ats-host repository): auth, base URL and config fields first, then `list-jobs`.

```sh
ats-host connector test connector.toml --base-url https://api.your-ats.example --config api-key=... --read-only
ats-host connector test connector.toml --base-url https://sandbox.your-ats.example --config api-key=...   # writes too
ats-host connector pack connector.toml -o {name}.wasm                          # the component
```

Drop `{name}.wasm` into a host's `data/connectors/` (hot-loaded) or `ats-host connector
upload {name}.wasm`.
"#
    );
    Ok(vec![write(dir, "connector.toml", &manifest)?, write(dir, "README.md", &readme)?])
}

fn rust_connector(name: &str, dir: &Path, sdk: Option<&Path>) -> anyhow::Result<Vec<PathBuf>> {
    let sdk = sdk.map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from(BUILT_SDK));
    let sdk = std::fs::canonicalize(&sdk).with_context(|| {
        format!(
            "the connector SDK is not at {}; pass --sdk PATH (the ats-host repository's sdk/)",
            sdk.display()
        )
    })?;
    let sdk_text = sdk.display().to_string().replace('\\', "/");
    let crate_name = name.replace('-', "_");
    let cargo_toml = format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
crate-type = ["cdylib"]

[dependencies]
ats-connector-sdk = {{ path = "{sdk_text}" }}
serde = {{ version = "1", features = ["derive"] }}
serde_json = {{ version = "1", features = ["raw_value"] }}

# Small, fast wasm; a panic becomes a trap the host reports as a typed error.
[profile.guest]
inherits = "release"
opt-level = "s"
lto = true
codegen-units = 1
panic = "abort"
strip = true

[workspace]
"#
    );
    let code =
        EXAMPLE_RUST.replacen("id: \"minimal\".into()", &format!("id: \"{name}\".into()"), 1);
    let readme = format!(
        r#"# {name}: a Rust connector

`src/lib.rs` starts as the example connector for the sandbox ATS that `ats-host` carries, so
it builds and passes the conformance kit before you change a line:

```sh
cargo build --target wasm32-wasip2 --profile guest
ats-host connector test target/wasm32-wasip2/guest/{crate_name}.wasm --sandbox
```

Then make it talk to your ATS: describe what you support in `describe()`, map the ATS's
records onto the contract's, and run the kit against a test account:

```sh
ats-host connector test target/wasm32-wasip2/guest/{crate_name}.wasm \
    --base-url https://sandbox.your-ats.example --config api-key=... [--read-only]
```

Drop the `.wasm` into a host's `data/connectors/` (hot-loaded) or `ats-host connector upload`.
If your ATS's reads fit a manifest, a Rust connector can execute those with the
`ats-declarative` crate and keep code for the rest (see `examples/README.md`).
"#
    );
    // The dependency versions this host was tested with, when it was built from a checkout.
    let mut written = vec![
        write(dir, "Cargo.toml", &cargo_toml)?,
        write(dir, "src/lib.rs", &code)?,
        write(dir, "README.md", &readme)?,
        write(dir, ".gitignore", "/target\n")?,
    ];
    if let Some(lock) = sdk.parent().map(|root| root.join("Cargo.lock")).filter(|l| l.is_file()) {
        let text = std::fs::read_to_string(&lock)
            .with_context(|| format!("cannot read {}", lock.display()))?;
        written.push(write(dir, "Cargo.lock", &text)?);
    }
    Ok(written)
}
