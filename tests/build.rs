//! Builds the purpose-built test guests (`tests/guests/*`) to wasm32-wasip2 components and
//! writes `guests.rs` with one `pub const <NAME>: &str = "<path>"` per guest.

use std::path::PathBuf;

const GUESTS: [&str; 6] = [
    "guest-misbehave",
    "guest-echo-v1",
    "guest-echo-v2",
    "guest-other-world",
    "guest-hang-describe",
    "guest-contract-v0-1",
];

fn main() {
    let tests_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = tests_dir.parent().expect("tests/ sits in the workspace root").to_path_buf();
    let built = ats_guest_build::build_guests(&root, &GUESTS);
    let mut generated = String::new();
    for guest in &built {
        let name = guest.package.trim_start_matches("guest-").replace('-', "_").to_uppercase();
        generated.push_str(&format!(
            "/// The `{}` test guest component.\npub const {name}: &str = {:?};\n",
            guest.package, guest.path
        ));
    }
    // The Python example connector, built with componentize-py (installed on first use).
    let python =
        ats_guest_build::python::build_python_guest(&ats_guest_build::python::PythonGuest {
            name: "python-connector",
            app_dir: &root.join("examples/python-connector"),
            module: "app",
            wit_dir: &root.join("wit/since_v0.2.0"),
            world: "connector-world",
        });
    generated.push_str(&format!(
        "/// The Python example connector (`examples/python-connector`), built with componentize-py {}.\npub const PYTHON_CONNECTOR: &str = {:?};\n",
        ats_guest_build::python::COMPONENTIZE_PY_VERSION,
        python.path
    ));
    generated.push_str(&format!(
        "/// Python bindings of the connector world, to run the example's logic under CPython.\npub const PYTHON_BINDINGS: &str = {:?};\n/// The Python interpreter of componentize-py's virtual environment.\npub const PYTHON: &str = {:?};\n/// The Python example connector's source folder.\npub const PYTHON_CONNECTOR_SRC: &str = {:?};\n",
        python.bindings,
        python.python,
        root.join("examples/python-connector")
    ));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("guests.rs");
    std::fs::write(out, generated).expect("write guests.rs");
    ats_guest_build::rerun_if_changed(&[
        root.join("wit"),
        root.join("sdk"),
        tests_dir.join("guests"),
        root.join("examples/python-connector"),
    ]);
}
