//! The framed protocol a worker process speaks on its stdout:
//! `[b'G'][tag u8][len u32 LE][payload]`, spans and grids in binary, results in JSON.

use std::io::{self, Read, Write};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{WorkerMsg, WorkerResult};
use crate::error::EngineError;
use crate::trace::events::GridFrame;
use crate::trace::spans::Span;

const MAGIC: u8 = b'G';
const TAG_HELLO: u8 = 1;
const TAG_SPANS: u8 = 2;
const TAG_FRAME: u8 = 3;
const TAG_PROGRESS: u8 = 4;
const TAG_DONE: u8 = 5;
const TAG_ERROR: u8 = 6;
const TAG_TASK_DONE: u8 = 7;
const TAG_OUTPUT: u8 = 8;
const TAG_CALL: u8 = 9;
/// Largest payload accepted, in bytes.
pub const MAX_PAYLOAD_BYTES: usize = 256 << 20;

#[derive(Serialize, Deserialize)]
struct OutputText {
    to_stderr: bool,
    text: String,
}

#[derive(Serialize, Deserialize)]
struct Hello {
    worker: usize,
    pid: u32,
    tid: u32,
    ready_ns: u64,
}

fn frame(out: &mut impl Write, tag: u8, payload: &[u8]) -> io::Result<()> {
    let len = u32::try_from(payload.len())
        .ok()
        .filter(|&l| l as usize <= MAX_PAYLOAD_BYTES)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "message too large"))?;
    out.write_all(&[MAGIC, tag])?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(payload)
}

fn json<T: Serialize>(v: &T) -> io::Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(io::Error::other)
}

/// Writes one message (Eof and Failed become an error text frame).
pub fn write_msg(out: &mut impl Write, msg: &WorkerMsg) -> io::Result<()> {
    match msg {
        WorkerMsg::Hello {
            worker,
            pid,
            tid,
            ready_ns,
        } => frame(
            out,
            TAG_HELLO,
            &json(&Hello {
                worker: *worker,
                pid: *pid,
                tid: *tid,
                ready_ns: *ready_ns,
            })?,
        ),
        WorkerMsg::Spans(spans) => {
            let mut buf = Vec::with_capacity(spans.len() * Span::WIRE_BYTES);
            for s in spans {
                s.encode(&mut buf);
            }
            frame(out, TAG_SPANS, &buf)
        }
        WorkerMsg::Frame(f) => {
            let mut buf = Vec::with_capacity(32 + f.cells.len() * 4);
            for v in [
                f.worker, f.pid, f.tid, f.problem, f.iter, f.grid, f.rows, f.cols,
            ] {
                buf.extend_from_slice(&v.to_le_bytes());
            }
            for c in f.cells.iter() {
                buf.extend_from_slice(&c.to_le_bytes());
            }
            frame(out, TAG_FRAME, &buf)
        }
        WorkerMsg::Progress { worker, iters_done } => {
            let mut buf = Vec::with_capacity(16);
            buf.extend_from_slice(&(*worker as u64).to_le_bytes());
            buf.extend_from_slice(&iters_done.to_le_bytes());
            frame(out, TAG_PROGRESS, &buf)
        }
        WorkerMsg::Done(r) => frame(out, TAG_DONE, &json(r.as_ref())?),
        WorkerMsg::Failed { error, .. } => frame(out, TAG_ERROR, error.to_string().as_bytes()),
        WorkerMsg::TaskDone(r) => frame(out, TAG_TASK_DONE, &json(r)?),
        WorkerMsg::Call(c) => frame(out, TAG_CALL, &json(c)?),
        WorkerMsg::Output { to_stderr, text } => frame(
            out,
            TAG_OUTPUT,
            &json(&OutputText {
                to_stderr: *to_stderr,
                text: text.clone(),
            })?,
        ),
        WorkerMsg::Eof { .. } => Ok(()),
    }
}

/// Reads one message; `Ok(None)` at a clean end of stream.
pub fn read_msg(
    input: &mut impl Read,
    worker: usize,
    pid: u32,
) -> Result<Option<WorkerMsg>, EngineError> {
    let bad = |message: String| EngineError::Protocol {
        worker,
        pid,
        message,
    };
    let mut head = [0u8; 6];
    let mut got = 0;
    while got < head.len() {
        match input.read(&mut head[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(bad("stream ended inside a frame header".to_owned())),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(bad(format!("read failed: {e}"))),
        }
    }
    if head[0] != MAGIC {
        return Err(bad(format!("bad frame marker 0x{:02x}", head[0])));
    }
    let tag = head[1];
    let len = u32::from_le_bytes([head[2], head[3], head[4], head[5]]) as usize;
    if len > MAX_PAYLOAD_BYTES {
        return Err(bad(format!("frame of {len} bytes is too large")));
    }
    let mut payload = vec![0u8; len];
    input
        .read_exact(&mut payload)
        .map_err(|e| bad(format!("stream ended inside a frame: {e}")))?;
    let msg = match tag {
        TAG_HELLO => {
            let h: Hello =
                serde_json::from_slice(&payload).map_err(|e| bad(format!("bad hello: {e}")))?;
            WorkerMsg::Hello {
                worker: h.worker,
                pid: h.pid,
                tid: h.tid,
                ready_ns: h.ready_ns,
            }
        }
        TAG_SPANS => {
            if !len.is_multiple_of(Span::WIRE_BYTES) {
                return Err(bad(format!("span frame of {len} bytes")));
            }
            let spans: Option<Vec<Span>> = payload
                .chunks_exact(Span::WIRE_BYTES)
                .map(Span::decode)
                .collect();
            WorkerMsg::Spans(spans.ok_or_else(|| bad("invalid span".to_owned()))?)
        }
        TAG_FRAME => {
            if len < 32 || !(len - 32).is_multiple_of(4) {
                return Err(bad(format!("grid frame of {len} bytes")));
            }
            let u = |i: usize| {
                u32::from_le_bytes([payload[i], payload[i + 1], payload[i + 2], payload[i + 3]])
            };
            let cells: Vec<f32> = payload[32..]
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            let (rows, cols) = (u(24), u(28));
            if rows as usize * cols as usize != cells.len() {
                return Err(bad("grid frame size does not match its shape".to_owned()));
            }
            WorkerMsg::Frame(GridFrame {
                worker: u(0),
                pid: u(4),
                tid: u(8),
                problem: u(12),
                iter: u(16),
                grid: u(20),
                rows,
                cols,
                cells: Arc::from(cells),
            })
        }
        TAG_PROGRESS => {
            if len != 16 {
                return Err(bad("bad progress frame".to_owned()));
            }
            let w = u64::from_le_bytes(payload[0..8].try_into().unwrap_or([0; 8]));
            let n = u64::from_le_bytes(payload[8..16].try_into().unwrap_or([0; 8]));
            WorkerMsg::Progress {
                worker: w as usize,
                iters_done: n,
            }
        }
        TAG_DONE => {
            let r: WorkerResult =
                serde_json::from_slice(&payload).map_err(|e| bad(format!("bad result: {e}")))?;
            WorkerMsg::Done(Box::new(r))
        }
        TAG_TASK_DONE => WorkerMsg::TaskDone(
            serde_json::from_slice(&payload).map_err(|e| bad(format!("bad task reply: {e}")))?,
        ),
        TAG_CALL => WorkerMsg::Call(
            serde_json::from_slice(&payload).map_err(|e| bad(format!("bad call: {e}")))?,
        ),
        TAG_OUTPUT => {
            let o: OutputText =
                serde_json::from_slice(&payload).map_err(|e| bad(format!("bad output: {e}")))?;
            WorkerMsg::Output {
                to_stderr: o.to_stderr,
                text: o.text,
            }
        }
        TAG_ERROR => WorkerMsg::Failed {
            worker,
            pid,
            error: EngineError::Worker {
                worker,
                pid,
                message: String::from_utf8_lossy(&payload).into_owned(),
            },
        },
        other => return Err(bad(format!("unknown frame tag {other}"))),
    };
    Ok(Some(msg))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::spans::SpanState;

    #[test]
    fn round_trips_every_message() {
        let span = Span {
            start_ns: 1,
            end_ns: 2,
            pid: 3,
            tid: 4,
            worker: 1,
            cpu: 0,
            state: SpanState::Python,
        };
        let msgs = vec![
            WorkerMsg::Hello {
                worker: 1,
                pid: 3,
                tid: 4,
                ready_ns: 9,
            },
            WorkerMsg::Spans(vec![span, span]),
            WorkerMsg::Frame(GridFrame {
                worker: 1,
                pid: 3,
                tid: 4,
                problem: 2,
                iter: 5,
                grid: 30,
                rows: 2,
                cols: 1,
                cells: Arc::from(vec![0.5f32, 1.0]),
            }),
            WorkerMsg::Progress {
                worker: 1,
                iters_done: 77,
            },
            WorkerMsg::Done(Box::new(WorkerResult {
                worker: 1,
                problem_sums: vec![(3, 0.1 + 0.2)],
                ..WorkerResult::default()
            })),
        ];
        let mut buf = Vec::new();
        for m in &msgs {
            write_msg(&mut buf, m).unwrap();
        }
        let mut r = &buf[..];
        let mut back = Vec::new();
        while let Some(m) = read_msg(&mut r, 1, 3).unwrap() {
            back.push(m);
        }
        assert_eq!(back.len(), msgs.len());
        match &back[4] {
            WorkerMsg::Done(r) => assert_eq!(r.problem_sums, vec![(3, 0.1 + 0.2)]),
            other => panic!("{other:?}"),
        }
        match &back[2] {
            WorkerMsg::Frame(f) => assert_eq!(&f.cells[..], &[0.5, 1.0]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn garbage_is_an_error() {
        let mut r = &b"y\ny\ny\ny\n"[..];
        assert!(matches!(
            read_msg(&mut r, 0, 1),
            Err(EngineError::Protocol { .. })
        ));
        let mut r = &[b'G', 99, 0, 0, 0, 0][..];
        assert!(read_msg(&mut r, 0, 1).is_err());
        let mut r = &[b'G', 2, 5, 0, 0, 0, 1][..];
        assert!(read_msg(&mut r, 0, 1).is_err());
        let mut r = &[b'G', 2, 255, 255, 255, 255][..];
        assert!(read_msg(&mut r, 0, 1).is_err());
    }
}
