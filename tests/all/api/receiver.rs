//! A webhook receiver on loopback that records what it gets and answers with a switchable
//! status (200, 503, 410, ...).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    answer: Arc<AtomicU16>,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub async fn start() -> Self {
        let answer = Arc::new(AtomicU16::new(200));
        let received = Arc::new(Mutex::new(Vec::new()));
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(record))
            .with_state((answer.clone(), received.clone()));
        let addr = ats_tests::serve(app).await;
        Receiver { url: format!("http://{addr}/hook"), answer, received }
    }

    /// The status the receiver answers from now on.
    pub fn answer(&self, status: u16) {
        self.answer.store(status, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    /// Waits until `count` requests arrived (at most 10 s).
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        for _ in 0..500 {
            let got = self.received();
            if got.len() >= count {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("receiver got {} requests, expected {count}", self.received().len());
    }
}

type ReceiverState = (Arc<AtomicU16>, Arc<Mutex<Vec<Received>>>);

async fn record(
    State((answer, received)): State<ReceiverState>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    received.lock().expect("lock").push(Received { headers, body });
    StatusCode::from_u16(answer.load(Ordering::SeqCst)).unwrap_or(StatusCode::OK)
}
