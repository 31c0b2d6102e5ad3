//! Parsed selectors and templates, kept per thread by their text: a call maps every
//! record of a page with the same few dozen of them, so each is parsed once per call (a
//! connector instance lives for one call) instead of once per record and field. Bounded:
//! past [`MAX_ENTRIES`] the cache is emptied and starts again.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

const MAX_ENTRIES: usize = 4096;

/// A bounded text → parsed value cache.
pub(crate) struct Memo<T> {
    entries: HashMap<Box<str>, Rc<T>>,
}

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Memo { entries: HashMap::new() }
    }
}

impl<T> Memo<T> {
    /// The parsed value of `text`, parsing it with `parse` the first time. Failures are
    /// not kept (they end the call anyway).
    pub fn get_or_parse<E>(
        cell: &'static std::thread::LocalKey<RefCell<Memo<T>>>,
        text: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<Rc<T>, E> {
        if let Some(found) = cell.with(|memo| memo.borrow().entries.get(text).cloned()) {
            return Ok(found);
        }
        let parsed = Rc::new(parse(text)?);
        cell.with(|memo| {
            let mut memo = memo.borrow_mut();
            if memo.entries.len() >= MAX_ENTRIES {
                memo.entries.clear();
            }
            memo.entries.insert(text.into(), parsed.clone());
        });
        Ok(parsed)
    }
}
