//! A connector whose `describe()` never returns: loading it must end at the describe
//! deadline without holding up other files loaded at the same time.

use ats_connector_sdk::prelude::*;

struct HangDescribe;

impl Connector for HangDescribe {
    #[allow(clippy::empty_loop, reason = "the point of this guest is to hang in describe")]
    fn describe() -> Manifest {
        let mut counter: u64 = 0;
        loop {
            counter = std::hint::black_box(counter.wrapping_add(1));
        }
    }
}

ats_connector_sdk::export_connector!(HangDescribe);
