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
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("guests.rs");
    std::fs::write(out, generated).expect("write guests.rs");
    ats_guest_build::rerun_if_changed(&[
        root.join("wit"),
        root.join("sdk"),
        tests_dir.join("guests"),
    ]);
}
