//! The API's listener. It makes the errors hyper answers by itself `application/problem+json`
//! like every other error of the API: a URI over hyper's fixed limit of 65,534 bytes (414), a
//! request head over 100 headers or over hyper's read buffer of about 400 KiB (431), a
//! malformed request line or header (400). hyper answers these while parsing, before any router or tower layer sees a
//! request, with a bare status line, and then closes the connection; no setting changes that
//! (the URI limit is a constant in hyper). So each connection is wrapped: a head-only 400,
//! 414 or 431 answer without a body or content type (the API's own errors always have both)
//! is recognised as it is written, and a problem document is written in its place.

use crate::api::problem::Problem;
use axum::http::StatusCode;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// hyper's limit on the request target (`MAX_URI_LEN` in hyper's HTTP/1 parser).
pub const MAX_URI_BYTES: usize = 65_534;

/// Longest head hyper writes for a request it could not parse (status line, date,
/// content-length, connection).
const MAX_BARE_HEAD: usize = 512;

/// A TCP listener whose connections answer hyper's own errors as problem+json.
pub struct ProblemListener(TcpListener);

impl ProblemListener {
    pub async fn bind(addr: SocketAddr) -> io::Result<Self> {
        TcpListener::bind(addr).await.map(ProblemListener)
    }
}

impl axum::serve::Listener for ProblemListener {
    type Io = ProblemIo<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = axum::serve::Listener::accept(&mut self.0).await;
        (ProblemIo { inner: io, pending: Vec::new(), sent: 0 }, addr)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

/// One connection: reads pass through; writes pass through except a bare error head.
pub struct ProblemIo<T> {
    inner: T,
    /// A problem answer written in place of hyper's bare one, and how much of it is sent.
    pending: Vec<u8>,
    sent: usize,
}

impl<T: AsyncWrite + Unpin> ProblemIo<T> {
    /// Sends what is left of a replacement answer.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.pending.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        self.pending.clear();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }

    /// Takes `buf` in place of its replacement; `buf.len()` is reported written.
    fn replace(
        &mut self,
        cx: &mut Context<'_>,
        replacement: Vec<u8>,
        len: usize,
    ) -> Poll<io::Result<usize>> {
        self.pending = replacement;
        self.sent = 0;
        match self.poll_drain(cx) {
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            // The rest goes out on the next write, flush or shutdown.
            _ => Poll::Ready(Ok(len)),
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ProblemIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ProblemIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_drain(cx))?;
        if let Some(replacement) = problem_for_bare_error(buf) {
            return self.replace(cx, replacement, buf.len());
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_drain(cx))?;
        if let Some(first) = bufs.iter().find(|b| !b.is_empty())
            && let Some(replacement) = problem_for_bare_error(first)
        {
            return self.replace(cx, replacement, first.len());
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The problem+json answer replacing `written` when it is a whole bare error head (400,
/// 414 or 431, no body, no content type) of the kind hyper writes for a request it could
/// not parse.
fn problem_for_bare_error(written: &[u8]) -> Option<Vec<u8>> {
    // Cheap for every other write: such a head is short and starts the buffer.
    if written.len() > MAX_BARE_HEAD || !written.starts_with(b"HTTP/1.") {
        return None;
    }
    let head_len = written.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    if head_len != written.len() {
        return None;
    }
    let head = std::str::from_utf8(written).ok()?.to_ascii_lowercase();
    let status_line = head.lines().next()?;
    let code: u16 = status_line.split(' ').nth(1)?.parse().ok()?;
    let bare = !head.contains("\r\ncontent-type:")
        && !head.contains("\r\ntransfer-encoding:")
        && head
            .split("\r\n")
            .filter_map(|line| line.strip_prefix("content-length:"))
            .all(|length| length.trim() == "0");
    if !bare {
        return None;
    }
    let problem = match code {
        414 => Problem::new(
            StatusCode::URI_TOO_LONG,
            "URI too long",
            format!(
                "the request URI (path and query) is over the limit of {MAX_URI_BYTES} bytes; send long filters in a request body, or page with `limit` and `cursor`"
            ),
        ),
        431 => Problem::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "request head too large",
            "the request head is over a limit: at most 100 headers, and about 400 KiB for the request line and headers together; send large values in the request body",
        ),
        400 => Problem::bad_request(
            "the request is not valid HTTP/1.1: its request line or a header is malformed",
        ),
        _ => return None,
    };
    let body = serde_json::to_vec(&problem).ok()?;
    let version = &written[..8];
    let status = StatusCode::from_u16(code).ok()?;
    let mut answer = Vec::with_capacity(body.len() + 160);
    answer.extend_from_slice(version);
    answer.extend_from_slice(
        format!(
            " {} {}\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or(""),
            body.len()
        )
        .as_bytes(),
    );
    answer.extend_from_slice(&body);
    Some(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bare_error_heads_are_replaced() {
        let bare = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let answer = problem_for_bare_error(bare).map(String::from_utf8);
        let Some(Ok(answer)) = answer else { panic!("a bare 414 is replaced") };
        assert!(answer.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{answer}");
        assert!(answer.contains("content-type: application/problem+json"), "{answer}");
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
        let problem: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        assert_eq!(problem["status"], 414, "{answer}");
        assert!(
            problem_for_bare_error(b"HTTP/1.1 431 Request Header Fields Too Large\r\n\r\n")
                .is_some()
        );

        let own = b"HTTP/1.1 414 URI Too Long\r\ncontent-type: application/problem+json\r\ncontent-length: 2\r\n\r\n";
        assert!(problem_for_bare_error(own).is_none(), "the API's own problems pass");
        assert!(problem_for_bare_error(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
        assert!(
            problem_for_bare_error(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n{}")
                .is_none()
        );
        assert!(problem_for_bare_error(b"{\"HTTP/1.1 414\"}").is_none(), "bodies pass");
    }
}
