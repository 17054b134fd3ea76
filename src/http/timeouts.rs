//! Bounded time to send a request, so slow clients cannot hold connections open forever (100
//! connections sending a byte at a time would otherwise keep 100 tasks and sockets for good):
//! the head (request line and headers) must arrive within `ROSTER_HEADER_TIMEOUT_SECONDS` of
//! its first byte, the body within `ROSTER_BODY_TIMEOUT_SECONDS` of the head; either answers
//! 408 Request Timeout and closes the connection. A kept-alive connection where no request
//! starts is closed quietly after [`IDLE_LIMIT`].

use std::{
    io,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll, ready},
    time::Duration,
};

use axum::{
    body::{Body, Bytes, HttpBody},
    extract::{Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
    serve::Listener,
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    time::{Instant, Sleep, sleep},
};

/// How long a kept-alive connection may wait for its next request.
pub(crate) const IDLE_LIMIT: Duration = Duration::from_secs(75);

const TIMED_OUT: &str = "The request did not arrive in time. Send it again.";

/// Written straight to the socket when a head is not complete in time: no request exists yet
/// for the application to answer.
const HEAD_TIMEOUT_RESPONSE: &[u8] = b"HTTP/1.1 408 Request Timeout\r\nconnection: close\r\n\
content-type: text/plain; charset=utf-8\r\ncontent-length: 51\r\n\r\n\
The request did not arrive in time. Send it again.\n";

/// The client's socket address, as the listener accepted it (`ConnectInfo<Peer>`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer(pub(crate) std::net::SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, TimedListener>>
    for Peer
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, TimedListener>) -> Peer {
        Peer(*stream.remote_addr())
    }
}

/// The server's listener: every connection it accepts has its request heads timed.
pub(crate) struct TimedListener {
    pub(crate) inner: TcpListener,
    pub(crate) head_limit: Duration,
}

impl Listener for TimedListener {
    type Io = HeadDeadline<TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, address) = Listener::accept(&mut self.inner).await;
        (HeadDeadline::new(stream, self.head_limit), address)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// A connection whose request heads must arrive in time. HTTP/1.1 answers its requests in
/// order, so a head starts with the first read after a response was written, and ends with
/// the blank line (`\r\n\r\n`) after the headers.
pub(crate) struct HeadDeadline<T> {
    inner: T,
    limit: Duration,
    state: Head,
    deadline: Pin<Box<Sleep>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Head {
    /// Waiting for a request: none of its bytes yet.
    Idle,
    /// Part of a head; `tail` is its last bytes, to find `\r\n\r\n` across reads.
    Partial { tail: [u8; 3] },
    /// The head is in; the body, the handler and the response are the application's.
    Done { wrote: bool },
}

impl<T> HeadDeadline<T> {
    fn new(inner: T, limit: Duration) -> HeadDeadline<T> {
        HeadDeadline {
            inner,
            limit,
            state: Head::Idle,
            deadline: Box::pin(sleep(IDLE_LIMIT)),
        }
    }

    /// Follows the head through the bytes just read.
    fn saw(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let mut tail = match self.state {
            Head::Idle => {
                self.deadline.as_mut().reset(Instant::now() + self.limit);
                [0; 3]
            }
            Head::Partial { tail } => tail,
            Head::Done { .. } => return,
        };
        let mut window: Vec<u8> = tail.to_vec();
        window.extend_from_slice(bytes);
        if window.windows(4).any(|four| four == b"\r\n\r\n") {
            self.state = Head::Done { wrote: false };
            return;
        }
        let keep = window.len().min(3);
        tail = [0; 3];
        tail[3 - keep..].copy_from_slice(&window[window.len() - keep..]);
        self.state = Head::Partial { tail };
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncRead for HeadDeadline<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.state == (Head::Done { wrote: true }) {
            // A response went out: what comes next is the next request.
            this.state = Head::Idle;
            this.deadline.as_mut().reset(Instant::now() + IDLE_LIMIT);
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                // Only a head is looked into: a body's bytes pass untouched.
                if !matches!(this.state, Head::Done { .. }) {
                    this.saw(&buf.filled()[before..]);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => {
                if matches!(this.state, Head::Done { .. }) {
                    return Poll::Pending;
                }
                ready!(this.deadline.as_mut().poll(cx));
                if let Head::Partial { .. } = this.state {
                    tracing::info!("a request head did not arrive in time: 408");
                    // Best effort: a client that reads nothing either is about to be closed.
                    let _ = Pin::new(&mut this.inner).poll_write(cx, HEAD_TIMEOUT_RESPONSE);
                    let _ = Pin::new(&mut this.inner).poll_flush(cx);
                }
                // End of stream: the server closes the connection.
                Poll::Ready(Ok(()))
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for HeadDeadline<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Head::Done { wrote } = &mut self.state {
            *wrote = true;
        }
        Pin::new(&mut self.inner).poll_write(cx, bytes)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The body must arrive within `limit` of the head; a request whose body did not is answered
/// 408, whatever its handler made of the broken body.
pub(crate) async fn body_deadline(
    State(limit): State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    let expired = Arc::new(AtomicBool::new(false));
    let (parts, body) = request.into_parts();
    let body = Body::new(DeadlineBody {
        inner: body,
        deadline: Box::pin(sleep(limit)),
        expired: expired.clone(),
    });
    let response = next.run(Request::from_parts(parts, body)).await;
    if expired.load(Ordering::Relaxed) {
        tracing::info!("a request body did not arrive in time: 408");
        return (
            StatusCode::REQUEST_TIMEOUT,
            [(header::CONNECTION, "close")],
            TIMED_OUT,
        )
            .into_response();
    }
    response
}

struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<Sleep>>,
    expired: Arc<AtomicBool>,
}

#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
struct BodyTimedOut;

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        ready!(this.deadline.as_mut().poll(cx));
        this.expired.store(true, Ordering::Relaxed);
        Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut))))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_head_ends_at_its_blank_line_even_across_reads() {
        let mut conn = HeadDeadline::new((), Duration::from_secs(1));
        conn.saw(b"GET / HTTP/1.1\r\nHost: x\r");
        assert!(matches!(conn.state, Head::Partial { .. }));
        conn.saw(b"\n\r");
        assert!(matches!(conn.state, Head::Partial { .. }));
        conn.saw(b"\n");
        assert_eq!(conn.state, Head::Done { wrote: false });
        conn.saw(b"body bytes are not a head");
        assert_eq!(conn.state, Head::Done { wrote: false });
    }
}
