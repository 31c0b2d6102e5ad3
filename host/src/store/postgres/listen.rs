//! Wakes a node when another node changed something it reacts to (`LISTEN`/`NOTIFY`): a
//! transaction that appends events notifies the channel [`CHANGES`] on commit, and every
//! node's listener passes it on to the same signal its own new events raise (the webhook
//! fan-out and the automation engine then look at once instead of at their next tick).
//! The listener holds one connection of its own and reconnects after a failure; polling
//! stays the fallback, so a lost notification only costs a tick.

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// The channel of "new events were committed".
pub const CHANGES: &str = "ats_changes";

/// Listens on [`CHANGES`] at `url` until the process ends, waking `wake` per notification.
pub fn spawn_listener(url: String, wake: Arc<Notify>) {
    tokio::spawn(async move {
        let mut backoff = Duration::from_millis(250);
        loop {
            match listen(&url, &wake).await {
                Ok(()) => backoff = Duration::from_millis(250),
                Err(error) => {
                    tracing::warn!(%error, retry_in_ms = backoff.as_millis() as u64, "the PostgreSQL change listener stopped; nodes fall back to polling meanwhile");
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
            }
            tokio::time::sleep(backoff).await;
        }
    });
}

/// One listening connection, until it closes.
async fn listen(url: &str, wake: &Notify) -> Result<(), crate::store::StoreError> {
    use futures::StreamExt;
    let target = super::tls::target(url)?;
    let (client, mut connection) = target.config.connect(target.tls).await?;
    let (sender, mut notifications) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(tokio_postgres::AsyncMessage::Notification(_)) => {
                    if sender.send(()).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(error) => return Err(crate::store::StoreError::from(error)),
            }
        }
        Ok(())
    });
    client.batch_execute(&format!("LISTEN {CHANGES}")).await?;
    while notifications.recv().await.is_some() {
        wake.notify_one();
    }
    match driver.await {
        Ok(result) => result,
        Err(_) => Ok(()),
    }
}
