//! Opening the sled store from a directory it cannot use gives a clear error naming the
//! directory and what to do, never a panic.

use ats_host::store::{SecretBox, SledStore, StoreError};
use std::path::Path;

fn open(dir: &Path) -> Result<SledStore, StoreError> {
    SledStore::open(dir, SecretBox::ephemeral())
}

#[test]
fn a_store_of_another_format_version_is_refused_with_the_versions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store");
    {
        let db = sled::open(&path).expect("raw sled");
        db.open_tree("meta").and_then(|m| m.insert("format-version", &b"999"[..])).expect("meta");
        db.flush().expect("flush");
    }
    let error = open(&path).err().expect("another format version is refused");
    let message = error.to_string();
    assert!(matches!(error, StoreError::Format { .. }), "{message}");
    assert!(
        message.contains("format version 999") && message.contains(&path.display().to_string())
    );
}

#[test]
fn a_file_or_garbage_where_the_store_should_be_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"hello").expect("write");
    let error = open(&file).err().expect("a file is not a store");
    assert!(matches!(error, StoreError::Open { .. }), "{error}");
    assert!(error.to_string().contains("not-a-dir"), "{error}");

    let garbage = dir.path().join("garbage");
    std::fs::create_dir(&garbage).expect("mkdir");
    std::fs::write(garbage.join("conf"), b"\xff\xfe not a sled config").expect("write conf");
    std::fs::write(garbage.join("db"), vec![0xAB; 64 * 1024]).expect("write db");
    match open(&garbage) {
        Err(StoreError::Open { dir, reason }) => {
            assert!(dir.contains("garbage") && !reason.is_empty());
        }
        Err(other) => panic!("expected an open error, got {other}"),
        Ok(_) => panic!("a directory of garbage opened as a store"),
    }
}

#[test]
fn a_good_store_reopens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store");
    drop(open(&path).expect("creates"));
    open(&path).expect("reopens");
}
